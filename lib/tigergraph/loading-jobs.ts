/**
 * Loading-job runs in both dialects: start, progress, listing, abort and resume through the
 * 3.x GSQL server (/gsqlserver, reference section 2.1) or 4.x /gsql/v1 (section 2.2). 3.x runs
 * are started with GSQL's own `RUN LOADING JOB -noprint` (the documented 3.9 control surface),
 * whose output names the run (`JobName: j, jobid: <id>`); the JSON start call's answer is
 * [UNCONFIRMED] on 3.x and is not used.
 */
import { TigerGraphError } from '../errors/index.ts';
import type { Call } from './http.ts';
import {
  runsFromShowText,
  runsFromStatusList,
  statusOf,
  type LoadingRunSummary,
  type RunStatus,
} from './runs.ts';
import { sumStatistics, type LoadCounts } from './statistics.ts';

export interface PartitionOffset {
  readonly partition: number;
  readonly start_offset: number;
}
export interface LoadingJobRun {
  readonly graph: string;
  readonly job: string;
  readonly filename: string;
  readonly dataSource: string;
  readonly topic: string;
  /** Partitions and where each starts; none: every partition from `defaultStartOffset`. */
  readonly partitions: readonly PartitionOffset[];
  /** Section 5.2's `default_start_offset` (unlisted partitions); absent: TigerGraph's -1. */
  readonly defaultStartOffset?: number | undefined;
  readonly streaming: boolean;
}

export interface RunProgress {
  readonly jobId: string;
  readonly status: RunStatus;
  readonly counts: LoadCounts;
  readonly error: string | undefined;
}

/** Listing, aborting and resuming runs of a loading job, in both dialects. */
export interface LoadingRunControl {
  /**
   * The runs of `job` in `graph`, oldest first. `knownIds`: ids recorded as this job's runs
   * (3.x lists runs without their job, so ids that do not name it are matched by these).
   */
  listRuns(
    graph: string,
    job: string,
    signal?: AbortSignal,
    knownIds?: ReadonlySet<string>,
  ): Promise<LoadingRunSummary[]>;
  /** Resumes a stopped run under its own id (it continues where it stopped, section 2.1). */
  resumeRun(graph: string, jobId: string, signal?: AbortSignal): Promise<void>;
  /**
   * The job's definition as GSQL text: 4.x `results.jobContent` (section 2.2), 3.x the console
   * text of `SHOW JOB <job>` (section 2.1's GSQL surface).
   */
  jobDefinition(graph: string, job: string, signal?: AbortSignal): Promise<string>;
  /** Aborts a run. */
  abortRun(graph: string, jobId: string, signal?: AbortSignal): Promise<void>;
}

/** Tries to find a run started without an id, with waits between them (it may list late). */
const FIND_RUN_WAITS_MS = [0, 50, 100, 200, 400];
/** Ids handed out already, so two starts in one millisecond do not share a run. */
const CLAIMED_IDS_KEPT = 1000;
/** Graph names and job ids that may go into GSQL text unquoted (no GSQL injection). */
const GSQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const JOB_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
/** `JobName: load_test1, jobid: demo_graph_m1.1523663024967` (gsql-ref 3.9, section 2.1). */
const RUN_JOB_ID = /\bjobid:\s*([A-Za-z0-9_][A-Za-z0-9_.:-]*)/i;
/** How much of GSQL's console output an error quotes. */
const OUTPUT_QUOTED = 400;

/** A GSQL double-quoted string: backslash and quote escaped. */
const gsqlString = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** Section 5.2's topic-partition configuration of a run. */
export const runConfig = (run: LoadingJobRun): Record<string, unknown> => ({
  topic: run.topic,
  partition_list: run.partitions,
  ...(run.defaultStartOffset === undefined ? {} : { default_start_offset: run.defaultStartOffset }),
});

/**
 * The GSQL that starts `run` (section 2.1; EOF mode per section 5.4): the filename variable
 * gets the data source and the topic-partition configuration inline (section 5.2's
 * `"$k1:{...}"` form). `-noprint` returns once the job is started.
 */
export const runLoadingJobGsql = (run: LoadingJobRun): string => {
  const descriptor = `$${checked('data source', run.dataSource, GSQL_NAME)}:${JSON.stringify(runConfig(run))}`;
  return `RUN LOADING JOB -noprint ${checked('loading job', run.job, GSQL_NAME)} USING ${checked('filename variable', run.filename, GSQL_NAME)}=${gsqlString(descriptor)}, EOF="${String(!run.streaming)}"`;
};

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

const checked = (what: string, value: string, rule: RegExp): string => {
  if (!rule.test(value))
    throw new TigerGraphError(
      'TIGERGRAPH_NAME_INVALID',
      `${what} ${JSON.stringify(value)} cannot go into GSQL text: allowed are ${rule.source}`,
      { retriable: false },
    );
  return value;
};

export interface LoadingJobsDeps {
  /** An authorised request (tokens and basic auth applied by the client). */
  readonly call: Call;
  readonly version: 3 | 4;
  readonly now: () => number;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** See TigerGraphClientOptions.clockSkewMs. */
  readonly clockSkewMs?: number | undefined;
}

/** Loading-job operations of the client. */
export interface LoadingJobs extends LoadingRunControl {
  startLoadingJob(run: LoadingJobRun, signal?: AbortSignal): Promise<string[]>;
  getProgress(graph: string, jobId: string, signal?: AbortSignal): Promise<RunProgress>;
}

/** Builds the loading-job operations over an authorised `call`. */
export function createLoadingJobs(deps: LoadingJobsDeps): LoadingJobs {
  const { call, now } = deps;
  const v4 = deps.version === 4;
  const sleep = deps.sleep ?? defaultSleep;
  const claimed = new Set<string>();

  const gsqlText = async (
    graph: string,
    command: string,
    signal?: AbortSignal,
  ): Promise<string> => {
    // Section 2.1: URL-encoded GSQL text, answered with console text.
    const text = `USE GRAPH ${checked('graph', graph, GSQL_NAME)}\n${command}`;
    const { text: out } = await call('gsql', graph, 'POST', '/gsqlserver/gsql/file', {
      body: encodeURIComponent(text),
      contentType: 'text/plain; charset=utf-8',
      signal,
    });
    return out;
  };

  const listRuns = async (
    graph: string,
    job: string,
    signal?: AbortSignal,
    knownIds?: ReadonlySet<string>,
  ): Promise<LoadingRunSummary[]> => {
    if (v4) {
      // Section 2.2 documents the status call with job ids; without them, a list is
      // [UNCONFIRMED] on a live 4.x.
      const { json } = await call(
        'gsql',
        graph,
        'GET',
        `/gsql/v1/loading-jobs/status?graph=${encodeURIComponent(graph)}`,
        { signal },
      );
      return runsFromStatusList(json, graph, job);
    }
    const known = new Set([...claimed, ...(knownIds ?? [])]);
    return runsFromShowText(
      await gsqlText(graph, 'SHOW LOADING STATUS ALL', signal),
      graph,
      job,
      known,
    );
  };

  const claim = (id: string): string => {
    claimed.add(id);
    if (claimed.size > CLAIMED_IDS_KEPT) claimed.delete(claimed.values().next().value as string);
    return id;
  };

  /** The newest run of `job` that started at or after `since` and is not handed out yet. */
  const findStartedRun = async (
    graph: string,
    job: string,
    since: number,
    signal?: AbortSignal,
    output = '',
  ): Promise<string> => {
    for (const wait of FIND_RUN_WAITS_MS) {
      if (wait > 0) await sleep(wait, signal);
      const candidates = (await listRuns(graph, job, signal)).filter(
        (r) => r.startTime !== undefined && r.startTime >= since && !claimed.has(r.jobId),
      );
      const newest = candidates.reduce<LoadingRunSummary | undefined>(
        (a, r) => (a === undefined || (r.startTime ?? 0) >= (a.startTime ?? 0) ? r : a),
        undefined,
      );
      if (newest) return claim(newest.jobId);
    }
    throw new TigerGraphError(
      'TIGERGRAPH_JOB_ID_MISSING',
      `TigerGraph answered the start of loading job ${job} in graph ${graph} without a job id, and lists no run of it that started at or after ${new Date(since).toISOString()}${output === '' ? '' : `; its answer: ${JSON.stringify(output.slice(0, OUTPUT_QUOTED))}`}`,
      { retriable: false, details: { graph, job } },
    );
  };

  /** The running run of a streaming job TigerGraph refused to start twice (HTTP 409). */
  const adoptRunning = async (
    run: LoadingJobRun,
    signal?: AbortSignal,
  ): Promise<string | undefined> => {
    const running = (await listRuns(run.graph, run.job, signal)).filter(
      (r) => r.status === 'RUNNING',
    );
    return running.at(-1)?.jobId;
  };

  return {
    async startLoadingJob(run, signal) {
      const since = now() - (deps.clockSkewMs ?? 0);
      if (!v4) {
        // 3.x: GSQL's RUN LOADING JOB; its output names the run (section 2.1). Without that
        // line (the console text changed across 3.9 releases), the run is the newest of this
        // job that started at or after the call.
        const out = await gsqlText(run.graph, runLoadingJobGsql(run), signal);
        const id = RUN_JOB_ID.exec(out)?.[1];
        if (id !== undefined) return [claim(id)];
        return [await findStartedRun(run.graph, run.job, since, signal, out)];
      }
      const body = [
        {
          name: run.job,
          streaming: run.streaming,
          dataSources: [
            { filename: run.filename, name: run.dataSource, path: '', config: runConfig(run) },
          ],
        },
      ];
      let json: Record<string, unknown> | undefined;
      try {
        ({ json } = await call(
          'gsql',
          run.graph,
          'POST',
          `/gsql/v1/loading-jobs/run?graph=${encodeURIComponent(run.graph)}`,
          { body: JSON.stringify(body), contentType: 'application/json', signal },
        ));
      } catch (error) {
        // A job already running is not an error (DESIGN.md section 4): adopt the run.
        const adopted =
          run.streaming && error instanceof TigerGraphError && error.details.status === 409
            ? await adoptRunning(run, signal)
            : undefined;
        if (adopted !== undefined) return [adopted];
        throw error;
      }
      const ids =
        json?.jobIds ?? (json?.results as { jobId?: unknown }[] | undefined)?.map?.((r) => r.jobId);
      if (Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string'))
        return ids.map(claim);
      return [await findStartedRun(run.graph, run.job, since, signal)];
    },

    async getProgress(graph, jobId, signal) {
      const path = v4
        ? `/gsql/v1/loading-jobs/status/${encodeURIComponent(jobId)}?graph=${encodeURIComponent(graph)}`
        : `/gsqlserver/gsql/loading-jobs?action=getprogress&graph=${encodeURIComponent(graph)}&jobId=${encodeURIComponent(jobId)}`;
      const { json } = await call('gsql', graph, 'GET', path, { signal });
      const results = json?.results;
      const first = (Array.isArray(results) ? results[0] : results) as
        { overall?: Record<string, unknown> } | undefined;
      const overall = first?.overall ?? {};
      return {
        jobId,
        status: statusOf(overall),
        counts: sumStatistics(overall.statistics),
        error: typeof overall.error === 'string' ? overall.error : undefined,
      };
    },

    listRuns,

    async jobDefinition(graph, job, signal) {
      if (!v4) return gsqlText(graph, `SHOW JOB ${checked('loading job', job, GSQL_NAME)}`, signal);
      const { json } = await call(
        'gsql',
        graph,
        'GET',
        `/gsql/v1/loading-jobs/${encodeURIComponent(job)}?graph=${encodeURIComponent(graph)}`,
        { signal },
      );
      const results = json?.results as { jobContent?: unknown } | undefined;
      return typeof results?.jobContent === 'string' ? results.jobContent : '';
    },

    async resumeRun(graph, jobId, signal) {
      if (v4)
        await call(
          'gsql',
          graph,
          'GET',
          `/gsql/v1/loading-jobs/resume/${encodeURIComponent(jobId)}?graph=${encodeURIComponent(graph)}`,
          { signal },
        );
      else await gsqlText(graph, `RESUME LOADING JOB ${checked('job id', jobId, JOB_ID)}`, signal);
    },

    async abortRun(graph, jobId, signal) {
      // 4.x: the path form; whether the query form takes `jobIds` or `jobId` is
      // [UNCONFIRMED] (section 2.2).
      if (v4)
        await call(
          'gsql',
          graph,
          'GET',
          `/gsql/v1/loading-jobs/abort/${encodeURIComponent(jobId)}?graph=${encodeURIComponent(graph)}`,
          { signal },
        );
      else await gsqlText(graph, `ABORT LOADING JOB ${checked('job id', jobId, JOB_ID)}`, signal);
    },
  };
}
