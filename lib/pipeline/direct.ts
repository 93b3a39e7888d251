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
  rejectedRecords,
  rejections,
  retryDeps,
  type Line,
  type Loader,
  type PipelineDeps,
} from './common.ts';
import {
  TIGERGRAPH_RECORD_REJECTED,
  decideRecordFailure,
  recordsRejectedError,
  rejectionsFailBatch,
} from './policy.ts';
import { deadLetterOf, sendDeadLetters } from './produce.ts';

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
 * its piece's statistics and logged with the piece's offsets. Under errors.tolerance=none the
 * first chunk with rejections fails the batch at once (`TIGERGRAPH_RECORDS_REJECTED`, naming
 * the chunk's first and last offsets), without singling out its lines or posting the chunks
 * after it: the event-source mapping's retries and bisection take it from there.
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
    const first = await post(part);
    if (rejections(first) > 0 && rejectionsFailBatch(deps.config)) {
      const from = coordinates((part[0] as Line).record);
      const to = coordinates((part[part.length - 1] as Line).record);
      throw recordsRejectedError({
        job: tg.loadingJob,
        where: `the ${distinctRecords(part)} record(s) posted from ${from.topic}[${from.partition}] offset ${from.offset} to ${to.topic}[${to.partition}] offset ${to.offset}`,
        rejectedLines: first.rejectedLines,
        rejectedObjects: first.rejectedObjects,
        details: { topic: from.topic, partition: from.partition, offset: from.offset },
      });
    }
    const result = await isolate(part, first);
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
 * Handles the records whose lines TigerGraph rejected in direct mode under errors.tolerance=all
 * (under `none` {@link loadDirect} already failed the batch): with a dead-letter topic they go
 * there (original key, value and headers plus the error headers); otherwise each is logged
 * with its coordinates and counted as rejected, and the batch goes on. A record TigerGraph
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
  const deadLetters: OutRecord[] = [];
  let logged = 0;
  for (const [record, counts] of byRecord) {
    const error = new TigerGraphError(
      TIGERGRAPH_RECORD_REJECTED,
      counts === undefined
        ? `TigerGraph's loading job ${tg.loadingJob} rejected every record of this record's chunk (not JSON, no primary id, or a job that does not match the JSON)`
        : `TigerGraph's loading job ${tg.loadingJob} rejected this record's JSON (${counts.rejectedLines} line(s) rejected, ${counts.rejectedObjects} object(s) not loaded: a missing or invalid id or attribute)`,
      { retriable: false },
    );
    const outcome = decideRecordFailure(error, config);
    // Under errors.tolerance=none loadDirect failed the batch before lines were singled out.
    if (outcome === 'fail-batch') throw error;
    if (outcome === 'reject') {
      if (logged++ < MAX_RECORD_WARNINGS)
        deps.logger.warn('TigerGraph rejected a record', { ...coordinates(record), error });
      continue;
    }
    deps.logger.warn('Record sent to the dead-letter topic', { ...coordinates(record), error });
    deadLetters.push(deadLetterOf(record, error, config.deadLetterTopic as string));
  }
  if (logged > MAX_RECORD_WARNINGS)
    deps.logger.warn('TigerGraph rejected more records of this batch', {
      records: logged - MAX_RECORD_WARNINGS,
    });
  await sendDeadLetters(deps, deadLetters);
  return {
    deadLettered: deadLetters.length,
    rejected: byRecord.size - deadLetters.length,
  };
}
