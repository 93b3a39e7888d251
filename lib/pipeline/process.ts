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

interface Converted {
  readonly out: OutRecord[];
  readonly deadLetters: OutRecord[];
  readonly rejected: number;
  readonly tombstones: number;
  /** Output values per source record in order, for direct mode. */
  readonly lines: { record: KafkaRecord; value: Buffer }[];
}

async function convertAll(
  batch: DecodedBatch,
  deps: PipelineDeps,
  targetPartitions: Map<string, number>,
): Promise<Converted> {
  const { config, converter, logger } = deps;
  const out: OutRecord[] = [];
  const deadLetters: OutRecord[] = [];
  const lines: { record: KafkaRecord; value: Buffer }[] = [];
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

/** Direct mode: JSON lines chunked under tigergraph.batch.max.bytes, in order, to /ddl. */
async function loadDirect(
  deps: PipelineDeps,
  lines: readonly { value: Buffer }[],
): Promise<LoadCounts> {
  const { tigergraph: tg } = deps.config;
  let counts = ZERO;
  let chunk: Buffer[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const body = Buffer.concat(
      chunk.flatMap((b, i) => (i === 0 ? [b] : [Buffer.from('\n'), b])),
    ).toString('utf8');
    chunk = [];
    size = 0;
    counts = add(
      counts,
      await retry(
        () =>
          deps.tigergraph.postDdl(tg.graph, tg.loadingJob, tg.loadingFilename, body, deps.signal),
        retryDeps(deps),
      ),
    );
  };
  for (const { value } of lines) {
    if (size + value.length + 1 > tg.batchMaxBytes) await flush();
    chunk.push(value);
    size += value.length + 1;
  }
  await flush();
  return counts;
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
  if (kafkaMode) {
    const ranges = await retry(
      () => deps.delivery.send(converted.out, deps.signal ? { signal: deps.signal } : {}),
      retryDeps(deps),
    );
    if (ranges.length > 0) ({ counts, jobIds } = await loadFromKafka(deps, ranges));
  } else {
    counts = await loadDirect(deps, converted.lines);
  }
  const result: BatchResult = {
    records: batch.records.length,
    produced: converted.out.length,
    loaded: counts.validObjects,
    rejected: converted.rejected + counts.rejectedLines + counts.rejectedObjects,
    deadLettered: converted.deadLetters.length,
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
