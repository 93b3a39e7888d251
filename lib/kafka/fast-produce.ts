/**
 * Producing without kafkajs's per-message encoding: the records of a send are grouped by
 * partition leader and each broker gets one Produce request whose record batches
 * lib/kafka/produce-request.ts wrote straight into one buffer; the requests to different
 * brokers go out in parallel. kafkajs still owns the connections (TLS, SASL, re-authentication),
 * the metadata, the version negotiation and the response decoding, so errors come back as the
 * same kafkajs errors lib/kafka/errors.ts classifies.
 *
 * It reaches two kafkajs internals (kafkajs 2.2.4 is pinned and no longer released): the
 * client's cluster factory and the broker's request sender, both found by their symbols'
 * descriptions. {@link fastProduceSupport} says whether they are there; when not, lib/kafka
 * produces through kafkajs's own producer instead.
 */
import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import produceDefinition from 'kafkajs/src/protocol/requests/produce/index.js';
import type { OutRecord, ProducedRange } from './index.ts';
import {
  encodeProduceBody,
  encodeRecordBatch,
  type PartitionBatch,
  type RecordsCodec,
  type TopicBatches,
} from './produce-request.ts';

const { Partitioners, KafkaJSError } = kafkajs;

/** kafkajs's cluster, as far as this module uses it. */
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(
    topic: string,
  ): { partitionId: number; leader: number | null; partitionErrorCode?: number }[];
  findBroker(options: { nodeId: string }): Promise<Broker>;
}

interface ProtocolRequest {
  request: {
    apiKey: number;
    apiVersion: number;
    apiName: string;
    expectResponse?: () => boolean;
    encode: () => Promise<{ buf: Buffer; buffer: Buffer }>;
  };
  response: unknown;
}

interface Broker {
  nodeId: number;
  lookupRequest(
    apiKey: number,
    definition: unknown,
  ): (args: Record<string, unknown>) => ProtocolRequest;
}

interface ProduceAnswer {
  topics: {
    topicName: string;
    partitions: { partition: number; errorCode: number; baseOffset: string }[];
  }[];
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';
const SEND_REQUEST = 'private:Broker:sendRequest';
const PRODUCE_API_KEY = 0;

const symbolOf = (target: object, description: string): symbol | undefined =>
  Object.getOwnPropertySymbols(target).find((s) => s.description === description);

/** Whether this kafkajs has the internals the fast path needs (its cluster factory). */
export const fastProduceSupport = (kafka: Kafka): boolean =>
  symbolOf(kafka, CREATE_CLUSTER) !== undefined;

export interface FastProducer {
  /** Connects (to a seed broker, reading metadata) unless connected. */
  connect(): Promise<void>;
  send(records: readonly OutRecord[], acks: number, timeoutMs: number): Promise<ProducedRange[]>;
  /** Metadata is read again before the next send (after a stale-metadata or connection error). */
  invalidate(): void;
  disconnect(): Promise<void>;
}

/** A record's partition: its own, else what kafkajs's default partitioner (murmur2 of the key) picks. */
type Partitioner = (args: {
  topic: string;
  partitionMetadata: unknown[];
  message: { key: Buffer | null; value: Buffer | null; partition?: number };
}) => number;

/**
 * A producer on `kafka`'s cluster factory, or undefined when kafkajs lacks it.
 *
 * @example
 * const fast = createFastProducer(kafka, codec);
 * const ranges = await fast?.send(records, -1, 30_000);
 */
export function createFastProducer(
  kafka: Kafka,
  codec: RecordsCodec | undefined,
): FastProducer | undefined {
  const factory = symbolOf(kafka, CREATE_CLUSTER);
  if (factory === undefined) return undefined;
  const createCluster = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory] as (
    o: object,
  ) => Cluster;
  const partitioner = (Partitioners.DefaultPartitioner as unknown as () => Partitioner)();
  let cluster: Cluster | undefined;
  let stale = false;

  const connected = async (): Promise<Cluster> => {
    if (cluster === undefined) {
      cluster = createCluster.call(kafka, {
        metadataMaxAge: 300_000,
        allowAutoTopicCreation: false,
        maxInFlightRequests: null,
      });
    }
    if (!cluster.isConnected()) {
      await cluster.connect();
      stale = true;
    }
    return cluster;
  };

  const sendTo = async (
    broker: Broker,
    topics: TopicBatches[],
    acks: number,
    timeoutMs: number,
  ): Promise<ProduceAnswer | undefined> => {
    const send = symbolOf(Object.getPrototypeOf(broker) as object, SEND_REQUEST);
    if (send === undefined)
      throw new KafkaJSError('kafkajs has no request sender on its broker: cannot produce', {
        retriable: false,
      });
    // The version kafkajs negotiated with this broker, and its response decoder; the request
    // body is ours (versions 3 to 7 have the same one).
    const protocol = broker.lookupRequest(
      PRODUCE_API_KEY,
      produceDefinition,
    )({
      acks,
      timeout: timeoutMs,
      topicData: [],
    });
    if (protocol.request.apiVersion < 3)
      throw new KafkaJSError(
        `The broker speaks Produce version ${protocol.request.apiVersion}; record batches need version 3 (Kafka 0.11) or later`,
        { retriable: false },
      );
    const body = encodeProduceBody(acks, timeoutMs, topics);
    protocol.request.encode = () => Promise.resolve({ buf: body, buffer: body });
    const sender = (broker as unknown as Record<symbol, (r: ProtocolRequest) => Promise<unknown>>)[
      send
    ] as (r: ProtocolRequest) => Promise<unknown>;
    const answer = await sender.call(broker, protocol);
    return acks === 0 ? undefined : (answer as ProduceAnswer);
  };

  return {
    async connect() {
      await connected();
    },
    async send(records, acks, timeoutMs) {
      const c = await connected();
      const topicNames = [...new Set(records.map((r) => r.topic))];
      await c.addMultipleTargetTopics(topicNames);
      if (stale) {
        await c.refreshMetadata();
        stale = false;
      }
      // Records per topic-partition, in their order.
      const byPartition = new Map<string, Map<number, OutRecord[]>>();
      for (const r of records) {
        let partition = r.partition;
        if (partition === undefined)
          partition = partitioner({
            topic: r.topic,
            partitionMetadata: c.findTopicPartitionMetadata(r.topic),
            message: { key: r.key, value: r.value },
          });
        let topic = byPartition.get(r.topic);
        if (topic === undefined) byPartition.set(r.topic, (topic = new Map<number, OutRecord[]>()));
        let list = topic.get(partition);
        if (list === undefined) topic.set(partition, (list = []));
        list.push(r);
      }
      // One request per leader; a partition the metadata does not know fails the send (it is
      // never dropped).
      const perLeader = new Map<number, Map<string, PartitionBatch[]>>();
      const encoding: Promise<void>[] = [];
      for (const [topic, partitions] of byPartition) {
        const meta = c.findTopicPartitionMetadata(topic);
        for (const [partition, list] of partitions) {
          const m = meta.find((p) => p.partitionId === partition);
          if (m === undefined || m.leader === null || m.leader === undefined) {
            stale = true;
            throw new KafkaJSError(
              m === undefined
                ? `Partition ${partition} of ${topic} is not in the cluster's metadata`
                : `Partition ${partition} of ${topic} has no leader`,
              { retriable: true },
            );
          }
          let leader = perLeader.get(m.leader);
          if (leader === undefined)
            perLeader.set(m.leader, (leader = new Map<string, PartitionBatch[]>()));
          let batches = leader.get(topic);
          if (batches === undefined) leader.set(topic, (batches = []));
          const into = batches;
          encoding.push(
            encodeRecordBatch(list, codec).then((batch) => {
              into.push({ partition, batch });
            }),
          );
        }
      }
      await Promise.all(encoding);
      const answers = await Promise.all(
        [...perLeader].map(async ([nodeId, topics]) =>
          sendTo(
            await c.findBroker({ nodeId: String(nodeId) }),
            [...topics].map(([topic, partitions]) => ({
              topic,
              partitions: partitions.sort((a, b) => a.partition - b.partition),
            })),
            acks,
            timeoutMs,
          ),
        ),
      );
      const ranges: ProducedRange[] = [];
      for (const answer of answers)
        for (const t of answer?.topics ?? [])
          for (const p of t.partitions)
            ranges.push({
              topic: t.topicName,
              partition: p.partition,
              firstOffset: Number(p.baseOffset),
            });
      return ranges;
    },
    invalidate() {
      stale = true;
    },
    async disconnect() {
      const c = cluster;
      cluster = undefined;
      await c?.disconnect();
    },
  };
}
