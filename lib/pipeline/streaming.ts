/**
 * Streaming mode (tigergraph.loading.eof=false): one streaming run per loading job, shared by
 * every Lambda container. TigerGraph's Kafka loader has no consumer group; a run that stopped
 * is resumed and "picks up from where it was stopped" (reference section 5.5, RESUME LOADING
 * JOB in section 2.1; 4.x resume in section 2.2), so a container adopts the running run,
 * resumes a stopped one, and starts one only when the job has none. TigerStream alone writes
 * `<alias>.<topic>`, so the first run of a job starts at the beginning of every partition: no
 * record produced by any container can fall before it.
 */
import { TigerGraphError, isTigerStreamError } from '../errors/index.ts';
import { retry } from '../errors/retry.ts';
import type { LoadingRunSummary, RunStatus } from '../tigergraph/index.ts';
import { retryDeps, type Loader, type PipelineDeps } from './common.ts';

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
    return start();
  }

  // A container that knows no run: ask TigerGraph for the job's runs before starting one.
  if (client.listRuns !== undefined) {
    const runs: LoadingRunSummary[] = await retry(
      () => client.listRuns?.(tg.graph, tg.loadingJob, deps.signal) ?? Promise.resolve([]),
      retryDeps(deps),
    );
    const running = runs.filter((r) => r.status === 'RUNNING').at(-1);
    if (running !== undefined) {
      deps.logger.info('Adopted the running streaming run of the loading job', {
        jobId: running.jobId,
      });
      return remember(running.jobId);
    }
    // Any earlier run, stopped or read as finished: resume the newest, never reload.
    const newest = runs.at(-1);
    if (newest !== undefined) {
      const resumed = await resume(newest.jobId, newest.status);
      if (resumed !== undefined) return resumed;
    }
  }
  return start();

  async function start(): Promise<string> {
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
            partitions: Array.from({ length: partitions }, (_, partition) => ({
              partition,
              start_offset: -2,
            })),
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
      'Started the streaming run of the loading job from the beginning of the topic',
      { jobId: id, topic, partitions },
    );
    return remember(id);
  }
}
