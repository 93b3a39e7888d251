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
import KafkaJsBroker from 'kafkajs/src/broker/index.js';
import type { OutRecord, ProducedRange } from './index.ts';
import {
  encodeProduceBody,
  prepareRecordBatch,
  type PartitionBatch,
  type PreparedBatch,
  type RecordsCodec,
  type TopicBatches,
} from './produce-request.ts';
import { HEADROOM, framedBody, installInPlaceFraming } from './request-frame.ts';

const { Partitioners, KafkaJSError, KafkaJSServerDoesNotSupportApiKey } = kafkajs as unknown as {
  Partitioners: typeof kafkajs.Partitioners;
  KafkaJSError: typeof kafkajs.KafkaJSError;
  KafkaJSServerDoesNotSupportApiKey: new (message: string) => Error;
};

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

/**
 * kafkajs's broker request sender, found once; undefined (no fast path) when this kafkajs lacks
 * it or the Produce request definitions the sender is given.
 */
const BROKER_SEND: symbol | undefined =
  typeof (produceDefinition as { protocol?: unknown }).protocol === 'function'
    ? symbolOf(KafkaJsBroker.prototype, SEND_REQUEST)
    : undefined;

/**
 * Whether this kafkajs has the internals the fast path needs: the client's cluster factory,
 * the broker's request sender and version lookup.
 */
export const fastProduceSupport = (kafka: Kafka): boolean =>
  symbolOf(kafka, CREATE_CLUSTER) !== undefined && BROKER_SEND !== undefined;

export interface FastProducer {
  /** Connects (to a seed broker, reading metadata) unless connected. */
  connect(): Promise<void>;
  send(records: readonly OutRecord[], acks: number, timeoutMs: number): Promise<ProducedRange[]>;
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
  const send = BROKER_SEND;
  if (factory === undefined || send === undefined) return undefined;
  installInPlaceFraming();
  const createCluster = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory] as (
    o: object,
  ) => Cluster;
  const partitioner = (Partitioners.DefaultPartitioner as unknown as () => Partitioner)();
  let cluster: Cluster | undefined;
  let connecting: Promise<Cluster> | undefined;
  /** Metadata to read again before the next send (new connection, or a send that failed). */
  let stale = false;

  const connected = (): Promise<Cluster> => {
    if (cluster?.isConnected()) return Promise.resolve(cluster);
    // One connect at a time: sends in parallel share it (no second seed connection left open).
    connecting ??= (async () => {
      const c = (cluster ??= createCluster.call(kafka, {
        metadataMaxAge: 300_000,
        allowAutoTopicCreation: false,
        maxInFlightRequests: null,
      }));
      await c.connect();
      if (cluster !== c) {
        // Disconnected while connecting (a parallel send's error rebuilt the client).
        await c.disconnect().catch(() => undefined);
        throw new KafkaJSError('The connection was closed while it was being made', {
          retriable: true,
        });
      }
      stale = true;
      return c;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const sendTo = async (
    broker: Broker,
    topics: TopicBatches[],
    acks: number,
    timeoutMs: number,
  ): Promise<ProduceAnswer | undefined> => {
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
      throw new KafkaJSServerDoesNotSupportApiKey(
        `The broker speaks Produce version ${protocol.request.apiVersion}; record batches need version 3 (Kafka 0.11) or later`,
      );
    // Written once, after room for the request header kafkajs frames it with in place.
    // (One body object: should kafkajs encode the request twice, the second is a copy.)
    const payload = framedBody(encodeProduceBody(acks, timeoutMs, topics, HEADROOM), HEADROOM);
    protocol.request.encode = () => Promise.resolve(payload);
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
      try {
        return await sendOn(c, records, acks, timeoutMs);
      } catch (error) {
        // As kafkajs's producer does after a failed send: the next one reads the metadata
        // again, so a partition whose leader moved (NOT_LEADER_OR_FOLLOWER, a broker down) is
        // sent to its new leader on the retry.
        stale = true;
        throw error;
      }
    },
    async disconnect() {
      const c = cluster;
      cluster = undefined;
      await c?.disconnect();
    },
  };

  async function sendOn(
    c: Cluster,
    records: readonly OutRecord[],
    acks: number,
    timeoutMs: number,
  ): Promise<ProducedRange[]> {
    const topics = new Set<string>();
    for (const r of records) topics.add(r.topic);
    await c.addMultipleTargetTopics([...topics]);
    if (stale) {
      await c.refreshMetadata();
      stale = false;
    }
    // Records per topic-partition, in their order.
    const byPartition = new Map<string, Map<number, OutRecord[]>>();
    for (const r of records) {
      let partition = r.partition;
      if (partition === undefined) {
        const partitionMetadata = c.findTopicPartitionMetadata(r.topic);
        if (partitionMetadata.length === 0)
          throw new KafkaJSError(`${r.topic} has no partitions in the cluster's metadata`, {
            retriable: true,
          });
        partition = partitioner({
          topic: r.topic,
          partitionMetadata,
          message: { key: r.key, value: r.value },
        });
      }
      let topic = byPartition.get(r.topic);
      if (topic === undefined) byPartition.set(r.topic, (topic = new Map<number, OutRecord[]>()));
      let list = topic.get(partition);
      if (list === undefined) topic.set(partition, (list = []));
      list.push(r);
    }
    // Every partition's leader first: one the metadata does not know, or without a leader,
    // fails the send before anything is encoded or sent (its records are never dropped).
    const placed: { leader: number; topic: string; partition: number; list: OutRecord[] }[] = [];
    for (const [topic, partitions] of byPartition) {
      const meta = c.findTopicPartitionMetadata(topic);
      for (const [partition, list] of partitions) {
        const m = meta.find((p) => p.partitionId === partition);
        // Kafka says "no leader" with -1, as kafkajs's own partitioner reads it.
        if (m === undefined || m.leader === null || m.leader === undefined || m.leader < 0)
          throw new KafkaJSError(
            m === undefined
              ? `Partition ${partition} of ${topic} is not in the cluster's metadata`
              : `Partition ${partition} of ${topic} has no leader`,
            { retriable: true },
          );
        placed.push({ leader: m.leader, topic, partition, list });
      }
    }
    const batches = await Promise.all(placed.map((p) => prepareRecordBatch(p.list, codec)));
    // One request per leader broker, its topics' partitions in order.
    const perLeader = new Map<number, Map<string, PartitionBatch[]>>();
    placed.forEach((p, i) => {
      let leader = perLeader.get(p.leader);
      if (leader === undefined)
        perLeader.set(p.leader, (leader = new Map<string, PartitionBatch[]>()));
      let list = leader.get(p.topic);
      if (list === undefined) leader.set(p.topic, (list = []));
      list.push({ partition: p.partition, batch: batches[i] as PreparedBatch });
    });
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
  }
}
