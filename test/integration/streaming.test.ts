/**
 * Streaming mode (tigergraph.loading.eof=false) as Lambda runs it: several containers, one
 * streaming run per loading job, adopted, resumed, never a second, and every record loaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { startEnv, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'streaming',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('one streaming run per loading job, shared by every container', () => {
  let env: Env;
  const containers: StreamHandler[] = [];
  const offsets = [0, 0];
  beforeAll(async () => {
    env = await startEnv({ partitions: 2, settings: { 'tigergraph.loading.eof': 'false' } });
  });
  afterAll(async () => {
    for (const c of containers) await c.close();
    await env.stop();
  });

  /** A new Lambda container: its own handler, producer and memory of runs. */
  const container = (): StreamHandler => {
    const h = createStreamHandler({
      loadConfig: () => Promise.resolve(withSettings(env.config, {})),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
    });
    containers.push(h);
    return h;
  };
  const batch = (partition: number, names: string[]): unknown => {
    const records: KafkaRecord[] = names.map((company) => ({
      topic: env.source,
      partition,
      offset: offsets[partition]!++,
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
  const tg = () => createTigerGraphClient({ url: env.tg.url, version: 3 });
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
  const streamingRuns = () => env.tg.runs().filter((r) => r.streaming);

  it('two containers producing to different partitions while the run starts end with one run and every record loaded', async () => {
    const [a, b] = await Promise.all([
      container()(batch(0, names('a', 10)), context),
      container()(batch(1, names('b', 10)), context),
    ]);
    expect(a.jobIds).toHaveLength(1);
    expect(b.jobIds).toEqual(a.jobIds);
    expect(streamingRuns()).toHaveLength(1);
    expect(streamingRuns()[0]?.status).toBe('RUNNING');
    expect(await waitForVertices(20)).toEqual([...names('a', 10), ...names('b', 10)].sort());
  });

  it('a recycled container adopts the running run instead of starting another', async () => {
    const [running] = streamingRuns();
    const c = await container()(batch(0, names('c', 3)), context);
    expect(c.jobIds).toEqual([running?.id]);
    expect(streamingRuns()).toHaveLength(1);
    expect((await waitForVertices(23)).length).toBe(23);
  });

  it('a run that was aborted is resumed under its own id by the next container and loads nothing twice', async () => {
    const [run] = streamingRuns();
    const client = tg();
    await client.abortRun('Company_Graph', run?.id as string);
    expect(streamingRuns()[0]?.status).toBe('ABORTED');
    const linesBefore = run?.stats.validLine ?? 0;
    const d = await container()(batch(1, names('d', 4)), context);
    expect(d.jobIds).toEqual([run?.id]);
    expect(streamingRuns()).toHaveLength(1);
    expect(streamingRuns()[0]?.status).toBe('RUNNING');
    expect((await waitForVertices(27)).length).toBe(27);
    // Resumed where it stopped: exactly the 4 new lines, none of the 23 before again.
    const until = Date.now() + 5000;
    while ((streamingRuns()[0]?.stats.validLine ?? 0) < linesBefore + 4 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(streamingRuns()[0]?.stats.validLine).toBe(linesBefore + 4);
  });
});
