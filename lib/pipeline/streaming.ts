/**
 * Streaming mode (tigergraph.loading.eof=false): one streaming run per loading job, shared by
 * every Lambda container. TigerGraph's Kafka loader has no consumer group; a run that stopped
 * is resumed and "picks up from where it was stopped" (reference section 5.5, RESUME LOADING
 * JOB in section 2.1; 4.x resume in section 2.2), so a container adopts the running run,
 * resumes a stopped one, and starts one only when the job has none. TigerStream alone writes
 * `<alias>.<topic>`, so the first run of a job starts at the beginning of every partition: no
 * record produced by any container can fall before it.
 *
 * Containers find the run through TigerGraph's listing and the run registry (run-registry.ts):
 * 3.x lists runs without their job. Two containers that start at once both start a run
 * (TigerGraph queues the second, section 1.5); the registry keeps the first recorded, and the
 * other container aborts its own and adopts that one.
 */
import { TigerGraphError, isTigerStreamError } from '../errors/index.ts';
import { retry } from '../errors/retry.ts';
import {
  jobDefaultStartOffset,
  type LoadingRunSummary,
  type RunStatus,
} from '../tigergraph/index.ts';
import { retryDeps, type Loader, type PipelineDeps } from './common.ts';
import { runKey } from './run-registry.ts';

/** How long a run is taken to be running before its status is asked again. */
export const STREAMING_CHECK_MS = 60_000;

/** A conflict means another container got there first: the run is running, adopt it. */
const isConflict = (error: unknown): boolean =>
  isTigerStreamError(error) && error.code === 'TIGERGRAPH_HTTP_409';

/**
 * The id of the job's streaming run for `topic`, after making sure it runs: adopted, resumed
 * or (the job has none) started over every one of `partitions` from the beginning.
 */
export async function ensureStreamingRun(
  deps: PipelineDeps,
  loader: Loader,
  topic: string,
  partitions: number,
): Promise<string> {
  const { client, settings: tg } = loader;
  const now = (deps.now ?? Date.now)();
  const remember = (id: string): string => {
    deps.streamingRuns?.set(topic, { id, checkedAt: now });
    return id;
  };
  const statusOf = async (id: string): Promise<RunStatus> =>
    (await retry(() => client.getProgress(tg.graph, id, deps.signal), retryDeps(deps))).status;

  /**
   * Resumes a run that is not running, under its own id. A status TigerGraph reports as
   * FINISHED is resumed too: a streaming run only ends when stopped, and an ended run read from
   * the documented 4.x shape (no status word, an endTime) looks finished. Starting a new run
   * instead would load the topic from the beginning again. Whether the resume took is read
   * back: a refused or ignored resume (3.x "does nothing" for a finished run) is not trusted.
   */
  const resume = async (id: string, status: RunStatus): Promise<string | undefined> => {
    if (client.resumeRun === undefined) return remember(id);
    try {
      await retry(
        () => client.resumeRun?.(tg.graph, id, deps.signal) ?? Promise.resolve(),
        retryDeps(deps),
      );
    } catch (error) {
      // Another container may have resumed it a moment ago; anything else is read back below.
      if (!isConflict(error))
        deps.logger.warn('TigerGraph refused to resume the streaming run', { jobId: id, error });
    }
    const after = await statusOf(id).catch(() => 'UNKNOWN' as const);
    if (after === 'RUNNING' || after === 'UNKNOWN') {
      deps.logger.info('Resumed the streaming run of the loading job', { jobId: id, was: status });
      return remember(id);
    }
    deps.logger.warn(
      'The streaming run could not be resumed; starting a new run from the beginning of the topic (records loaded before are upserted again)',
      { jobId: id, was: status, now: after },
    );
    return undefined;
  };

  const known = deps.streamingRuns?.get(topic);
  if (known !== undefined) {
    if (now - known.checkedAt < STREAMING_CHECK_MS) return known.id;
    let status: RunStatus;
    try {
      status = await statusOf(known.id);
    } catch (error) {
      // An unreadable answer keeps the run: better than starting a second.
      deps.logger.warn('Could not read the streaming run status; keeping the run', {
        jobId: known.id,
        error,
      });
      return known.id;
    }
    if (status === 'RUNNING' || status === 'UNKNOWN') return remember(known.id);
    deps.streamingRuns?.delete(topic);
    const resumed = await resume(known.id, status);
    if (resumed !== undefined) return resumed;
    return settle(await start(), true);
  }

  // A container that knows no run: ask the registry and TigerGraph before starting one.
  const key = runKey(tg.graph, tg.loadingJob);
  const registry = deps.runRegistry;
  const recorded =
    registry === undefined
      ? undefined
      : await retry(() => registry.read(key, deps.signal), retryDeps(deps));
  if (client.listRuns !== undefined) {
    const runs: LoadingRunSummary[] = await retry(
      () =>
        client.listRuns?.(
          tg.graph,
          tg.loadingJob,
          deps.signal,
          recorded === undefined ? undefined : new Set([recorded]),
        ) ?? Promise.resolve([]),
      retryDeps(deps),
    );
    // The recorded run first: another container may have started one more a moment ago.
    const ordered = [
      ...runs.filter((r) => r.jobId !== recorded),
      ...runs.filter((r) => r.jobId === recorded),
    ];
    const running = ordered.filter((r) => r.status === 'RUNNING').at(-1);
    if (running !== undefined) {
      deps.logger.info('Adopted the running streaming run of the loading job', {
        jobId: running.jobId,
      });
      return remember(running.jobId);
    }
    // Any earlier run, stopped or read as finished: resume the newest, never reload.
    const newest = ordered.at(-1);
    if (newest !== undefined) {
      const resumed = await resume(newest.jobId, newest.status);
      if (resumed !== undefined) return resumed;
    }
  }
  return settle(await start(), recorded !== undefined);

  /**
   * Records a run this container started. When another container recorded its run first,
   * this one is aborted (it queued behind that one) and that one is adopted.
   */
  async function settle(id: string, replacing: boolean): Promise<string> {
    if (registry === undefined) return remember(id);
    if (replacing) {
      await retry(() => registry.replace(key, id, deps.signal), retryDeps(deps));
      return remember(id);
    }
    const kept = await retry(() => registry.claim(key, id, deps.signal), retryDeps(deps));
    if (kept === id) return remember(id);
    deps.logger.info(
      'Another container started the streaming run first; stopping this one and adopting that one',
      { jobId: kept, stopped: id },
    );
    try {
      await retry(
        () => client.abortRun?.(tg.graph, id, deps.signal) ?? Promise.resolve(),
        retryDeps(deps),
      );
    } catch (error) {
      deps.logger.warn('Could not abort the streaming run this container started', {
        jobId: id,
        error,
      });
    }
    return remember(kept);
  }

  /**
   * The job's own `default_start_offset` (section 5.2), when its DEFINE FILENAME sets one: the
   * user's choice of where the job's first run starts. Unreadable: the beginning (-2).
   */
  async function ownStartOffset(): Promise<number | undefined> {
    if (client.jobDefinition === undefined) return undefined;
    try {
      const text = await retry(
        () => client.jobDefinition?.(tg.graph, tg.loadingJob, deps.signal) ?? Promise.resolve(''),
        retryDeps(deps),
      );
      return jobDefaultStartOffset(text, tg.loadingFilename);
    } catch (error) {
      deps.logger.warn(
        "Could not read the loading job's definition; its first run starts at the beginning of the topic",
        { job: tg.loadingJob, error },
      );
      return undefined;
    }
  }

  async function start(): Promise<string> {
    const own = await ownStartOffset();
    if (own === -1)
      deps.logger.warn(
        "The loading job's default_start_offset is -1 (the end of the topic): records produced before its first run starts are not loaded",
        { job: tg.loadingJob, topic },
      );
    // Section 5.2: an empty partition_list is every partition, from default_start_offset.
    const from =
      own === undefined
        ? {
            partitions: Array.from({ length: partitions }, (_, partition) => ({
              partition,
              start_offset: -2,
            })),
          }
        : { partitions: [], defaultStartOffset: own };
    const ids = await retry(
      () =>
        client.startLoadingJob(
          {
            graph: tg.graph,
            job: tg.loadingJob,
            filename: tg.loadingFilename,
            dataSource: tg.dataSource,
            topic,
            streaming: true,
            ...from,
          },
          deps.signal,
        ),
      retryDeps(deps),
    );
    const id = ids[0];
    if (id === undefined)
      throw new TigerGraphError(
        'TIGERGRAPH_JOB_ID_MISSING',
        `TigerGraph started the streaming run of ${tg.loadingJob} without a job id to follow it by`,
        { retriable: true },
      );
    deps.logger.info(
      own === undefined
        ? 'Started the streaming run of the loading job from the beginning of the topic'
        : "Started the streaming run of the loading job from the job's own default_start_offset",
      { jobId: id, topic, partitions, ...(own === undefined ? {} : { defaultStartOffset: own }) },
    );
    return remember(id);
  }
}
