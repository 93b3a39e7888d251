/**
 * Direct mode: JSON lines posted to TigerGraph's /ddl endpoint, and the records whose lines
 * TigerGraph rejected singled out and dead-lettered.
 */
import type { KafkaRecord } from '../event/index.ts';
import { TigerGraphError } from '../errors/index.ts';
import { retry } from '../errors/retry.ts';
import type { OutRecord } from '../kafka/index.ts';
import type { LoadCounts } from '../tigergraph/index.ts';
import {
  ZERO,
  add,
  coordinates,
  dlqHeaders,
  rejections,
  retryDeps,
  type Line,
  type PipelineDeps,
} from './common.ts';

/** A line TigerGraph rejected (wholly, or some of the objects it loads), with its counts. */
interface RejectedLine {
  readonly line: Line;
  readonly counts: LoadCounts;
}

/** Extra /ddl posts one batch may spend finding which lines TigerGraph rejected. */
const ISOLATION_POSTS = 64;
/** Rejected records logged one by one per batch (when not dead-lettered); the rest are summed. */
const MAX_RECORD_WARNINGS = 10;

/**
 * Direct mode: JSON lines chunked under tigergraph.batch.max.bytes, in order, to /ddl.
 * TigerGraph answers a post with counts only, so when a chunk has rejections and they can be
 * dead-lettered, its halves are posted again (loading is an upsert; delivery is at-least-once
 * anyway) until each rejected line is alone, within {@link ISOLATION_POSTS}. Rejections not
 * singled out (no dead-letter topic, most of a chunk rejected, budget spent) are counted and
 * logged with the piece's offsets.
 */
export async function loadDirect(
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
 * Returns how many records were dead-lettered and the counts of their lines.
 */
export async function handleRejectedLines(
  deps: PipelineDeps,
  rejected: readonly RejectedLine[],
): Promise<{ deadLettered: number; covered: LoadCounts }> {
  const { config } = deps;
  const byRecord = new Map<KafkaRecord, LoadCounts>();
  for (const r of rejected)
    byRecord.set(r.line.record, add(byRecord.get(r.line.record) ?? ZERO, r.counts));
  const toDeadLetter = config.errorsTolerance === 'all' && config.deadLetterTopic !== undefined;
  const deadLetters: OutRecord[] = [];
  let covered = ZERO;
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
    covered = add(covered, counts);
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
  return { deadLettered: deadLetters.length, covered };
}
