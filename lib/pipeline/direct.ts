/**
 * Direct mode: JSON lines posted to TigerGraph's /ddl endpoint, the records whose lines
 * TigerGraph rejected singled out, and those dead-lettered or counted per errors.tolerance.
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
  rejectedRecords,
  rejections,
  retryDeps,
  type Line,
  type Loader,
  type PipelineDeps,
} from './common.ts';

/** A line TigerGraph rejected (wholly, or some of the objects it loads). */
interface RejectedLine {
  readonly line: Line;
  /** Its own counts, when it was posted alone; undefined when its whole chunk was rejected. */
  readonly counts: LoadCounts | undefined;
}

/** Lines whose rejections were not singled out: counted from their chunk's statistics. */
interface Unresolved {
  readonly records: number;
  /** The most lines one record of the piece has. */
  readonly linesPerRecord: number;
  readonly counts: LoadCounts;
}

export interface DirectResult {
  /** The statistics of every line, as finally posted (objects are counted from these). */
  readonly counts: LoadCounts;
  readonly rejected: readonly RejectedLine[];
  readonly unresolved: readonly Unresolved[];
}

/** Extra /ddl posts one batch may spend finding which lines TigerGraph rejected. */
const ISOLATION_POSTS = 64;
/** Rejected records logged one by one per batch (when not dead-lettered); the rest are summed. */
const MAX_RECORD_WARNINGS = 10;

const distinctRecords = (part: readonly Line[]): number => new Set(part.map((l) => l.record)).size;

/** The most lines any one record has in `part`. */
export const maxLinesPerRecord = (part: readonly Line[]): number => {
  const lines = new Map<unknown, number>();
  let most = 0;
  for (const l of part) {
    const n = (lines.get(l.record) ?? 0) + 1;
    lines.set(l.record, n);
    most = Math.max(most, n);
  }
  return most;
};

/**
 * Direct mode: JSON lines chunked under tigergraph.batch.max.bytes, in order, to /ddl.
 * TigerGraph answers a post with counts only, so when a chunk has rejections its halves are
 * posted again (loading is an upsert; delivery is at-least-once anyway) until each rejected
 * line stands alone, within {@link ISOLATION_POSTS} extra posts per batch: that is what makes
 * the rejected records known, to dead-letter them and to count them exactly. A chunk whose
 * every record was rejected needs no re-post. What the budget does not reach is counted from
 * its piece's statistics and logged with the piece's offsets.
 */
export async function loadDirect(
  deps: PipelineDeps,
  { settings: tg, client }: Loader,
  lines: readonly Line[],
): Promise<DirectResult> {
  let budget = ISOLATION_POSTS;
  const post = (part: readonly Line[]): Promise<LoadCounts> => {
    const body = Buffer.concat(
      part.flatMap((l, i) => (i === 0 ? [l.value] : [Buffer.from('\n'), l.value])),
    ).toString('utf8');
    return retry(
      () => client.postDdl(tg.graph, tg.loadingJob, tg.loadingFilename, body, deps.signal),
      retryDeps(deps),
    );
  };
  const isolate = async (part: readonly Line[], counts: LoadCounts): Promise<DirectResult> => {
    if (rejections(counts) === 0) return { counts, rejected: [], unresolved: [] };
    if (part.length === 1)
      return { counts, rejected: [{ line: part[0] as Line, counts }], unresolved: [] };
    const records = distinctRecords(part);
    // Every record rejected (a wrong job, not JSON, no ids): no need to look closer. Only
    // when each record is one line here: lines of one record (JSON Lines, a container file)
    // could make rejected lines outnumber the records that hold them.
    if (records === part.length && rejectedRecords(records, counts) >= records)
      return {
        counts,
        rejected: part.map((line) => ({ line, counts: undefined })),
        unresolved: [],
      };
    if (budget < 2) {
      deps.logger.warn('TigerGraph rejected lines that were not singled out', {
        reason: `the re-post budget of this batch (${ISOLATION_POSTS} posts) is spent`,
        lines: part.length,
        rejectedLines: counts.rejectedLines,
        rejectedObjects: counts.rejectedObjects,
        from: coordinates((part[0] as Line).record),
        to: coordinates((part[part.length - 1] as Line).record),
      });
      return {
        counts,
        rejected: [],
        unresolved: [{ records, linesPerRecord: maxLinesPerRecord(part), counts }],
      };
    }
    budget -= 2;
    const mid = part.length >>> 1;
    const left = part.slice(0, mid);
    const right = part.slice(mid);
    const a = await isolate(left, await post(left));
    const b = await isolate(right, await post(right));
    return {
      counts: add(a.counts, b.counts),
      rejected: [...a.rejected, ...b.rejected],
      unresolved: [...a.unresolved, ...b.unresolved],
    };
  };

  let counts = ZERO;
  const rejected: RejectedLine[] = [];
  const unresolved: Unresolved[] = [];
  let chunk: Line[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const part = chunk;
    chunk = [];
    size = 0;
    const result = await isolate(part, await post(part));
    counts = add(counts, result.counts);
    rejected.push(...result.rejected);
    unresolved.push(...result.unresolved);
  };
  for (const line of lines) {
    if (size + line.value.length + 1 > tg.batchMaxBytes) await flush();
    chunk.push(line);
    size += line.value.length + 1;
  }
  await flush();
  return { counts, rejected, unresolved };
}

/**
 * Handles the records whose lines TigerGraph rejected in direct mode, per errors.tolerance:
 * under `all` with a dead-letter topic they go there (original key, value and headers plus
 * the error headers); otherwise each is logged with its coordinates and counted as rejected
 * (TigerGraph's verdict does not change on a retry, so the batch goes on). A record TigerGraph
 * loaded in part (its vertex, not its edge) counts as rejected too: redelivering it from the
 * dead-letter topic upserts the part that loaded again, harmlessly.
 * Returns how many records were dead-lettered and how many counted as rejected.
 */
export async function handleRejectedLines(
  deps: PipelineDeps,
  { settings: tg }: Loader,
  rejected: readonly RejectedLine[],
): Promise<{ deadLettered: number; rejected: number }> {
  const { config } = deps;
  const byRecord = new Map<KafkaRecord, LoadCounts | undefined>();
  for (const r of rejected) {
    const known = byRecord.get(r.line.record);
    byRecord.set(
      r.line.record,
      r.counts === undefined || (byRecord.has(r.line.record) && known === undefined)
        ? undefined
        : add(known ?? ZERO, r.counts),
    );
  }
  const toDeadLetter = config.errorsTolerance === 'all' && config.deadLetterTopic !== undefined;
  const deadLetters: OutRecord[] = [];
  let logged = 0;
  for (const [record, counts] of byRecord) {
    const error = new TigerGraphError(
      'TIGERGRAPH_RECORD_REJECTED',
      counts === undefined
        ? `TigerGraph's loading job ${tg.loadingJob} rejected every record of this record's chunk (not JSON, no primary id, or a job that does not match the JSON)`
        : `TigerGraph's loading job ${tg.loadingJob} rejected this record's JSON (${counts.rejectedLines} line(s) rejected, ${counts.rejectedObjects} object(s) not loaded: a missing or invalid id or attribute)`,
      { retriable: false },
    );
    if (!toDeadLetter) {
      if (logged++ < MAX_RECORD_WARNINGS)
        deps.logger.warn('TigerGraph rejected a record', { ...coordinates(record), error });
      continue;
    }
    deps.logger.warn('Record sent to the dead-letter topic', { ...coordinates(record), error });
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
  return {
    deadLettered: deadLetters.length,
    rejected: toDeadLetter ? 0 : byRecord.size,
  };
}
