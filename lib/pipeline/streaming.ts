/**
 * Streaming mode (tigergraph.loading.eof=false): one streaming run per loading job and topic,
 * shared by every Lambda container. TigerGraph's Kafka loader has no consumer group; a run that
 * stopped is resumed and "picks up from where it was stopped" (reference section 5.5, RESUME
 * LOADING JOB in section 2.1; 4.x resume in section 2.2), so a container adopts the running
 * run, resumes a stopped one, and starts one only when there is none.
 *
 * The run registry (run-registry.ts) is the one place containers agree on the run: TigerGraph
 * 3.x lists only active runs, without their job, under ids that name none. Its entry is a
 * series of generations, each created once (compare-and-swap by creation):
 * - a run id: asked by that id (3.x SHOW LOADING STATUS <id>, 4.x status/{id}); running, it is
 *   adopted; otherwise resumed under its id and read back. An answer that refuses the id
 *   (any non-retriable error but a refused login: 4.x HTTP 400, `"error":true`, a GSQL
 *   refusal) reads as UNKNOWN, so one bad recorded id cannot fail every batch forever.
 *   A run that does not run after the resume is replaced (a new run in the next generation,
 *   from the job's start offset: logged as an error and counted, STREAMING_RUN_RESTARTED_METRIC)
 *   only when all of these hold:
 *   - TigerGraph's listing does not show it active (3.x SHOW LOADING STATUS ALL lists active
 *     runs only, section 2.1; a queued run, section 1.5, is listed there under a word the
 *     reference does not give, [UNCONFIRMED]; the 4.x list unless it reads stopped). Listed
 *     active, it is kept: replacing a queued run would queue the next one behind it;
 *   - it was recorded REPLACE_MIN_MS ago or more (a bare id, at an unknown time, counts as
 *     old): at most one replacement per REPLACE_MIN_MS whatever TigerGraph answers;
 *   - it was aborted first (and read back): a run TigerStream gives up is never left running.
 * - `starting:<owner>:<ms>`: a container reserved the generation before starting, so at most
 *   one starts. While fresh, other containers wait a little, then fail the batch with the
 *   retriable TIGERGRAPH_RUN_STARTING: it is delivered again and loses nothing, the run reads
 *   the topic from its start offsets. Stale (the starter died), see `failed:`;
 * - `failed:<ms>`: that start failed. For FAILED_RETRY_MS nothing is started (the batch fails
 *   with the retriable TIGERGRAPH_RUN_START_FAILED and no generation is claimed: a start that
 *   keeps failing neither floods TigerGraph with starts nor the registry with generations).
 *   After that, and after a stale `starting:`, a running run of the job TigerGraph lists (the
 *   run of a start whose answer was lost, on 4.x whose ids name the job) is adopted in the
 *   next generation; only when there is none is the next generation started. On 3.x such a
 *   run cannot be found (its id names no job, section 2.1): the warning names SHOW LOADING
 *   STATUS ALL;
 * - nothing: the newest run of the job TigerGraph lists (one a user started) is recorded and
 *   adopted, or resumed when stopped (a FINISHED one is an EOF run that ended: a streaming
 *   run never finishes by itself, section 5.4); otherwise generation 1 is reserved and the
 *   first run started.
 * A start is never retried blindly (a start whose answer was lost may have started a run): a
 * failed start marks its generation failed and fails the batch. A run that cannot be recorded,
 * or whose generation another container replaced meanwhile, is aborted by its starter. After a
 * run is recorded, generations older than the one before it are deleted (run-registry.ts).
 *
 * The first run reads every partition (section 5.2: an empty partition_list is all partitions,
 * from default_start_offset; no partition count is fixed in the run, so partitions added
 * later are TigerGraph's to pick up, which the reference does not confirm), from the job's own default_start_offset, else
 * from the beginning: TigerStream alone writes `<alias>.<topic>`, so no record produced by
 * any container falls before it. A job default of -1 (the end of the topic) is refused before
 * anything is started (TIGERGRAPH_JOB_START_OFFSET_LATEST): the batch that triggers the first
 * run is produced before the run starts, and a replacement would skip what was produced since
 * the old run stopped, so records counted as delivered would never be loaded.
 */
import { randomUUID } from 'node:crypto';
import { ControlError, TigerGraphError, isTigerStreamError } from '../errors/index.ts';
import { retry, sleep, type RetryPolicy } from '../errors/retry.ts';
import {
  isAuthFailure,
  jobDefaultStartOffset,
  type LoadingRunSummary,
  type RunStatus,
} from '../tigergraph/index.ts';
import { retryDeps, type Loader, type PipelineDeps } from './common.ts';
import {
  encodeRunRecord,
  memoryRunRegistry,
  runKey,
  type RunEntry,
  type RunRecord,
  type RunRegistry,
} from './run-registry.ts';

/** How long a run is taken to be running before the registry and its status are asked again. */
export const STREAMING_CHECK_MS = 60_000;
/**
 * How long a `starting:` marker stands for a start in progress. A 3.x start is at most four
 * GSQL calls (SHOW, RUN, SHOW, and the job's definition before them), each under the default
 * 30-second request timeout; a marker older than this belongs to a container that died.
 */
export const STARTING_STALE_MS = 180_000;
/**
 * After a failed start, how long nothing is started. The same as STARTING_STALE_MS: a start
 * whose answer was lost may still show its run in TigerGraph's listing within that time, and
 * a failed start and a dead starter are then treated alike.
 */
export const FAILED_RETRY_MS = STARTING_STALE_MS;
/**
 * A recorded run that does not run after a resume is replaced only when it was recorded this
 * long ago: whatever TigerGraph answers (an unreadable status, a queued run, the reference's
 * [UNCONFIRMED] answers), at most one new run per five minutes, each after aborting the one
 * before. Five minutes: well above a start (STARTING_STALE_MS) and STREAMING_CHECK_MS.
 */
export const REPLACE_MIN_MS = 300_000;
/** Counted when a run is started anew because the recorded one could not be resumed. */
export const STREAMING_RUN_RESTARTED_METRIC = 'streaming-run-restarted-count';

/** Waiting within the invocation for another container's start (then the batch fails). */
const STARTING_WAIT_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  initialDelayMs: 250,
  maxDelayMs: 2000,
  factor: 2,
});
/** Errors that mean "look at the registry again shortly". */
const WAIT_CODES = new Set(['TIGERGRAPH_RUN_STARTING', 'CONTROL_RUN_REGISTRY_STALE']);
/** Read-backs of a resumed run before it counts as not resumed. */
const RESUME_READ_WAITS_MS = [0, 250, 1000];
/** Claims lost in one attempt before it waits (each lost claim means the registry moved on). */
const MAX_ROUNDS = 4;

/** A conflict answer: another container may have resumed the run a moment ago. */
const isConflict = (error: unknown): boolean =>
  isTigerStreamError(error) && error.code === 'TIGERGRAPH_HTTP_409';

/** Per container without a registry of its own (direct processBatch callers): one in memory. */
const fallbackRegistries = new WeakMap<object, RunRegistry>();

/**
 * The id of the job's streaming run for `topic`, after making sure it runs: adopted, resumed,
 * or started over every partition (see above). `partitions`: the topic's partition count, for
 * the log only (the run is given no partition list: it reads every partition).
 */
export async function ensureStreamingRun(
  deps: PipelineDeps,
  loader: Loader,
  topic: string,
  partitions: number,
): Promise<string> {
  const { client, settings: tg } = loader;
  const clock = deps.now ?? Date.now;
  const known = deps.streamingRuns?.get(topic);
  if (known !== undefined && clock() - known.checkedAt < STREAMING_CHECK_MS) return known.id;

  const registry = registryOf(deps);
  const key = runKey(tg.graph, tg.loadingJob, topic);
  const signal = deps.signal;
  const log = { job: tg.loadingJob, topic };
  const owner = `${(deps.requestId ?? 'local').replace(/[^A-Za-z0-9_.-]/g, '_')}.${randomUUID().slice(0, 8)}`;

  const remember = (id: string): string => {
    deps.streamingRuns?.set(topic, { id, checkedAt: clock() });
    return id;
  };
  const current = (): Promise<RunEntry | undefined> =>
    retry(() => registry.current(key, signal), retryDeps(deps));
  /**
   * The run's status by its id. A non-retriable answer other than a refused login (4.x HTTP
   * 400 or `"error":true` for an id TigerGraph forgot, whose shape the reference does not give;
   * a 3.x id GSQL text cannot take) is UNKNOWN: the run is then resumed, read back and, if it
   * does not run, replaced as below, instead of failing every batch on that one id.
   */
  const statusOf = async (id: string): Promise<RunStatus> => {
    try {
      return (
        await retry(
          () =>
            client.runStatus
              ? client.runStatus(tg.graph, id, signal)
              : client.getProgress(tg.graph, id, signal),
          retryDeps(deps),
        )
      ).status;
    } catch (error) {
      if (!isTigerStreamError(error) || error.retriable || isAuthFailure(error)) throw error;
      deps.logger.warn("TigerGraph refused to tell the streaming run's status; taken as unknown", {
        ...log,
        jobId: id,
        error,
      });
      return 'UNKNOWN';
    }
  };
  /** Deletes generations below `generation - 1` (run-registry.ts); a failure only warns. */
  const prune = async (generation: number): Promise<void> => {
    if (registry.prune === undefined || generation < 3) return;
    try {
      await registry.prune(key, generation - 1, signal);
    } catch (error) {
      deps.logger.warn("Could not delete the run registry's old generations", { key, error });
    }
  };

  /**
   * Claims `generation` for `record`. A claim that answers "exists" may be this container's
   * own retried write: read back, the generation holds exactly this record then. A winner
   * that cannot be read yet is never taken for a win: the caller waits and looks again.
   */
  const claim = async (generation: number, record: RunRecord): Promise<boolean> => {
    if (await retry(() => registry.claim(key, generation, record, signal), retryDeps(deps)))
      return true;
    const now = await current();
    if (now?.generation === generation)
      return encodeRunRecord(now.record) === encodeRunRecord(record);
    if (now === undefined || now.generation < generation)
      throw new ControlError(
        'CONTROL_RUN_REGISTRY_STALE',
        `Generation ${generation} of the run registry's ${key} exists but cannot be read yet`,
        { retriable: true, details: { key, generation } },
      );
    return false;
  };

  /** Aborts a run this container started and cannot keep, and reads the abort back. */
  const abortOwn = async (id: string, why: string): Promise<void> => {
    try {
      await retry(
        () => client.abortRun?.(tg.graph, id, signal) ?? Promise.resolve(),
        retryDeps(deps),
      );
    } catch (error) {
      deps.logger.warn('Could not abort the streaming run this container started', {
        jobId: id,
        why,
        error,
      });
    }
    const after = await statusOf(id).catch(() => 'UNKNOWN' as const);
    if (after === 'RUNNING')
      deps.logger.error(
        'A streaming run this container started is still running: abort it (3.x ABORT LOADING JOB <id>)',
        { ...log, jobId: id, why },
      );
    else deps.logger.info('Aborted the streaming run this container started', { jobId: id, why });
  };

  /**
   * Keeps the recorded run going: adopted while running, else resumed under its own id and
   * read back. Undefined when it does not run after the resume.
   */
  const keepRunning = async (id: string): Promise<string | undefined> => {
    const status = await statusOf(id);
    if (status === 'RUNNING') {
      if (known?.id !== id)
        deps.logger.info('Adopted the streaming run of the loading job', { ...log, jobId: id });
      return remember(id);
    }
    if (status === 'UNKNOWN')
      deps.logger.warn(
        'TigerGraph does not say how the streaming run is; resuming it as a stopped run',
        { ...log, jobId: id },
      );
    // A run read as FINISHED is resumed too: a streaming run only ends when stopped (an
    // aborted run read from the documented 4.x shape, no status word and an endTime, looks
    // finished); starting a new run instead would reload the topic.
    if (client.resumeRun !== undefined)
      try {
        await retry(
          () => client.resumeRun?.(tg.graph, id, signal) ?? Promise.resolve(),
          retryDeps(deps),
        );
      } catch (error) {
        // Another container may have resumed it a moment ago; the status read back decides.
        if (!isConflict(error))
          deps.logger.warn('TigerGraph refused to resume the streaming run', { jobId: id, error });
      }
    let after: RunStatus = status;
    for (const wait of RESUME_READ_WAITS_MS) {
      if (wait > 0) await (deps.sleep ?? sleep)(wait, signal);
      after = await statusOf(id);
      if (after === 'RUNNING') {
        deps.logger.info('Resumed the streaming run of the loading job', {
          ...log,
          jobId: id,
          was: status,
        });
        return remember(id);
      }
    }
    deps.logger.warn('The streaming run did not run after the resume', {
      ...log,
      jobId: id,
      was: status,
      now: after,
    });
    return undefined;
  };

  /**
   * Reserves `generation`, then starts the run (once: never retried) and records its id.
   * Undefined when another container won the generation, or replaced it while this one was
   * starting (then this run is aborted): the caller reads the registry again.
   */
  const startAt = async (
    generation: number,
    replacing?: { readonly id: string; readonly own: number | undefined },
  ): Promise<string | undefined> => {
    // The job's definition is read before the claim: the marker stands only while the start
    // itself runs, so a slow definition read cannot make it look stale to others.
    const own = replacing === undefined ? await ownStartOffset() : replacing.own;
    if (!(await claim(generation, { kind: 'starting', owner, at: clock() }))) return undefined;
    if (replacing !== undefined) {
      deps.logger.error(
        own === undefined || own === -2
          ? 'The streaming run could not be resumed; starting a new run from the beginning of the topic: records loaded before are loaded again'
          : `The streaming run could not be resumed; starting a new run from the job's default_start_offset ${own}: records from that offset on that were loaded before are loaded again`,
        { ...log, jobId: replacing.id, generation, defaultStartOffset: own ?? -2 },
      );
      deps.metrics?.addMetric(STREAMING_RUN_RESTARTED_METRIC, 'Count', 1);
    }
    let id: string;
    try {
      id = await start(own);
    } catch (error) {
      // No container starts again for FAILED_RETRY_MS; this batch fails.
      await retry(
        () => registry.update(key, generation, { kind: 'failed', at: clock() }, signal),
        retryDeps(deps),
      ).catch((e: unknown) => {
        deps.logger.warn('Could not mark the failed start in the run registry', { key, error: e });
      });
      throw error;
    }
    try {
      await retry(
        () => registry.update(key, generation, { kind: 'run', id, at: clock() }, signal),
        retryDeps(deps),
      );
    } catch (error) {
      await abortOwn(id, 'it could not be recorded in the run registry');
      throw error;
    }
    const after = await current().catch(() => undefined);
    if (after !== undefined && after.generation > generation) {
      await abortOwn(id, 'another container replaced it in the run registry while it started');
      return undefined;
    }
    await prune(generation);
    return remember(id);
  };

  /**
   * The run of the job TigerGraph lists to adopt: the newest running one, else (with
   * `stopped`) the newest stopped one, which is then resumed: a run a user started before
   * TigerStream took over (running another beside it would only queue, reference section
   * 1.5). FINISHED runs are left: a streaming run never finishes by itself (section 5.4), so
   * those are EOF runs that ended. None when it cannot list. Which topic a listed run reads is
   * not in the listing: one loading job per topic. On 3.x only ids that name the job are
   * listed, so GSQL-started runs (`<graph>_m1.<ms>`, section 2.1) are not found here.
   */
  const discover = async (stopped: boolean): Promise<string | undefined> => {
    if (client.listRuns === undefined) return undefined;
    let runs: LoadingRunSummary[];
    try {
      runs = await retry(
        () => client.listRuns?.(tg.graph, tg.loadingJob, signal) ?? Promise.resolve([]),
        retryDeps(deps),
      );
    } catch (error) {
      deps.logger.warn("Could not list the loading job's runs; none is adopted", {
        ...log,
        error,
      });
      return undefined;
    }
    return (
      runs.filter((r) => r.status === 'RUNNING').at(-1) ??
      (stopped ? runs.filter((r) => r.status !== 'FINISHED').at(-1) : undefined)
    )?.jobId;
  };

  /**
   * Whether TigerGraph's listing shows run `id` as active though its own status did not say
   * running: 3.x SHOW LOADING STATUS ALL lists active runs only (section 2.1), under any word
   * (a queued run's is [UNCONFIRMED]); a 4.x list entry reading running or unknown. A listing
   * that fails answers false (the replacement is still limited by REPLACE_MIN_MS).
   */
  const listedActive = async (id: string): Promise<boolean> => {
    if (client.listRuns === undefined) return false;
    try {
      const runs = await retry(
        () =>
          client.listRuns?.(tg.graph, tg.loadingJob, signal, new Set([id])) ?? Promise.resolve([]),
        retryDeps(deps),
      );
      const run = runs.find((r) => r.jobId === id);
      return run?.status === 'RUNNING' || run?.status === 'UNKNOWN';
    } catch (error) {
      deps.logger.warn("Could not list the loading job's runs", { ...log, jobId: id, error });
      return false;
    }
  };

  /**
   * The recorded run did not run after the resume: kept when listed active, else replaced
   * (see the top of this file). Undefined when another container won the next generation.
   */
  const replace = async (
    generation: number,
    record: Extract<RunRecord, { kind: 'run' }>,
  ): Promise<string | undefined> => {
    const { id } = record;
    if (await listedActive(id)) {
      deps.logger.warn(
        'TigerGraph lists the streaming run as active though its status does not say running (queued, or a word TigerStream does not read): it is kept, not replaced',
        { ...log, jobId: id },
      );
      return remember(id);
    }
    if (record.at !== undefined && clock() - record.at < REPLACE_MIN_MS)
      throw new TigerGraphError(
        'TIGERGRAPH_RUN_NOT_RESUMED',
        `The streaming run ${id} of ${tg.loadingJob} does not run after a resume; it was recorded at ${new Date(record.at).toISOString()} and is replaced by a new run (which loads the topic again from the job's start offset) from ${new Date(record.at + REPLACE_MIN_MS).toISOString()} on. To keep it, resume it in TigerGraph (RESUME LOADING JOB ${id})`,
        { retriable: true, details: { job: tg.loadingJob, jobId: id } },
      );
    // Refused (a -1 default) before the old run is aborted: it is left as it is.
    const own = await ownStartOffset();
    // Aborted first, so the run given up is never left running beside its replacement.
    try {
      await retry(
        () => client.abortRun?.(tg.graph, id, signal) ?? Promise.resolve(),
        retryDeps(deps),
      );
    } catch (error) {
      deps.logger.warn('Could not abort the streaming run before replacing it', {
        ...log,
        jobId: id,
        error,
      });
    }
    if ((await statusOf(id)) === 'RUNNING') {
      deps.logger.info('The streaming run runs after all; adopted', { ...log, jobId: id });
      return remember(id);
    }
    return startAt(generation + 1, { id, own });
  };

  const attempt = async (): Promise<string> => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await current();
      if (entry === undefined) {
        const found = await discover(true);
        if (found !== undefined) {
          // Recorded without a time: TigerStream did not start it, so if it cannot be
          // resumed it may be replaced at once (its replacement is then rate-limited).
          if (await claim(1, { kind: 'run', id: found }))
            deps.logger.info('Recorded the run of the loading job TigerGraph lists', {
              ...log,
              jobId: found,
            });
          continue; // adopted or resumed as a recorded run in the next round
        }
        const id = await startAt(1);
        if (id !== undefined) return id;
        continue;
      }
      const { generation, record } = entry;
      if (record.kind === 'run') {
        const id = (await keepRunning(record.id)) ?? (await replace(generation, record));
        if (id !== undefined) return id;
        continue;
      }
      const age = clock() - record.at;
      if (record.kind === 'starting') {
        if (age < STARTING_STALE_MS) throw starting(tg.loadingJob, record);
        deps.logger.warn(
          'The container that was starting the streaming run never recorded it; a run of the job TigerGraph lists is adopted, else one is started here (on 3.x a run that container may have started is not found: see SHOW LOADING STATUS ALL)',
          { ...log, owner: record.owner, ageMs: age },
        );
      } else if (age < FAILED_RETRY_MS) throw startFailed(tg.loadingJob, record.at);
      // The run of a start whose answer was lost, when TigerGraph lists it.
      const found = await discover(false);
      if (found !== undefined) {
        if (await claim(generation + 1, { kind: 'run', id: found, at: clock() })) {
          deps.logger.info('Adopted the running run of the loading job TigerGraph lists', {
            ...log,
            jobId: found,
          });
          await prune(generation + 1);
          return remember(found);
        }
        continue;
      }
      const id = await startAt(generation + 1);
      if (id !== undefined) return id;
    }
    throw new ControlError(
      'CONTROL_RUN_REGISTRY_STALE',
      `The run registry's ${key} kept changing while this container looked at it`,
      { retriable: true, details: { key } },
    );
  };

  return retry(attempt, {
    ...retryDeps(deps),
    policy: STARTING_WAIT_POLICY,
    isRetriable: (error) => isTigerStreamError(error) && WAIT_CODES.has(error.code),
  });

  /**
   * The job's own `default_start_offset` (section 5.2), when its DEFINE FILENAME sets one: the
   * user's choice of where the job's first run starts. Unreadable: the beginning (-2).
   *
   * @throws TigerGraphError `TIGERGRAPH_JOB_START_OFFSET_LATEST` (not retriable) for -1.
   */
  async function ownStartOffset(): Promise<number | undefined> {
    if (client.jobDefinition === undefined) return undefined;
    let text: string;
    try {
      text = await retry(
        () => client.jobDefinition?.(tg.graph, tg.loadingJob, signal) ?? Promise.resolve(''),
        retryDeps(deps),
      );
    } catch (error) {
      deps.logger.warn(
        "Could not read the loading job's definition; its first run starts at the beginning of the topic",
        { ...log, error },
      );
      return undefined;
    }
    const own = jobDefaultStartOffset(text, tg.loadingFilename);
    if (own === -1) throw startOffsetLatest(tg.loadingJob, tg.loadingFilename);
    return own;
  }

  /** Starts the run: one call, not retried (a lost answer may hide a run that started). */
  async function start(own: number | undefined): Promise<string> {
    const ids = await client.startLoadingJob(
      {
        graph: tg.graph,
        job: tg.loadingJob,
        filename: tg.loadingFilename,
        dataSource: tg.dataSource,
        topic,
        streaming: true,
        // Section 5.2: an empty partition_list is every partition, from default_start_offset.
        partitions: [],
        defaultStartOffset: own ?? -2,
      },
      signal,
    );
    const id = ids[0];
    if (id === undefined)
      throw new TigerGraphError(
        'TIGERGRAPH_JOB_ID_MISSING',
        `TigerGraph started the streaming run of ${tg.loadingJob} without a job id to follow it by`,
        { retriable: false },
      );
    deps.logger.info(
      own === undefined
        ? 'Started the streaming run of the loading job from the beginning of the topic'
        : "Started the streaming run of the loading job from the job's own default_start_offset",
      { ...log, jobId: id, partitions, defaultStartOffset: own ?? -2 },
    );
    return id;
  }
}

/** The registry of a batch: its own, else one in memory per container (its run map). */
function registryOf(deps: PipelineDeps): RunRegistry {
  if (deps.runRegistry !== undefined) return deps.runRegistry;
  const owner = deps.streamingRuns;
  if (owner === undefined) return memoryRunRegistry();
  let registry = fallbackRegistries.get(owner);
  if (registry === undefined) fallbackRegistries.set(owner, (registry = memoryRunRegistry()));
  return registry;
}

/** Another container is starting the run: the batch is delivered again and loses nothing. */
const starting = (job: string, record: Extract<RunRecord, { kind: 'starting' }>): TigerGraphError =>
  new TigerGraphError(
    'TIGERGRAPH_RUN_STARTING',
    `Another container (${record.owner}) has been starting the streaming run of ${job} since ${new Date(record.at).toISOString()}; this batch is delivered again and loses nothing: the run reads the topic from its start offsets`,
    { retriable: true, details: { job, owner: record.owner } },
  );

/** A start failed recently: nothing is started until FAILED_RETRY_MS after it. */
const startFailed = (job: string, at: number): TigerGraphError =>
  new TigerGraphError(
    'TIGERGRAPH_RUN_START_FAILED',
    `The streaming run of ${job} failed to start at ${new Date(at).toISOString()}; it is started again from ${new Date(at + FAILED_RETRY_MS).toISOString()} on (the error of that start is in the log of the invocation that tried); this batch is delivered again and loses nothing`,
    { retriable: true, details: { job } },
  );

/**
 * A streaming job whose DEFINE FILENAME sets default_start_offset -1 (the end of the topic):
 * its run would skip the batch that starts it and whatever a replacement follows.
 */
const startOffsetLatest = (job: string, filename: string): TigerGraphError =>
  new TigerGraphError(
    'TIGERGRAPH_JOB_START_OFFSET_LATEST',
    `Loading job ${job} sets "default_start_offset": -1 (the end of the topic) in DEFINE FILENAME ${filename}; a streaming run started there would never load the records produced before it starts (the batch that starts it, and those produced while a stopped run is replaced), though they count as delivered. Set default_start_offset to -2 (the beginning), to an offset of 0 or more, or leave it out, and run the job definition again; no run was started`,
    { retriable: false, details: { job, filename, defaultStartOffset: -1 } },
  );
