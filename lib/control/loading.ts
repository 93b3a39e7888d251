/**
 * What `tgstream connector status` shows of a connector's loading job: in streaming mode the
 * run the containers recorded in the run registry (lib/pipeline/run-registry.ts), asked by its
 * id (3.x SHOW LOADING STATUS <id>, 4.x status/{id}: reference sections 2.1, 2.2), or that a
 * container is starting it; otherwise (EOF mode, nothing recorded) the newest run TigerGraph
 * lists of the job.
 */
import type { ConnectorConfig } from '../config/index.ts';
import { isTigerStreamError, messageOf } from '../errors/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import { runKey, type RunRegistry } from '../pipeline/index.ts';
import { FAILED_RETRY_MS, STARTING_STALE_MS } from '../pipeline/streaming.ts';
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
  /** The run registry's newest entry holds no run: a container is starting one, or failed to. */
  readonly pending?: { readonly state: 'starting' | 'failed'; readonly since: number };
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
 * The loading job's run and its progress; undefined for a mirror-only connector. `registry`:
 * where the containers record the job's streaming run (SSM in Lambda). 3.x lists only active
 * runs, without their job, so a stopped streaming run is known by the id recorded there.
 */
export async function loadingJobStatus(
  config: ConnectorConfig,
  factory: TigerGraphFactory = defaultFactory,
  registry?: Pick<RunRegistry, 'current'>,
): Promise<LoadingJobStatus | undefined> {
  const tg = config.tigergraph;
  if (tg === undefined) return undefined;
  const base = { job: tg.loadingJob, graph: tg.graph, mode: tg.eof ? 'eof' : 'streaming' } as const;
  try {
    const client = factory(config);
    // Streaming mode takes one topic (CONFIG_STREAMING_TOPICS_MANY): its target topic's entry.
    const topic = config.topics.find((t) => !config.topicsExclude.includes(t));
    const entry =
      tg.eof || registry === undefined || topic === undefined
        ? undefined
        : await registry.current(runKey(tg.graph, tg.loadingJob, targetTopicName(config, topic)));
    if (entry !== undefined && entry.record.kind !== 'run')
      return { ...base, pending: { state: entry.record.kind, since: entry.record.at } };
    let jobId: string;
    let startTime: number | undefined;
    if (entry?.record.kind === 'run') jobId = entry.record.id;
    else {
      const newest = (await client.listRuns(tg.graph, tg.loadingJob)).at(-1);
      if (newest === undefined) return base;
      ({ jobId, startTime } = newest);
    }
    const progress = await client.runStatus(tg.graph, jobId);
    return {
      ...base,
      run: {
        jobId,
        status: progress.status,
        startTime: progress.startTime ?? startTime,
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

/**
 * One line for a person: the job, its newest run and the run's progress. A `starting:` marker
 * older than STARTING_STALE_MS is said to be stale (its container stopped before recording a
 * run; lib/pipeline/streaming.ts), and a failed start says when the next one may happen.
 */
export function formatLoadingJobStatus(s: LoadingJobStatus, now: number = Date.now()): string {
  const head = `loading job ${s.job} (${s.mode}) in ${s.graph}`;
  if (s.error !== undefined) return `${head}: could not be read: ${s.error}`;
  const pendingSince = s.pending === undefined ? '' : new Date(s.pending.since).toISOString();
  if (s.pending?.state === 'starting')
    return now - s.pending.since < STARTING_STALE_MS
      ? `${head}: a container is starting its run (since ${pendingSince})`
      : `${head}: a stale start (since ${pendingSince}): the container that was starting its run stopped before recording one; the next batch adopts a run TigerGraph lists or starts one`;
  if (s.pending?.state === 'failed')
    return `${head}: the last start failed at ${pendingSince}; a batch starts it again from ${new Date(s.pending.since + FAILED_RETRY_MS).toISOString()} on`;
  if (s.run === undefined) return `${head}: no run yet`;
  const r = s.run;
  const since = r.startTime === undefined ? '' : ` since ${new Date(r.startTime).toISOString()}`;
  return `${head}: run ${r.jobId} ${r.status}${since}; lines loaded ${r.validLines}, rejected ${r.rejectedLines}; objects loaded ${r.validObjects}, rejected ${r.rejectedObjects}`;
}
