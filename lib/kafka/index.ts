/**
 * Kafka delivery behind a small port, so kafkajs (no longer released) can be swapped.
 * One producer per process, reused across invocations and rebuilt after a broken
 * connection; acks=all; partition, key, headers and timestamp kept.
 */
import {
  Partitioners,
  logLevel as KafkaLogLevel,
  type IHeaders,
  type Message,
  type Producer,
  type Admin,
  type KafkaConfig,
} from 'kafkajs';
import { DeliveryError } from '../errors/index.ts';
import type { RecordHeader } from '../event/index.ts';
import type { ClientSecurity, ConnectorConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';

/**
 * A record to produce. `partition` undefined: the key hash picks one. Deliveries read these
 * fields only: the pipeline passes objects that also carry their source record (lib/pipeline
 * process.ts), which must never reach the target.
 */
export interface OutRecord {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  readonly timestamp: number;
}

/** Where a batch landed: per topic-partition, the first offset it was given. */
export interface ProducedRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
}

/** The delivery port the pipeline depends on. */
export interface KafkaDelivery {
  /** Produces every record with acks=all; resolves only when all are acknowledged. */
  send(
    records: readonly OutRecord[],
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<ProducedRange[]>;
  /** Partition count of a topic on the target cluster (cached); 0 when it does not exist. */
  partitionCount(topic: string): Promise<number>;
  disconnect(): Promise<void>;
}

/** Target topic name under MirrorMaker 2's replication policies. */
export const targetTopicName = (
  config: Pick<ConnectorConfig, 'replicationPolicy' | 'replicationSeparator' | 'sourceAlias'>,
  topic: string,
): string =>
  config.replicationPolicy === 'identity'
    ? topic
    : `${config.sourceAlias}${config.replicationSeparator}${topic}`;

const KAFKAJS_ERROR: number = KafkaLogLevel.ERROR;
const KAFKAJS_WARN: number = KafkaLogLevel.WARN;

const toKafkaLogLevel =
  (
    logger: Logger | undefined,
  ): ((
    level: number,
  ) => (entry: {
    namespace: string;
    level: number;
    log: { message: string } & Record<string, unknown>;
  }) => void) =>
  () =>
  (entry) => {
    if (!logger) return;
    const {
      message,
      timestamp: _t,
      logger: _l,
      stack: _s,
      ...rest
    } = entry.log as { message: string; timestamp?: unknown; logger?: unknown; stack?: unknown };
    const fields = { kafkajs: entry.namespace, ...rest };
    if (entry.level <= KAFKAJS_ERROR) logger.error(message, fields);
    else if (entry.level === KAFKAJS_WARN) logger.warn(message, fields);
    else logger.debug(message, fields);
  };

const toHeaders = (headers: readonly RecordHeader[]): IHeaders => {
  // Duplicate header keys are kept: kafkajs writes an array value as repeated headers.
  const out: Record<string, Buffer[]> = {};
  for (const h of headers) (out[h.key] ??= []).push(h.value);
  return Object.fromEntries(
    Object.entries(out).map(([k, v]) => [k, v.length === 1 ? (v[0] as Buffer) : v]),
  );
};

export interface KafkaDeliveryOptions {
  readonly brokers: readonly string[];
  readonly security: ClientSecurity;
  readonly clientId?: string;
  readonly logger?: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Codec of produced record batches (`producer.compression.type`; default none). */
  readonly compression?: CompressionType;
  /**
   * `producer.max.request.size`, as Kafka's Java producer reads it: a record larger than this
   * is refused before it is sent (`KAFKA_RECORD_TOO_LARGE`, record-level), and a send is cut
   * into requests no larger than this. Default: no limit of ours; the broker's
   * `message.max.bytes` decides.
   */
  readonly maxRequestSize?: number | undefined;
  /**
   * Which producer writes the records: `fast` (default) encodes record batches itself on
   * kafkajs's connections (lib/kafka/fast-produce.ts); `kafkajs` is kafkajs's own producer
   * (kept for comparison in the bench, and used when kafkajs lacks what the fast one needs).
   */
  readonly producer?: 'fast' | 'kafkajs';
}

/**
 * Creates the delivery port on kafkajs.
 *
 * @example
 * const delivery = createKafkaDelivery({ brokers: ['tg:30002'], security: config.target });
 * const ranges = await delivery.send(records);
 */
export { defaultIamToken, kafkaSecurity, type IamTokenProvider } from './security.ts';
export { createClientCredentialsProvider, type ClientCredentials } from './oauth.ts';
export {
  KAFKA_ERROR_KINDS,
  KAFKA_ERROR_RULES,
  KafkaError,
  classifyKafkaError,
  isRecordLevelKafkaError,
  toKafkaError,
  type KafkaErrorClass,
  type KafkaErrorKind,
  type KafkaErrorRule,
} from './errors.ts';
import { KafkaError, toKafkaError } from './errors.ts';
export {
  MAX_REQUEST_SIZE_KEY,
  MAX_REQUEST_SIZE_LIMIT,
  maxRequestSizeOf,
  recordSizeBound,
} from './request-size.ts';
import { MAX_REQUEST_SIZE_KEY, requestSizeBound, requestsWithin } from './request-size.ts';
export { createBrokerResolver, brokerField, isMskArn } from './msk.ts';
import { kafkaSecurity } from './security.ts';
import { kafkaCompression, recordsCodec, type CompressionType } from './codecs.ts';
import { createFastProducer, type FastProducer } from './fast-produce.ts';
import { createKafkaClient } from './client.ts';
export { createKafkaClient } from './client.ts';
export {
  CodecError,
  COMPRESSION_TYPES,
  COMPRESSION_TYPE_INVALID,
  COMPRESSION_TYPE_KEY,
  MAX_DECOMPRESSED_BATCH_BYTES,
  checkCompressionType,
  compressionTypeOf,
  registerCodecs,
  type CompressionType,
} from './codecs.ts';
export {
  createBatchConsumer,
  type BatchConsumer,
  type BatchCallback,
  type BatchHandlers,
  type PartitionEnd,
  type FetchedBatchEnd,
  positionAfter,
} from './consumer.ts';

export function createKafkaDelivery(options: KafkaDeliveryOptions): KafkaDelivery {
  const compression = kafkaCompression(options.compression ?? 'none');
  const maxRequestSize = options.maxRequestSize;
  const brokers = options.brokers.join(',');
  const kafkaConfig: KafkaConfig = {
    clientId: options.clientId ?? 'tigerstream',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 5000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Connecting and metadata: a few quick attempts inside kafkajs.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: toKafkaLogLevel(options.logger),
    ...kafkaSecurity(options.security),
  };
  const kafka = createKafkaClient(kafkaConfig);
  const fast: FastProducer | undefined =
    options.producer === 'kafkajs'
      ? undefined
      : createFastProducer(kafka, recordsCodec(options.compression ?? 'none'));
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  const partitions = new Map<string, number>();

  const getProducer = (): Promise<Producer> => {
    if (producer) return Promise.resolve(producer);
    connecting ??= (async () => {
      // The librdkafka mock and many managed clusters reject kafkajs's idempotent producer;
      // acks=all with our own retries gives at-least-once, which the design asks for.
      const p = kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: false,
        maxInFlightRequests: 1,
        // One attempt per send: retrying is ours (lib/errors/retry.ts), within the Lambda
        // deadline and only for what errors.ts classes retriable. kafkajs's retrier would
        // repeat what its own table calls retriable, CORRUPT_MESSAGE among them, before we
        // saw it.
        retry: { retries: 0 },
        // Named explicitly: records with a key and no partition go where Java clients put them
        // (murmur2), and kafkajs does not warn about its v2 default on every new producer.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      p.on(p.events.DISCONNECT, () => {
        if (producer === p) producer = undefined;
      });
      try {
        await p.connect();
      } catch (error) {
        await p.disconnect().catch(() => undefined);
        throw toKafkaError(error, {
          action: `Connecting to the target Kafka cluster (${brokers})`,
          retriableCode: 'KAFKA_CONNECT_FAILED',
          fallbackCode: 'KAFKA_CONNECT_FAILED',
        });
      }
      producer = p;
      return p;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  /** The fast producer, connected; connecting errors coded as kafkajs's producer's are. */
  const connectFast = async (f: FastProducer): Promise<FastProducer> => {
    try {
      await f.connect();
      return f;
    } catch (error) {
      await f.disconnect().catch(() => undefined);
      throw toKafkaError(error, {
        action: `Connecting to the target Kafka cluster (${brokers})`,
        retriableCode: 'KAFKA_CONNECT_FAILED',
        fallbackCode: 'KAFKA_CONNECT_FAILED',
      });
    }
  };

  const rebuild = async (): Promise<void> => {
    await fast?.disconnect().catch(() => undefined);
    const broken = producer;
    producer = undefined;
    await broken?.disconnect().catch(() => undefined);
  };

  const getAdmin = async (): Promise<Admin> => {
    if (admin) return admin;
    const a = kafka.admin();
    await a.connect();
    admin = a;
    return a;
  };

  /**
   * Waits for `work` unless `signal` fires first (the invocation deadline is near): kafkajs
   * cannot cancel a request in flight, so the handler stops waiting for it instead. Its
   * records may still be written: the redelivered batch writes them again (at-least-once).
   */
  const untilAborted = <T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    if (signal === undefined) return work;
    return new Promise<T>((resolve, reject) => {
      const stop = (): void =>
        reject(
          new DeliveryError(
            'KAFKA_SEND_ABORTED',
            'Producing was aborted: the invocation deadline is near',
            { retriable: true },
          ),
        );
      if (signal.aborted) {
        work.catch(() => undefined);
        stop();
        return;
      }
      signal.addEventListener('abort', stop, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', stop);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', stop);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- kafkajs's own error, passed on as it came for toKafkaError to classify
          reject(error);
        },
      );
    });
  };

  /** One produce request; its records' first offsets per topic-partition. */
  const sendRequest = async (
    p: Producer | FastProducer,
    records: readonly OutRecord[],
    timeoutMs: number,
  ): Promise<ProducedRange[]> => {
    if (!('sendBatch' in p)) return p.send(records, -1, timeoutMs);
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      byTopic.set(r.topic, list);
      list.push({
        key: r.key,
        value: r.value,
        headers: toHeaders(r.headers),
        timestamp: String(r.timestamp),
        ...(r.partition === undefined ? {} : { partition: r.partition }),
      });
    }
    const metadata = await p.sendBatch({
      acks: -1,
      compression,
      timeout: timeoutMs,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    return metadata.map((m) => {
      // kafkajs throws on a partition's error code; should one come back anyway, it is
      // classified like a thrown one.
      if (m.errorCode !== 0)
        throw Object.assign(
          new Error(
            `The broker answered error code ${m.errorCode} for ${m.topicName}[${m.partition}]`,
          ),
          { code: m.errorCode },
        );
      return { topic: m.topicName, partition: m.partition, firstOffset: Number(m.baseOffset) };
    });
  };

  return {
    async partitionCount(topic) {
      const known = partitions.get(topic);
      if (known !== undefined) return known;
      try {
        const meta = await (await getAdmin()).fetchTopicMetadata({ topics: [topic] });
        const count = meta.topics[0]?.partitions.length ?? 0;
        partitions.set(topic, count);
        return count;
      } catch (error) {
        const e = error as { type?: string };
        if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return 0;
        await admin?.disconnect().catch(() => undefined);
        admin = undefined;
        throw toKafkaError(error, {
          action: `Reading metadata of ${topic} on the target cluster`,
          retriableCode: 'KAFKA_METADATA_FAILED',
          fallbackCode: 'KAFKA_METADATA_FAILED',
          details: { topic },
        });
      }
    },

    async send(records, sendOptions = {}) {
      if (records.length === 0) return [];
      // Named in errors only (a string per send, not per record).
      const topics = (): string => [...new Set(records.map((r) => r.topic))].join(', ');
      if (maxRequestSize !== undefined) {
        // As Kafka's Java producer does: a record that cannot fit a request is refused here,
        // and is the record's fault (record-level), not the batch's.
        const index = records.findIndex((r) => requestSizeBound(r) > maxRequestSize);
        const big = records[index];
        if (big !== undefined)
          throw new KafkaError(
            'KAFKA_RECORD_TOO_LARGE',
            `Producing ${records.length} record(s) to ${topics()} failed: record ${index} takes up to ${requestSizeBound(big)} bytes in a request, more than ${MAX_REQUEST_SIZE_KEY}=${maxRequestSize}`,
            {
              kind: 'record',
              kafkaError: undefined,
              details: { topic: big.topic, index, maxRequestSize },
            },
          );
      }
      const p = fast === undefined ? await getProducer() : await connectFast(fast);
      const ranges = new Map<string, ProducedRange>();
      try {
        for (const request of maxRequestSize === undefined
          ? [records]
          : requestsWithin(records, maxRequestSize)) {
          if (sendOptions.signal?.aborted)
            throw new DeliveryError(
              'KAFKA_SEND_ABORTED',
              'Producing was aborted: the invocation deadline is near',
              { retriable: true },
            );
          const sent = sendRequest(p, request, sendOptions.timeoutMs ?? 30_000);
          for (const r of await untilAborted(sent, sendOptions.signal)) {
            const key = `${r.topic}\u0000${r.partition}`;
            const existing = ranges.get(key);
            if (!existing || r.firstOffset < existing.firstOffset) ranges.set(key, r);
          }
        }
      } catch (error) {
        const coded = toKafkaError(error, {
          action: `Producing ${records.length} record(s) to ${topics()}`,
          retriableCode: 'KAFKA_PRODUCE_RETRIABLE',
          fallbackCode: 'KAFKA_PRODUCE_FAILED',
        });
        if (coded instanceof KafkaError && coded.reconnect) await rebuild();
        throw coded;
      }
      return [...ranges.values()];
    },

    async disconnect() {
      await Promise.all([producer?.disconnect(), admin?.disconnect(), fast?.disconnect()]);
      producer = undefined;
      admin = undefined;
    },
  };
}
