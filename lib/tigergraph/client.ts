/**
 * HTTP client for the TigerGraph endpoints TigerStream calls: RESTPP tokens, POST /ddl,
 * vertex listing, and loading-job start/progress in the 3.x (/gsqlserver/gsql/loading-jobs)
 * and 4.x (/gsql/v1/loading-jobs) dialects.
 */
import { TigerGraphError, messageOf } from '../errors/index.ts';
import { classify } from './codes.ts';

export interface TigerGraphAuth {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly secret?: string | undefined;
  readonly token?: string | undefined;
}

export interface TigerGraphClientOptions {
  /** Base URL (Nginx, port 14240 by default); RESTPP lives under /restpp. */
  readonly url: string;
  readonly version: 3 | 4;
  readonly auth?: TigerGraphAuth;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

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
  readonly partitions: readonly PartitionOffset[];
  readonly streaming: boolean;
}

/** Counters summed over a response's statistics, in both documented shapes. */
export interface LoadCounts {
  readonly validLines: number;
  readonly rejectedLines: number;
  readonly validObjects: number;
  readonly rejectedObjects: number;
  /** Objects a WHERE condition of the job left out (`failedCondition`): not rejections. */
  readonly filteredObjects: number;
}
/** Counts of nothing loaded. */
export const NO_COUNTS: LoadCounts = Object.freeze({
  validLines: 0,
  rejectedLines: 0,
  validObjects: 0,
  rejectedObjects: 0,
  filteredObjects: 0,
});

/** The sum of two sets of counts. */
export const addLoadCounts = (a: LoadCounts, b: LoadCounts): LoadCounts => ({
  validLines: a.validLines + b.validLines,
  rejectedLines: a.rejectedLines + b.rejectedLines,
  validObjects: a.validObjects + b.validObjects,
  rejectedObjects: a.rejectedObjects + b.rejectedObjects,
  filteredObjects: a.filteredObjects + b.filteredObjects,
});

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'ABORTED' | 'UNKNOWN';
export interface RunProgress {
  readonly jobId: string;
  readonly status: RunStatus;
  readonly counts: LoadCounts;
  readonly error: string | undefined;
}

export interface TigerGraphClient {
  startLoadingJob(run: LoadingJobRun, signal?: AbortSignal): Promise<string[]>;
  getProgress(graph: string, jobId: string, signal?: AbortSignal): Promise<RunProgress>;
  postDdl(
    graph: string,
    job: string,
    filename: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<LoadCounts>;
  listVertices(
    graph: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ v_id: string; attributes: Record<string, unknown> }[]>;
}

const FILE_VALID = new Set(['validLine']);
/** Object counters that are not rejections: a failed WHERE condition is the job's own filter. */
const OBJECT_NOT_REJECTED = new Set([
  'validObject',
  'passedCondition',
  'failedCondition',
  'typeName',
]);
const FILE_IGNORED = new Set([
  'validLine',
  'vertex',
  'edge',
  'deleteVertex',
  'deleteEdge',
  'parsingStatistics',
  'fileLevel',
  'objectLevel',
  'lineData',
  'invalidAttributeLinesData',
]);

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Sums TigerGraph statistics. Accepts the flat 3.9 `/ddl` shape
 * (`{validLine, rejectLine, invalidJson, ..., vertex:[...], edge:[...]}`) and the aggregated
 * shape (`{fileLevel:{...}, objectLevel:{vertex:[...], edge:[...]}}`, also under
 * `parsingStatistics`). Any non-zero counter other than valid ones counts as rejected,
 * as TigerGraph's own Spark connector does, except lines and objects a WHERE condition of the
 * loading job filtered out (`failedConditionLine`, `failedCondition`): that is the job's intent.
 */
export function sumStatistics(statistics: unknown): LoadCounts {
  const s = (statistics ?? {}) as Record<string, unknown>;
  const inner = (s.parsingStatistics ?? s) as Record<string, unknown>;
  const fileLevel = (inner.fileLevel ?? inner) as Record<string, unknown>;
  const objectLevel = (inner.objectLevel ?? inner) as Record<string, unknown>;
  let validLines = 0;
  let rejectedLines = 0;
  for (const [k, v] of Object.entries(fileLevel)) {
    if (FILE_VALID.has(k)) validLines += num(v);
    else if (!FILE_IGNORED.has(k) && k !== 'failedConditionLine' && k !== 'rejectLine')
      rejectedLines += num(v);
  }
  // rejectLine counts lines that other file-level counters (invalidJson, ...) already count.
  rejectedLines = Math.max(rejectedLines, num(fileLevel.rejectLine));
  let validObjects = 0;
  let rejectedObjects = 0;
  let filteredObjects = 0;
  for (const kind of ['vertex', 'edge']) {
    const list = objectLevel[kind];
    if (!Array.isArray(list)) continue;
    for (const o of list as Record<string, unknown>[]) {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'validObject') validObjects += num(v);
        else if (k === 'failedCondition') filteredObjects += num(v);
        else if (!OBJECT_NOT_REJECTED.has(k)) rejectedObjects += num(v);
      }
    }
  }
  return { validLines, rejectedLines, validObjects, rejectedObjects, filteredObjects };
}

const STATUS_WORDS: Record<string, RunStatus> = {
  RUNNING: 'RUNNING',
  FINISHED: 'FINISHED',
  SUCCESS: 'FINISHED',
  COMPLETED: 'FINISHED',
  DONE: 'FINISHED',
  FAILED: 'FAILED',
  FAILURE: 'FAILED',
  ABORTED: 'ABORTED',
  PAUSED: 'RUNNING',
  INITIALIZING: 'RUNNING',
  QUEUED: 'RUNNING',
};

/**
 * Creates the client. Errors are TigerGraphError with the TigerGraph code or HTTP status and
 * `retriable` from the code table; callers retry with the shared retry helper.
 */
export function createTigerGraphClient(options: TigerGraphClientOptions): TigerGraphClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const auth = options.auth ?? {};
  let token = auth.token;

  const basic =
    auth.username !== undefined
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`
      : undefined;

  const request = async (
    method: string,
    path: string,
    init: {
      body?: string;
      contentType?: string;
      kind: 'restpp' | 'gsql';
      signal?: AbortSignal | undefined;
    },
  ): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> => {
    const headers: Record<string, string> = {};
    if (init.contentType) headers['content-type'] = init.contentType;
    if (init.kind === 'gsql' && basic) headers.authorization = basic;
    if (init.kind === 'restpp') {
      if (token === undefined && auth.secret !== undefined) token = await requestToken(init.signal);
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      else if (basic) headers.authorization = basic;
    }
    const signals = [AbortSignal.timeout(timeoutMs), ...(init.signal ? [init.signal] : [])];
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      throw new TigerGraphError(
        'TIGERGRAPH_UNREACHABLE',
        `Cannot reach TigerGraph at ${base} (${method} ${path.split('?')[0] ?? path}): ${messageOf(error)}`,
        { retriable: true, cause: error },
      );
    }
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      json =
        typeof parsed === 'object' && parsed !== null
          ? (parsed as Record<string, unknown>)
          : undefined;
    } catch {
      json = undefined;
    }
    const restCode = typeof json?.code === 'string' ? json.code : undefined;
    const isError = !response.ok || json?.error === true || json?.error === 'true';
    if (isError) {
      const rule = classify(response.status, restCode);
      if (rule.refreshToken) token = auth.token === undefined ? undefined : auth.token;
      const message = typeof json?.message === 'string' ? json.message : text.slice(0, 200);
      throw new TigerGraphError(
        `TIGERGRAPH_${restCode === undefined ? `HTTP_${response.status}` : restCode.replace('-', '_')}`,
        `TigerGraph ${method} ${path.split('?')[0] ?? path} failed with HTTP ${response.status}${restCode ? ` ${restCode}` : ''} (${rule.meaning}): ${message}`,
        {
          retriable: rule.retriable,
          details: { status: response.status, ...(restCode ? { restCode } : {}) },
        },
      );
    }
    return { status: response.status, json, text };
  };

  const requestToken = async (signal?: AbortSignal): Promise<string> => {
    const { json } = await request('POST', '/restpp/requesttoken', {
      kind: 'gsql',
      body: JSON.stringify({ secret: auth.secret, lifetime: '21600' }),
      contentType: 'application/json',
      signal,
    });
    const value = json?.token ?? (json?.results as { token?: unknown } | undefined)?.token;
    if (typeof value !== 'string')
      throw new TigerGraphError(
        'TIGERGRAPH_TOKEN_MISSING',
        'TigerGraph answered /requesttoken without a token',
        { retriable: false },
      );
    return value;
  };

  const loadingJobsPath = (graph: string): string =>
    options.version === 4
      ? `/gsql/v1/loading-jobs/run?graph=${encodeURIComponent(graph)}`
      : `/gsqlserver/gsql/loading-jobs?graph=${encodeURIComponent(graph)}&action=start`;

  return {
    async startLoadingJob(run, signal) {
      const body = [
        {
          name: run.job,
          streaming: run.streaming,
          dataSources: [
            {
              filename: run.filename,
              name: run.dataSource,
              path: '',
              config: { topic: run.topic, partition_list: run.partitions },
            },
          ],
        },
      ];
      const { json } = await request('POST', loadingJobsPath(run.graph), {
        kind: 'gsql',
        body: JSON.stringify(body),
        contentType: 'application/json',
        signal,
      });
      const ids =
        json?.jobIds ?? (json?.results as { jobId?: unknown }[] | undefined)?.map((r) => r.jobId);
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
        throw new TigerGraphError(
          'TIGERGRAPH_JOB_ID_MISSING',
          `TigerGraph started ${run.job} but returned no job id`,
          { retriable: false },
        );
      return ids as string[];
    },

    async getProgress(graph, jobId, signal) {
      const path =
        options.version === 4
          ? `/gsql/v1/loading-jobs/status/${encodeURIComponent(jobId)}?graph=${encodeURIComponent(graph)}`
          : `/gsqlserver/gsql/loading-jobs?action=getprogress&graph=${encodeURIComponent(graph)}&jobId=${encodeURIComponent(jobId)}`;
      const { json } = await request('GET', path, { kind: 'gsql', signal });
      const results = json?.results;
      const first = (Array.isArray(results) ? results[0] : results) as
        { overall?: Record<string, unknown> } | undefined;
      const overall = first?.overall ?? {};
      const word = typeof overall.status === 'string' ? overall.status.toUpperCase() : undefined;
      const ended = num(overall.endTime) > 0 || num(overall.progress) >= 100;
      const status: RunStatus =
        word !== undefined ? (STATUS_WORDS[word] ?? 'UNKNOWN') : ended ? 'FINISHED' : 'RUNNING';
      return {
        jobId,
        status,
        counts: sumStatistics(overall.statistics),
        error: typeof overall.error === 'string' ? overall.error : undefined,
      };
    },

    async postDdl(graph, job, filename, body, signal) {
      const path = `/restpp/ddl/${encodeURIComponent(graph)}?tag=${encodeURIComponent(job)}&filename=${encodeURIComponent(filename)}&ack=all`;
      const { json } = await request('POST', path, {
        kind: 'restpp',
        body,
        contentType: 'text/plain',
        signal,
      });
      const results = json?.results;
      // TigerGraph answers an unknown filename variable with no error and empty results.
      if (!Array.isArray(results) || results.length === 0)
        throw new TigerGraphError(
          'TIGERGRAPH_DDL_EMPTY_RESULTS',
          `TigerGraph loaded nothing from /ddl/${graph} (empty results): check that loading job ${job} defines filename ${filename}`,
          { retriable: false },
        );
      return results
        .map((r: { statistics?: unknown }) => sumStatistics(r.statistics))
        .reduce(addLoadCounts, NO_COUNTS);
    },

    async listVertices(graph, type, signal) {
      const { json } = await request(
        'GET',
        `/restpp/graph/${encodeURIComponent(graph)}/vertices/${encodeURIComponent(type)}`,
        { kind: 'restpp', signal },
      );
      return (json?.results ?? []) as { v_id: string; attributes: Record<string, unknown> }[];
    },
  };
}
