/** What the pipeline's parts share: its collaborators, record coordinates, load counts. */
import type { ConnectorConfig, TigerGraphSettings } from '../config/index.ts';
import type { Converter } from '../convert/index.ts';
import type { KafkaRecord, RecordHeader } from '../event/index.ts';
import { ConfigError, isTigerStreamError, messageOf } from '../errors/index.ts';
import type { RetryPolicy } from '../errors/retry.ts';
import type { KafkaDelivery } from '../kafka/index.ts';
import type { Logger, MetricsSink } from '../observability/index.ts';
import {
  NO_COUNTS,
  addLoadCounts,
  type LoadCounts,
  type TigerGraphClient,
} from '../tigergraph/index.ts';
import { DLQ_HEADERS } from './policy.ts';
import type { RunTimes } from './deadline.ts';
import type { RunRegistry } from './run-registry.ts';

/** The collaborators of one batch. */
export interface PipelineDeps {
  readonly config: ConnectorConfig;
  readonly converter: Converter;
  readonly delivery: KafkaDelivery;
  /** TigerGraph's loader; none for a mirror-only connector, which never calls TigerGraph. */
  readonly tigergraph?: TigerGraphClient | undefined;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Epoch ms after which no retry starts. */
  readonly deadline?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  /** Streaming runs already started in this container, by target topic (eof=false). */
  readonly streamingRuns?: Map<string, StreamingRun>;
  /** Where containers record their job's streaming run (see run-registry.ts). */
  readonly runRegistry?: RunRegistry | undefined;
  /** How long this container's EOF runs took (deadline.ts): none, no run is refused for time. */
  readonly runTimes?: RunTimes | undefined;
  /** Called once per retry of a failed call (the batch result counts them). */
  readonly countRetry?: () => void;
  /** The invocation's request id (marks the streaming run this container is starting). */
  readonly requestId?: string | undefined;
  /** Where metrics beyond the batch's go (a streaming run started anew); none: not counted. */
  readonly metrics?: MetricsSink | undefined;
}

/** The loader of a connector that calls TigerGraph: its settings and the client that calls it. */
export interface Loader {
  readonly settings: TigerGraphSettings;
  readonly client: TigerGraphClient;
}

/** The loader of a batch whose connector has TigerGraph settings. */
export function loaderOf(deps: PipelineDeps, settings: TigerGraphSettings): Loader {
  if (deps.tigergraph === undefined)
    throw new ConfigError(
      'CONFIG_TIGERGRAPH_CLIENT_MISSING',
      `Connector ${deps.config.name} calls TigerGraph's loader (tigergraph.delivery=${settings.delivery}) but the pipeline was given no TigerGraph client`,
    );
  return { settings, client: deps.tigergraph };
}

/** A streaming loading run this container started, and when it was last seen running. */
export interface StreamingRun {
  readonly id: string;
  readonly checkedAt: number;
}

/** Where a record came from, for logs (never its bytes). */
export const coordinates = (
  r: KafkaRecord,
): { topic: string; partition: number; offset: number } => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
});

/** The original headers plus the error's code and message and the record's coordinates. */
export const dlqHeaders = (record: KafkaRecord, error: unknown): RecordHeader[] => [
  ...record.headers,
  { key: DLQ_HEADERS.code, value: Buffer.from(isTigerStreamError(error) ? error.code : 'UNKNOWN') },
  { key: DLQ_HEADERS.message, value: Buffer.from(messageOf(error)) },
  { key: DLQ_HEADERS.topic, value: Buffer.from(record.topic) },
  { key: DLQ_HEADERS.partition, value: Buffer.from(String(record.partition)) },
  { key: DLQ_HEADERS.offset, value: Buffer.from(String(record.offset)) },
];

/** One JSON line for TigerGraph and the record it came from. */
export interface Line {
  readonly record: KafkaRecord;
  readonly value: Buffer;
}

export const ZERO = NO_COUNTS;
export const add = addLoadCounts;
export const rejections = (c: LoadCounts): number => c.rejectedLines + c.rejectedObjects;

/**
 * How many of `records` TigerGraph rejected, from the counts of their lines. A record is
 * rejected when a line of it was rejected (bad JSON, ...) or an object it should have loaded
 * was not (no id, invalid attribute). TigerGraph's statistics are sums, so which line a
 * rejected object came from is not known: with one LOAD per line each rejected object is one
 * line; with k objects per line (a vertex and an edge, several LOADs) the fewest lines that
 * explain them are counted, ceil(rejected objects / k). Lines of one record (JSON Lines, an
 * Avro container file: at most `linesPerRecord`) are likewise taken to share rejections as far
 * as they can. Exact for one line per record and one LOAD; otherwise the fewest records that
 * explain the statistics, a lower bound. Objects are reported exactly beside this.
 */
export function rejectedRecords(records: number, counts: LoadCounts, linesPerRecord = 1): number {
  const attempts = counts.validObjects + counts.rejectedObjects + counts.filteredObjects;
  const perLine = counts.validLines > 0 ? Math.max(1, attempts / counts.validLines) : 1;
  const objectLines =
    counts.rejectedObjects > 0
      ? Math.min(counts.validLines, Math.ceil(counts.rejectedObjects / perLine - 1e-9))
      : 0;
  const lines = counts.rejectedLines + objectLines;
  return Math.max(0, Math.min(records, Math.ceil(lines / Math.max(1, linesPerRecord))));
}

/**
 * The most of `records` TigerGraph's statistics could stand for: every rejected line and every
 * rejected object from a different record. With {@link rejectedRecords} it brackets the truth
 * when the statistics cannot say which record each rejection came from.
 */
export const rejectedRecordsAtMost = (records: number, counts: LoadCounts): number =>
  Math.max(0, Math.min(records, counts.rejectedLines + counts.rejectedObjects));

/** The retry helper's settings from the batch's collaborators, logging each retry. */
export const retryDeps = (deps: PipelineDeps) => ({
  ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}),
  ...(deps.signal ? { signal: deps.signal } : {}),
  ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
  ...(deps.sleep ? { sleep: deps.sleep } : {}),
  ...(deps.now ? { now: deps.now } : {}),
  onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) => {
    deps.countRetry?.();
    deps.logger.warn('Retrying after a retriable failure', { attempt, delayMs, error });
  },
});
