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

const STOPPED: ReadonlySet<RunStatus> = new Set(['ABORTED', 'PAUSED', 'FAILED']);

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
  const resume = async (id: string, status: RunStatus): Promise<string> => {
    if (client.resumeRun === undefined) return remember(id);
    try {
      await retry(
        () => client.resumeRun?.(tg.graph, id, deps.signal) ?? Promise.resolve(),
        retryDeps(deps),
      );
      deps.logger.info('Resumed the streaming run of the loading job', { jobId: id, was: status });
    } catch (error) {
      if (!isConflict(error)) throw error;
      deps.logger.info('The streaming run was resumed by another container; adopting it', {
        jobId: id,
      });
    }
    return remember(id);
  };

  const known = deps.streamingRuns?.get(topic);
  if (known !== undefined) {
    if (now - known.checkedAt < STREAMING_CHECK_MS) return known.id;
    let status: RunStatus;
    try {
      status = (
        await retry(() => client.getProgress(tg.graph, known.id, deps.signal), retryDeps(deps))
      ).status;
    } catch (error) {
      // An unreadable answer keeps the run: better than starting a second.
      deps.logger.warn('Could not read the streaming run status; keeping the run', {
        jobId: known.id,
        error,
      });
      return known.id;
    }
    if (status === 'RUNNING' || status === 'UNKNOWN') return remember(known.id);
    if (STOPPED.has(status)) return resume(known.id, status);
    deps.streamingRuns?.delete(topic);
  }

  // A container that knows no run: ask TigerGraph for the job's runs before starting one.
  if (client.listRuns !== undefined) {
    const runs: LoadingRunSummary[] = await retry(
      () => client.listRuns?.(tg.graph, tg.loadingJob, deps.signal) ?? Promise.resolve([]),
      retryDeps(deps),
    );
    const newest = (wanted: (s: RunStatus) => boolean): LoadingRunSummary | undefined =>
      runs.filter((r) => wanted(r.status)).at(-1);
    const running = newest((s) => s === 'RUNNING');
    if (running !== undefined) {
      deps.logger.info('Adopted the running streaming run of the loading job', {
        jobId: running.jobId,
      });
      return remember(running.jobId);
    }
    const stopped = newest((s) => STOPPED.has(s));
    if (stopped !== undefined) return resume(stopped.jobId, stopped.status);
  }

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
  deps.logger.info('Started the streaming run of the loading job from the beginning of the topic', {
    jobId: id,
    topic,
    partitions,
  });
  return remember(id);
}
