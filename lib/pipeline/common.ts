/** What the pipeline's parts share: its collaborators, record coordinates, load counts. */
import type { ConnectorConfig } from '../config/index.ts';
import type { Converter } from '../convert/index.ts';
import type { KafkaRecord, RecordHeader } from '../event/index.ts';
import { isTigerStreamError, messageOf } from '../errors/index.ts';
import type { RetryPolicy } from '../errors/retry.ts';
import type { KafkaDelivery } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import type { LoadCounts, TigerGraphClient } from '../tigergraph/index.ts';
import { DLQ_HEADERS } from './policy.ts';

/** The collaborators of one batch. */
export interface PipelineDeps {
  readonly config: ConnectorConfig;
  readonly converter: Converter;
  readonly delivery: KafkaDelivery;
  readonly tigergraph: TigerGraphClient;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Epoch ms after which no retry starts. */
  readonly deadline?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  /** Streaming runs already started in this container, by target topic (eof=false). */
  readonly streamingRuns?: Map<string, StreamingRun>;
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

export const ZERO: LoadCounts = {
  validLines: 0,
  rejectedLines: 0,
  validObjects: 0,
  rejectedObjects: 0,
};
export const add = (a: LoadCounts, b: LoadCounts): LoadCounts => ({
  validLines: a.validLines + b.validLines,
  rejectedLines: a.rejectedLines + b.rejectedLines,
  validObjects: a.validObjects + b.validObjects,
  rejectedObjects: a.rejectedObjects + b.rejectedObjects,
});

export const rejections = (c: LoadCounts): number => c.rejectedLines + c.rejectedObjects;

/** The retry helper's settings from the batch's collaborators, logging each retry. */
export const retryDeps = (deps: PipelineDeps) => ({
  ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}),
  ...(deps.signal ? { signal: deps.signal } : {}),
  ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
  ...(deps.sleep ? { sleep: deps.sleep } : {}),
  ...(deps.now ? { now: deps.now } : {}),
  onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
    deps.logger.warn('Retrying after a retriable failure', { attempt, delayMs, error }),
});
