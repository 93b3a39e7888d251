/**
 * What `tgstream connector status` shows of a connector's loading job: its newest run (in
 * streaming mode, the one run every container shares) and that run's progress, asked of
 * TigerGraph through the documented list and status calls (reference sections 2.1, 2.2).
 */
import type { ConnectorConfig } from '../config/index.ts';
import { isTigerStreamError, messageOf } from '../errors/index.ts';
import { runKey, type RunRegistry } from '../pipeline/index.ts';
import {
  createTigerGraphClient,
  type LoadingRunControl,
  type TigerGraphClient,
} from '../tigergraph/index.ts';

export interface LoadingJobStatus {
  readonly job: string;
  readonly graph: string;
  readonly mode: 'streaming' | 'eof';
  /** The newest run of the job, when TigerGraph lists one. */
  readonly run?: {
    readonly jobId: string;
    readonly status: string;
    readonly startTime?: number | undefined;
    readonly validLines: number;
    readonly rejectedLines: number;
    readonly validObjects: number;
    readonly rejectedObjects: number;
  };
  /** Why the run could not be read (TigerGraph unreachable, refused), with its code. */
  readonly error?: string;
}

export type TigerGraphFactory = (config: ConnectorConfig) => TigerGraphClient & LoadingRunControl;

const defaultFactory: TigerGraphFactory = (config) => {
  const tg = config.tigergraph;
  if (tg === undefined) throw new Error('a mirror-only connector has no loading job');
  return createTigerGraphClient({
    url: tg.url,
    version: tg.version,
    auth: tg.auth,
    timeoutMs: tg.requestTimeoutMs,
  });
};

/**
 * The loading job's newest run and its progress; undefined for a mirror-only connector.
 * `registry`: where the containers recorded the job's streaming run (SSM in Lambda): 3.x lists
 * runs without their job, so a GSQL-started run is known by the id recorded there.
 */
export async function loadingJobStatus(
  config: ConnectorConfig,
  factory: TigerGraphFactory = defaultFactory,
  registry?: Pick<RunRegistry, 'read'>,
): Promise<LoadingJobStatus | undefined> {
  const tg = config.tigergraph;
  if (tg === undefined) return undefined;
  const base = { job: tg.loadingJob, graph: tg.graph, mode: tg.eof ? 'eof' : 'streaming' } as const;
  try {
    const client = factory(config);
    const recorded = await registry?.read(runKey(tg.graph, tg.loadingJob));
    const known = recorded === undefined ? undefined : new Set([recorded]);
    const newest = (await client.listRuns(tg.graph, tg.loadingJob, undefined, known)).at(-1);
    if (newest === undefined) return base;
    const progress = await client.getProgress(tg.graph, newest.jobId);
    return {
      ...base,
      run: {
        jobId: newest.jobId,
        status: progress.status,
        startTime: newest.startTime,
        validLines: progress.counts.validLines,
        rejectedLines: progress.counts.rejectedLines,
        validObjects: progress.counts.validObjects,
        rejectedObjects: progress.counts.rejectedObjects,
      },
    };
  } catch (error) {
    return {
      ...base,
      error: `${messageOf(error)}${isTigerStreamError(error) ? ` [${error.code}]` : ''}`,
    };
  }
}

/** One line for a person: the job, its newest run and the run's progress. */
export function formatLoadingJobStatus(s: LoadingJobStatus): string {
  const head = `loading job ${s.job} (${s.mode}) in ${s.graph}`;
  if (s.error !== undefined) return `${head}: could not be read: ${s.error}`;
  if (s.run === undefined) return `${head}: no run yet`;
  const r = s.run;
  const since = r.startTime === undefined ? '' : ` since ${new Date(r.startTime).toISOString()}`;
  return `${head}: run ${r.jobId} ${r.status}${since}; lines loaded ${r.validLines}, rejected ${r.rejectedLines}; objects loaded ${r.validObjects}, rejected ${r.rejectedObjects}`;
}
