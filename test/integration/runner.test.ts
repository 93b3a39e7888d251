import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { produce, produceSends, startEnv, type Env } from '../helpers/embedded.ts';

describe('local ESM runner (tgstream run)', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv({
      partitions: 2,
      settings: { 'tigerstream.esm.batch.size': '50', 'tigerstream.esm.batching.window.ms': '100' },
    });
    await produce(
      env.kafka.bootstrapServers,
      env.source,
      Array.from({ length: 300 }, (_, i) => ({
        key: `c${i}`,
        value: JSON.stringify({ company: `C${i}`, employee_num: i }),
        partition: i % 2,
      })),
    );
  });
  afterAll(async () => {
    await env.stop();
  });

  const run = async (config = env.config) => {
    // A small handler retry budget so a failure reaches the runner, which retries the batch.
    const handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1 },
    });
    const sizes: number[] = [];
    try {
      const totals = await runLocal({
        config,
        handler: async (event, ctx) => {
          const result = await handler(event, ctx);
          sizes.push(result.records);
          return result;
        },
        eof: true,
        sessionTimeoutMs: 6000,
        logger: silentLogger(),
        retryPolicy: { maxAttempts: 4, initialDelayMs: 50, maxDelayMs: 200, factor: 2 },
      });
      return { totals, sizes };
    } finally {
      await handler.close();
    }
  };

  it('builds batches of at most the batch size, retries a failed batch, loads everything and stops at the end', async () => {
    env.tg.injectFault({
      match: /^POST \/gsqlserver\/gsql\/file/,
      status: 503,
      code: 'REST-12001',
      times: 2,
    });
    const { totals, sizes } = await run();
    expect(totals).toMatchObject({
      records: 300,
      produced: 300,
      loaded: 300,
      rejected: 0,
      failedAttempts: 1,
    });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(vertices).toHaveLength(300);
  });

  it('committed its offsets: a second run of the same group finds nothing left', async () => {
    const { totals } = await run();
    expect(totals.records).toBe(0);
  });

  it('stops without committing when a batch keeps failing, and a later run delivers it', async () => {
    await produce(env.kafka.bootstrapServers, env.source, [
      { key: 'late', value: '{"company":"Late","employee_num":1}', partition: 0 },
    ]);
    env.tg.injectFault({
      match: /^POST \/gsqlserver\/gsql\/file/,
      status: 400,
      code: 'REST-30000',
      times: 100,
    });
    await expect(run()).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_30000' });
    env.tg.clearFaults();
    const { totals } = await run();
    expect(totals).toMatchObject({ records: 1, loaded: 1 });
  });

  it('gathers batches across fetches as the ESM does: 60 sends of 5 records make batches of 50', async () => {
    // The embedded broker answers each fetch with one producer request's records, so handing
    // over each fetch would make batches of 5.
    await produceSends(
      env.kafka.bootstrapServers,
      env.source,
      Array.from({ length: 60 }, (_, send) =>
        Array.from({ length: 5 }, (_, i) => ({
          partition: 0,
          key: `g${send * 5 + i}`,
          value: JSON.stringify({ company: `G${send * 5 + i}`, employee_num: i }),
        })),
      ),
    );
    // A window long enough that every batch fills, however slowly this machine fetches.
    const { totals, sizes } = await run({
      ...env.config,
      esm: { ...env.config.esm, batchingWindowMs: 30_000 },
    });
    expect(totals).toMatchObject({ records: 300, loaded: 300 });
    expect(sizes).toEqual([50, 50, 50, 50, 50, 50]);
  });
});
