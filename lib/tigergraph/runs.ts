/**
 * Reading loading-job runs: the status words, the 4.x status list (reference section 2.2)
 * and the 3.x `SHOW LOADING STATUS` console text in its documented format (section 2.1).
 */
import { num } from './statistics.ts';

export type RunStatus = 'RUNNING' | 'PAUSED' | 'FINISHED' | 'FAILED' | 'ABORTED' | 'UNKNOWN';

/** One run of a loading job, as `listRuns` finds it. */
export interface LoadingRunSummary {
  readonly jobId: string;
  readonly status: RunStatus;
  /** Epoch milliseconds, when TigerGraph says. */
  readonly startTime?: number | undefined;
}

const STATUS_WORDS: Readonly<Record<string, RunStatus>> = {
  RUNNING: 'RUNNING',
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

/**
 * A run's status from a status word, or, where TigerGraph gives none (the documented 4.x
 * sample has no status, section 2.2), from `endTime`/`progress`.
 */
export function statusOf(overall: Record<string, unknown>): RunStatus {
  const word = typeof overall.status === 'string' ? overall.status.toUpperCase() : undefined;
  if (word !== undefined) return STATUS_WORDS[word] ?? 'UNKNOWN';
  return num(overall.endTime) > 0 || num(overall.progress) >= 100 ? 'FINISHED' : 'RUNNING';
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
      out[out.length - 1]?.words.push(
        STATUS_WORDS[(machine[1] as string).toUpperCase()] ?? 'UNKNOWN',
      );
  }
  return out.map(({ jobId, words }) => {
    const millis = ID_MILLIS.exec(jobId)?.[1];
    return {
      jobId,
      status: overMachines(words),
      startTime: millis === undefined ? undefined : Number(millis),
    };
  });
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
