/**
 * Reading loading-job runs: the status words, the 4.x status list (reference section 2.2)
 * and the 3.x `SHOW LOADING STATUS` console text (section 2.1).
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

const SHOW_LINE =
  /JobId:\s*([^,\s]+),\s*JobName:\s*([^,\s]+),\s*Status:\s*([A-Za-z_]+)(?:,\s*StartTime:\s*(\d+))?/;

/**
 * The runs of `job` in `SHOW LOADING STATUS ALL` text, in the format of TigerStream's
 * emulator: one line per run, `JobId: <id>, JobName: <job>, Status: <STATUS>, StartTime:
 * <ms>` (lib/local/EMULATOR.md). KNOWN GAP: TigerGraph's documented output (gsql-ref 3.9,
 * "Managing and Inspecting a Loading Job") is `Job "<id>" loading status` and `[RUNNING] m1
 * (...)` per machine, with no job name or start time, so on a real 3.x server no run is found
 * this way; the documented id is in `RUN LOADING JOB`'s own output (`JobName: j, jobid: id`).
 * Lines in any other form are skipped.
 */
export function runsFromShowText(text: string, job: string): LoadingRunSummary[] {
  const out: LoadingRunSummary[] = [];
  for (const line of text.split('\n')) {
    const m = SHOW_LINE.exec(line);
    if (!m || m[2] !== job) continue;
    out.push({
      jobId: m[1] as string,
      status: STATUS_WORDS[(m[3] as string).toUpperCase()] ?? 'UNKNOWN',
      startTime: m[4] === undefined ? undefined : Number(m[4]),
    });
  }
  return out;
}
