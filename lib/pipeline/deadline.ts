/**
 * The Lambda deadline and EOF runs. A handler that waits for its EOF run and gives up at the
 * deadline must not leave the run going: the event-source mapping redelivers the batch, and
 * a run still loading it would load it a second time beside the redelivery's own run. So no
 * EOF run is started when the time left cannot cover one, and a run given up on is aborted
 * before the invocation fails.
 */
import { TigerGraphError, messageOf } from '../errors/index.ts';
import type { Loader, PipelineDeps } from './common.ts';

/**
 * What an EOF run is taken to need before this container has seen one finish: TigerGraph's
 * Kafka loader polls its partitions and commits statistics every few seconds (not documented
 * as a figure; the emulator's runs take well under a second).
 */
export const FIRST_RUN_ESTIMATE_MS = 5_000;
/** How many finished runs the estimate remembers (it is the longest of them). */
const RUNS_REMEMBERED = 20;
/** The longest the abort of a given-up run may take (it runs after the handler's own signal fired). */
export const ABORT_TIMEOUT_MS = 1_500;

/** How long this container's EOF runs took, for the estimate before starting the next one. */
export interface RunTimes {
  /** The time a new run is taken to need: the longest remembered, or the first estimate. */
  estimateMs(): number;
  /** Records how long a finished run took (start call to FINISHED). */
  record(ms: number): void;
}

/** Run times of one container (kept across invocations, like its clients). */
export function createRunTimes(firstEstimateMs = FIRST_RUN_ESTIMATE_MS): RunTimes {
  const times: number[] = [];
  return {
    estimateMs: () => (times.length === 0 ? firstEstimateMs : Math.max(...times)),
    record(ms) {
      times.push(ms);
      if (times.length > RUNS_REMEMBERED) times.shift();
    },
  };
}

/**
 * Refuses to start an EOF run that the time left before the deadline cannot cover: the batch
 * fails (retriable) before anything is started, and its redelivery gets a fresh invocation.
 *
 * @throws TigerGraphError `TIGERGRAPH_DEADLINE_TOO_CLOSE` (retriable).
 */
export function checkTimeForRun(deps: PipelineDeps, job: string): void {
  if (deps.deadline === undefined || deps.runTimes === undefined) return;
  const left = deps.deadline - (deps.now ?? Date.now)();
  const needed = deps.runTimes.estimateMs();
  if (left < needed)
    throw new TigerGraphError(
      'TIGERGRAPH_DEADLINE_TOO_CLOSE',
      `Not starting an EOF run of loading job ${job}: ${Math.max(0, left)} ms are left before the invocation deadline and a run is taken to need ${needed} ms (the longest this container has seen, or ${FIRST_RUN_ESTIMATE_MS} ms before its first); the batch is delivered again. Raise the function's timeout or lower tigerstream.esm.batch.size if this repeats`,
      { retriable: true, details: { job, leftMs: Math.max(0, left), neededMs: needed } },
    );
}

/** Which given-up runs TigerGraph took the abort of, and which it did not. */
export interface AbortOutcome {
  readonly aborted: readonly string[];
  readonly notAborted: readonly string[];
}

/**
 * Aborts runs the handler gave up on (3.x `ABORT LOADING JOB`, 4.x abort endpoint), with a
 * timeout of its own: the handler's signal has usually fired already. A failed abort is
 * logged, never thrown: the invocation fails with the reason it gave up, which says, from the
 * outcome returned, which runs were aborted and which still need it.
 */
export async function abortGivenUp(
  deps: PipelineDeps,
  loader: Loader,
  jobIds: readonly string[],
): Promise<AbortOutcome> {
  const { client, settings } = loader;
  if (client.abortRun === undefined) {
    if (jobIds.length > 0)
      deps.logger.error('This TigerGraph client cannot abort runs; the given-up runs keep going', {
        jobIds,
      });
    return { aborted: [], notAborted: jobIds };
  }
  const aborted: string[] = [];
  const notAborted: string[] = [];
  for (const jobId of jobIds)
    try {
      await client.abortRun(settings.graph, jobId, AbortSignal.timeout(ABORT_TIMEOUT_MS));
      aborted.push(jobId);
      deps.logger.warn('Aborted the loading run given up at the invocation deadline', { jobId });
    } catch (error) {
      notAborted.push(jobId);
      deps.logger.error('Could not abort the loading run given up at the invocation deadline', {
        jobId,
        error: messageOf(error),
      });
    }
  return { aborted, notAborted };
}

/**
 * The error of a batch given up while run `jobId` was still running at the deadline, saying
 * truthfully what became of the given-up runs (retriable: the batch is delivered again).
 */
export function runTimedOut(jobId: string, outcome: AbortOutcome): TigerGraphError {
  const { aborted, notAborted } = outcome;
  const what = [
    aborted.length > 0 ? `aborted ${aborted.join(', ')}` : '',
    notAborted.length > 0
      ? `could not abort ${notAborted.join(', ')}: abort ${notAborted.length > 1 ? 'them' : 'it'} (3.x ABORT LOADING JOB <id>, 4.x the abort endpoint), or it loads the batch a second time beside the redelivery`
      : '',
  ]
    .filter((s) => s !== '')
    .join('; ');
  return new TigerGraphError(
    'TIGERGRAPH_LOADING_JOB_TIMEOUT',
    `Loading job run ${jobId} was still running at the invocation deadline; ${what}; the batch is delivered again`,
    {
      retriable: true,
      details: { jobId, aborted: aborted.join(','), notAborted: notAborted.join(',') },
    },
  );
}
