/**
 * One batch through the whole stream: convert, deliver (kafka or direct mode), load, and
 * account for every record. Pure orchestration over injected ports.
 */
import type { ConnectorConfig } from '../config/index.ts';
import type { Converter } from '../convert/index.ts';
import type { DecodedBatch, KafkaRecord, RecordHeader } from '../event/index.ts';
import { DeliveryError, TigerGraphError, isTigerStreamError, messageOf } from '../errors/index.ts';
import { retry, sleep as defaultSleep, type RetryPolicy } from '../errors/retry.ts';
import {
  targetTopicName,
  type KafkaDelivery,
  type OutRecord,
  type ProducedRange,
} from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import type { LoadCounts, TigerGraphClient } from '../tigergraph/index.ts';
import { DLQ_HEADERS, decideRecordFailure } from './policy.ts';

/** What happened to a batch; every record is in exactly one of the outcome counts. */
export interface BatchResult {
  /** Records in the event. */
  readonly records: number;
  /** Records produced to TigerGraph's Kafka (kafka mode) or posted (direct mode). */
  readonly produced: number;
  /** Records TigerGraph loaded (valid objects of the runs this batch started). */
  readonly loaded: number;
  /** Records TigerGraph or the converter rejected (counted, logged with coordinates). */
  readonly rejected: number;
  readonly deadLettered: number;
  /** Null values: skipped and counted. */
  readonly tombstones: number;
  readonly bytes: number;
  readonly jobIds: readonly string[];
}

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
  readonly streamingRuns?: Map<string, string>;
}

const coordinates = (r: KafkaRecord): { topic: string; partition: number; offset: number } => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
});

const dlqHeaders = (record: KafkaRecord, error: unknown): RecordHeader[] => [
  ...record.headers,
  { key: DLQ_HEADERS.code, value: Buffer.from(isTigerStreamError(error) ? error.code : 'UNKNOWN') },
  { key: DLQ_HEADERS.message, value: Buffer.from(messageOf(error)) },
  { key: DLQ_HEADERS.topic, value: Buffer.from(record.topic) },
  { key: DLQ_HEADERS.partition, value: Buffer.from(String(record.partition)) },
  { key: DLQ_HEADERS.offset, value: Buffer.from(String(record.offset)) },
];

/** One JSON line for TigerGraph and the record it came from. */
interface Line {
  readonly record: KafkaRecord;
  readonly value: Buffer;
}

interface Converted {
  readonly out: OutRecord[];
  readonly deadLetters: OutRecord[];
  readonly rejected: number;
  readonly tombstones: number;
  /** Output values per source record in order, for direct mode. */
  readonly lines: Line[];
}

async function convertAll(
  batch: DecodedBatch,
  deps: PipelineDeps,
  targetPartitions: Map<string, number>,
): Promise<Converted> {
  const { config, converter, logger } = deps;
  const out: OutRecord[] = [];
  const deadLetters: OutRecord[] = [];
  const lines: Line[] = [];
  let rejected = 0;
  let tombstones = 0;
  for (const record of batch.records) {
    let converted;
    try {
      converted = await converter.convert(record);
    } catch (error) {
      const outcome = decideRecordFailure(error, config);
      if (outcome === 'fail-batch') throw error;
      logger.warn(
        outcome === 'dead-letter'
          ? 'Record sent to the dead-letter topic'
          : 'Record rejected (errors.tolerance=all, no dead-letter topic)',
        { ...coordinates(record), error },
      );
      if (outcome === 'reject') rejected++;
      else
        deadLetters.push({
          topic: config.deadLetterTopic as string,
          partition: undefined,
          key: record.key,
          value: record.value,
          headers: dlqHeaders(record, error),
          timestamp: record.timestamp,
        });
      continue;
    }
    if (converted.kind === 'tombstone') {
      tombstones++;
      continue;
    }
    const topic = targetTopicName(config, record.topic);
    const count = targetPartitions.get(topic) ?? 0;
    for (const value of converted.values) {
      lines.push({ record, value });
      out.push({
        topic,
        partition: record.partition < count ? record.partition : undefined,
        key: record.key,
        value,
        headers: record.headers,
        timestamp: record.timestamp,
      });
    }
  }
  return { out, deadLetters, rejected, tombstones, lines };
}

const ZERO: LoadCounts = { validLines: 0, rejectedLines: 0, validObjects: 0, rejectedObjects: 0 };
const add = (a: LoadCounts, b: LoadCounts): LoadCounts => ({
  validLines: a.validLines + b.validLines,
  rejectedLines: a.rejectedLines + b.rejectedLines,
  validObjects: a.validObjects + b.validObjects,
  rejectedObjects: a.rejectedObjects + b.rejectedObjects,
});

/** Polls a run until it is no longer running; the poll interval grows to 2 s. */
async function waitForRun(deps: PipelineDeps, graph: string, jobId: string): Promise<LoadCounts> {
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? defaultSleep;
  for (let delay = 25; ; delay = Math.min(2000, delay * 2)) {
    const progress = await retry(
      () => deps.tigergraph.getProgress(graph, jobId, deps.signal),
      retryDeps(deps),
    );
    if (progress.status === 'FINISHED') return progress.counts;
    if (progress.status === 'FAILED' || progress.status === 'ABORTED')
      throw new TigerGraphError(
        'TIGERGRAPH_LOADING_JOB_FAILED',
        `Loading job run ${jobId} ended ${progress.status}${progress.error ? `: ${progress.error}` : ''}`,
        { retriable: true, details: { jobId } },
      );
    if (deps.deadline !== undefined && now() + delay >= deps.deadline)
      throw new TigerGraphError(
        'TIGERGRAPH_LOADING_JOB_TIMEOUT',
        `Loading job run ${jobId} was still running at the invocation deadline`,
        { retriable: true, details: { jobId } },
      );
    await wait(delay, deps.signal);
  }
}

const retryDeps = (deps: PipelineDeps) => ({
  ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}),
  ...(deps.signal ? { signal: deps.signal } : {}),
  ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
  ...(deps.sleep ? { sleep: deps.sleep } : {}),
  ...(deps.now ? { now: deps.now } : {}),
  onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
    deps.logger.warn('Retrying after a retriable failure', { attempt, delayMs, error }),
});

/** Kafka mode: one EOF run per target topic over exactly the offsets this batch produced. */
async function loadFromKafka(
  deps: PipelineDeps,
  ranges: readonly ProducedRange[],
): Promise<{ counts: LoadCounts; jobIds: string[] }> {
  const { tigergraph: tg } = deps.config;
  const byTopic = new Map<string, ProducedRange[]>();
  for (const r of ranges) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  let counts = ZERO;
  const jobIds: string[] = [];
  for (const [topic, list] of byTopic) {
    // Streaming mode keeps one run per topic going: started once per container, from the
    // offsets of the first batch; later batches only produce.
    const running = tg.eof ? undefined : deps.streamingRuns?.get(topic);
    if (running !== undefined) {
      jobIds.push(running);
      continue;
    }
    const ids = await retry(
      () =>
        deps.tigergraph.startLoadingJob(
          {
            graph: tg.graph,
            job: tg.loadingJob,
            filename: tg.loadingFilename,
            dataSource: tg.dataSource,
            topic,
            streaming: !tg.eof,
            partitions: list.map((r) => ({ partition: r.partition, start_offset: r.firstOffset })),
          },
          deps.signal,
        ),
      retryDeps(deps),
    );
    jobIds.push(...ids);
    if (!tg.eof && ids[0] !== undefined) deps.streamingRuns?.set(topic, ids[0]);
    if (tg.eof && tg.waitForLoad)
      for (const id of ids) counts = add(counts, await waitForRun(deps, tg.graph, id));
  }
  return { counts, jobIds };
}

/** A line TigerGraph rejected (wholly, or some of the objects it loads), with its counts. */
interface RejectedLine {
  readonly line: Line;
  readonly counts: LoadCounts;
}

/** Extra /ddl posts one batch may spend finding which lines TigerGraph rejected. */
export const ISOLATION_POSTS = 64;
/** Rejected records logged one by one per batch (when not dead-lettered); the rest are summed. */
const MAX_RECORD_WARNINGS = 10;

const rejections = (c: LoadCounts): number => c.rejectedLines + c.rejectedObjects;

/**
 * Direct mode: JSON lines chunked under tigergraph.batch.max.bytes, in order, to /ddl.
 * TigerGraph answers a post with counts only, so when a chunk has rejections and they can be
 * dead-lettered, its halves are posted again (loading is an upsert; delivery is at-least-once
 * anyway) until each rejected line is alone, within {@link ISOLATION_POSTS}. Rejections not
 * singled out (no dead-letter topic, most of a chunk rejected, budget spent) are counted and
 * logged with the piece's offsets.
 */
async function loadDirect(
  deps: PipelineDeps,
  lines: readonly Line[],
): Promise<{ counts: LoadCounts; rejected: RejectedLine[] }> {
  const { tigergraph: tg } = deps.config;
  let budget = ISOLATION_POSTS;
  const post = (part: readonly Line[]): Promise<LoadCounts> => {
    const body = Buffer.concat(
      part.flatMap((l, i) => (i === 0 ? [l.value] : [Buffer.from('\n'), l.value])),
    ).toString('utf8');
    return retry(
      () => deps.tigergraph.postDdl(tg.graph, tg.loadingJob, tg.loadingFilename, body, deps.signal),
      retryDeps(deps),
    );
  };
  const deadLettering =
    deps.config.errorsTolerance === 'all' && deps.config.deadLetterTopic !== undefined;
  /** Rejections counted for a piece and logged with its offsets, not singled out. */
  const unresolved = (
    part: readonly Line[],
    counts: LoadCounts,
    reason: string,
  ): { counts: LoadCounts; rejected: RejectedLine[] } => {
    deps.logger.warn('TigerGraph rejected lines that were not singled out', {
      reason,
      lines: part.length,
      rejectedLines: counts.rejectedLines,
      rejectedObjects: counts.rejectedObjects,
      from: coordinates((part[0] as Line).record),
      to: coordinates((part[part.length - 1] as Line).record),
    });
    return { counts, rejected: [] };
  };
  const isolate = async (
    part: readonly Line[],
    counts: LoadCounts,
    whole = false,
  ): Promise<{ counts: LoadCounts; rejected: RejectedLine[] }> => {
    if (rejections(counts) === 0) return { counts, rejected: [] };
    if (part.length === 1) return { counts, rejected: [{ line: part[0] as Line, counts }] };
    // Every line rejected as a whole (a wrong job, not JSON): no need to look closer.
    if (counts.rejectedLines >= part.length)
      return {
        counts,
        rejected: part.map((line) => ({ line, counts: { ...ZERO, rejectedLines: 1 } })),
      };
    // Re-posting only pays when the records found can be dead-lettered.
    if (!deadLettering)
      return unresolved(
        part,
        counts,
        'no dead-letter topic (set errors.tolerance=all and errors.deadletterqueue.topic.name to have each rejected record dead-lettered)',
      );
    if (whole && rejections(counts) * 2 > part.length)
      return unresolved(
        part,
        counts,
        'more than half of the lines were rejected, which points at the loading job rather than at some records',
      );
    if (budget < 2) return unresolved(part, counts, 'the re-post budget of this batch is spent');
    budget -= 2;
    const mid = part.length >>> 1;
    const left = part.slice(0, mid);
    const right = part.slice(mid);
    const a = await isolate(left, await post(left));
    const b = await isolate(right, await post(right));
    return { counts: add(a.counts, b.counts), rejected: [...a.rejected, ...b.rejected] };
  };

  let counts = ZERO;
  const rejected: RejectedLine[] = [];
  let chunk: Line[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const part = chunk;
    chunk = [];
    size = 0;
    const result = await isolate(part, await post(part), true);
    counts = add(counts, result.counts);
    rejected.push(...result.rejected);
  };
  for (const line of lines) {
    if (size + line.value.length + 1 > tg.batchMaxBytes) await flush();
    chunk.push(line);
    size += line.value.length + 1;
  }
  await flush();
  return { counts, rejected };
}

/**
 * Handles the records whose lines TigerGraph rejected in direct mode: under
 * errors.tolerance=all with a dead-letter topic they go there (original key, value and
 * headers plus the error headers); otherwise each is logged with its coordinates and counted
 * as rejected (TigerGraph's verdict does not change on a retry, so the batch goes on).
 * Returns how many records were dead-lettered and how many rejections they account for.
 */
async function handleRejectedLines(
  deps: PipelineDeps,
  rejected: readonly RejectedLine[],
): Promise<{ deadLettered: number; rejections: number }> {
  const { config } = deps;
  const byRecord = new Map<KafkaRecord, LoadCounts>();
  for (const r of rejected)
    byRecord.set(r.line.record, add(byRecord.get(r.line.record) ?? ZERO, r.counts));
  const toDeadLetter = config.errorsTolerance === 'all' && config.deadLetterTopic !== undefined;
  const deadLetters: OutRecord[] = [];
  let covered = 0;
  let logged = 0;
  for (const [record, counts] of byRecord) {
    const error = new TigerGraphError(
      'TIGERGRAPH_RECORD_REJECTED',
      `TigerGraph's loading job ${config.tigergraph.loadingJob} rejected this record's JSON (${counts.rejectedLines} line(s) rejected, ${counts.rejectedObjects} object(s) not loaded: a missing or invalid id or attribute)`,
      { retriable: false },
    );
    if (!toDeadLetter) {
      if (logged++ < MAX_RECORD_WARNINGS)
        deps.logger.warn('TigerGraph rejected a record', { ...coordinates(record), error });
      continue;
    }
    deps.logger.warn('Record sent to the dead-letter topic', { ...coordinates(record), error });
    covered += rejections(counts);
    deadLetters.push({
      topic: config.deadLetterTopic,
      partition: undefined,
      key: record.key,
      value: record.value,
      headers: dlqHeaders(record, error),
      timestamp: record.timestamp,
    });
  }
  if (logged > MAX_RECORD_WARNINGS)
    deps.logger.warn('TigerGraph rejected more records of this batch', {
      records: logged - MAX_RECORD_WARNINGS,
    });
  if (deadLetters.length > 0)
    await retry(
      () => deps.delivery.send(deadLetters, deps.signal ? { signal: deps.signal } : {}),
      retryDeps(deps),
    );
  return { deadLettered: deadLetters.length, rejections: covered };
}

/**
 * Processes one decoded batch. Resolves only when every record is acknowledged by the
 * target (or dead-lettered) and the loader call succeeded; otherwise throws, so the ESM
 * redelivers the batch.
 */
export async function processBatch(batch: DecodedBatch, deps: PipelineDeps): Promise<BatchResult> {
  const { config } = deps;
  const bytes = batch.records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
  const kafkaMode = config.tigergraph.delivery === 'kafka';
  const targetPartitions = new Map<string, number>();
  if (kafkaMode) {
    for (const topic of new Set(batch.records.map((r) => targetTopicName(config, r.topic)))) {
      const count = await retry(() => deps.delivery.partitionCount(topic), retryDeps(deps));
      if (count === 0)
        throw new DeliveryError(
          'KAFKA_TARGET_TOPIC_MISSING',
          `Target topic ${topic} does not exist on ${config.targetBootstrapServers}; create it with as many partitions as its source topic`,
          { retriable: true, details: { topic } },
        );
      targetPartitions.set(topic, count);
    }
  }
  const converted = await convertAll(batch, deps, targetPartitions);
  if (converted.deadLetters.length > 0)
    await retry(
      () => deps.delivery.send(converted.deadLetters, deps.signal ? { signal: deps.signal } : {}),
      retryDeps(deps),
    );
  let counts = ZERO;
  let jobIds: string[] = [];
  let tgDeadLettered = { deadLettered: 0, rejections: 0 };
  if (kafkaMode) {
    const ranges = await retry(
      () => deps.delivery.send(converted.out, deps.signal ? { signal: deps.signal } : {}),
      retryDeps(deps),
    );
    if (ranges.length > 0) ({ counts, jobIds } = await loadFromKafka(deps, ranges));
  } else {
    const direct = await loadDirect(deps, converted.lines);
    counts = direct.counts;
    tgDeadLettered = await handleRejectedLines(deps, direct.rejected);
  }
  const result: BatchResult = {
    records: batch.records.length,
    produced: converted.out.length,
    loaded: counts.validObjects,
    rejected: converted.rejected + rejections(counts) - tgDeadLettered.rejections,
    deadLettered: converted.deadLetters.length + tgDeadLettered.deadLettered,
    tombstones: converted.tombstones,
    bytes,
    jobIds,
  };
  if (config.tigergraph.eof && config.tigergraph.waitForLoad && result.rejected > 0)
    deps.logger.warn('TigerGraph rejected records of this batch', {
      rejected: result.rejected,
      jobIds,
    });
  return result;
}
