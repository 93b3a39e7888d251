/**
 * Loading what a batch produced or posted: kafka mode's EOF runs (started only when the time
 * left can see them finish, waited for, aborted when given up on) or the job's shared
 * streaming run; and the records TigerGraph rejected, singled out through /ddl where they can
 * be (direct mode, and kafka mode under errors.tolerance=all with a dead-letter topic).
 */
import { TigerGraphError, isTigerStreamError } from '../errors/index.ts';
import { retry, sleep as defaultSleep } from '../errors/retry.ts';
import type { ProducedRange } from '../kafka/index.ts';
import type { LoadCounts } from '../tigergraph/index.ts';
import {
  ZERO,
  add,
  rejectedRecords,
  rejectedRecordsAtMost,
  rejections,
  retryDeps,
  type Line,
  type Loader,
  type PipelineDeps,
} from './common.ts';
import { handleRejectedLines, loadDirect } from './direct.ts';
import { abortGivenUp, checkTimeForRun, runTimedOut } from './deadline.ts';
import { ensureStreamingRun } from './streaming.ts';

/** Thrown inside waitForRun at the deadline; waitForRuns replaces it with {@link runTimedOut}. */
class RunStillRunning extends Error {
  constructor(readonly jobId: string) {
    super(`Loading job run ${jobId} was still running at the invocation deadline`);
  }
}

/**
 * Waits for the runs one after the other. When the handler gives up on one (the deadline, or
 * its status unreadable until the signal fires), that run and every one not waited for yet
 * are aborted before the invocation fails: left running, they would load the batch a second
 * time beside the redelivery's own runs. A run that ended FAILED needs no abort, the others do.
 */
async function waitForRuns(
  deps: PipelineDeps,
  loader: Loader,
  jobIds: readonly string[],
): Promise<LoadCounts> {
  let counts = ZERO;
  for (const [i, jobId] of jobIds.entries()) {
    try {
      counts = add(counts, await waitForRun(deps, loader, jobId));
    } catch (error) {
      const ended = isTigerStreamError(error) && error.code === 'TIGERGRAPH_LOADING_JOB_FAILED';
      const outcome = await abortGivenUp(deps, loader, jobIds.slice(ended ? i + 1 : i));
      throw error instanceof RunStillRunning ? runTimedOut(error.jobId, outcome) : error;
    }
  }
  return counts;
}

/** Polls a run until it is no longer running; the poll interval grows to 2 s. */
async function waitForRun(deps: PipelineDeps, loader: Loader, jobId: string): Promise<LoadCounts> {
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? defaultSleep;
  const { graph } = loader.settings;
  const started = now();
  for (let delay = 25; ; delay = Math.min(2000, delay * 2)) {
    const progress = await retry(
      () => loader.client.getProgress(graph, jobId, deps.signal),
      retryDeps(deps),
    );
    if (progress.status === 'FINISHED') {
      deps.runTimes?.record(now() - started);
      return progress.counts;
    }
    if (progress.status === 'FAILED' || progress.status === 'ABORTED')
      throw new TigerGraphError(
        'TIGERGRAPH_LOADING_JOB_FAILED',
        `Loading job run ${jobId} ended ${progress.status}${progress.error ? `: ${progress.error}` : ''}`,
        { retriable: true, details: { jobId } },
      );
    if (deps.deadline !== undefined && now() + delay >= deps.deadline)
      throw new RunStillRunning(jobId);
    await wait(delay, deps.signal);
  }
}

/** What became of the records TigerGraph rejected in a post to /ddl. */
interface Settled {
  readonly deadLettered: number;
  /** Counted as rejected: the fewest records the unresolved statistics explain. */
  readonly rejected: number;
  /** The most records those statistics could stand for. */
  readonly rejectedAtMost: number;
}

/**
 * The records of a direct load TigerGraph rejected: singled-out ones dead-lettered or counted
 * (handleRejectedLines), the rest (chunks past the re-post budget) counted from the statistics.
 */
export async function settleRejected(
  deps: PipelineDeps,
  loader: Loader,
  direct: Awaited<ReturnType<typeof loadDirect>>,
  delivered: number,
): Promise<Settled> {
  const handled = await handleRejectedLines(deps, loader, direct.rejected);
  const left = delivered - handled.deadLettered;
  return {
    deadLettered: handled.deadLettered,
    rejected: Math.min(
      left,
      direct.unresolved.reduce(
        (n, u) => n + rejectedRecords(u.records, u.counts, u.linesPerRecord),
        handled.rejected,
      ),
    ),
    rejectedAtMost: Math.min(
      left,
      direct.unresolved.reduce(
        (n, u) => n + rejectedRecordsAtMost(u.records, u.counts),
        handled.rejected,
      ),
    ),
  };
}

/** The least time left before the deadline for singling out rejected records (re-posts). */
export const ISOLATION_MIN_MS = 5_000;

/**
 * Kafka mode under errors.tolerance=all with a dead-letter topic, after an EOF run reported
 * rejections: the run's statistics do not say which lines, so the batch's lines are posted
 * again to `/ddl` with the same job and filename variable (direct mode's isolation) and the
 * records it rejects are dead-lettered with the reason. The records load a second time
 * (upserts; the README warns about accumulating jobs). [UNCONFIRMED] that TigerGraph's /ddl
 * runs a job whose filename variable names a Kafka data source (reference section 1.1
 * documents /ddl for a job's filename variable, not which sources). Its verdict is trusted
 * only when it read every line and rejected exactly what the run rejected; otherwise (it
 * refused, failed past its retries, disagreed) or with too little time left, null: the
 * records are counted from the run's statistics, as before, and the log says why.
 */
export async function isolateRejected(
  deps: PipelineDeps,
  loader: Loader,
  lines: readonly Line[],
  delivered: number,
  run: LoadCounts,
): Promise<Settled | null> {
  const job = loader.settings.loadingJob;
  const notSingledOut = (why: string, fields: Record<string, unknown> = {}): null => {
    deps.logger.warn(
      `Could not single out the records TigerGraph rejected (${why}); they are counted from the run's statistics, not dead-lettered`,
      { job, ...fields },
    );
    return null;
  };
  const left = deps.deadline === undefined ? Infinity : deps.deadline - (deps.now ?? Date.now)();
  if (left < ISOLATION_MIN_MS)
    return notSingledOut('too little time left before the invocation deadline', { leftMs: left });
  let direct: Awaited<ReturnType<typeof loadDirect>>;
  try {
    direct = await loadDirect(deps, loader, lines);
  } catch (error) {
    // Past its retries, or refused: the run already loaded the batch; only the handler giving
    // up (the deadline) still fails it.
    if (deps.signal?.aborted === true) throw error;
    return notSingledOut("its /ddl did not take the loading job's lines", { error });
  }
  const read = direct.counts.validLines + direct.counts.rejectedLines;
  if (read !== lines.length || rejections(direct.counts) !== rejections(run))
    return notSingledOut('its /ddl answer disagrees with the run', {
      linesPosted: lines.length,
      linesRead: read,
      rejectedByRun: rejections(run),
      rejectedByDdl: rejections(direct.counts),
    });
  return settleRejected(deps, loader, direct, delivered);
}

/**
 * Kafka mode: one EOF run per target topic over exactly the offsets this batch produced, or
 * (tigergraph.loading.eof=false) the job's one shared streaming run made sure of.
 */
export async function loadFromKafka(
  deps: PipelineDeps,
  loader: Loader,
  ranges: readonly ProducedRange[],
  targetPartitions: ReadonlyMap<string, number>,
): Promise<{ counts: LoadCounts; jobIds: string[] }> {
  const tg = loader.settings;
  const byTopic = new Map<string, ProducedRange[]>();
  for (const r of ranges) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  let counts = ZERO;
  const jobIds: string[] = [];
  for (const [topic, list] of byTopic) {
    if (!tg.eof) {
      jobIds.push(await ensureStreamingRun(deps, loader, topic, targetPartitions.get(topic) ?? 0));
      continue;
    }
    // Waiting for the run: none is started that the time left cannot see finish.
    if (tg.waitForLoad) checkTimeForRun(deps, tg.loadingJob);
    const ids = await retry(
      () =>
        loader.client.startLoadingJob(
          {
            graph: tg.graph,
            job: tg.loadingJob,
            filename: tg.loadingFilename,
            dataSource: tg.dataSource,
            topic,
            streaming: false,
            partitions: list.map((r) => ({ partition: r.partition, start_offset: r.firstOffset })),
          },
          deps.signal,
        ),
      retryDeps(deps),
    );
    jobIds.push(...ids);
    if (tg.waitForLoad) counts = add(counts, await waitForRuns(deps, loader, ids));
  }
  return { counts, jobIds };
}
