/**
 * Reading loading-job runs: the status words, the 4.x status list (reference section 2.2)
 * and the 3.x `SHOW LOADING STATUS` console text in its documented format (section 2.1).
 */
import { NO_COUNTS, num, type LoadCounts } from './statistics.ts';

export type RunStatus = 'RUNNING' | 'PAUSED' | 'FINISHED' | 'FAILED' | 'ABORTED' | 'UNKNOWN';

/** One run of a loading job, as `listRuns` finds it. */
export interface LoadingRunSummary {
  readonly jobId: string;
  readonly status: RunStatus;
  /** Epoch milliseconds, when TigerGraph says. */
  readonly startTime?: number | undefined;
}

/**
 * Status words to statuses. Documented: RUNNING, FINISHED (3.x SHOW LOADING STATUS, section
 * 2.1), `ABORT_SUCCESS` and `RESUME_SUCCESS` (what gsql-ref 3.9 "Managing and Inspecting a
 * Loading Job" prints for an aborted and a resumed run), PAUSED (4.x `isPause`, section 2.2).
 * The others are read defensively.
 */
const STATUS_WORDS: Readonly<Record<string, RunStatus>> = {
  RUNNING: 'RUNNING',
  RESUME_SUCCESS: 'RUNNING',
  ABORT_SUCCESS: 'ABORTED',
  FINISHED: 'FINISHED',
  SUCCESS: 'FINISHED',
  COMPLETED: 'FINISHED',
  DONE: 'FINISHED',
  FAILED: 'FAILED',
  FAILURE: 'FAILED',
  ABORTED: 'ABORTED',
  STOPPED: 'ABORTED',
  PAUSED: 'PAUSED',
  INITIALIZING: 'RUNNING',
  QUEUED: 'RUNNING',
};

/** The status a word names; UNKNOWN for any other word. */
export const statusWord = (word: string): RunStatus =>
  STATUS_WORDS[word.toUpperCase()] ?? 'UNKNOWN';

/**
 * A run's status from a status word, or, where TigerGraph gives none (the documented 4.x
 * sample has no status, section 2.2), from `endTime`/`progress`: ended when it has an end
 * time or full progress, running when it names a run that started; UNKNOWN when the answer
 * says nothing of a run at all (an empty `overall`).
 */
export function statusOf(overall: Record<string, unknown>): RunStatus {
  if (typeof overall.status === 'string') return statusWord(overall.status);
  if (num(overall.endTime) > 0 || num(overall.progress) >= 100) return 'FINISHED';
  return num(overall.startTime) > 0 || typeof overall.id === 'string' ? 'RUNNING' : 'UNKNOWN';
}

/**
 * The runs of `job` in a 4.x status list (`results[].overall`). The documented sample names
 * no job (section 2.2): a run is the job's when `jobName` says so or, failing that, when its
 * id starts `<graph>.<job>.` (the id format of section 1.1).
 */
export function runsFromStatusList(
  json: Record<string, unknown> | undefined,
  graph: string,
  job: string,
): LoadingRunSummary[] {
  const results = Array.isArray(json?.results) ? (json.results as unknown[]) : [];
  const out: LoadingRunSummary[] = [];
  for (const r of results) {
    const overall = ((r as { overall?: unknown } | null)?.overall ?? {}) as Record<string, unknown>;
    const id = overall.id;
    if (typeof id !== 'string') continue;
    const named = typeof overall.jobName === 'string' ? overall.jobName : undefined;
    if (named !== undefined ? named !== job : !id.startsWith(`${graph}.${job}.`)) continue;
    out.push({
      jobId: id,
      status: statusOf(overall),
      startTime: num(overall.startTime) > 0 ? num(overall.startTime) : undefined,
    });
  }
  return out;
}

/** `Job "<id>" loading status`, the first line of a run in SHOW LOADING STATUS (section 2.1). */
const SHOW_JOB = /^\s*Job\s+"([^"]+)"\s+loading status/;
/** `[RUNNING] m1 ( Finished: 3 / Total: 4 )`, one line per machine under it. */
const SHOW_MACHINE = /^\s*\[([A-Za-z_]+)\]\s+m\d+\b/;
/** A run id's trailing epoch milliseconds (`demo_graph_m1.1523663024967`; section 2.1). */
const ID_MILLIS = /\.(\d{13})\d*$/;

/** The epoch milliseconds a run id ends with (`<graph>_m1.<ms>`), when it ends so. */
export const idMillis = (jobId: string): number | undefined => {
  const millis = ID_MILLIS.exec(jobId)?.[1];
  return millis === undefined ? undefined : Number(millis);
};

/**
 * A run's status over its machines: running while any machine runs, then failed, aborted or
 * paused when any is, finished when all are.
 */
const overMachines = (words: readonly RunStatus[]): RunStatus => {
  for (const s of ['RUNNING', 'FAILED', 'ABORTED', 'PAUSED'] as const)
    if (words.includes(s)) return s;
  return words.length > 0 && words.every((w) => w === 'FINISHED') ? 'FINISHED' : 'UNKNOWN';
};

/** Every run in `SHOW LOADING STATUS ALL` text: its id, status and (from the id) start time. */
export function runsInShowText(text: string): LoadingRunSummary[] {
  const out: { jobId: string; words: RunStatus[] }[] = [];
  for (const line of text.split('\n')) {
    const job = SHOW_JOB.exec(line);
    if (job) {
      out.push({ jobId: job[1] as string, words: [] });
      continue;
    }
    const machine = SHOW_MACHINE.exec(line);
    if (machine && out.length > 0)
      out[out.length - 1]?.words.push(statusWord(machine[1] as string));
  }
  return out.map(({ jobId, words }) => ({
    jobId,
    status: overMachines(words),
    startTime: idMillis(jobId),
  }));
}

/** Whether a run id names its job: `<graph>.<job>.` (section 1.1's format, the 4.x sample's ids). */
export const idNamesJob = (id: string, graph: string, job: string): boolean =>
  id.startsWith(`${graph}.${job}.`);

/**
 * The runs of `job` in `SHOW LOADING STATUS ALL` text, in the documented format (gsql-ref 3.9
 * "Managing and Inspecting a Loading Job"): `Job "<id>" loading status`, then `[STATUS] m1
 * (...)` per machine. That output names no job, so a run is the job's when its id names the
 * job (`<graph>.<job>.`) or when it is one of `knownIds` (ids TigerStream recorded when it
 * started them: the documented GSQL-started id `<graph>_m1.<ms>` names no job). Oldest first.
 */
export function runsFromShowText(
  text: string,
  graph: string,
  job: string,
  knownIds: ReadonlySet<string> = new Set(),
): LoadingRunSummary[] {
  return runsInShowText(text)
    .filter((r) => knownIds.has(r.jobId) || idNamesJob(r.jobId, graph, job))
    .sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0));
}

/** The ids of every run in SHOW LOADING STATUS text, in the order printed. */
export const idsInShowText = (text: string): string[] => runsInShowText(text).map((r) => r.jobId);

/** A table's column names that count loaded lines and objects, and errors (section 2.1). */
const COLUMN_COUNTS: Readonly<Record<string, keyof Omit<LoadCounts, 'filteredObjects'>>> = {
  LINES: 'validLines',
  // [UNCONFIRMED] a Kafka run's table may count messages instead of lines.
  'LOADED MESSAGES': 'validLines',
  OBJECTS: 'validObjects',
  // The documented example's ERRORS mixes line and object errors; counted as lines.
  ERRORS: 'rejectedLines',
};

/**
 * The status and counts of run `jobId` in `SHOW LOADING STATUS <jobId>` text (gsql-ref 3.9,
 * section 2.1): its machines' words, and the sums of the LINES, OBJECTS and ERRORS columns of
 * the tables under it. UNKNOWN with no counts when the text has no block for the run (an
 * unknown id, or an answer in another format).
 */
export function runInShowText(
  text: string,
  jobId: string,
): { status: RunStatus; counts: LoadCounts } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => SHOW_JOB.exec(l)?.[1] === jobId);
  if (start < 0) return { status: 'UNKNOWN', counts: NO_COUNTS };
  const end = lines.findIndex((l, i) => i > start && SHOW_JOB.test(l));
  const block = lines.slice(start, end < 0 ? undefined : end);
  const status = runsInShowText(block.join('\n'))[0]?.status ?? 'UNKNOWN';
  const counts: Record<keyof LoadCounts, number> = { ...NO_COUNTS };
  let columns: (keyof LoadCounts | undefined)[] | undefined;
  for (const line of block) {
    if (!line.includes('|')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.some((c) => c.toUpperCase() in COLUMN_COUNTS && !/^\d/.test(c))) {
      columns = cells.map((c) => COLUMN_COUNTS[c.toUpperCase()]);
      continue;
    }
    if (columns === undefined) continue;
    for (const [i, column] of columns.entries()) {
      const value = Number((cells[i] ?? '').replace(/,/g, ''));
      if (column !== undefined && Number.isFinite(value)) counts[column] += value;
    }
  }
  return { status, counts };
}
