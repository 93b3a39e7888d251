/**
 * A consumer-group reader over kafkajs for the local ESM runner: hands over batches of at
 * most `batchSize` records from one partition, gathered across fetches for up to the batching
 * window as the ESM gathers them (gather.ts), and commits only what the callback accepted.
 */
import { logLevel as KafkaLogLevel, type Consumer, type Admin } from 'kafkajs';
import type { ClientSecurity } from '../config/index.ts';
import type { KafkaRecord, RecordHeader } from '../event/index.ts';
import { DeliveryError, TigerStreamError, messageOf } from '../errors/index.ts';
import type { Logger } from '../observability/index.ts';
import { createKafkaClient } from './client.ts';
import { consumerFailure } from './crash.ts';
import { createGatherer, type Gatherer } from './gather.ts';
import { kafkaSecurity } from './security.ts';

/** How often a consumer waiting to add a fetch to the gatherer heartbeats its group. */
const HEARTBEAT_WHILE_WAITING_MS = 1000;
export interface BatchConsumerOptions {
  readonly brokers: readonly string[];
  readonly security: ClientSecurity;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly batchSize: number;
  /**
   * The ESM batching window: how long a record may wait for its batch to fill before the
   * batch is handed over anyway (0: each fetch at once). Also how long a fetch may wait at the
   * broker when nothing is there.
   */
  readonly batchingWindowMs: number;
  /** Consumer-group session timeout (kafkajs default 30 s). A restarted runner may wait this long to rejoin. */
  readonly sessionTimeoutMs?: number;
  /** Restarts after crashes in a row before the consumer gives up (default {@link MAX_CONSUMER_RESTARTS}). */
  readonly maxRestarts?: number;
  readonly logger?: Logger;
}

/** Returns true to commit the batch; false stops the consumer without committing. */
export type BatchCallback = (records: KafkaRecord[]) => Promise<boolean>;

export interface BatchHandlers {
  readonly onBatch: BatchCallback;
  /** Runs after a batch's offsets are committed. */
  readonly onCommitted?: (records: readonly KafkaRecord[]) => void;
  /**
   * Runs when a partition's position moved to `next`: after each committed batch, and past
   * the control records kafkajs does not hand over (see {@link positionAfter}).
   */
  readonly onPosition?: (position: { topic: string; partition: number; next: number }) => void;
  /**
   * Runs once when the consumer stopped for good without being asked to (a crash kafkajs does
   * not restart, or one crash too many): consuming will not resume, so the caller must stop.
   */
  readonly onFailure: (error: TigerStreamError) => void;
}

export interface PartitionEnd {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume for the group (committed, else the start position). */
  readonly next: number;
  /** High watermark when asked. */
  readonly end: number;
}

export interface BatchConsumer {
  /** Where the group stands against the end of every partition. */
  positions(): Promise<PartitionEnd[]>;
  /**
   * Joins the group and starts consuming; resolves once consuming runs.
   *
   * @throws DeliveryError `KAFKA_SOURCE_CONNECT_FAILED` when it cannot join.
   */
  start(handlers: BatchHandlers): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Crashes in a row (no batch committed between them) after which a consumer that kafkajs
 * would restart is stopped instead: a source that keeps failing fails the run.
 */
export const MAX_CONSUMER_RESTARTS = 5;

/** What kafkajs tells of a fetched batch's end: its `Batch`, or the END_BATCH_PROCESS payload. */
export interface FetchedBatchEnd {
  /**
   * The offset of the batch's last entry, control records included (kafkajs 2.2.4
   * src/consumer/batch.js `lastOffset()`; the high watermark - 1 when the fetch held nothing).
   */
  readonly lastOffset: string | (() => string);
}

/**
 * The partition's position once a fetched batch is consumed: one past its last entry. kafkajs
 * hands over data records only (src/consumer/batch.js drops control records: a transaction's
 * commit or abort marker), so a partition whose last entry is a marker never reaches its high
 * watermark through the records' offsets; its batch's last offset does.
 *
 * @example
 * positionAfter(batch); // 3 for records at 0 and 1 and a commit marker at 2
 */
export const positionAfter = (batch: FetchedBatchEnd): number =>
  Number(typeof batch.lastOffset === 'function' ? batch.lastOffset() : batch.lastOffset) + 1;

const headersOf = (headers: Record<string, unknown> | undefined): RecordHeader[] =>
  Object.entries(headers ?? {}).flatMap(([key, v]) =>
    (Array.isArray(v) ? v : [v])
      .filter((x) => x !== undefined)
      .map((x) => ({ key, value: Buffer.isBuffer(x) ? x : Buffer.from(String(x)) })),
  );

export function createBatchConsumer(options: BatchConsumerOptions): BatchConsumer {
  const kafka = createKafkaClient({
    clientId: 'tigerstream-runner',
    brokers: [...options.brokers],
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry) =>
      options.logger?.debug(entry.log.message, { kafkajs: entry.namespace }),
    ...kafkaSecurity(options.security),
  });
  let consumer: Consumer | undefined;
  let gathered: Gatherer | undefined;
  const withAdmin = async <T>(fn: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  };

  return {
    async positions() {
      try {
        return await withAdmin(async (admin) => {
          const committed = await admin.fetchOffsets({
            groupId: options.groupId,
            topics: [...options.topics],
          });
          const result: PartitionEnd[] = [];
          for (const topic of options.topics) {
            const offsets = await admin.fetchTopicOffsets(topic);
            const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
            for (const o of offsets) {
              const c = Number(group.find((g) => g.partition === o.partition)?.offset ?? -1);
              const start = options.fromBeginning ? Number(o.low) : Number(o.high);
              result.push({
                topic,
                partition: o.partition,
                next: c >= 0 ? c : start,
                end: Number(o.high),
              });
            }
          }
          return result;
        });
      } catch (error) {
        throw new DeliveryError(
          'KAFKA_SOURCE_OFFSETS_FAILED',
          `Cannot read offsets of ${options.topics.join(', ')} on the source cluster: ${messageOf(error)}`,
          { retriable: true, cause: error },
        );
      }
    },

    async start({ onBatch, onCommitted, onPosition, onFailure }) {
      let restarts = 0;
      let failed = false;
      let stopped = false;
      const c = kafka.consumer({
        groupId: options.groupId,
        ...(options.sessionTimeoutMs
          ? {
              sessionTimeout: options.sessionTimeoutMs,
              heartbeatInterval: Math.floor(options.sessionTimeoutMs / 3),
            }
          : {}),
        maxWaitTimeInMs: Math.max(options.batchingWindowMs, 1),
        allowAutoTopicCreation: false,
        retry: {
          // kafkajs restarts a consumer after a retriable crash, forever by default.
          restartOnFailure: (error) => {
            if (restarts >= (options.maxRestarts ?? MAX_CONSUMER_RESTARTS))
              return Promise.resolve(false);
            restarts++;
            options.logger?.warn('The source consumer crashed; restarting it', {
              restart: restarts,
              error: messageOf(error),
            });
            return Promise.resolve(true);
          },
        },
      });
      consumer = c;
      // A crash kafkajs does not restart leaves the consumer stopped with nothing pending: the
      // caller must hear of it, or an --eof run waits forever (or Node exits 13 when nothing
      // else keeps the event loop alive).
      c.on(c.events.CRASH, ({ payload }) => {
        if (payload.restart || failed) return;
        failed = true;
        onFailure(consumerFailure(payload.error, { groupId: options.groupId, restarts }));
      });
      // A fetch of control records only (a commit marker at the end of a partition) never
      // reaches eachBatch: kafkajs resolves it and reports it here with no records.
      c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || stopped) return;
        const where = { topic: payload.topic, partition: payload.partition };
        const next = positionAfter(payload);
        // Behind records still held, the position moves when they are handed over.
        if (gathered && gathered.held(where.topic, where.partition) > 0)
          gathered.advance(where.topic, where.partition, next);
        else onPosition?.({ ...where, next });
      });
      try {
        await c.connect();
        for (const topic of options.topics)
          await c.subscribe({ topic, fromBeginning: options.fromBeginning });
      } catch (error) {
        await c.disconnect().catch(() => undefined);
        throw new DeliveryError(
          'KAFKA_SOURCE_CONNECT_FAILED',
          `Cannot consume ${options.topics.join(', ')} from the source cluster (${options.brokers.join(',')}): ${messageOf(error)}`,
          { retriable: true, cause: error },
        );
      }
      // The ESM's batching window across fetches (gather.ts); a batch is committed once handled.
      const gatherer = createGatherer({
        batchSize: options.batchSize,
        windowMs: options.batchingWindowMs,
        deliver: async ({ topic, partition, records, next: nextOf }) => {
          const restartsBefore = restarts;
          if (!(await onBatch(records))) {
            stopped = true;
            return false;
          }
          const next = nextOf();
          await c.commitOffsets([{ topic, partition, offset: String(next) }]);
          // Crashes in a row are those with no batch committed between them; a batch handed
          // over while fetching crashed began before the crash, so it does not count.
          if (restarts === restartsBefore) restarts = 0;
          onCommitted?.(records);
          onPosition?.({ topic, partition, next });
          return true;
        },
        onPosition: (position) => onPosition?.(position),
        // A batch could not be committed (outside a rebalance, which clears what is held): it
        // is read again from there, as the ESM delivers a batch again.
        onHandOverFailure: (error, { topic, partition, from }) => {
          options.logger?.warn('Committing a batch failed; reading it again', {
            topic,
            partition,
            offset: from,
            error: messageOf(error),
          });
          try {
            c.seek({ topic, partition, offset: String(from) });
          } catch (seekError) {
            failed = true;
            onFailure(consumerFailure(seekError, { groupId: options.groupId, restarts }));
          }
        },
      });
      gathered = gatherer;
      // Records held but not committed are fetched again after a rebalance or a restart, which
      // start from the committed offsets.
      c.on(c.events.REBALANCING, () => gatherer.clear());
      c.on(c.events.GROUP_JOIN, () => gatherer.clear());
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async (payload) => {
          const { batch } = payload;
          if (stopped || !payload.isRunning() || payload.isStale()) return;
          const records: KafkaRecord[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: Number(m.offset),
            timestamp: Number(m.timestamp),
            timestampType: 'CREATE_TIME',
            key: m.key ?? null,
            value: m.value ?? null,
            headers: headersOf(m.headers as Record<string, unknown> | undefined),
          }));
          // Past control records after the last data record too, so a later run does not start
          // on a marker; committed with the last batch that empties the partition.
          const next = positionAfter(batch);
          payload.resolveOffset(String(next - 1));
          // Adding may wait while the handler works on this partition's batches: the group
          // hears from this member meanwhile (kafkajs sends at most one per heartbeatInterval).
          const beat = setInterval(() => {
            payload.heartbeat().catch(() => undefined);
          }, HEARTBEAT_WHILE_WAITING_MS);
          let going: boolean;
          try {
            going = await gatherer.add(batch.topic, batch.partition, records, next);
          } finally {
            clearInterval(beat);
          }
          if (!going) return;
          await payload.heartbeat();
        },
      });
    },

    async stop() {
      // A batch being handed over is finished and committed first, as kafkajs finishes the
      // batch its eachBatch is handling before it disconnects; what is only held is dropped.
      gathered?.close();
      await gathered?.idle();
      await consumer?.disconnect();
      consumer = undefined;
    },
  };
}
