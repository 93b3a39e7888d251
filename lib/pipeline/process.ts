/**
 * One batch through the whole stream: convert, deliver (mirror-only, kafka or direct mode),
 * load, and account for every record. Pure orchestration over injected ports.
 */
import { deliveryModeOf, type DeliveryMode } from '../config/index.ts';
import type { DecodedBatch } from '../event/index.ts';
import { DeliveryError } from '../errors/index.ts';
import { retry } from '../errors/retry.ts';
import { targetTopicName, type OutRecord, type ProducedRange } from '../kafka/index.ts';
import {
  ZERO,
  coordinates,
  loaderOf,
  rejectedRecords,
  rejectedRecordsAtMost,
  rejections,
  retryDeps,
  type Line,
  type PipelineDeps,
} from './common.ts';
import { loadDirect, maxLinesPerRecord } from './direct.ts';
import { isolateRejected, loadFromKafka, settleRejected } from './load.ts';
import { decideRecordFailure, recordsRejectedError, rejectionsFailBatch } from './policy.ts';
import { deadLetterOf, handleRefusals, produceLines, sendDeadLetters } from './produce.ts';

export type { PipelineDeps, StreamingRun } from './common.ts';

/**
 * What happened to a batch. Every record is in exactly one of loaded, rejected, deadLettered
 * and tombstones, so `records = loaded + rejected + deadLettered + tombstones`; vertices and
 * edges are counted apart as objects.
 */
export interface BatchResult {
  /**
   * How the batch was delivered, and so what `loaded` means: `mirror-only` (no tigergraph.*
   * key: produced to TigerGraph's Kafka for the user's own loading job; TigerStream never
   * called TigerGraph), `kafka` or `direct`.
   */
  readonly mode: DeliveryMode;
  /** Records in the event. */
  readonly records: number;
  /** Lines produced to TigerGraph's Kafka (mirror-only and kafka mode) or posted to /ddl (direct mode). */
  readonly produced: number;
  /**
   * Records delivered and not rejected. When the handler waits for an EOF run or posts to
   * /ddl, these are records whose lines TigerGraph accepted; in streaming mode, with
   * tigergraph.loading.wait=false and in mirror-only mode, records whose lines TigerGraph's
   * Kafka acknowledged (acks=all): the user's loading job loads them later.
   */
  readonly loaded: number;
  /**
   * Records TigerGraph or the converter rejected and that were not dead-lettered. Where
   * TigerGraph's statistics cannot say which record a rejected object came from (an EOF run,
   * several objects per line), the fewest records that explain them: a lower bound (the log's
   * `rejectedAtMost` gives the most); `objectsRejected` is exact.
   */
  readonly rejected: number;
  readonly deadLettered: number;
  /** Null values (and Avro values that hold no datum): skipped and counted. */
  readonly tombstones: number;
  /** Vertices and edges TigerGraph loaded from this batch's lines (when it reports them). */
  readonly objectsLoaded: number;
  /** Vertices and edges TigerGraph did not load (no id, invalid attribute, ...). */
  readonly objectsRejected: number;
  /** Retries of failed calls (produce, TigerGraph) this batch needed. */
  readonly retries: number;
  readonly bytes: number;
  readonly jobIds: readonly string[];
}

interface Converted {
  /**
   * Output values per source record in order: each line is also the record to produce (its
   * target topic and partition, and the source record's key, headers and timestamp).
   */
  readonly lines: (Line & OutRecord)[];
  /** Records that became at least one line. */
  readonly delivered: number;
  readonly deadLetters: OutRecord[];
  readonly rejected: number;
  readonly tombstones: number;
}

async function convertAll(
  batch: DecodedBatch,
  deps: PipelineDeps,
  targetOf: ReadonlyMap<string, string>,
  targetPartitions: Map<string, number>,
): Promise<Converted> {
  const { config, converter, logger } = deps;
  const deadLetters: OutRecord[] = [];
  const lines: (Line & OutRecord)[] = [];
  let rejected = 0;
  let tombstones = 0;
  let delivered = 0;
  const records = batch.records;
  for (let r = 0; r < records.length; r++) {
    const record = records[r] as (typeof records)[number];
    let converted;
    try {
      // The compiled converters answer synchronously: awaited only when a promise comes back
      // (a schema to fetch), so a batch does not pay a microtask per record.
      const answer = converter.convert(record);
      converted = answer instanceof Promise ? await answer : answer;
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
      else deadLetters.push(deadLetterOf(record, error, config.deadLetterTopic as string));
      continue;
    }
    if (converted.kind === 'tombstone') {
      tombstones++;
      continue;
    }
    const topic = targetOf.get(record.topic) as string;
    const count = targetPartitions.get(topic) ?? 0;
    delivered++;
    const values = converted.values;
    for (let v = 0; v < values.length; v++) {
      lines.push({
        topic,
        partition: record.partition < count ? record.partition : undefined,
        key: record.key,
        value: values[v] as Buffer,
        headers: record.headers,
        timestamp: record.timestamp,
        record,
      });
    }
  }
  return { lines, delivered, deadLetters, rejected, tombstones };
}

/**
 * Under errors.tolerance=all with a dead-letter topic, checks that the topic exists before
 * anything is produced. A missing one would otherwise surface only at the first dead letter,
 * as UNKNOWN_TOPIC_OR_PARTITION, which Kafka calls retriable (a topic being created): every
 * redelivery would retry it and the partition would stall without a word of why.
 *
 * @throws DeliveryError `KAFKA_DEAD_LETTER_TOPIC_MISSING` (not retriable).
 */
async function checkDeadLetterTopic(deps: PipelineDeps): Promise<void> {
  const { config } = deps;
  const topic = config.deadLetterTopic;
  if (config.errorsTolerance !== 'all' || topic === undefined) return;
  const count = await retry(() => deps.delivery.partitionCount(topic), retryDeps(deps));
  if (count === 0)
    throw new DeliveryError(
      'KAFKA_DEAD_LETTER_TOPIC_MISSING',
      `Dead-letter topic ${topic} (errors.deadletterqueue.topic.name) does not exist on ${config.targetBootstrapServers}; create it there, or remove the key to count failed records as rejected instead`,
      { retriable: false, details: { topic } },
    );
}

/**
 * Processes one decoded batch. Resolves only when every record is acknowledged by the
 * target (or dead-lettered) and the loader call succeeded; otherwise throws, so the ESM
 * redelivers the batch. A mirror-only connector (no tigergraph.* key) stops after the
 * produce, as the reference page's MirrorMaker connector did: its records count as loaded
 * once TigerGraph's Kafka acknowledged them, and TigerGraph itself is never called.
 */
export async function processBatch(
  batch: DecodedBatch,
  batchDeps: PipelineDeps,
): Promise<BatchResult> {
  let retries = 0;
  const deps: PipelineDeps = {
    ...batchDeps,
    countRetry: () => {
      retries++;
      batchDeps.countRetry?.();
    },
  };
  const { config } = deps;
  const tg = config.tigergraph;
  const mode = deliveryModeOf(config);
  const bytes = batch.records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
  // Target topic names, once per source topic rather than once per record.
  const targetOf = new Map<string, string>();
  for (const r of batch.records)
    if (!targetOf.has(r.topic)) targetOf.set(r.topic, targetTopicName(config, r.topic));
  const targetPartitions = new Map<string, number>();
  if (mode !== 'direct') {
    for (const topic of new Set(targetOf.values())) {
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
  await checkDeadLetterTopic(deps);
  const converted = await convertAll(batch, deps, targetOf, targetPartitions);
  await sendDeadLetters(deps, converted.deadLetters);
  let counts = ZERO;
  let jobIds: string[] = [];
  let produced = converted.lines.length;
  let ranges: ProducedRange[] = [];
  // Records TigerGraph's Kafka refused (under errors.tolerance=all): dead-lettered or rejected.
  let refusedDeadLettered = 0;
  let refusedRejected = 0;
  let tgDeadLettered = 0;
  // Records TigerGraph rejected (not dead-lettered), where its verdict is known by the end.
  let tgRejected = 0;
  // The most records its statistics could stand for (tgRejected is the fewest).
  let tgRejectedAtMost = 0;
  if (tg === undefined || tg.delivery === 'kafka') {
    // Checked before the produce: a missing client must not leave records loaded by nobody.
    const loader = tg === undefined ? undefined : loaderOf(deps, tg);
    const sent = await produceLines(deps, converted.lines);
    produced = sent.produced;
    ranges = sent.ranges;
    ({ deadLettered: refusedDeadLettered, rejected: refusedRejected } = await handleRefusals(
      deps,
      sent.refused,
    ));
    if (loader !== undefined && sent.ranges.length > 0)
      ({ counts, jobIds } = await loadFromKafka(deps, loader, sent.ranges, targetPartitions));
    if (tg !== undefined && tg.eof && tg.waitForLoad && rejections(counts) > 0) {
      if (rejectionsFailBatch(config))
        throw recordsRejectedError({
          job: tg.loadingJob,
          where: `EOF run(s) ${jobIds.join(', ')} over ${sent.ranges
            .map((r) => `${r.topic}[${r.partition}] from offset ${r.firstOffset}`)
            .join(', ')}`,
          rejectedLines: counts.rejectedLines,
          rejectedObjects: counts.rejectedObjects,
          details: { jobIds: jobIds.join(',') },
        });
      // An EOF run's statistics are sums over its lines: which record a rejection belongs to
      // is not known. With a dead-letter topic, the batch's lines are posted again to /ddl
      // (direct mode's isolation) to single the rejected records out; otherwise, or when
      // /ddl refuses, rejectedRecords counts the fewest records that explain the statistics.
      const refused = new Set(sent.refused.map((r) => r.record));
      const lines = converted.lines.filter((l) => !refused.has(l.record));
      const isolated =
        config.deadLetterTopic === undefined || loader === undefined
          ? null
          : await isolateRejected(deps, loader, lines, converted.delivered - refused.size, counts);
      if (isolated !== null)
        ({
          deadLettered: tgDeadLettered,
          rejected: tgRejected,
          rejectedAtMost: tgRejectedAtMost,
        } = isolated);
      else {
        tgRejected = rejectedRecords(
          converted.delivered - refused.size,
          counts,
          maxLinesPerRecord(lines),
        );
        tgRejectedAtMost = rejectedRecordsAtMost(converted.delivered - refused.size, counts);
      }
    }
  } else {
    const loader = loaderOf(deps, tg);
    const direct = await loadDirect(deps, loader, converted.lines);
    counts = direct.counts;
    ({
      deadLettered: tgDeadLettered,
      rejected: tgRejected,
      rejectedAtMost: tgRejectedAtMost,
    } = await settleRejected(deps, loader, direct, converted.delivered));
  }
  const refusedRecords = refusedDeadLettered + refusedRejected;
  const result: BatchResult = {
    mode,
    records: batch.records.length,
    produced,
    loaded: converted.delivered - refusedRecords - tgDeadLettered - tgRejected,
    rejected: converted.rejected + refusedRejected + tgRejected,
    deadLettered: converted.deadLetters.length + refusedDeadLettered + tgDeadLettered,
    tombstones: converted.tombstones,
    objectsLoaded: counts.validObjects,
    objectsRejected: counts.rejectedObjects,
    retries,
    bytes,
    jobIds,
  };
  if (tgRejected > 0 || counts.rejectedObjects > 0)
    deps.logger.warn('TigerGraph rejected records of this batch', {
      rejected: tgRejected,
      // TigerGraph's statistics are sums: when they cannot say which record a rejected object
      // came from, `rejected` is the fewest records that explain them, and this the most.
      ...(tgRejectedAtMost > tgRejected
        ? {
            rejectedAtMost: tgRejectedAtMost,
            note: `rejected is a lower bound: ${counts.rejectedLines} line(s) and ${counts.rejectedObjects} object(s) were rejected, which could be from up to ${tgRejectedAtMost} record(s)`,
          }
        : {}),
      objectsRejected: counts.rejectedObjects,
      jobIds,
      // Kafka mode: where the run read, since its statistics do not say which records.
      ...(ranges.length > 0 ? { ranges } : {}),
    });
  return result;
}
