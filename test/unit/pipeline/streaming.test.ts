/**
 * Streaming mode's one run per loading job and topic (lib/pipeline/streaming.ts), against a
 * scripted TigerGraph and the run registry in memory: every path from the registry's entry to
 * the run a container uses, and every failure on the way.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { TigerGraphSettings } from '../../../lib/config/index.ts';
import { encodeKafkaEvent } from '../../../lib/event/index.ts';
import { ControlError, TigerGraphError } from '../../../lib/errors/index.ts';
import { BATCH_FAILED_METRIC, createLogger } from '../../../lib/observability/index.ts';
import {
  FAILED_RETRY_MS,
  REPLACE_MIN_MS,
  STARTING_STALE_MS,
  STREAMING_CHECK_MS,
  STREAMING_RUN_RESTARTED_METRIC,
  ensureStreamingRun,
} from '../../../lib/pipeline/streaming.ts';
import type { Loader, PipelineDeps, StreamingRun } from '../../../lib/pipeline/common.ts';
import {
  createStreamHandler,
  memoryRunRegistry,
  runKey,
  type RunRecord,
  type RunRegistry,
} from '../../../lib/pipeline/index.ts';
import type {
  LoadingJobRun,
  LoadingRunControl,
  LoadingRunSummary,
  RunProgress,
  RunStatus,
  TigerGraphClient,
} from '../../../lib/tigergraph/index.ts';
import { NO_COUNTS } from '../../../lib/tigergraph/index.ts';
import { edit } from '../../helpers/config.ts';
import { FakeDelivery, testConfig } from '../../helpers/fakes.ts';

const TOPIC = 'hello.companies';
const KEY = runKey('G', 'load_company', TOPIC);
const T0 = 1_700_000_000_000;

/** A TigerGraph whose runs, answers and failures a test scripts. */
class ScriptedTigerGraph implements TigerGraphClient, LoadingRunControl {
  readonly starts: LoadingJobRun[] = [];
  readonly status = new Map<string, RunStatus>();
  readonly resumed: string[] = [];
  readonly aborted: string[] = [];
  /** Ids TigerGraph no longer knows how to resume (the resume is refused). */
  readonly unresumable = new Set<string>();
  startFailures: Error[] = [];
  statusFailures: Error[] = [];
  /** Runs the status answer cannot tell (3.x: no block for the id). */
  readonly unreadable = new Set<string>();
  /** Ids whose status call is refused with this error (4.x HTTP 400 for a forgotten id). */
  readonly refused = new Map<string, Error>();
  /** Every run started from now on reads UNKNOWN (a queued run under an unknown word). */
  newRunsUnreadable = false;
  listed: LoadingRunSummary[] = [];
  listFailure: Error | undefined;
  definition: string | Error = '';
  /** Called in the middle of each start (another container acting meanwhile). */
  duringStart: (() => Promise<void>) | undefined;
  /** Aborts that do not take. */
  abortIgnored = false;
  private next = 0;

  async startLoadingJob(run: LoadingJobRun): Promise<string[]> {
    this.starts.push(run);
    await this.duringStart?.();
    const failure = this.startFailures.shift();
    if (failure) throw failure;
    const id = `G_m1.${T0 + ++this.next}`;
    this.status.set(id, 'RUNNING');
    if (this.newRunsUnreadable) {
      this.unreadable.add(id);
      this.unresumable.add(id);
    }
    return [id];
  }
  runStatus(_graph: string, jobId: string): Promise<RunProgress> {
    const failure = this.statusFailures.shift() ?? this.refused.get(jobId);
    if (failure) return Promise.reject(failure);
    const status = this.unreadable.has(jobId) ? 'UNKNOWN' : (this.status.get(jobId) ?? 'UNKNOWN');
    return Promise.resolve({ jobId, status, counts: NO_COUNTS, error: undefined });
  }
  getProgress(graph: string, jobId: string): Promise<RunProgress> {
    return this.runStatus(graph, jobId);
  }
  resumeRun(_graph: string, jobId: string): Promise<void> {
    if (this.unresumable.has(jobId) || !this.status.has(jobId))
      return Promise.reject(
        new TigerGraphError('TIGERGRAPH_GSQL_REFUSED', `cannot resume ${jobId}`, {
          retriable: false,
        }),
      );
    this.resumed.push(jobId);
    this.status.set(jobId, 'RUNNING');
    this.unreadable.delete(jobId);
    return Promise.resolve();
  }
  abortRun(_graph: string, jobId: string): Promise<void> {
    this.aborted.push(jobId);
    if (!this.abortIgnored) this.status.set(jobId, 'ABORTED');
    return Promise.resolve();
  }
  listRuns(): Promise<LoadingRunSummary[]> {
    return this.listFailure ? Promise.reject(this.listFailure) : Promise.resolve(this.listed);
  }
  jobDefinition(): Promise<string> {
    return typeof this.definition === 'string'
      ? Promise.resolve(this.definition)
      : Promise.reject(this.definition);
  }
  postDdl(): Promise<never> {
    return Promise.reject(new Error('not in streaming mode'));
  }
  listVertices(): Promise<never[]> {
    return Promise.resolve([]);
  }
  running(): string[] {
    return [...this.status].filter(([, s]) => s === 'RUNNING').map(([id]) => id);
  }
}

const SETTINGS = {
  graph: 'G',
  loadingJob: 'load_company',
  loadingFilename: 'f1',
  dataSource: 'k1',
} as unknown as TigerGraphSettings;

/** One Lambda container: its own run cache, the shared registry and TigerGraph, a test clock. */
function world(registry: RunRegistry = memoryRunRegistry()) {
  const tg = new ScriptedTigerGraph();
  const lines: Record<string, unknown>[] = [];
  const metrics: string[] = [];
  const waits: number[] = [];
  const clock = { now: T0 };
  const logger = createLogger({
    level: 'debug',
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  const container = (requestId = 'req') => {
    const streamingRuns = new Map<string, StreamingRun>();
    const deps = {
      logger,
      runRegistry: registry,
      streamingRuns,
      requestId,
      now: () => clock.now,
      sleep: (ms: number) => {
        waits.push(ms);
        clock.now += ms;
        return Promise.resolve();
      },
      retryPolicy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
      metrics: { addMetric: (name: string) => metrics.push(name) },
    } as unknown as PipelineDeps;
    const loader: Loader = { settings: SETTINGS, client: tg };
    return { run: () => ensureStreamingRun(deps, loader, TOPIC, 3), streamingRuns };
  };
  const messages = (level?: string) =>
    lines.filter((l) => level === undefined || l.level === level).map((l) => l.message);
  return { tg, registry, container, clock, metrics, waits, messages, lines };
}

const record = (registry: RunRegistry, generation: number, r: RunRecord) =>
  registry.claim(KEY, generation, r);

/** A 3.x job definition whose DEFINE FILENAME f1 sets `default_start_offset`. */
const definitionAt = (offset: number): string =>
  `DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"t\\",\\"default_start_offset\\":${offset}}";`;

describe('the first streaming run of a job', () => {
  it('reserves generation 1, starts once over every partition (an empty partition list) from the beginning, records the id', async () => {
    const w = world();
    const id = await w.container().run();
    expect(w.tg.starts).toEqual([
      expect.objectContaining({
        topic: TOPIC,
        streaming: true,
        partitions: [],
        defaultStartOffset: -2,
      }),
    ]);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'run', id, at: T0 },
    });
  });

  it("starts at the job's own default_start_offset", async () => {
    const w = world();
    w.tg.definition = definitionAt(42);
    await w.container().run();
    expect(w.tg.starts[0]).toMatchObject({ partitions: [], defaultStartOffset: 42 });
  });

  it('a job default of -1 (the end of the topic) is refused: TIGERGRAPH_JOB_START_OFFSET_LATEST, not retriable, naming the job and what is allowed; nothing claimed or started', async () => {
    const w = world();
    w.tg.definition = definitionAt(-1);
    const failure = w.container().run();
    await expect(failure).rejects.toMatchObject({
      code: 'TIGERGRAPH_JOB_START_OFFSET_LATEST',
      retriable: false,
      details: { job: 'load_company', filename: 'f1', defaultStartOffset: -1 },
    });
    await expect(failure).rejects.toThrow(
      /load_company sets "default_start_offset": -1 .* DEFINE FILENAME f1; .* Set default_start_offset to -2 \(the beginning\), to an offset of 0 or more, or leave it out/,
    );
    expect(w.tg.starts).toEqual([]);
    // No generation reserved: once the job is fixed, the next batch starts generation 1.
    expect(await w.registry.current(KEY)).toBeUndefined();
    w.tg.definition = definitionAt(-2);
    await w.container().run();
    expect(w.tg.starts).toEqual([expect.objectContaining({ defaultStartOffset: -2 })]);
  });

  it('an unreadable job definition starts at the beginning, with a warning', async () => {
    const w = world();
    w.tg.definition = new TigerGraphError('TIGERGRAPH_HTTP_404', 'no job', { retriable: false });
    await w.container().run();
    expect(w.tg.starts[0]).toMatchObject({ defaultStartOffset: -2 });
    expect(w.messages('WARN')).toContain(
      "Could not read the loading job's definition; its first run starts at the beginning of the topic",
    );
  });

  it("records and resumes the user's stopped run TigerGraph lists when none runs; FINISHED (EOF) runs are left", async () => {
    const w = world();
    w.tg.listed = [
      { jobId: 'G.load_company.stopped', status: 'ABORTED' },
      { jobId: 'G.load_company.eof', status: 'FINISHED' },
    ];
    w.tg.status.set('G.load_company.stopped', 'ABORTED');
    expect(await w.container().run()).toBe('G.load_company.stopped');
    expect(w.tg.resumed).toEqual(['G.load_company.stopped']);
    expect(w.tg.starts).toEqual([]);
  });

  it('only FINISHED runs listed: a run is started', async () => {
    const w = world();
    w.tg.listed = [{ jobId: 'G.load_company.eof', status: 'FINISHED' }];
    await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
  });

  it('adopts and records a running run of the job TigerGraph lists (one a user started)', async () => {
    const w = world();
    w.tg.listed = [
      { jobId: 'G.load_company.old', status: 'ABORTED' },
      { jobId: 'G.load_company.users', status: 'RUNNING' },
    ];
    w.tg.status.set('G.load_company.users', 'RUNNING');
    expect(await w.container().run()).toBe('G.load_company.users');
    expect(w.tg.starts).toEqual([]);
    expect(await w.registry.current(KEY)).toMatchObject({
      generation: 1,
      record: { kind: 'run', id: 'G.load_company.users' },
    });
  });

  it('a listing that fails is not fatal: the run is started', async () => {
    const w = world();
    w.tg.listFailure = new TigerGraphError('TIGERGRAPH_HTTP_404', 'no list', { retriable: false });
    await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
  });

  it('a failed start is not retried: its generation is marked failed and the batch fails; the next batch starts in the next generation', async () => {
    const w = world();
    w.tg.startFailures.push(
      new TigerGraphError('TIGERGRAPH_UNREACHABLE', 'timed out', { retriable: true }),
    );
    await expect(w.container().run()).rejects.toMatchObject({ code: 'TIGERGRAPH_UNREACHABLE' });
    expect(w.tg.starts).toHaveLength(1);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'failed', at: T0 },
    });
    // Within FAILED_RETRY_MS nothing is started and no generation claimed.
    await expect(w.container().run()).rejects.toMatchObject({
      code: 'TIGERGRAPH_RUN_START_FAILED',
      retriable: true,
    });
    expect(w.tg.starts).toHaveLength(1);
    expect(await w.registry.current(KEY)).toMatchObject({ generation: 1 });
    w.clock.now += FAILED_RETRY_MS;
    const id = await w.container().run();
    expect(w.tg.starts).toHaveLength(2);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 2,
      record: { kind: 'run', id, at: T0 + FAILED_RETRY_MS },
    });
  });

  it('a run that cannot be recorded after its start is aborted, and the batch fails', async () => {
    const inner = memoryRunRegistry();
    const failing: RunRegistry = {
      current: (k, s) => inner.current(k, s),
      claim: (k, g, r, s) => inner.claim(k, g, r, s),
      update: (k, g, r, s) =>
        r.kind === 'run' ? Promise.reject(new Error('SSM is down')) : inner.update(k, g, r, s),
    };
    const w = world(failing);
    await expect(w.container().run()).rejects.toThrow('SSM is down');
    expect(w.tg.aborted).toEqual([`G_m1.${T0 + 1}`]);
    expect(w.tg.running()).toEqual([]);
  });

  it('a claim that throws fails the batch before anything starts', async () => {
    const w = world({
      current: () => Promise.resolve(undefined),
      claim: () => Promise.reject(new Error('AccessDeniedException')),
      update: () => Promise.resolve(),
    });
    await expect(w.container().run()).rejects.toThrow('AccessDeniedException');
    expect(w.tg.starts).toEqual([]);
  });

  it('an abort that throws is logged; the run is read back', async () => {
    const w = world();
    w.tg.abortRun = () => Promise.reject(new Error('GSQL down'));
    w.tg.status.set('G_m1.newer', 'RUNNING');
    w.tg.duringStart = async () => {
      w.tg.duringStart = undefined;
      await w.registry.claim(KEY, 2, { kind: 'run', id: 'G_m1.newer' });
    };
    expect(await w.container().run()).toBe('G_m1.newer');
    expect(w.messages('WARN')).toContain(
      'Could not abort the streaming run this container started',
    );
    expect(w.messages('ERROR')).toContain(
      'A streaming run this container started is still running: abort it (3.x ABORT LOADING JOB <id>)',
    );
  });

  it('a registry that cannot be read fails the batch before anything starts', async () => {
    const w = world({
      current: () => Promise.reject(new Error('ThrottlingException')),
      claim: () => Promise.resolve(true),
      update: () => Promise.resolve(),
    });
    await expect(w.container().run()).rejects.toThrow('ThrottlingException');
    expect(w.tg.starts).toEqual([]);
  });
});

describe('a recorded run', () => {
  it('running: adopted, and not asked again within STREAMING_CHECK_MS', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.status.set('G_m1.1', 'RUNNING');
    const c = w.container();
    expect(await c.run()).toBe('G_m1.1');
    w.tg.statusFailures.push(new Error('must not be asked'));
    w.clock.now += STREAMING_CHECK_MS - 1;
    expect(await c.run()).toBe('G_m1.1');
    expect(w.tg.statusFailures).toHaveLength(1);
    w.tg.statusFailures.length = 0;
    w.clock.now += 2;
    expect(await c.run()).toBe('G_m1.1');
    expect(w.tg.starts).toEqual([]);
  });

  it('the registry, not the cached id, decides after STREAMING_CHECK_MS', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.status.set('G_m1.1', 'RUNNING');
    const c = w.container();
    await c.run();
    await record(w.registry, 2, { kind: 'run', id: 'G_m1.2' });
    w.tg.status.set('G_m1.2', 'RUNNING');
    w.clock.now += STREAMING_CHECK_MS;
    expect(await c.run()).toBe('G_m1.2');
    expect(w.tg.resumed).toEqual([]);
  });

  for (const stopped of ['ABORTED', 'PAUSED', 'FAILED', 'FINISHED'] as const)
    it(`${stopped}: resumed under its own id and read back`, async () => {
      const w = world();
      await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
      w.tg.status.set('G_m1.1', stopped);
      expect(await w.container().run()).toBe('G_m1.1');
      expect(w.tg.resumed).toEqual(['G_m1.1']);
      expect(w.tg.starts).toEqual([]);
      expect(w.messages('INFO')).toContain('Resumed the streaming run of the loading job');
    });

  it('whose status TigerGraph cannot tell is treated as stopped (a warning) and resumed', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.status.set('G_m1.1', 'RUNNING');
    w.tg.unreadable.add('G_m1.1');
    expect(await w.container().run()).toBe('G_m1.1');
    expect(w.messages('WARN')).toContain(
      'TigerGraph does not say how the streaming run is; resuming it as a stopped run',
    );
    expect(w.tg.resumed).toEqual(['G_m1.1']);
  });

  it('that cannot be resumed: a new run in the next generation, an error log and a metric (the one reload)', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    const id = await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 2,
      record: { kind: 'run', id, at: T0 + 1250 },
    });
    expect(w.messages('ERROR')).toContain(
      'The streaming run could not be resumed; starting a new run from the beginning of the topic: records loaded before are loaded again',
    );
    expect(w.metrics).toEqual([STREAMING_RUN_RESTARTED_METRIC]);
    // The status was read back after the refused resume, with waits, before giving up.
    expect(w.waits).toEqual([250, 1000]);
    // The run given up was aborted before its replacement started.
    expect(w.tg.aborted).toEqual(['G_m1.gone']);
  });

  it('that cannot be resumed, the job starting at an offset: the error log names the offset it reloads from', async () => {
    const w = world();
    w.tg.definition = definitionAt(500);
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    await w.container().run();
    expect(w.tg.starts).toEqual([expect.objectContaining({ defaultStartOffset: 500 })]);
    expect(w.messages('ERROR')).toContain(
      "The streaming run could not be resumed; starting a new run from the job's default_start_offset 500: records from that offset on that were loaded before are loaded again",
    );
  });

  it('that cannot be resumed, the job now starting at -1: refused before the old run is aborted; nothing started, no generation claimed', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    w.tg.definition = definitionAt(-1);
    await expect(w.container().run()).rejects.toMatchObject({
      code: 'TIGERGRAPH_JOB_START_OFFSET_LATEST',
    });
    expect(w.tg.aborted).toEqual([]);
    expect(w.tg.starts).toEqual([]);
    expect(w.metrics).toEqual([]);
    expect((await w.registry.current(KEY))?.generation).toBe(1);
  });

  it('recorded less than REPLACE_MIN_MS ago and not resumable: TIGERGRAPH_RUN_NOT_RESUMED (retriable), nothing aborted or started; replaced after', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone', at: T0 });
    const error = await w
      .container()
      .run()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_RUN_NOT_RESUMED', retriable: true });
    expect((error as Error).message).toContain('RESUME LOADING JOB G_m1.gone');
    expect(w.tg.starts).toEqual([]);
    expect(w.tg.aborted).toEqual([]);
    w.clock.now = T0 + REPLACE_MIN_MS;
    await w.container().run();
    expect(w.tg.aborted).toEqual(['G_m1.gone']);
    expect(w.tg.starts).toHaveLength(1);
  });

  it('not running after the resume but listed active (a queued run under another word): kept, nothing aborted or started', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.queued' });
    w.tg.status.set('G_m1.queued', 'RUNNING');
    w.tg.unreadable.add('G_m1.queued');
    w.tg.unresumable.add('G_m1.queued');
    w.tg.listed = [{ jobId: 'G_m1.queued', status: 'UNKNOWN' }];
    expect(await w.container().run()).toBe('G_m1.queued');
    expect(w.tg.starts).toEqual([]);
    expect(w.tg.aborted).toEqual([]);
    expect(w.messages('WARN')).toContain(
      'TigerGraph lists the streaming run as active though its status does not say running (queued, or a word TigerStream does not read): it is kept, not replaced',
    );
  });

  it('a listing that fails does not keep it: the replacement goes on (limited by REPLACE_MIN_MS)', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    w.tg.listFailure = new TigerGraphError('TIGERGRAPH_HTTP_500', 'down', { retriable: false });
    await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(w.messages('WARN')).toContain("Could not list the loading job's runs");
  });

  it('runs after the abort before its replacement (its status was unreadable): adopted, nothing started', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.status.set('G_m1.1', 'RUNNING');
    w.tg.unreadable.add('G_m1.1');
    w.tg.unresumable.add('G_m1.1');
    w.tg.abortRun = (_graph, jobId) => {
      w.tg.unreadable.delete(jobId); // the abort does not take; the status reads again
      return Promise.resolve();
    };
    expect(await w.container().run()).toBe('G_m1.1');
    expect(w.tg.starts).toEqual([]);
    expect(w.messages('INFO')).toContain('The streaming run runs after all; adopted');
  });

  it('an abort that throws before a replacement is logged; the replacement starts', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    w.tg.abortRun = () => Promise.reject(new Error('GSQL down'));
    await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(w.messages('WARN')).toContain('Could not abort the streaming run before replacing it');
  });

  it('whose status is never readable: two containers over 20 minutes start at most one run per REPLACE_MIN_MS, each replaced run aborted, one running', async () => {
    const w = world();
    w.tg.newRunsUnreadable = true;
    for (let minute = 0; minute <= 20; minute++) {
      w.clock.now = T0 + minute * 60_000;
      for (const c of ['a', 'b'])
        await w
          .container(c)
          .run()
          .catch((e: unknown) => {
            expect(e).toMatchObject({ code: 'TIGERGRAPH_RUN_NOT_RESUMED' });
          });
    }
    expect(w.tg.starts.length).toBeLessThanOrEqual(1 + (20 * 60_000) / REPLACE_MIN_MS);
    expect(w.tg.running()).toHaveLength(1);
    expect(w.tg.aborted).toHaveLength(w.tg.starts.length - 1);
  });

  it('whose status call is refused (4.x HTTP 400 for a forgotten id): taken as unknown, resumed, then replaced; no batch stalls on it', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G.load_company.forgotten' });
    w.tg.refused.set(
      'G.load_company.forgotten',
      new TigerGraphError('TIGERGRAPH_HTTP_400', 'bad id', {
        retriable: false,
        details: { status: 400 },
      }),
    );
    const id = await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(await w.registry.current(KEY)).toMatchObject({ generation: 2, record: { id } });
    expect(w.messages('WARN')).toContain(
      "TigerGraph refused to tell the streaming run's status; taken as unknown",
    );
  });

  it('a refused login on the status call is not taken as unknown: the batch fails with it', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.refused.set(
      'G_m1.1',
      new TigerGraphError('TIGERGRAPH_HTTP_401', 'no', {
        retriable: false,
        details: { status: 401 },
      }),
    );
    await expect(w.container().run()).rejects.toMatchObject({ code: 'TIGERGRAPH_HTTP_401' });
    expect(w.tg.resumed).toEqual([]);
    expect(w.tg.starts).toEqual([]);
  });

  it('a status that cannot be read fails the batch (retriable): nothing is resumed or started', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.1' });
    w.tg.status.set('G_m1.1', 'ABORTED');
    const down = new TigerGraphError('TIGERGRAPH_UNREACHABLE', 'down', { retriable: true });
    w.tg.statusFailures.push(down, down, down);
    await expect(w.container().run()).rejects.toMatchObject({
      code: 'TIGERGRAPH_UNREACHABLE',
      retriable: true,
    });
    expect(w.tg.resumed).toEqual([]);
    expect(w.tg.starts).toEqual([]);
  });
});

describe('markers and races', () => {
  it("a fresh starting marker: waits within the invocation and adopts the starter's run once recorded", async () => {
    const reg = memoryRunRegistry();
    await record(reg, 1, { kind: 'starting', owner: 'other', at: T0 });
    let looks = 0;
    // The other container records its run while this one waits.
    const watching: RunRegistry = {
      current: async (k, s) => {
        if (++looks === 3) await reg.update(KEY, 1, { kind: 'run', id: 'G_m1.theirs' });
        return reg.current(k, s);
      },
      claim: (k, g, r, s) => reg.claim(k, g, r, s),
      update: (k, g, r, s) => reg.update(k, g, r, s),
    };
    const w = world(watching);
    w.tg.status.set('G_m1.theirs', 'RUNNING');
    expect(await w.container().run()).toBe('G_m1.theirs');
    expect(w.tg.starts).toEqual([]);
    expect(w.waits).toHaveLength(2);
  });

  it('a fresh starting marker that stays: TIGERGRAPH_RUN_STARTING, retriable, nothing started', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'starting', owner: 'other.1', at: T0 });
    const error = await w
      .container()
      .run()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_RUN_STARTING', retriable: true });
    expect((error as Error).message).toContain('loses nothing');
    expect(w.tg.starts).toEqual([]);
  });

  it('a stale starting marker (the starter died): the next generation is claimed and started', async () => {
    const w = world();
    await record(w.registry, 1, {
      kind: 'starting',
      owner: 'dead',
      at: T0 - STARTING_STALE_MS - 1,
    });
    const id = await w.container().run();
    expect(await w.registry.current(KEY)).toEqual({
      generation: 2,
      record: { kind: 'run', id, at: T0 },
    });
    expect(w.messages('WARN')).toContain(
      'The container that was starting the streaming run never recorded it; a run of the job TigerGraph lists is adopted, else one is started here (on 3.x a run that container may have started is not found: see SHOW LOADING STATUS ALL)',
    );
  });

  it('a stale starting marker whose run TigerGraph lists running (the starter died after its start): adopted in the next generation, nothing started', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'starting', owner: 'dead', at: T0 - STARTING_STALE_MS });
    w.tg.listed = [{ jobId: 'G.load_company.lost', status: 'RUNNING' }];
    w.tg.status.set('G.load_company.lost', 'RUNNING');
    expect(await w.container().run()).toBe('G.load_company.lost');
    expect(w.tg.starts).toEqual([]);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 2,
      record: { kind: 'run', id: 'G.load_company.lost', at: T0 },
    });
  });

  it('a failed marker: nothing is started within FAILED_RETRY_MS; after it, the next generation, where a listed stopped run is not adopted', async () => {
    const w = world();
    await record(w.registry, 3, { kind: 'failed', at: T0 });
    w.tg.listed = [{ jobId: 'G.load_company.old', status: 'ABORTED' }];
    w.clock.now = T0 + FAILED_RETRY_MS - 1;
    const error = await w
      .container()
      .run()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_RUN_START_FAILED', retriable: true });
    expect((error as Error).message).toContain('loses nothing');
    expect(await w.registry.current(KEY)).toMatchObject({ generation: 3 });
    w.clock.now += 1;
    const id = await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(await w.registry.current(KEY)).toEqual({
      generation: 4,
      record: { kind: 'run', id, at: T0 + FAILED_RETRY_MS },
    });
  });

  it('after a run is recorded, generations older than the one before it are pruned; a prune that fails only warns', async () => {
    const inner = memoryRunRegistry();
    const pruned: number[] = [];
    let fail = false;
    const w = world({
      current: (k, s) => inner.current(k, s),
      claim: (k, g, r, s) => inner.claim(k, g, r, s),
      update: (k, g, r, s) => inner.update(k, g, r, s),
      prune: (k, below, s) => {
        pruned.push(below);
        return fail
          ? Promise.reject(new Error('AccessDeniedException'))
          : (inner.prune?.(k, below, s) ?? Promise.resolve());
      },
    });
    for (const g of [1, 2, 3])
      await inner.claim(KEY, g, { kind: 'failed', at: T0 - FAILED_RETRY_MS });
    await w.container().run();
    expect(pruned).toEqual([3]);
    for (const g of [1, 2]) expect(await inner.claim(KEY, g, { kind: 'failed', at: 0 })).toBe(true);
    expect(await inner.claim(KEY, 3, { kind: 'failed', at: 0 })).toBe(false);
    fail = true;
    await inner.update(KEY, 4, { kind: 'failed', at: T0 - FAILED_RETRY_MS });
    await w.container().run();
    expect(pruned).toEqual([3, 4]);
    expect(w.messages('WARN')).toContain("Could not delete the run registry's old generations");
  });

  it("reads the job's definition before it reserves the generation", async () => {
    const inner = memoryRunRegistry();
    const events: string[] = [];
    const w = world({
      current: (k, s) => inner.current(k, s),
      claim: (k, g, r, s) => {
        events.push(`claim ${r.kind}`);
        return inner.claim(k, g, r, s);
      },
      update: (k, g, r, s) => inner.update(k, g, r, s),
    });
    w.tg.jobDefinition = () => {
      events.push('definition');
      return Promise.resolve('');
    };
    await w.container().run();
    expect(events).toEqual(['definition', 'claim starting']);
  });

  it("a lost claim: the winner's run is adopted, nothing started", async () => {
    const inner = memoryRunRegistry();
    const racing: RunRegistry = {
      current: (k, s) => inner.current(k, s),
      // Another container claims the generation just before this one.
      claim: async (k, g, r, s) => {
        await inner.claim(k, g, { kind: 'run', id: 'G_m1.winner' }, s);
        return inner.claim(k, g, r, s);
      },
      update: (k, g, r, s) => inner.update(k, g, r, s),
    };
    const w = world(racing);
    w.tg.status.set('G_m1.winner', 'RUNNING');
    expect(await w.container().run()).toBe('G_m1.winner');
    expect(w.tg.starts).toEqual([]);
  });

  it('a claim that answers "exists" for its own retried write is this container\'s win', async () => {
    const inner = memoryRunRegistry();
    const retried: RunRegistry = {
      current: (k, s) => inner.current(k, s),
      // The write took, its answer was lost, the retry finds the parameter there.
      claim: async (k, g, r, s) => {
        await inner.claim(k, g, r, s);
        return false;
      },
      update: (k, g, r, s) => inner.update(k, g, r, s),
    };
    const w = world(retried);
    const id = await w.container().run();
    expect(w.tg.starts).toHaveLength(1);
    expect(await inner.current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'run', id, at: T0 },
    });
  });

  it('a lost claim whose winner cannot be read yet is never taken for a win', async () => {
    const w = world({
      current: () => Promise.resolve(undefined),
      claim: () => Promise.resolve(false),
      update: () => Promise.resolve(),
    });
    await expect(w.container().run()).rejects.toMatchObject({
      code: 'CONTROL_RUN_REGISTRY_STALE',
      retriable: true,
    });
    expect(w.tg.starts).toEqual([]);
  });

  it('replaced in the registry while starting (its marker went stale): aborts its own run and adopts the newer', async () => {
    const w = world();
    w.tg.status.set('G_m1.newer', 'RUNNING');
    w.tg.duringStart = async () => {
      w.tg.duringStart = undefined;
      await w.registry.claim(KEY, 2, { kind: 'run', id: 'G_m1.newer' });
    };
    expect(await w.container().run()).toBe('G_m1.newer');
    expect(w.tg.starts).toHaveLength(1);
    expect(w.tg.aborted).toHaveLength(1);
    expect(w.tg.running()).toEqual(['G_m1.newer']);
  });

  it('an abort that does not take is read back and logged as an error', async () => {
    const w = world();
    w.tg.abortIgnored = true;
    w.tg.status.set('G_m1.newer', 'RUNNING');
    w.tg.duringStart = async () => {
      w.tg.duringStart = undefined;
      await w.registry.claim(KEY, 2, { kind: 'run', id: 'G_m1.newer' });
    };
    await w.container().run();
    expect(w.messages('ERROR')).toContain(
      'A streaming run this container started is still running: abort it (3.x ABORT LOADING JOB <id>)',
    );
  });

  it('two containers at once end with one run started and both on it', async () => {
    const w = world();
    const [a, b] = await Promise.all([w.container('a').run(), w.container('b').run()]);
    expect(a).toBe(b);
    expect(w.tg.starts).toHaveLength(1);
    expect(w.tg.running()).toEqual([a]);
  });

  it('a recorded run TigerGraph no longer knows, two containers at once: one new run, both on it', async () => {
    const w = world();
    await record(w.registry, 1, { kind: 'run', id: 'G_m1.gone' });
    const [a, b] = await Promise.all([w.container('a').run(), w.container('b').run()]);
    expect(a).toBe(b);
    expect(w.tg.starts).toHaveLength(1);
    expect(w.tg.running()).toEqual([a]);
    expect(await w.registry.current(KEY)).toMatchObject({
      generation: 2,
      record: { kind: 'run', id: a },
    });
  });
});

describe('the stream handler in streaming mode', () => {
  const event = JSON.parse(
    JSON.stringify(
      encodeKafkaEvent(
        [
          {
            topic: 'companies',
            partition: 0,
            offset: 1,
            timestamp: T0,
            timestampType: 'CREATE_TIME',
            key: null,
            value: Buffer.from('{"company":"A"}'),
            headers: [],
          },
        ],
        { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:1' },
      ),
    ),
  ) as unknown;
  const context = { awsRequestId: 'req-42', getRemainingTimeInMillis: () => 60_000 } as Context;
  const handlerWith = (registry: RunRegistry, tg: ScriptedTigerGraph, metrics: string[]) =>
    createStreamHandler({
      loadConfig: () => Promise.resolve(testConfig(edit('tigergraph.loading.eof', 'false'))),
      createDelivery: () => new FakeDelivery({ 'hello.companies': 3 }),
      resolveBrokers: (value) => Promise.resolve(value),
      createTigerGraph: () => tg,
      logger: createLogger({ level: 'silent' }),
      metrics: { addMetric: (name: string) => metrics.push(name) },
      retryPolicy: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
      runRegistry: registry,
    });

  it('a run registry that cannot be read fails the invocation with its code (the batch is redelivered)', async () => {
    const tg = new ScriptedTigerGraph();
    const metrics: string[] = [];
    const failing: RunRegistry = {
      current: () =>
        Promise.reject(
          new ControlError('CONTROL_RUN_REGISTRY_FAILED', 'SSM could not read', {
            retriable: true,
          }),
        ),
      claim: () => Promise.resolve(true),
      update: () => Promise.resolve(),
    };
    const handler = handlerWith(failing, tg, metrics);
    await expect(handler(event, context)).rejects.toMatchObject({
      code: 'CONTROL_RUN_REGISTRY_FAILED',
    });
    await handler.close();
    expect(tg.starts).toEqual([]);
    expect(metrics).toContain(BATCH_FAILED_METRIC);
  });

  it("marks the start with the invocation's request id, then records the run", async () => {
    const tg = new ScriptedTigerGraph();
    const inner = memoryRunRegistry();
    const claims: RunRecord[] = [];
    const watching: RunRegistry = {
      current: (k, s) => inner.current(k, s),
      claim: (k, g, r, s) => {
        claims.push(r);
        return inner.claim(k, g, r, s);
      },
      update: (k, g, r, s) => inner.update(k, g, r, s),
    };
    const handler = handlerWith(watching, tg, []);
    const result = await handler(event, context);
    await handler.close();
    expect(claims).toHaveLength(1);
    expect(claims[0]?.kind).toBe('starting');
    expect(claims[0]?.kind === 'starting' && claims[0].owner).toMatch(/^req-42\.[0-9a-f]{8}$/);
    expect(await inner.current(runKey('Company_Graph', 'load_company', 'hello.companies'))).toEqual(
      {
        generation: 1,
        record: { kind: 'run', id: result.jobIds[0], at: expect.any(Number) as number },
      },
    );
  });
});
