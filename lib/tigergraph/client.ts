/**
 * HTTP client for the TigerGraph endpoints TigerStream calls: POST /ddl, vertex listing, and
 * loading-job start, progress, listing, abort and resume in the 3.x (/gsqlserver, reference
 * section 2.1) and 4.x (/gsql/v1, section 2.2) dialects, with RESTPP tokens (section 4).
 */
import { TigerGraphError } from '../errors/index.ts';
import { basicHeader, createTokenSource, type TigerGraphAuth } from './auth.ts';
import { createSend, isAuthFailure, type Call } from './http.ts';
import {
  createLoadingJobs,
  type LoadingJobRun,
  type LoadingRunControl,
  type RunProgress,
} from './loading-jobs.ts';
import { NO_COUNTS, addLoadCounts, sumStatistics, type LoadCounts } from './statistics.ts';

export type { TigerGraphAuth } from './auth.ts';
export type {
  LoadingJobRun,
  LoadingRunControl,
  PartitionOffset,
  RunProgress,
} from './loading-jobs.ts';
export type { LoadingRunSummary, RunStatus } from './runs.ts';
export { definedFilename, jobDefaultStartOffset } from './job-definition.ts';
export { isAuthFailure } from './http.ts';
export { NO_COUNTS, addLoadCounts, sumStatistics, type LoadCounts } from './statistics.ts';

export interface TigerGraphClientOptions {
  /** Base URL (Nginx, port 14240 by default); RESTPP lives under /restpp. */
  readonly url: string;
  readonly version: 3 | 4;
  readonly auth?: TigerGraphAuth;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Waits between looks for a 3.x run started without a `jobid:` line (tests pass a fake). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface TigerGraphClient extends Partial<LoadingRunControl> {
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

/**
 * Creates the client. Errors are TigerGraphError with the TigerGraph code or HTTP status and
 * `retriable` from the code table; callers retry with the shared retry helper. A refused
 * token is renewed once here; refused again, the error is not retriable.
 *
 * @example
 * const tg = createTigerGraphClient({ url: 'https://tg:14240', version: 3, auth: { secret } });
 * const [jobId] = await tg.startLoadingJob({ graph, job, filename, dataSource, topic, partitions, streaming: false });
 */
export function createTigerGraphClient(
  options: TigerGraphClientOptions,
): TigerGraphClient & LoadingRunControl {
  const base = options.url.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const auth = options.auth ?? {};
  const v4 = options.version === 4;
  const basic = basicHeader(auth);
  const send = createSend({
    base,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const tokens = createTokenSource({ auth, version: options.version, send, now });

  /**
   * RESTPP calls carry a token (or, with RESTPP auth off, basic auth if set). GSQL calls carry
   * basic auth; 4.x without a user carries a token from the secret (section 4.2).
   */
  const call: Call = async (kind, graph, method, path, init = {}) => {
    for (let renewed = false; ; renewed = true) {
      const token =
        kind === 'restpp' || (v4 && basic === undefined) ? await tokens.get(graph) : undefined;
      const authorization =
        kind === 'gsql' && basic !== undefined
          ? basic
          : token !== undefined
            ? `Bearer ${token}`
            : basic;
      try {
        return await send(method, path, {
          ...init,
          headers: { ...init.headers, ...(authorization ? { authorization } : {}) },
        });
      } catch (error) {
        // Once after a refused token: a new one, the same request (section 4.1 "Refresh").
        if (!renewed && token !== undefined && tokens.canRenew && isAuthFailure(error)) {
          tokens.invalidate(graph, token);
          continue;
        }
        throw error;
      }
    }
  };

  const loadingJobs = createLoadingJobs({ call, version: options.version, sleep: options.sleep });

  return {
    ...loadingJobs,

    async postDdl(graph, job, filename, body, signal) {
      const path = `/restpp/ddl/${encodeURIComponent(graph)}?tag=${encodeURIComponent(job)}&filename=${encodeURIComponent(filename)}&ack=all`;
      const { json } = await call('restpp', graph, 'POST', path, {
        body,
        contentType: 'text/plain',
        signal,
      });
      const results = json?.results;
      // Section 1.4: an unknown filename variable answers no error and empty results.
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
      const { json } = await call(
        'restpp',
        graph,
        'GET',
        `/restpp/graph/${encodeURIComponent(graph)}/vertices/${encodeURIComponent(type)}`,
        { signal },
      );
      return (json?.results ?? []) as { v_id: string; attributes: Record<string, unknown> }[];
    },
  };
}
