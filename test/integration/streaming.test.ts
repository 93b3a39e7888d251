/**
 * Streaming mode (tigergraph.loading.eof=false) as Lambda runs it: several containers, one
 * streaming run per loading job, adopted, resumed, never a second, and every record loaded;
 * and as `tgstream run` runs it, one process after another sharing a file registry.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import {
  createStreamHandler,
  fileRunRegistry,
  memoryRunRegistry,
  runKey,
  type RunRegistry,
  type StreamHandler,
} from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { COMPANY_GSQL, startEnv, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'streaming',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** A TigerGraph dialect and how the connector logs in (none: an emulator without auth). */
interface Dialect {
  readonly version: 3 | 4;
  readonly login?: { readonly username: string; readonly password: string };
}
const V3: Dialect = { version: 3 };
const V4_PASSWORD: Dialect = { version: 4, login: { username: 'tigergraph', password: 'pw' } };

/** The env's settings and emulator options for `dialect`, in streaming mode. */
const streamingEnv = (dialect: Dialect) => ({
  settings: {
    'tigergraph.loading.eof': 'false',
    'tigergraph.version': String(dialect.version),
    ...(dialect.login === undefined
      ? {}
      : {
          'tigergraph.auth.username': dialect.login.username,
          'tigergraph.auth.password': dialect.login.password,
        }),
  },
  emulator: dialect.login ?? {},
});

/** Lambda containers of one connector over `env`, sharing one run registry as SSM does. */
function harness(
  envOf: () => Env,
  registry: RunRegistry = memoryRunRegistry(),
  dialect: Dialect = V3,
) {
  const containers: StreamHandler[] = [];
  const offsets: number[] = [];
  /** A new Lambda container: its own handler, producer and memory of runs. */
  const container = (): StreamHandler => {
    const h = createStreamHandler({
      loadConfig: () => Promise.resolve(withSettings(envOf().config, {})),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
      // Shared by every container, as the connector's SSM path is in Lambda.
      runRegistry: registry,
    });
    containers.push(h);
    return h;
  };
  const batch = (partition: number, names: string[]): unknown => {
    const records: KafkaRecord[] = names.map((company) => ({
      topic: envOf().source,
      partition,
      offset: (offsets[partition] = (offsets[partition] ?? -1) + 1),
      timestamp: Date.now(),
      timestampType: 'CREATE_TIME',
      key: Buffer.from(company),
      value: Buffer.from(JSON.stringify({ company, employee_num: 1 })),
      headers: [],
    }));
    return JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' }),
      ),
    ) as unknown;
  };
  const names = (prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const tg = () =>
    createTigerGraphClient({
      url: envOf().tg.url,
      version: dialect.version,
      ...(dialect.login === undefined ? {} : { auth: dialect.login }),
    });
  const loadedNames = async (): Promise<string[]> =>
    (await tg().listVertices('Company_Graph', 'Company')).map((v) => v.v_id).sort();
  /** Waits until the graph holds `count` vertices (the streaming run loads asynchronously). */
  const waitForVertices = async (count: number): Promise<string[]> => {
    const until = Date.now() + 20_000;
    let got = await loadedNames();
    while (got.length < count && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      got = await loadedNames();
    }
    return got;
  };
  const close = async (): Promise<void> => {
    for (const c of containers) await c.close();
  };
  /** The registry key of the env's job and target topic. */
  const key = () => runKey('Company_Graph', 'load_company', envOf().target);
  return { container, batch, names, tg, loadedNames, waitForVertices, close, registry, key };
}

describe.each([
  ['3.x', V3],
  ['4.x with username and password', V4_PASSWORD],
] as const)('one streaming run per loading job, shared by every container (%s)', (_, dialect) => {
  let env: Env;
  const { container, batch, names, tg, waitForVertices, close, registry, key } = harness(
    () => env,
    memoryRunRegistry(),
    dialect,
  );
  beforeAll(async () => {
    env = await startEnv({ partitions: 2, ...streamingEnv(dialect) });
  });
  afterAll(async () => {
    await close();
    await env.stop();
  });

  const streamingRuns = () => env.tg.runs().filter((r) => r.streaming);
  const running = () => streamingRuns().filter((r) => r.status === 'RUNNING');

  it('two containers producing to different partitions while the run starts end with one run and every record loaded', async () => {
    const [a, b] = await Promise.all([
      container()(batch(0, names('a', 10)), context),
      container()(batch(1, names('b', 10)), context),
    ]);
    expect(a.jobIds).toHaveLength(1);
    expect(b.jobIds).toEqual(a.jobIds);
    // One container reserved the start in the registry; the other waited for its run.
    expect(streamingRuns().map((r) => r.id)).toEqual(a.jobIds);
    expect(running().map((r) => r.id)).toEqual(a.jobIds);
    // 3.x GSQL-started ids name no job (section 2.1): the registry is how b found a's run.
    if (dialect.version === 3) expect(a.jobIds[0]).toMatch(/^Company_Graph_m1\.\d{13}$/);
    expect(await registry.current(key())).toMatchObject({
      generation: 1,
      record: { kind: 'run', id: a.jobIds[0] },
    });
    expect(await waitForVertices(20)).toEqual([...names('a', 10), ...names('b', 10)].sort());
  });

  it('a recycled container adopts the running run instead of starting another', async () => {
    const [run] = running();
    const before = streamingRuns().length;
    const c = await container()(batch(0, names('c', 3)), context);
    expect(c.jobIds).toEqual([run?.id]);
    expect(streamingRuns()).toHaveLength(before);
    expect((await waitForVertices(23)).length).toBe(23);
  });

  it('a run that was aborted is resumed under its own id by the next container and loads nothing twice', async () => {
    const [run] = running();
    const before = streamingRuns().length;
    const client = tg();
    await client.abortRun('Company_Graph', run?.id as string);
    expect(running()).toHaveLength(0);
    const linesBefore = run?.stats.validLine ?? 0;
    const d = await container()(batch(1, names('d', 4)), context);
    expect(d.jobIds).toEqual([run?.id]);
    expect(streamingRuns()).toHaveLength(before);
    expect(running().map((r) => r.id)).toEqual([run?.id]);
    expect((await waitForVertices(27)).length).toBe(27);
    // Resumed where it stopped: exactly the 4 new lines, none of the 23 before again.
    const until = Date.now() + 5000;
    while ((run?.stats.validLine ?? 0) < linesBefore + 4 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(run?.stats.validLine).toBe(linesBefore + 4);
  });

  it('a recorded run TigerGraph no longer knows, two containers at once: one new run RUNNING, both on it', async () => {
    for (const r of running()) await tg().abortRun('Company_Graph', r.id);
    const entry = await registry.current(key());
    await registry.claim(key(), (entry?.generation ?? 0) + 1, {
      kind: 'run',
      id:
        dialect.version === 3
          ? 'Company_Graph_m1.1000000000000'
          : 'Company_Graph.load_company.kafka.m1.10000000000000001',
    });
    const before = streamingRuns().length;
    const [e, f] = await Promise.all([
      container()(batch(0, names('e', 2)), context),
      container()(batch(1, names('f', 2)), context),
    ]);
    expect(f.jobIds).toEqual(e.jobIds);
    expect(streamingRuns()).toHaveLength(before + 1);
    expect(running().map((r) => r.id)).toEqual(e.jobIds);
    expect(await registry.current(key())).toMatchObject({
      generation: (entry?.generation ?? 0) + 2,
      record: { kind: 'run', id: e.jobIds[0] },
    });
    expect((await waitForVertices(31)).length).toBe(31);
  });
});

describe('tgstream run after tgstream run: one streaming run through the file registry', () => {
  let env: Env;
  let dir: string;
  beforeAll(async () => {
    env = await startEnv({ partitions: 1, settings: { 'tigergraph.loading.eof': 'false' } });
    dir = await mkdtemp(join(tmpdir(), 'tgstream-runs-'));
  });
  afterAll(async () => {
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('three processes one after another, each with its own handler over .tgstream/runs, share one run', async () => {
    const ids: string[] = [];
    for (const prefix of ['r', 's', 't']) {
      // A process of its own: a new handler and a new registry object over the same directory.
      const h = harness(() => env, fileRunRegistry(dir));
      try {
        const out = await h.container()(h.batch(0, h.names(prefix, 3)), context);
        ids.push(...out.jobIds);
      } finally {
        await h.close();
      }
    }
    expect(new Set(ids).size).toBe(1);
    expect(env.tg.runs().filter((r) => r.streaming)).toHaveLength(1);
    expect((await harness(() => env).waitForVertices(3)).length).toBeGreaterThanOrEqual(3);
  });
});

describe("a job's first streaming run starts where the job says, else at the beginning", () => {
  /** The company job with `config` as its DEFINE FILENAME's inline JSON (section 5.2). */
  const gsqlWith = (config: (target: string) => string) => (target: string) =>
    COMPANY_GSQL(target).replace(
      /DEFINE FILENAME f1 = "[^\n]*";/,
      `DEFINE FILENAME f1 = "$k1:${config(target).replace(/"/g, '\\"')}";`,
    );

  for (const [what, config, expected] of [
    [
      'its own default_start_offset 3',
      (t: string) => JSON.stringify({ topic: t, default_start_offset: 3 }),
      ['p3', 'p4'],
    ],
    [
      'no default_start_offset: the beginning',
      (t: string) => JSON.stringify({ topic: t }),
      ['p0', 'p1', 'p2', 'p3', 'p4'],
    ],
  ] as const)
    it(what, async () => {
      const env = await startEnv({
        partitions: 1,
        settings: { 'tigergraph.loading.eof': 'false' },
        gsql: gsqlWith(config),
      });
      const h = harness(() => env);
      try {
        const out = await h.container()(h.batch(0, h.names('p', 5)), context);
        expect(out.jobIds).toHaveLength(1);
        const [run] = env.tg.runs();
        expect(run?.streaming).toBe(true);
        expect(await h.waitForVertices(expected.length)).toEqual([...expected]);
        // Nothing more arrives later: the start offset held.
        await new Promise((r) => setTimeout(r, 300));
        expect(await h.loadedNames()).toEqual([...expected]);
      } finally {
        await h.close();
        await env.stop();
      }
    });
});

describe('a run whose status TigerGraph does not say (a queued run, reference section 1.5)', () => {
  it('3.x, under a status word TigerStream does not read: listed active, so kept by every container; one run, nothing replaced', async () => {
    const env = await startEnv({
      partitions: 1,
      settings: { 'tigergraph.loading.eof': 'false' },
      emulator: { runningWord: 'WAITING' },
    });
    const h = harness(() => env);
    try {
      const ids: string[] = [];
      for (const prefix of ['q', 'r', 's'])
        ids.push(...(await h.container()(h.batch(0, h.names(prefix, 2)), context)).jobIds);
      expect(new Set(ids).size).toBe(1);
      expect(env.tg.runs()).toHaveLength(1);
      expect(env.tg.runs()[0]?.status).toBe('RUNNING');
      expect(await h.registry.current(h.key())).toMatchObject({ generation: 1 });
      expect((await h.waitForVertices(6)).length).toBe(6);
    } finally {
      await h.close();
      await env.stop();
    }
  });

  it('4.x, with no status word and an endTime (reads as ended): not replaced within REPLACE_MIN_MS; the batch fails with TIGERGRAPH_RUN_NOT_RESUMED and one run runs', async () => {
    const env = await startEnv({
      partitions: 1,
      ...streamingEnv({ version: 4 }),
      emulator: { runningWord: '' },
    });
    const h = harness(() => env, memoryRunRegistry(), { version: 4 });
    try {
      const first = await h.container()(h.batch(0, h.names('q', 2)), context);
      expect(first.jobIds).toHaveLength(1);
      await expect(h.container()(h.batch(0, h.names('r', 2)), context)).rejects.toMatchObject({
        code: 'TIGERGRAPH_RUN_NOT_RESUMED',
        retriable: true,
      });
      expect(env.tg.runs()).toHaveLength(1);
      expect(env.tg.runs()[0]?.status).toBe('RUNNING');
      expect(await h.registry.current(h.key())).toMatchObject({ generation: 1 });
    } finally {
      await h.close();
      await env.stop();
    }
  });
});
