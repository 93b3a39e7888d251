/**
 * TigerGraph emulator: a TEST DOUBLE, not TigerGraph. It answers the endpoints TigerStream
 * calls with the documented shapes and REST-xxxx codes of shared/reference/
 * tigergraph-loading.md (section numbers below refer to it): RESTPP /requesttoken, /ddl,
 * GET /graph/{g}/vertices and /edges; the 3.x GSQL server's loading-job start and progress,
 * `/gsqlserver/gsql/file` GSQL text (section 2.1); the 4.x `/gsql/v1` tokens, loading-job
 * run, status, abort, resume and statements (section 2.2). Kafka loading jobs read the data
 * source's topic with librdkafka, in EOF or streaming mode, EOF runs one at a time
 * (TigerGraph's default, section 1.5). Every choice the reference leaves open is marked
 * UNDOCUMENTED and listed in lib/local/EMULATOR.md. Point `tigergraph.url` at a real
 * TigerGraph to use one.
 *
 * Over the ~300-line aim: runs, authentication and routes are one server's state; the split
 * this file wants (runs and auth into files of their own) is noted in EMULATOR.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { LocalError, isTigerStreamError, messageOf } from '../errors/index.ts';
import { GraphStore, emptyStats, type LoadStats, type Vertex } from './graph-store.ts';
import { jobText, type LoadingControl, type LoadingJob, type RunLoadingJob } from './gsql.ts';
import { listPartitions, readPartitions, type PartitionStart } from './rdkafka-reader.ts';

export interface EmulatorOptions {
  /** Replaces every data source's `broker` (the embedded broker's bootstrap string). */
  readonly kafkaBootstrapOverride?: string;
  /**
   * The secret `/requesttoken` and `/gsql/v1/tokens` accept. With it (or a username) RESTPP
   * endpoints need `Authorization: Bearer <token>` (sections 4.1, 4.2).
   */
  readonly secret?: string;
  /** GSQL user: GSQL endpoints need basic auth, RESTPP endpoints a token (sections 4.1, 4.2). */
  readonly username?: string;
  readonly password?: string;
  /** The same as `username` and `password` (kept for existing callers). */
  readonly gsqlCredentials?: { readonly username: string; readonly password: string };
  /** Caps every token's lifetime, in seconds (tests of expiry); default as requested. */
  readonly tokenLifetimeSeconds?: number;
  /** Tokens longer than this count as `oversizeToken` (default 16,000 bytes, UNDOCUMENTED). */
  readonly maxTokenBytes?: number;
  /** GSQL to run at start (schema, data sources, loading jobs). */
  readonly gsql?: string;
  /**
   * Answer a failed GSQL text command (`/gsqlserver/gsql/file`, `/gsql/v1/statements`) as a
   * real GSQL server does, HTTP 200 with the error in the console text, instead of a JSON
   * error with HTTP 4xx. UNDOCUMENTED: the error's wording (the emulator's own message).
   */
  readonly gsqlErrorsAsText?: boolean;
  /**
   * How a running (or queued) run reads, to test what the reference leaves open: a queued
   * run's word (section 1.5 says runs queue, not how they show), an unexpected 3.x status word,
   * a 4.x answer with no status word. A string replaces the word RUNNING in 3.x SHOW LOADING
   * STATUS and the 4.x `status` (a resumed run's RESUME_SUCCESS included); `''` leaves the 4.x
   * `status` out and gives the run an `endTime` (the documented sample's shape, which reads as
   * ended) and prints `QUEUED_UNKNOWN` in 3.x text. Default: RUNNING.
   */
  readonly runningWord?: string;
}

export interface InjectedFault {
  /** Matched against `METHOD path` (e.g. `POST /gsqlserver/gsql/loading-jobs`). */
  readonly match: RegExp;
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  /** How many requests fail (default 1). */
  times?: number;
}

/**
 * A slow or hung TigerGraph, for timeout tests: `hang` never answers (the connection is closed
 * after `delayMs`, the request not carried out); `late` carries the request out at once and
 * holds its answer back `delayMs` (a call that timed out for the client but took effect).
 */
export interface InjectedDelay {
  /** Matched against `METHOD path` (e.g. `GET /gsqlserver/gsql/loading-jobs`). */
  readonly match: RegExp;
  readonly delayMs: number;
  readonly mode: 'hang' | 'late';
  /** How many requests are delayed (default 1). */
  times?: number;
}

export type JobStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'ABORTED' | 'PAUSED';
export interface JobRun {
  readonly id: string;
  readonly jobName: string;
  readonly graph: string;
  readonly streaming: boolean;
  status: JobStatus;
  readonly startTime: number;
  endTime: number;
  stats: LoadStats;
  error?: string;
}
/** One answered request, for tests that count calls (token renewals, retries). */
export interface RequestRecord {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The HTTP status answered; 0 for a request a `hang` delay left unanswered. */
  readonly status: number;
}

export interface TigerGraphEmulator {
  readonly url: string;
  readonly store: GraphStore;
  /** Runs GSQL, including SHOW LOADING STATUS / ABORT / RESUME LOADING JOB. */
  runGsql(text: string): string[];
  injectFault(fault: InjectedFault): void;
  /** Holds back or drops the answers of the next matching requests (see InjectedDelay). */
  injectDelay(delay: InjectedDelay): void;
  /** Clears injected faults and delays. */
  clearFaults(): void;
  /** Every loading-job run started so far, oldest first. */
  runs(): readonly JobRun[];
  /** Resolves once no run is queued or in EOF progress. */
  idle(): Promise<void>;
  /** Every request answered so far, oldest first. */
  requests(): readonly RequestRecord[];
  /** Invalidates every token issued so far, as their expiry would. */
  revokeTokens(): void;
  stop(): Promise<void>;
}

/** A 3.x `/requesttoken` answer (section 4.1): the token at the top level or under results. */
const tokenAnswer = (
  { token, expiresAt }: { token: string; expiresAt: number },
  where: 'top' | 'results',
): { status: number; body: Record<string, unknown> } => ({
  status: 200,
  body: {
    code: 'REST-0000',
    expiration: Math.floor(expiresAt / 1000),
    error: false,
    message: 'Generate new token successfully.',
    ...(where === 'top' ? { token } : { results: { token } }),
  },
});

const VERSION = { edition: 'enterprise', api: 'v2', schema: 0 };
/** Section 4.1: a 3.x token lives about a month unless `lifetime` says otherwise. */
const RESTPP_TOKEN_SECONDS = 2_592_000;
/** Section 4.2: a 4.x token lives a week by default. */
const GSQL_TOKEN_SECONDS = 604_800;

interface Reply {
  status: number;
  body: unknown;
}
const ok = (body: Record<string, unknown>): Reply => ({
  status: 200,
  body: { version: VERSION, error: false, message: '', ...body },
});
const fail = (status: number, code: string | undefined, message: string): Reply => ({
  status,
  body: { version: VERSION, error: true, message, results: [], ...(code ? { code } : {}) },
});
/** A GSQL-server answer (sections 2.1, 2.2): `{error, message}`, no RESTPP envelope. */
const gsqlOk = (message: string, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: { error: false, message, ...extra },
});

/**
 * Our LocalError codes → HTTP status and REST code. UNDOCUMENTED: the codes TigerGraph
 * answers for a missing vertex and for the loading-job conflicts below; GSQL-server errors
 * carry no REST code.
 */
const LOCAL_ERRORS: Readonly<Record<string, { status: number; code?: string }>> = {
  TG_GRAPH_NOT_FOUND: { status: 404, code: 'REST-1004' },
  TG_VERTEX_TYPE_NOT_FOUND: { status: 400, code: 'REST-2004' },
  TG_EDGE_TYPE_NOT_FOUND: { status: 400, code: 'REST-2005' },
  TG_VERTEX_NOT_FOUND: { status: 400, code: 'REST-30000' },
  TG_JOB_NOT_FOUND: { status: 400, code: 'REST-30000' },
  TG_JOB_ID_NOT_FOUND: { status: 404 },
  TG_FILENAME_INVALID: { status: 400 },
  TG_JOB_NOT_RESUMABLE: { status: 409 },
  TG_JOB_NOT_RUNNING: { status: 409 },
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });

interface JobRequest {
  name: string;
  streaming?: boolean;
  dataSources?: {
    filename: string;
    name: string;
    config?: {
      topic?: string;
      partition_list?: { partition: number; start_offset?: number }[];
      default_start_offset?: number;
    };
  }[];
}

/** A run's private state: its request, where each partition got to, its current execution. */
interface RunState {
  readonly run: JobRun;
  readonly request: JobRequest;
  controller: AbortController;
  /** Bumped by each resume: an older execution's end no longer sets the status. */
  epoch: number;
  execution: Promise<void>;
  /** `${dataSourceIndex}:${partition}` → the next offset to load (section 2.1, RESUME). */
  readonly positions: Map<string, number>;
  /** Partitions resolved at the first execution (an empty partition_list means all). */
  readonly partitions: Map<number, PartitionStart[]>;
  /** Resumed since it last stopped: SHOW prints RESUME_SUCCESS while it runs. */
  resumed: boolean;
}

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Section 4.2's example format: `Fri Dec 20 09:07:39 UTC 2024`. */
const gsqlDate = (ms: number): string => {
  const [weekday, day, month, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${weekday ?? ''} ${month ?? ''} ${day ?? ''} ${time ?? ''} UTC ${year ?? ''}`;
};

/**
 * Starts the emulator on 127.0.0.1 (an ephemeral port).
 *
 * @example
 * const tg = await startTigerGraphEmulator({ gsql, kafkaBootstrapOverride: kafka.bootstrapServers });
 * // tigergraph.url = tg.url
 */
export async function startTigerGraphEmulator(
  options: EmulatorOptions = {},
): Promise<TigerGraphEmulator> {
  const store = new GraphStore(
    options.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.maxTokenBytes },
  );
  const username = options.username ?? options.gsqlCredentials?.username;
  const password = options.password ?? options.gsqlCredentials?.password ?? '';
  const restppAuth = options.secret !== undefined || username !== undefined;
  const faults: InjectedFault[] = [];
  const delays: InjectedDelay[] = [];
  const states: RunState[] = [];
  const log: RequestRecord[] = [];
  const tokens = new Map<string, { graph: string | undefined; expiresAt: number }>();
  let stopping = false;
  let queue: Promise<void> = Promise.resolve();
  let seq = 0;

  // ---- loading-job runs ---------------------------------------------------------------

  const stateOf = (id: string, graph?: string): RunState => {
    const state = states.find(
      (s) => s.run.id === id && (graph === undefined || s.run.graph === graph),
    );
    if (!state) throw new LocalError('TG_JOB_ID_NOT_FOUND', `Loading job id ${id} is not found`);
    return state;
  };

  /**
   * Per job, the execution of its newest streaming run. Section 1.5: one loading job runs at a
   * time and others queue; a second streaming run of a job waits (showing RUNNING, as queued
   * EOF runs do) until the one before it stops. UNDOCUMENTED: streaming runs of different jobs
   * and EOF runs do not wait for each other here.
   */
  const streamingQueues = new Map<string, Promise<void>>();
  const execute = async (state: RunState, signal: AbortSignal): Promise<void> => {
    const { run } = state;
    const job = store.jobs.get(run.jobName);
    if (!job) throw new LocalError('TG_JOB_NOT_FOUND', `loading job ${run.jobName} was dropped`);
    for (const [index, ds] of (state.request.dataSources ?? []).entries()) {
      if (signal.aborted) return;
      const source = store.dataSources.get(ds.name);
      if (!source)
        throw new LocalError('TG_DATA_SOURCE_NOT_FOUND', `data source ${ds.name} does not exist`);
      if (!(ds.filename in job.filenames))
        throw new LocalError(
          'TG_FILENAME_NOT_FOUND',
          `job ${job.name} has no filename variable ${ds.filename}`,
        );
      const sourceConfig = JSON.parse(source.config || '{}') as {
        broker?: string;
        kafka_config?: Record<string, string>;
      };
      const broker = options.kafkaBootstrapOverride ?? sourceConfig.broker;
      const topic = ds.config?.topic;
      if (!broker || !topic)
        throw new LocalError(
          'TG_DATA_SOURCE_INVALID',
          `data source ${ds.name} needs a broker and the run a topic`,
        );
      let partitions = state.partitions.get(index);
      if (!partitions) {
        // Section 5.2: an empty partition_list means every partition, from default_start_offset
        // (-1, latest, when absent).
        const listed = ds.config?.partition_list ?? [];
        partitions =
          listed.length > 0
            ? listed.map((p) => ({ partition: p.partition, startOffset: p.start_offset ?? -1 }))
            : (await listPartitions(broker, topic)).map((partition) => ({
                partition,
                startOffset: ds.config?.default_start_offset ?? -1,
              }));
        state.partitions.set(index, partitions);
      }
      const lines: string[] = [];
      await readPartitions({
        bootstrapServers: broker,
        topic,
        // A resumed run continues where it stopped and loads nothing twice (section 2.1).
        // UNDOCUMENTED: a partition the run read nothing from starts again from its start
        // offset; for -1 (latest) that is the end at the resume, not at the first start.
        partitions: partitions.map((p) => ({
          partition: p.partition,
          startOffset: state.positions.get(`${index}:${p.partition}`) ?? p.startOffset,
        })),
        eof: !run.streaming,
        signal,
        ...(sourceConfig.kafka_config ? { kafkaConfig: sourceConfig.kafka_config } : {}),
        onMessage: (m) => {
          // Messages fetched before an abort are left for the resumed run.
          if (signal.aborted) return;
          state.positions.set(`${index}:${m.partition}`, m.offset + 1);
          // UNDOCUMENTED: whether TigerGraph's Kafka loader splits one message's value at
          // line breaks is not in the reference (tigergraph-loading.md documents `eol` for
          // /ddl only). The emulator splits as /ddl does, the stricter reading: TigerStream
          // sends JSON as one compact line, so its own records never depend on it.
          if (m.value) for (const line of m.value.toString('utf8').split('\n')) lines.push(line);
        },
        // The messages read in one go are loaded in one go (before anything else can run, so an
        // abort never falls between a message read and its lines loaded).
        onDrained: () => {
          if (lines.length === 0) return;
          // Taken before loading: lines a failed load leaves are never loaded (and counted)
          // a second time by the reader's last drain.
          store.loadLines(job.name, ds.filename, lines.splice(0), run.stats);
        },
      });
    }
  };

  const finish = (state: RunState, epoch: number, error?: unknown): void => {
    if (state.epoch !== epoch) return;
    const { run } = state;
    run.endTime = Date.now();
    if (run.status !== 'RUNNING') return; // aborted or paused: the status is already set
    if (error !== undefined) {
      run.status = 'FAILED';
      run.error = messageOf(error);
    } else run.status = stopping || run.streaming ? 'ABORTED' : 'FINISHED';
  };

  /** Executes a run (again): EOF runs wait their turn in the queue, streaming runs do not. */
  const schedule = (state: RunState): void => {
    const epoch = ++state.epoch;
    const controller = new AbortController();
    state.controller = controller;
    const previous = state.execution;
    const work = async (): Promise<void> => {
      await previous;
      if (!controller.signal.aborted) await execute(state, controller.signal);
    };
    const jobKey = `${state.run.graph}.${state.run.jobName}`;
    const before = state.run.streaming ? (streamingQueues.get(jobKey) ?? Promise.resolve()) : queue;
    const done = before.then(work).then(
      () => finish(state, epoch),
      (error: unknown) => finish(state, epoch, error),
    );
    state.execution = done;
    if (state.run.streaming) streamingQueues.set(jobKey, done);
    else queue = done;
  };

  let lastGsqlMillis = 0;
  /**
   * A run's id. Runs started by GSQL's RUN LOADING JOB get the documented form
   * `<graph>_m1.<epochMillis>` (gsql-ref 3.9, "Managing and Inspecting a Loading Job";
   * reference section 2.1), which names no job. UNDOCUMENTED: runs started through the JSON
   * run calls get `<graph>.<job>.kafka.m1.<epochMillis><sequence>`, the shape of the 4.x status
   * sample's `financialGraph.load_ldbc_snb.jdbc.all.<ms>` (section 2.2).
   */
  const runId = (graph: string, job: string, now: number, via: 'gsql' | 'json'): string => {
    if (via === 'json') return `${graph}.${job}.kafka.m1.${now}${String(++seq).padStart(4, '0')}`;
    lastGsqlMillis = Math.max(now, lastGsqlMillis + 1);
    return `${graph}_m1.${lastGsqlMillis}`;
  };

  const startRun = (graph: string, request: JobRequest, via: 'gsql' | 'json' = 'json'): JobRun => {
    const job = store.jobs.get(request.name);
    if (!job || job.graph !== graph)
      throw new LocalError(
        'TG_JOB_NOT_FOUND',
        `Loading job ${request.name} does not exist in graph ${graph}`,
      );
    const now = Date.now();
    const run: JobRun = {
      id: runId(graph, job.name, now, via),
      jobName: job.name,
      graph,
      streaming: request.streaming === true,
      status: 'RUNNING',
      startTime: now,
      endTime: 0,
      stats: emptyStats(),
    };
    const state: RunState = {
      run,
      request,
      controller: new AbortController(),
      epoch: 0,
      execution: Promise.resolve(),
      positions: new Map(),
      partitions: new Map(),
      resumed: false,
    };
    states.push(state);
    schedule(state);
    return run;
  };

  /**
   * ABORT (or, 4.x `isPause=true`, pause) a run. UNDOCUMENTED: a run that is not RUNNING or
   * PAUSED cannot be aborted (HTTP 409); the status changes at once, the reader stops within
   * one poll.
   */
  const stopRun = (state: RunState, status: 'ABORTED' | 'PAUSED'): void => {
    if (state.run.status !== 'RUNNING' && state.run.status !== 'PAUSED')
      throw new LocalError(
        'TG_JOB_NOT_RUNNING',
        `Loading job ${state.run.id} is ${state.run.status}, not running`,
      );
    state.run.status = status;
    state.run.endTime = Date.now();
    state.resumed = false;
    state.controller.abort();
  };

  /**
   * RESUME a run under its own id (section 2.1: it picks up where it stopped). UNDOCUMENTED:
   * ABORTED, PAUSED and FAILED runs resume; a RUNNING or FINISHED one does not (a job id runs
   * once). A resumed streaming run queues behind a running one of its job.
   */
  const resumeRun = (state: RunState): void => {
    const { run } = state;
    if (run.status === 'RUNNING' || run.status === 'FINISHED')
      throw new LocalError(
        'TG_JOB_NOT_RESUMABLE',
        `Loading job ${run.id} is ${run.status}; a job id runs once, so it cannot be resumed`,
      );
    run.status = 'RUNNING';
    run.endTime = 0;
    delete run.error;
    state.resumed = true;
    schedule(state);
  };

  /** `status` and `endTime` of a run as `options.runningWord` makes a running one read. */
  const statusFields = (run: JobRun): Record<string, unknown> => {
    if (run.status !== 'RUNNING' || options.runningWord === undefined)
      return { status: run.status, endTime: run.endTime };
    if (options.runningWord === '') return { endTime: run.startTime + 1 };
    return { status: options.runningWord, endTime: run.endTime };
  };

  const progress = (run: JobRun): Record<string, unknown> => ({
    // Section 2.2's status shape (also the 3.10 getprogress shape, section 2.1). UNDOCUMENTED:
    // `jobName`, `status` and `error` are the emulator's additions; fileLevel mixes the flat
    // and the aggregated key names (section 1.3).
    overall: {
      id: run.id,
      jobName: run.jobName,
      progress: run.status === 'FINISHED' ? 100 : 0,
      startTime: run.startTime,
      ...statusFields(run),
      duration: (run.endTime || Date.now()) - run.startTime,
      statistics: {
        fileLevel: {
          validLine: run.stats.validLine,
          rejectLine: run.stats.rejectLine,
          invalidJson: run.stats.invalidJson,
          notEnoughToken: run.stats.notEnoughToken,
          tokenExceedsBuffer: run.stats.oversizeToken,
          failedConditionLine: run.stats.failedConditionLine,
        },
        objectLevel: { vertex: run.stats.vertex, edge: run.stats.edge },
      },
      ...(run.error ? { error: run.error } : {}),
    },
    workers: [],
  });

  /**
   * `RUN LOADING JOB` (section 2.1): each filename variable takes its USING value, else its
   * DEFINE FILENAME value, in section 5.2's `$<data source>:<topic or JSON>` form; EOF mode
   * unless `EOF="false"` (the default since 3.9.2, section 5.4). UNDOCUMENTED: the emulator
   * returns as soon as the run starts, with or without `-noprint`; `-dryrun` and the other
   * options are read and ignored.
   */
  const jobOf = (name: string, graph: string): LoadingJob => {
    const job = store.jobs.get(name);
    if (!job || job.graph !== graph)
      throw new LocalError(
        'TG_JOB_NOT_FOUND',
        `Loading job ${name} does not exist in graph ${graph}`,
      );
    return job;
  };

  const runLoadingJob = (s: RunLoadingJob, graph: string | undefined): string[] => {
    if (graph === undefined)
      throw new LocalError('TG_GRAPH_NOT_FOUND', 'RUN LOADING JOB needs a preceding USE GRAPH');
    const job = jobOf(s.job, graph);
    const option = (name: string): string | undefined =>
      Object.entries(s.using).find(([k]) => k.toUpperCase() === name)?.[1];
    const dataSources = Object.entries(job.filenames).map(([filename, defined]) => {
      const value = s.using[filename] ?? defined;
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*):([\s\S]+)$/.exec(value);
      if (!m)
        throw new LocalError(
          'TG_FILENAME_INVALID',
          `filename variable ${filename} of ${job.name} is ${value === '' ? 'not given' : JSON.stringify(value)}: the emulator runs Kafka jobs only, "$<data source>:<topic or JSON>" (section 5.2)`,
        );
      const spec = (m[2] as string).trim();
      let config: NonNullable<JobRequest['dataSources']>[number]['config'];
      try {
        config = spec.startsWith('{') ? (JSON.parse(spec) as typeof config) : { topic: spec };
      } catch {
        throw new LocalError(
          'TG_FILENAME_INVALID',
          `filename variable ${filename}: ${JSON.stringify(spec)} is not valid JSON`,
        );
      }
      return { filename, name: m[1] as string, config };
    });
    const eof = (option('EOF') ?? 'true').toLowerCase() !== 'false';
    const run = startRun(graph, { name: job.name, streaming: !eof, dataSources }, 'gsql');
    // The documented start lines (gsql-ref 3.9, "Managing and Inspecting a Loading Job").
    return [
      'Kick off the following job, i.e.',
      `  JobName: ${job.name}, jobid: ${run.id}`,
      `  Loading log: '/home/tigergraph/tigergraph/logs/restpp/restpp_loader_logs/${graph}/${run.id}.log'`,
    ];
  };

  /**
   * A run's word in GSQL's console text. Documented (gsql-ref 3.9 "Managing and Inspecting a
   * Loading Job"): RUNNING, FINISHED, and ABORT_SUCCESS / RESUME_SUCCESS, what ABORT and RESUME
   * print for the run. UNDOCUMENTED: SHOW LOADING STATUS prints those two for an aborted run
   * and for a resumed run while it runs; FAILED and (4.x) PAUSED as such.
   */
  const wordOf = (state: RunState): string =>
    state.run.status === 'ABORTED'
      ? 'ABORT_SUCCESS'
      : state.run.status === 'RUNNING' && options.runningWord !== undefined
        ? options.runningWord || 'QUEUED_UNKNOWN'
        : state.run.status === 'RUNNING' && state.resumed
          ? 'RESUME_SUCCESS'
          : state.run.status;

  /** The table under a run's status line (section 2.1): one row, the job's counts. */
  const statusTable = (run: JobRun): string[] => {
    const seconds = (((run.endTime || Date.now()) - run.startTime) / 1000).toFixed(2);
    const objects =
      run.stats.vertex.reduce((n, v) => n + v.validObject, 0) +
      run.stats.edge.reduce((n, e) => n + e.validObject, 0);
    const rule = `  +${'-'.repeat(86)}+`;
    return [
      rule,
      '  |                  FILENAME |   LINES |   OBJECTS |   ERRORS |   AVG SPEED |   DURATION|',
      `  |${run.jobName.padStart(26)} |${String(run.stats.validLine).padStart(8)} |${String(objects).padStart(10)} |${String(run.stats.rejectLine).padStart(9)} |${'-'.padStart(12)} |${`${seconds} s`.padStart(11)}|`,
      rule,
    ];
  };
  const finished = (run: JobRun): number => (run.status === 'FINISHED' ? 1 : 0);

  /** Section 2.1's status block of one run: `Job "<id>" loading status`, machine line, table. */
  const statusBlock = (state: RunState): string[] => [
    `Job "${state.run.id}" loading status`,
    `[${wordOf(state)}] m1 ( Finished: ${finished(state.run)} / Total: 1 )`,
    ...statusTable(state.run),
  ];

  /** Active runs (SHOW LOADING STATUS ALL, ABORT LOADING JOB ALL). UNDOCUMENTED: PAUSED counts. */
  const active = (state: RunState): boolean =>
    state.run.status === 'RUNNING' || state.run.status === 'PAUSED';

  /**
   * GSQL's run-control commands (section 2.1; gsql-ref 3.9 "Managing and Inspecting a Loading
   * Job"). SHOW LOADING STATUS <id> prints the documented block of any run; ALL those of the
   * active runs (the 3.10 Kafka page: FINISHED runs are left out), oldest first. ABORT prints
   * the documented block per aborted run (`[ABORT_SUCCESS] m1`, `[SUMMARY] Finished: n /
   * Total: 1`, the table); RESUME the documented `[RESUME_SUCCESS] m1` and `[MESSAGE] The
   * current job got resummed` (sic). UNDOCUMENTED: the FILENAME column shows the job's name;
   * SHOW ALL with no active run prints `There are no loading job runs.`; ABORT ALL with none
   * prints nothing.
   */
  const control = (s: LoadingControl, graph: string | undefined): string[] => {
    if (s.action === 'run') return runLoadingJob(s, graph);
    if (s.action === 'showJob') {
      if (graph === undefined)
        throw new LocalError('TG_GRAPH_NOT_FOUND', 'SHOW JOB needs a preceding USE GRAPH');
      return jobText(jobOf(s.job, graph)).split('\n');
    }
    const inGraph = states.filter((st) => graph === undefined || st.run.graph === graph);
    const chosen = s.jobId === undefined ? inGraph.filter(active) : [stateOf(s.jobId, graph)];
    switch (s.action) {
      case 'show':
        if (chosen.length === 0) return ['There are no loading job runs.'];
        return chosen.flatMap(statusBlock);
      case 'abort':
        for (const st of chosen) stopRun(st, 'ABORTED');
        return chosen.flatMap((st) => [
          `Job "${st.run.id}" loading status`,
          `[${wordOf(st)}] m1`,
          `[SUMMARY] Finished: ${finished(st.run)} / Total: 1`,
          ...statusTable(st.run),
        ]);
      case 'resume':
        for (const st of chosen) resumeRun(st);
        return ['[RESUME_SUCCESS] m1', '[MESSAGE] The current job got resummed'];
    }
  };

  // ---- authentication ------------------------------------------------------------------

  const basicOk = (req: IncomingMessage): boolean => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || username === undefined) return false;
    const [user, ...rest] = Buffer.from(m[1] as string, 'base64')
      .toString('utf8')
      .split(':');
    return equal(user ?? '', username) && equal(rest.join(':'), password);
  };
  /** UNDOCUMENTED: a token asked for one graph is refused on another graph's endpoints. */
  const tokenOk = (req: IncomingMessage, graph: string | undefined): boolean => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const issued = m ? tokens.get(m[1] as string) : undefined;
    return (
      issued !== undefined &&
      issued.expiresAt > Date.now() &&
      (graph === undefined || issued.graph === undefined || issued.graph === graph)
    );
  };
  const secretHeaderOk = (req: IncomingMessage): boolean => {
    const m = /^GSQL-Secret (.+)$/.exec(req.headers.authorization ?? '');
    return m !== null && options.secret !== undefined && equal(m[1] as string, options.secret);
  };
  const denied = (req: IncomingMessage): Reply =>
    fail(
      401,
      'REST-10016',
      /^Bearer \S{8,}/.test(req.headers.authorization ?? '')
        ? // UNDOCUMENTED wording; the token is never echoed.
          'Access Denied because the input token is invalid or has expired'
        : "Access Denied because the input token = '' is empty or too short",
    );
  const issue = (graph: string | undefined, lifetime: unknown, fallback: number) => {
    const asked = Number(lifetime);
    const seconds = Math.min(
      Number.isFinite(asked) && asked > 0 ? asked : fallback,
      options.tokenLifetimeSeconds ?? Infinity,
    );
    const token = randomBytes(16).toString('hex');
    const expiresAt = Date.now() + seconds * 1000;
    tokens.set(token, { graph, expiresAt });
    return { token, expiresAt };
  };
  const parseJsonBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const text = await readBody(req);
    const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  };

  // ---- routes --------------------------------------------------------------------------

  type Area = 'open' | 'restpp' | 'gsql3' | 'gsql4';
  type Handler = (req: IncomingMessage, m: RegExpExecArray, q: URLSearchParams) => Promise<Reply>;
  interface Route {
    readonly method: string;
    readonly path: RegExp;
    readonly area: Area;
    readonly handle: Handler;
  }
  const d = (m: RegExpExecArray, i: number): string | undefined =>
    m[i] === undefined ? undefined : decodeURIComponent(m[i]);
  const graphOf = (q: URLSearchParams): string => {
    const graph = q.get('graph') ?? '';
    if (!store.graphs.has(graph))
      throw new LocalError('TG_GRAPH_NOT_FOUND', `Graph ${graph} does not exist`);
    return graph;
  };
  const jobIdsOf = (q: URLSearchParams): string[] =>
    [...q.getAll('jobIds'), ...q.getAll('jobId')].flatMap((v) => v.split(',')).filter(Boolean);
  const startRuns = async (req: IncomingMessage, q: URLSearchParams): Promise<JobRun[]> => {
    const graph = graphOf(q);
    const requests = JSON.parse(await readBody(req)) as unknown;
    if (!Array.isArray(requests))
      throw new LocalError('TG_BODY_INVALID', 'The body must be a JSON array of loading jobs');
    return (requests as JobRequest[]).map((r) => startRun(graph, r));
  };
  const runGsqlText = async (req: IncomingMessage, form: boolean): Promise<Reply> => {
    const raw = await readBody(req);
    let text = raw;
    // pyTigerGraph posts URL-encoded text to /gsqlserver/gsql/file (section 2.1).
    if (form && !raw.includes('\n'))
      try {
        text = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        text = raw;
      }
    try {
      return { status: 200, body: store.runGsql(text, control).join('\n') };
    } catch (error) {
      if (options.gsqlErrorsAsText === true && isTigerStreamError(error))
        return { status: 200, body: error.message };
      throw error;
    }
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: /^\/(?:echo|version)$/,
      area: 'open',
      handle: () =>
        Promise.resolve(
          ok({
            message: 'Hello GSQL (TigerGraph emulator: a test double, not TigerGraph)',
            code: 'REST-0000',
          }),
        ),
    },
    {
      // Section 4.1: a token for the secret, or for basic auth and a graph. GET was dropped
      // in 3.6, so only POST is answered.
      method: 'POST',
      path: /^\/requesttoken$/,
      area: 'open',
      handle: async (req) => {
        if (!restppAuth)
          return fail(
            404,
            'REST-1000',
            'Endpoint is not found from url = /requesttoken, please use GET /endpoints to list all valid endpoints.',
          );
        const body = await parseJsonBody(req);
        const graph = typeof body.graph === 'string' ? body.graph : undefined;
        if (typeof body.secret === 'string') {
          if (options.secret === undefined || !equal(body.secret, options.secret))
            return fail(401, 'REST-10016', 'Access Denied: the secret is not valid');
          return tokenAnswer(issue(graph, body.lifetime, RESTPP_TOKEN_SECONDS), 'top');
        }
        if (!basicOk(req))
          return fail(
            401,
            'REST-10016',
            'Access Denied: a secret, or a valid user and password, is needed',
          );
        if (graph === undefined || !store.graphs.has(graph))
          return fail(
            404,
            'REST-1004',
            `A token for a user needs an existing graph; got ${graph ?? 'none'}`,
          );
        // Section 4.1: with user and password the token is under results.token. UNDOCUMENTED:
        // `expiration` stays at the top level, as in the secret's answer.
        return tokenAnswer(issue(graph, body.lifetime, RESTPP_TOKEN_SECONDS), 'results');
      },
    },
    {
      // Section 4.2. UNDOCUMENTED: `lifetime` is read in seconds, as 3.x's.
      method: 'POST',
      path: /^\/gsql\/v1\/tokens$/,
      area: 'open',
      handle: async (req) => {
        const body = await parseJsonBody(req);
        const graph = typeof body.graph === 'string' ? body.graph : undefined;
        const bySecret =
          typeof body.secret === 'string' &&
          options.secret !== undefined &&
          equal(body.secret, options.secret);
        // UNDOCUMENTED: with no secret and no user configured, any caller gets a token.
        if (restppAuth && !bySecret && !basicOk(req))
          return fail(
            401,
            'REST-10016',
            'Access Denied: a secret, or a valid user and password, is needed',
          );
        if (graph !== undefined && !store.graphs.has(graph))
          return fail(404, 'REST-1004', `Graph ${graph} does not exist`);
        const { token, expiresAt } = issue(graph, body.lifetime, GSQL_TOKEN_SECONDS);
        return gsqlOk('Generate new JWT token successfully.', {
          expiration: gsqlDate(expiresAt),
          token,
        });
      },
    },
    {
      method: 'POST',
      path: /^\/ddl\/([^/]+)$/,
      area: 'restpp',
      handle: async (req, m, q) => {
        const graph = d(m, 1) as string;
        if (!store.graphs.has(graph))
          return fail(404, 'REST-1004', `Graph ${graph} does not exist`);
        const tag = q.get('tag') ?? '';
        const job = store.jobs.get(tag);
        if (!job || job.graph !== graph)
          return fail(400, 'REST-30000', `Loading job ${tag} does not exist in graph ${graph}`);
        const filename = q.get('filename') ?? '';
        const body = await readBody(req);
        // Section 1.4: an unknown filename variable answers no error and empty results.
        if (!(filename in job.filenames)) return ok({ results: [], code: 'REST-0000' });
        const sep = q.get('sep') ?? undefined;
        const eol = q.get('eol') ?? '\n';
        const statistics = store.loadLines(tag, filename, body.split(eol), undefined, {
          separator: sep,
        });
        return ok({ results: [{ sourceFileName: 'Online_POST', statistics }], code: 'REST-0000' });
      },
    },
    {
      method: 'GET',
      path: /^\/graph\/([^/]+)\/vertices\/([^/]+)(?:\/([^/]+))?$/,
      area: 'restpp',
      handle: (_req, m, q) => {
        const [graph, type, id] = [d(m, 1) as string, d(m, 2) as string, d(m, 3)];
        let list: Vertex[];
        if (id === undefined) list = store.listVertices(graph, type);
        else {
          const vertex = store.getVertex(graph, type, id);
          if (!vertex)
            throw new LocalError(
              'TG_VERTEX_NOT_FOUND',
              `vertex ${type} ${JSON.stringify(id)} does not exist`,
            );
          list = [vertex];
        }
        const limit = Number(q.get('limit') ?? Infinity);
        return Promise.resolve(
          ok({
            results: list
              .slice(0, Number.isFinite(limit) ? limit : undefined)
              .map((v) => ({ v_id: v.id, v_type: type, attributes: v.attributes })),
          }),
        );
      },
    },
    {
      method: 'GET',
      path: /^\/graph\/([^/]+)\/edges\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?)?\/?$/,
      area: 'restpp',
      handle: (_req, m, q) => {
        const edges = store.listEdges(d(m, 1) as string, d(m, 2) as string, d(m, 3) as string, {
          ...(m[4] ? { edgeType: d(m, 4) } : {}),
          ...(m[5] ? { targetType: d(m, 5) } : {}),
          ...(m[6] ? { targetId: d(m, 6) } : {}),
        });
        const limit = Number(q.get('limit') ?? Infinity);
        return Promise.resolve(
          ok({ results: edges.slice(0, Number.isFinite(limit) ? limit : undefined) }),
        );
      },
    },
    {
      // Section 2.1. UNDOCUMENTED: the 3.x answer carries a message only, no job ids (the
      // reference could not confirm any); clients find the run with SHOW LOADING STATUS.
      method: 'POST',
      path: /^\/gsqlserver\/gsql\/loading-jobs$/,
      area: 'gsql3',
      handle: async (req, _m, q) => {
        if (q.get('action') !== 'start')
          return fail(400, undefined, `Unknown action ${q.get('action') ?? '(none)'}`);
        const started = await startRuns(req, q);
        return gsqlOk(
          `Successfully started loading job(s): [${started.map((r) => r.jobName).join(', ')}].`,
        );
      },
    },
    {
      // Section 2.1: progress "prior to TG v4.1.0".
      method: 'GET',
      path: /^\/gsqlserver\/gsql\/loading-jobs$/,
      area: 'gsql3',
      handle: (_req, _m, q) => {
        if (q.get('action') !== 'getprogress')
          return Promise.resolve(
            fail(400, undefined, `Unknown action ${q.get('action') ?? '(none)'}`),
          );
        const ids = jobIdsOf(q);
        return Promise.resolve(
          ok({ results: ids.map((id) => progress(stateOf(id, graphOf(q)).run)) }),
        );
      },
    },
    {
      method: 'POST',
      path: /^\/gsqlserver\/gsql\/file$/,
      area: 'gsql3',
      handle: (req) => runGsqlText(req, true),
    },
    {
      // Section 2.2: the 4.x run answers with `jobIds`.
      method: 'POST',
      path: /^\/gsql\/v1\/loading-jobs\/run$/,
      area: 'gsql4',
      handle: async (req, _m, q) => {
        const started = await startRuns(req, q);
        return gsqlOk(
          `Successfully ran loading job(s): [${started.map((r) => r.jobName).join(', ')}]`,
          { jobIds: started.map((r) => r.id) },
        );
      },
    },
    {
      // Section 2.2. UNDOCUMENTED: without `jobIds` (or `jobId`) the answer lists every run of
      // the graph, oldest first; the reference documents the call with ids only.
      method: 'GET',
      path: /^\/gsql\/v1\/loading-jobs\/status(?:\/([^/]+))?$/,
      area: 'gsql4',
      handle: (_req, m, q) => {
        const graph = graphOf(q);
        const ids = m[1] ? [d(m, 1) as string] : jobIdsOf(q);
        const runs =
          ids.length > 0
            ? ids.map((id) => stateOf(id, graph).run)
            : states.filter((s) => s.run.graph === graph).map((s) => s.run);
        return Promise.resolve(gsqlOk('', { results: runs.map(progress) }));
      },
    },
    {
      method: 'GET',
      path: /^\/gsql\/v1\/loading-jobs\/abort(?:\/([^/]+))?$/,
      area: 'gsql4',
      handle: (_req, m, q) => {
        const graph = graphOf(q);
        const ids = m[1] ? [d(m, 1) as string] : jobIdsOf(q);
        const pause = q.get('isPause') === 'true';
        for (const id of ids) stopRun(stateOf(id, graph), pause ? 'PAUSED' : 'ABORTED');
        return Promise.resolve(
          gsqlOk(
            `Successfully ${pause ? 'paused' : 'aborted'} loading job(s): [${ids.join(', ')}]`,
          ),
        );
      },
    },
    {
      // Section 2.2 shows no graph parameter; one given narrows the look-up.
      method: 'GET',
      path: /^\/gsql\/v1\/loading-jobs\/resume\/([^/]+)$/,
      area: 'gsql4',
      handle: (_req, m, q) => {
        const id = d(m, 1) as string;
        resumeRun(stateOf(id, q.get('graph') ?? undefined));
        return Promise.resolve(gsqlOk(`Successfully resumed loading job(s): [${id}]`));
      },
    },
    {
      // Section 2.2's job info: `results.{jobName,jobContent}` (after the run-control routes,
      // whose words are not job names here).
      method: 'GET',
      path: /^\/gsql\/v1\/loading-jobs\/([^/]+)$/,
      area: 'gsql4',
      handle: (_req, m, q) => {
        const job = jobOf(d(m, 1) as string, graphOf(q));
        return Promise.resolve(
          gsqlOk('', { results: { jobName: job.name, jobContent: jobText(job) } }),
        );
      },
    },
    {
      method: 'POST',
      path: /^\/gsql\/v1\/statements$/,
      area: 'gsql4',
      handle: (req) => runGsqlText(req, false),
    },
  ];

  /** Who may call an area (sections 1.4, 4.1, 4.2); undefined when the caller may. */
  const authorize = (
    req: IncomingMessage,
    area: Area,
    graph: string | undefined,
  ): Reply | undefined => {
    switch (area) {
      case 'open':
        return undefined;
      case 'restpp':
        return !restppAuth || tokenOk(req, graph) ? undefined : denied(req);
      case 'gsql3':
        return username === undefined || basicOk(req)
          ? undefined
          : fail(401, 'REST-10016', 'Access Denied: wrong user name or password');
      case 'gsql4':
        // Section 4.2: Basic, Bearer (a token from /gsql/v1/tokens) or GSQL-Secret.
        return !restppAuth || basicOk(req) || tokenOk(req, graph) || secretHeaderOk(req)
          ? undefined
          : fail(401, 'REST-10016', 'Access Denied: wrong user name, password, token or secret');
    }
  };

  const route = async (req: IncomingMessage, url: URL): Promise<Reply> => {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/restpp(?=\/)/, '');
    for (const r of routes) {
      const m = r.path.exec(path);
      if (!m || r.method !== method) continue;
      const graph =
        url.searchParams.get('graph') ??
        (r.area === 'restpp' && m[1] !== undefined ? decodeURIComponent(m[1]) : undefined);
      return authorize(req, r.area, graph) ?? (await r.handle(req, m, url.searchParams));
    }
    return fail(
      404,
      'REST-1000',
      `Endpoint is not found from url = ${url.pathname}, please use GET /endpoints to list all valid endpoints.`,
    );
  };

  const errorReply = (error: unknown): Reply => {
    if (isTigerStreamError(error)) {
      const mapped = LOCAL_ERRORS[error.code] ?? { status: 400, code: 'REST-30000' };
      return fail(mapped.status, mapped.code, error.message);
    }
    if (error instanceof SyntaxError)
      return fail(400, 'REST-2001', `Invalid JSON payload: ${error.message}`);
    return fail(500, 'REST-12000', messageOf(error));
  };

  const server: Server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = `${req.method ?? 'GET'} ${url.pathname}`;
    const delay = delays.find((d) => d.match.test(key));
    if (delay) {
      delay.times = (delay.times ?? 1) - 1;
      if (delay.times <= 0) delays.splice(delays.indexOf(delay), 1);
    }
    if (delay?.mode === 'hang') {
      // Read and dropped: no answer (logged as status 0), the connection closed after the delay.
      void readBody(req)
        .then(() => {
          log.push({ method: req.method ?? 'GET', path: url.pathname, status: 0 });
          setTimeout(() => req.socket.destroy(), delay.delayMs).unref();
        })
        .catch(() => undefined);
      return;
    }
    const fault = faults.find((f) => f.match.test(key));
    const handled: Promise<Reply> = fault
      ? readBody(req).then(() => {
          fault.times = (fault.times ?? 1) - 1;
          if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
          return fail(fault.status, fault.code, fault.message ?? `Injected fault ${fault.code}`);
        })
      : route(req, url).catch(errorReply);
    const reply: Promise<Reply> =
      delay === undefined
        ? handled
        : handled.then(
            (r) => new Promise((resolve) => setTimeout(() => resolve(r), delay.delayMs).unref()),
          );
    void reply.then(({ status, body }) => {
      log.push({ method: req.method ?? 'GET', path: url.pathname, status });
      // UNDOCUMENTED: non-finite FLOAT/DOUBLE values are answered as the strings "NaN",
      // "Infinity", "-Infinity" (JSON has no such numbers).
      const text =
        typeof body === 'string'
          ? body
          : JSON.stringify(body, (_k, v: unknown) =>
              typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
            );
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      });
      res.end(text);
    });
  });
  if (options.gsql) store.runGsql(options.gsql, control);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    store,
    runGsql: (text) => store.runGsql(text, control),
    injectFault: (fault) => faults.push({ ...fault, times: fault.times ?? 1 }),
    injectDelay: (delay) => delays.push({ ...delay, times: delay.times ?? 1 }),
    clearFaults: () => {
      faults.length = 0;
      delays.length = 0;
    },
    runs: () => states.map((s) => s.run),
    idle: () => queue,
    requests: () => log,
    revokeTokens: () => {
      tokens.clear();
    },
    stop: async () => {
      stopping = true;
      for (const s of states) s.controller.abort();
      await Promise.all(states.map((s) => s.execution));
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
