/**
 * Kafka delivery behind a small port, so kafkajs (no longer released) can be swapped.
 * One producer per process, reused across invocations and rebuilt after a broken
 * connection; acks=all; partition, key, headers and timestamp kept.
 */
import {
  Partitioners,
  Kafka,
  logLevel as KafkaLogLevel,
  type IHeaders,
  type Message,
  type Producer,
  type Admin,
  type KafkaConfig,
} from 'kafkajs';
import { DeliveryError, TigerStreamError, messageOf } from '../errors/index.ts';
import type { RecordHeader } from '../event/index.ts';
import type { ClientSecurity, ConnectorConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';

/** A record to produce. `partition` undefined: the key hash picks one. */
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

/** kafkajs error names worth a retry after rebuilding the connection. */
const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSNonRetriableError',
]);

const isRetriableKafkaError = (error: unknown): boolean => {
  const e = error as { name?: string; retriable?: boolean; cause?: unknown };
  if (e.retriable === true) return true;
  if (e.name !== undefined && CONNECTION_ERRORS.has(e.name)) {
    // kafkajs wraps the last cause of exhausted retries; a protocol error that is not
    // retriable (authorization, say) stays non-retriable.
    const cause = e.cause as { retriable?: boolean; type?: string } | undefined;
    return !(
      cause?.retriable === false &&
      cause.type !== undefined &&
      /AUTHORIZATION|AUTHENTICATION|SASL/.test(cause.type)
    );
  }
  return false;
};

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
export { createBrokerResolver, brokerField, isMskArn } from './msk.ts';
import { kafkaSecurity } from './security.ts';
import { kafkaCompression, registerCodecs, type CompressionType } from './codecs.ts';
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
} from './consumer.ts';

export function createKafkaDelivery(options: KafkaDeliveryOptions): KafkaDelivery {
  registerCodecs();
  const compression = kafkaCompression(options.compression ?? 'none');
  const kafkaConfig: KafkaConfig = {
    clientId: options.clientId ?? 'tigerstream',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 5000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Retries are ours (lib/errors/retry.ts) so they respect the Lambda deadline.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: toKafkaLogLevel(options.logger),
    ...kafkaSecurity(options.security),
  };
  const kafka = new Kafka(kafkaConfig);
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
        throw new DeliveryError(
          'KAFKA_CONNECT_FAILED',
          `Cannot connect to the target Kafka cluster (${options.brokers.join(',')}): ${messageOf(error)}`,
          { retriable: true, cause: error },
        );
      }
      producer = p;
      return p;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const rebuild = async (): Promise<void> => {
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
        throw new DeliveryError(
          'KAFKA_METADATA_FAILED',
          `Cannot read metadata of ${topic} on the target cluster: ${messageOf(error)}`,
          { retriable: true, cause: error, details: { topic } },
        );
      }
    },

    async send(records, sendOptions = {}) {
      if (records.length === 0) return [];
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
      const p = await getProducer();
      if (sendOptions.signal?.aborted)
        throw new DeliveryError(
          'KAFKA_SEND_ABORTED',
          'Producing was aborted: the invocation deadline is near',
          { retriable: true },
        );
      try {
        const metadata = await p.sendBatch({
          acks: -1,
          compression,
          timeout: sendOptions.timeoutMs ?? 30_000,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        const ranges = new Map<string, ProducedRange>();
        for (const m of metadata) {
          if (m.errorCode !== 0)
            throw new DeliveryError(
              'KAFKA_PRODUCE_FAILED',
              `The broker answered error code ${m.errorCode} for ${m.topicName}[${m.partition}]`,
              { retriable: true },
            );
          const key = `${m.topicName}\u0000${m.partition}`;
          const offset = Number(m.baseOffset);
          const existing = ranges.get(key);
          if (!existing || offset < existing.firstOffset)
            ranges.set(key, {
              topic: m.topicName,
              partition: m.partition,
              firstOffset: offset,
            });
        }
        return [...ranges.values()];
      } catch (error) {
        if (error instanceof TigerStreamError) throw error;
        const retriable = isRetriableKafkaError(error);
        if (retriable) await rebuild();
        throw new DeliveryError(
          retriable ? 'KAFKA_PRODUCE_RETRIABLE' : 'KAFKA_PRODUCE_FAILED',
          `Producing ${records.length} record(s) to ${[...byTopic.keys()].join(', ')} failed: ${messageOf(error)}`,
          { retriable, cause: error },
        );
      }
    },

    async disconnect() {
      await Promise.all([producer?.disconnect(), admin?.disconnect()]);
      producer = undefined;
      admin = undefined;
    },
  };
}
