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

/** A source partition: its lines are posted in order, never two of its chunks at once. */
const partitionOf = (line: Line): string => `${line.record.topic}\u0000${line.record.partition}`;

/**
 * The batch's lines dealt into lanes, each holding whole source partitions, its lines in source
 * order: at most `concurrency` lanes, and no more than the chunks of `maxBytes` the batch needs
 * anyway. A batch that fits one chunk is one lane and one post, as before: split into a post
 * per partition it would pay a round trip and TigerGraph's per-request work for each, and on
 * the emulator 4 posts of a 1,000-record batch in place of one were slower (README,
 * Benchmarks). Partitions go largest first to the lane with the fewest bytes
 * so far (ties: the first such lane, partitions in the order they appear), so lanes finish
 * close together. One lane: every line in source order, the chunks direct mode always posted.
 */
export function planLanes(lines: readonly Line[], concurrency: number, maxBytes: number): Line[][] {
  const bytes = new Map<string, number>();
  let total = 0;
  for (const l of lines) {
    const key = partitionOf(l);
    bytes.set(key, (bytes.get(key) ?? 0) + l.value.length + 1);
    total += l.value.length + 1;
  }
  const count = Math.min(concurrency, bytes.size, Math.ceil(total / maxBytes));
  if (count <= 1) return lines.length === 0 ? [] : [[...lines]];
  const load = new Array<number>(count).fill(0);
  const laneOf = new Map<string, number>();
  // Array.prototype.sort is stable: equal partitions keep the order they appear in.
  for (const [key, size] of [...bytes].sort((a, b) => b[1] - a[1])) {
    let lane = 0;
    for (let i = 1; i < count; i++) if ((load[i] as number) < (load[lane] as number)) lane = i;
    laneOf.set(key, lane);
    load[lane] = (load[lane] as number) + size;
  }
  const lanes = Array.from({ length: count }, (): Line[] => []);
  for (const l of lines) lanes[laneOf.get(partitionOf(l)) as number]?.push(l);
  return lanes;
}

/** `lines` in chunks of at most `maxBytes` (newlines counted); a longer line goes alone. */
function chunksOf(lines: readonly Line[], maxBytes: number): Line[][] {
  const chunks: Line[][] = [];
  let chunk: Line[] = [];
  let size = 0;
  for (const line of lines) {
    if (chunk.length > 0 && size + line.value.length + 1 > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(line);
    size += line.value.length + 1;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Direct mode: JSON lines chunked under tigergraph.batch.max.bytes to /ddl, up to
 * tigergraph.direct.concurrency posts in flight. The lines are dealt into up to that many
 * lanes ({@link planLanes}: no more than the chunks the batch needs), each holding whole
 * source partitions; a lane posts its chunks one after the other, in source order, and lanes
 * run side by side. So two chunks holding lines of one
 * partition are never in flight together, and a later line of a partition never reaches
 * TigerGraph before an earlier one: its upserts land in source order, as with one post at a
 * time. A batch of one partition, or that fits one chunk, has one lane and gains nothing.
 * TigerGraph answers a post with counts only, so when a chunk has rejections its halves are
 * posted again in its lane (loading is an upsert; delivery is at-least-once anyway) until
 * each rejected line stands alone, within {@link ISOLATION_POSTS} extra posts per batch, shared
 * by the lanes: that is what makes the rejected records known, to dead-letter them and to count
 * them exactly. A chunk whose every record was rejected needs no re-post. What the budget does
 * not reach is counted from its piece's statistics and logged with the piece's offsets. Under
 * errors.tolerance=none the first chunk with rejections fails the batch
 * (`TIGERGRAPH_RECORDS_REJECTED`, naming the chunk's first and last offsets), without singling
 * out its lines: the event-source mapping's retries and bisection take it from there. A lane
 * that fails (that, or a post failing past its retries) fails the batch with its error: the
 * other lanes start no further post, the posts they have in flight are aborted (their signal
 * fires) and waited for, and then the first error is thrown. Rejected lines are returned in
 * source order whatever lane found them.
 */
export async function loadDirect(
  deps: PipelineDeps,
  { settings: tg, client }: Loader,
  lines: readonly Line[],
): Promise<DirectResult> {
  // Fired when a lane fails: the others stop posting and their requests and retries end.
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const retrying = retryDeps({ ...deps, signal });
  let budget = ISOLATION_POSTS;
  const post = (part: readonly Line[]): Promise<LoadCounts> => {
    const body = Buffer.concat(
      part.flatMap((l, i) => (i === 0 ? [l.value] : [Buffer.from('\n'), l.value])),
    ).toString('utf8');
    return retry(
      () => client.postDdl(tg.graph, tg.loadingJob, tg.loadingFilename, body, signal),
      retrying,
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
  const load = async (part: readonly Line[]): Promise<DirectResult> => {
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
    return isolate(part, first);
  };

  const results: DirectResult[] = [];
  let failure: { readonly error: unknown } | undefined;
  const runLane = async (lane: readonly Line[]): Promise<void> => {
    try {
      for (const part of chunksOf(lane, tg.batchMaxBytes)) {
        if (stop.signal.aborted) return;
        results.push(await load(part));
      }
    } catch (error) {
      if (failure === undefined) {
        failure = { error };
        stop.abort();
      }
    }
  };
  // runLane never rejects: every lane is waited for before the batch fails or goes on.
  await Promise.all(planLanes(lines, tg.directConcurrency, tg.batchMaxBytes).map(runLane));
  if (failure !== undefined) throw failure.error;
  const rejected = results.flatMap((r) => r.rejected);
  if (results.length > 1 && rejected.length > 1) {
    const order = new Map(lines.map((l, i) => [l, i]));
    rejected.sort((x, y) => (order.get(x.line) ?? 0) - (order.get(y.line) ?? 0));
  }
  return {
    counts: results.reduce((c, r) => add(c, r.counts), ZERO),
    rejected,
    unresolved: results.flatMap((r) => r.unresolved),
  };
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
