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

/**
 * Aborts runs the handler gave up on (3.x `ABORT LOADING JOB`, 4.x abort endpoint), with a
 * timeout of its own: the handler's signal has usually fired already. A failed abort is
 * logged, never thrown: the invocation fails with the reason it gave up.
 */
export async function abortGivenUp(
  deps: PipelineDeps,
  loader: Loader,
  jobIds: readonly string[],
): Promise<void> {
  const { client, settings } = loader;
  if (client.abortRun === undefined) {
    deps.logger.warn('This TigerGraph client cannot abort runs; the given-up run keeps going', {
      jobIds,
    });
    return;
  }
  for (const jobId of jobIds)
    try {
      await client.abortRun(settings.graph, jobId, AbortSignal.timeout(ABORT_TIMEOUT_MS));
      deps.logger.warn('Aborted the loading run given up at the invocation deadline', { jobId });
    } catch (error) {
      deps.logger.error('Could not abort the loading run given up at the invocation deadline', {
        jobId,
        error: messageOf(error),
      });
    }
}
