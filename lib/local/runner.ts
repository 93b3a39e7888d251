/**
 * The local ESM runner (`tgstream run`): consumes the source cluster with a consumer group,
 * builds the event a Kafka event-source mapping builds, calls the same handler, commits
 * only after success, retries a failed batch with backoff, and with `eof` stops once every
 * partition is caught up with the end it had when the run started.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { consumerGroupFor, type ConnectorConfig } from '../config/index.ts';
import { ConfigError, LocalError, isTigerStreamError, messageOf } from '../errors/index.ts';
import { retry, type RetryPolicy } from '../errors/retry.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../event/index.ts';
import { createBatchConsumer, type BatchConsumer } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import type { BatchResult } from '../pipeline/index.ts';

export interface RunTotals {
  records: number;
  produced: number;
  loaded: number;
  rejected: number;
  deadLettered: number;
  tombstones: number;
  objectsLoaded: number;
  objectsRejected: number;
  batches: number;
  failedAttempts: number;
}

export interface RunnerOptions {
  readonly config: ConnectorConfig;
  readonly handler: (event: unknown, context: Context) => Promise<BatchResult>;
  readonly eof: boolean;
  readonly logger: Logger;
  readonly retryPolicy?: RetryPolicy;
  /** Function timeout for the simulated Lambda context (Kafka ESMs allow at most 14 min). */
  readonly timeoutMs?: number;
  readonly onProgress?: (totals: Readonly<RunTotals>) => void;
  /** Stops the run (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly consumer?: BatchConsumer;
  readonly sessionTimeoutMs?: number;
  /** Resolves an MSK cluster ARN in source.cluster.bootstrap.servers to brokers. */
  readonly resolveBrokers?: (value: string, security: ConnectorConfig['source']) => Promise<string>;
}

export const RUNNER_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
});

/** A Lambda context for a local invocation: Lambda's fields, a deadline `timeoutMs` after `started`. */
export const lambdaContext = (timeoutMs: number, started: number): Context =>
  // The deprecated callback helpers (done/fail/succeed) are never called by our handler.
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'tgstream-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:tgstream-local',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  }) as Context;

/**
 * Whether an EOF run is done: every partition that had records to read when it started
 * (`ends`: its high watermark then, by `topic-partition`) has its position (`reached`) there.
 * A position counts control records (the consumer's positionAfter): a partition that ends in
 * a transaction's commit marker is caught up once the marker is passed, though no record
 * carries the last offset.
 */
export function caughtUp(
  ends: ReadonlyMap<string, number>,
  reached: ReadonlyMap<string, number>,
): boolean {
  return [...ends].every(([key, end]) => (reached.get(key) ?? 0) >= end);
}

/** Runs until stopped, or with `eof` until caught up; resolves with the totals. */
export async function runLocal(options: RunnerOptions): Promise<RunTotals> {
  const { config, logger } = options;
  const totals: RunTotals = {
    records: 0,
    produced: 0,
    loaded: 0,
    rejected: 0,
    deadLettered: 0,
    tombstones: 0,
    objectsLoaded: 0,
    objectsRejected: 0,
    batches: 0,
    failedAttempts: 0,
  };
  const consumer =
    options.consumer ??
    createBatchConsumer({
      brokers: (options.resolveBrokers
        ? await options.resolveBrokers(config.sourceBootstrapServers, config.source)
        : config.sourceBootstrapServers
      ).split(','),
      security: config.source,
      groupId: consumerGroupFor(config.name),
      topics: config.topics.filter((t) => !config.topicsExclude.includes(t)),
      fromBeginning: config.esm.startingPosition === 'TRIM_HORIZON',
      batchSize: config.esm.batchSize,
      batchingWindowMs: config.esm.batchingWindowMs,
      ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
      logger,
    });
  const eventSource = config.sourceBootstrapServers.startsWith('arn:')
    ? 'aws:kafka'
    : 'SelfManagedKafka';
  // Where every partition must get to before an EOF run stops.
  const ends = new Map<string, number>();
  const reached = new Map<string, number>();
  if (options.eof)
    for (const p of await consumer.positions())
      if (p.next < p.end) ends.set(`${p.topic}-${p.partition}`, p.end);
  const done = (): boolean => caughtUp(ends, reached);

  let failure: unknown;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  if (options.eof && done()) finish();
  options.signal?.addEventListener('abort', () => finish(), { once: true });

  const onBatch = async (records: KafkaRecord[]): Promise<boolean> => {
    if (failure !== undefined || options.signal?.aborted) return false;
    const event = encodeKafkaEvent(records, {
      eventSource,
      bootstrapServers: config.sourceBootstrapServers,
    });
    try {
      const result = await retry(
        () => options.handler(event, lambdaContext(options.timeoutMs ?? 840_000, Date.now())),
        {
          policy: options.retryPolicy ?? RUNNER_RETRY_POLICY,
          // The ESM retries every failure; a configuration error cannot heal, so stop at once.
          isRetriable: (error) => !(error instanceof ConfigError),
          ...(options.signal ? { signal: options.signal } : {}),
          onRetry: ({ attempt, delayMs, error }) => {
            totals.failedAttempts++;
            logger.warn('Batch failed; retrying it', {
              attempt,
              delayMs,
              topic: records[0]?.topic,
              partition: records[0]?.partition,
              firstOffset: records[0]?.offset,
              error,
            });
          },
        },
      );
      totals.batches++;
      totals.records += result.records;
      totals.produced += result.produced;
      totals.loaded += result.loaded;
      totals.rejected += result.rejected;
      totals.deadLettered += result.deadLettered;
      totals.tombstones += result.tombstones;
      totals.objectsLoaded += result.objectsLoaded;
      totals.objectsRejected += result.objectsRejected;
      options.onProgress?.(totals);
      return true;
    } catch (error) {
      failure = error;
      finish();
      return false;
    }
  };

  try {
    // An EOF run ends only after the last batch's offsets are committed.
    await consumer.start({
      onBatch,
      onPosition: ({ topic, partition, next }) => {
        const key = `${topic}-${partition}`;
        reached.set(key, Math.max(reached.get(key) ?? 0, next));
        if (options.eof && done()) finish();
      },
      // The consumer stopped for good (a batch it cannot decode, a source it cannot reach):
      // nothing more will arrive, so the run ends with that error rather than waiting.
      onFailure: (error) => {
        failure ??= error;
        finish();
      },
    });
    await finished;
  } finally {
    await consumer
      .stop()
      .catch((error: unknown) =>
        logger.warn('Stopping the consumer failed', { error: messageOf(error) }),
      );
  }
  if (failure !== undefined) {
    throw isTigerStreamError(failure)
      ? failure
      : new LocalError(
          'RUNNER_BATCH_FAILED',
          `A batch failed after its retries: ${messageOf(failure)}`,
          { cause: failure },
        );
  }
  return totals;
}
