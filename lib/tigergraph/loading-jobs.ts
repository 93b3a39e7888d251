/**
 * Loading-job runs in both dialects: start, status, progress, listing, abort and resume through
 * the 3.x GSQL server (/gsqlserver, reference section 2.1) or 4.x /gsql/v1 (section 2.2). 3.x
 * runs are controlled with GSQL text, the documented 3.9 control surface: `RUN LOADING JOB
 * -noprint`, whose output names the run (`JobName: j, jobid: <id>`), `SHOW LOADING STATUS
 * <id>|ALL`, `ABORT LOADING JOB <id>` and `RESUME LOADING JOB <id>` (gsql-ref 3.9 "Managing and
 * Inspecting a Loading Job"). The JSON start call's answer is [UNCONFIRMED] on 3.x and is not
 * used. A real GSQL server answers its console text with HTTP 200 also when a command failed,
 * so abort and resume are taken to have worked only when their documented success word is in
 * the text.
 */
import { TigerGraphError } from '../errors/index.ts';
import type { Call } from './http.ts';
import {
  idMillis,
  idsInShowText,
  runInShowText,
  runsFromShowText,
  runsFromStatusList,
  statusOf,
  type LoadingRunSummary,
  type RunStatus,
} from './runs.ts';
import { NO_COUNTS, num, sumStatistics, type LoadCounts } from './statistics.ts';

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
  /** Epoch milliseconds, when TigerGraph says (4.x `startTime`; 3.x the id's trailing ms). */
  readonly startTime?: number | undefined;
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
  /**
   * Resumes a stopped run under its own id (it continues where it stopped, section 2.1). 3.x:
   * refused (TIGERGRAPH_GSQL_REFUSED) unless GSQL printed `RESUME_SUCCESS`.
   */
  resumeRun(graph: string, jobId: string, signal?: AbortSignal): Promise<void>;
  /**
   * The status of run `jobId`, asked by its id through the documented calls: 3.x `SHOW LOADING
   * STATUS <id>` (its status words and the LINES/OBJECTS/ERRORS columns), 4.x `GET
   * /gsql/v1/loading-jobs/status/{id}`. UNKNOWN when TigerGraph does not know the id (3.x: no
   * block for it; 4.x: HTTP 404).
   */
  runStatus(graph: string, jobId: string, signal?: AbortSignal): Promise<RunProgress>;
  /**
   * The job's definition as GSQL text: 4.x `results.jobContent` (section 2.2), 3.x the console
   * text of `SHOW JOB <job>` (section 2.1's GSQL surface).
   */
  jobDefinition(graph: string, job: string, signal?: AbortSignal): Promise<string>;
  /** Aborts a run. 3.x: refused (TIGERGRAPH_GSQL_REFUSED) unless GSQL printed `ABORT_SUCCESS`. */
  abortRun(graph: string, jobId: string, signal?: AbortSignal): Promise<void>;
}

/** Looks for a 3.x run started without a `jobid:` line, with waits between (it may list late). */
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

/** Whether id `id` has the form `<graph>.<job>.` with a job other than `job`. */
const namesOtherJob = (id: string, graph: string, job: string): boolean => {
  if (!id.startsWith(`${graph}.`)) return false;
  const named = /^([A-Za-z_][A-Za-z0-9_]*)\./.exec(id.slice(graph.length + 1))?.[1];
  return named !== undefined && named !== job;
};

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
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

/** The start of GSQL's console text, for error messages. */
const quoted = (output: string): string => JSON.stringify(output.trim().slice(0, OUTPUT_QUOTED));

/** GSQL answered a control command without its documented success word (section 2.1). */
const refused = (command: string, jobId: string, output: string): TigerGraphError =>
  new TigerGraphError(
    'TIGERGRAPH_GSQL_REFUSED',
    `TigerGraph did not confirm ${command} ${jobId}: ${quoted(output)}`,
    { retriable: false, details: { jobId } },
  );

/** Loading-job operations of the client. */
export interface LoadingJobs extends LoadingRunControl {
  startLoadingJob(run: LoadingJobRun, signal?: AbortSignal): Promise<string[]>;
  getProgress(graph: string, jobId: string, signal?: AbortSignal): Promise<RunProgress>;
}

/** Builds the loading-job operations over an authorised `call`. */
export function createLoadingJobs(deps: LoadingJobsDeps): LoadingJobs {
  const { call } = deps;
  const v4 = deps.version === 4;
  const sleep = deps.sleep ?? defaultSleep;
  const claimed = new Set<string>();
  /** Whether this server printed a `jobid:` line for a start (then it always does). */
  let printsJobId = false;
  /** 3.x starts one at a time: which ids appeared during a start must be this start's. */
  let startChain: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const next = startChain.then(work, work);
    startChain = next.catch(() => undefined);
    return next;
  };

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

  /** The ids SHOW LOADING STATUS ALL prints: the active runs of the graph (section 2.1). */
  const activeIds = async (graph: string, signal?: AbortSignal): Promise<string[]> =>
    idsInShowText(await gsqlText(graph, 'SHOW LOADING STATUS ALL', signal));

  /**
   * 3.x start (section 2.1): GSQL's RUN LOADING JOB, whose output names the run. Without that
   * line (the console text changed across 3.9 releases), the run is the one id that appeared
   * in SHOW LOADING STATUS ALL between before and after the RUN: that listing names no job
   * and shows the documented ids `<graph>_m1.<ms>`, which name none either, so no filter by
   * job could find it. Starts of this client run one at a time, so an id that appeared is
   * another caller's only when someone else started a run in the same moment: then the start
   * fails rather than follow the wrong run (the run it started is left running: its id is
   * among those named, and the streaming caller waits before starting again). Ids that name
   * another job (`<graph>.<other>.`, the JSON-started id form of section 2.2's sample) are no
   * candidates: the SHOW text names no job, but such an id does. The listing before the RUN is
   * skipped once the server has printed a `jobid:` line.
   */
  const start3 = (run: LoadingJobRun, signal?: AbortSignal): Promise<string[]> =>
    oneAtATime(async () => {
      const command = runLoadingJobGsql(run); // names checked before anything is called
      const before = printsJobId ? undefined : new Set(await activeIds(run.graph, signal));
      const out = await gsqlText(run.graph, command, signal);
      const id = RUN_JOB_ID.exec(out)?.[1];
      if (id !== undefined) {
        printsJobId = true;
        return [claim(id)];
      }
      for (const wait of before === undefined ? [] : FIND_RUN_WAITS_MS) {
        if (wait > 0) await sleep(wait, signal);
        const appeared = (await activeIds(run.graph, signal)).filter(
          (i) =>
            !(before?.has(i) ?? true) && !claimed.has(i) && !namesOtherJob(i, run.graph, run.job),
        );
        if (appeared.length === 1) return [claim(appeared[0] as string)];
        if (appeared.length > 1)
          throw new TigerGraphError(
            'TIGERGRAPH_JOB_ID_AMBIGUOUS',
            `TigerGraph answered the start of loading job ${run.job} in graph ${run.graph} without a job id, and several runs started meanwhile (${appeared.join(', ')}); none is followed: abort the one of ${run.job} that is not wanted`,
            {
              retriable: true,
              details: { graph: run.graph, job: run.job, ids: appeared.join(',') },
            },
          );
      }
      throw new TigerGraphError(
        'TIGERGRAPH_JOB_ID_MISSING',
        `TigerGraph answered the start of loading job ${run.job} in graph ${run.graph} without a job id, and no new run appeared in SHOW LOADING STATUS ALL; its answer: ${quoted(out)}`,
        { retriable: false, details: { graph: run.graph, job: run.job } },
      );
    });

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

  /** A run's progress from a JSON status answer (`results[0].overall`, section 2.2). */
  const progressAt = async (
    path: string,
    graph: string,
    jobId: string,
    signal?: AbortSignal,
  ): Promise<RunProgress> => {
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
      startTime: num(overall.startTime) > 0 ? num(overall.startTime) : undefined,
    };
  };
  const progressOf4 = (graph: string, jobId: string, signal?: AbortSignal) =>
    progressAt(
      `/gsql/v1/loading-jobs/status/${encodeURIComponent(jobId)}?graph=${encodeURIComponent(graph)}`,
      graph,
      jobId,
      signal,
    );

  return {
    async startLoadingJob(run, signal) {
      if (!v4) return start3(run, signal);
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
        // A job already running is not an error (DESIGN.md section 4): when TigerGraph refuses
        // a second streaming run with a conflict, the job's running run is adopted. Whether a
        // real 4.x answers so is [UNCONFIRMED] (the emulator queues the second run, section 1.5).
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
      throw new TigerGraphError(
        'TIGERGRAPH_JOB_ID_MISSING',
        `TigerGraph answered the run of loading job ${run.job} in graph ${run.graph} without jobIds (section 2.2's documented answer has them): ${quoted(JSON.stringify(json ?? {}))}`,
        { retriable: false, details: { graph: run.graph, job: run.job } },
      );
    },

    /**
     * An EOF run's progress and full statistics: 4.x the status call (section 2.2); 3.x the
     * getprogress call TigerGraph's Spark connector uses for runs it posts ("prior to TG
     * v4.1.0", section 2.1), [UNCONFIRMED] for GSQL-started runs; `runStatus` asks 3.x by the
     * documented SHOW LOADING STATUS instead.
     */
    getProgress(graph, jobId, signal) {
      return v4
        ? progressOf4(graph, jobId, signal)
        : progressAt(
            `/gsqlserver/gsql/loading-jobs?action=getprogress&graph=${encodeURIComponent(graph)}&jobId=${encodeURIComponent(jobId)}`,
            graph,
            jobId,
            signal,
          );
    },

    listRuns,

    async runStatus(graph, jobId, signal) {
      try {
        if (v4) return await progressOf4(graph, jobId, signal);
        const text = await gsqlText(
          graph,
          `SHOW LOADING STATUS ${checked('job id', jobId, JOB_ID)}`,
          signal,
        );
        return {
          jobId,
          ...runInShowText(text, jobId),
          error: undefined,
          startTime: idMillis(jobId),
        };
      } catch (error) {
        // An id TigerGraph does not know (a GSQL server may also answer it as text: no block).
        if (error instanceof TigerGraphError && error.details.status === 404)
          return { jobId, status: 'UNKNOWN', counts: NO_COUNTS, error: undefined };
        throw error;
      }
    },

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
      else {
        const out = await gsqlText(
          graph,
          `RESUME LOADING JOB ${checked('job id', jobId, JOB_ID)}`,
          signal,
        );
        // gsql-ref 3.9 documents `[RESUME_SUCCESS] m1`; "if the job is finished, this command
        // will do nothing".
        if (!/\bRESUME_SUCCESS\b/.test(out)) throw refused('RESUME LOADING JOB', jobId, out);
      }
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
      else {
        const out = await gsqlText(
          graph,
          `ABORT LOADING JOB ${checked('job id', jobId, JOB_ID)}`,
          signal,
        );
        // gsql-ref 3.9 documents `[ABORT_SUCCESS] m1` per aborted run.
        if (!/\bABORT_SUCCESS\b/.test(out)) throw refused('ABORT LOADING JOB', jobId, out);
      }
    },
  };
}
