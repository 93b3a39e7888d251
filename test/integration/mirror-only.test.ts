/**
 * A mirror-only connector (no tigergraph.* key) on the embedded broker and the emulator: the
 * handler only mirrors, as the reference page's MirrorMaker connector did, and the user's own
 * loading job, run over the mirrored topic through GSQL's REST API, loads the records.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorConfig } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { VALID, edit } from '../helpers/config.ts';
import { readTopic, startEnv, type Env } from '../helpers/embedded.ts';
import { testConfig } from '../helpers/fakes.ts';

const context = {
  awsRequestId: 'mirror-only',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * What a GSQL user's `RUN LOADING JOB -noprint load_company USING EOF="true"|"false"` and
 * `SHOW LOADING STATUS` send: the GSQL server's REST form (tigergraph-loading.md section 2.2),
 * with the job's topic-partition config as the page writes it (`default_start_offset: -2`).
 */
const gsql = (tgUrl: string) => {
  const call = async (path: string, init?: RequestInit): Promise<Record<string, unknown>> => {
    const response = await fetch(`${tgUrl}${path}`, init);
    return (await response.json()) as Record<string, unknown>;
  };
  return {
    runLoadingJob: async (topic: string, eof: boolean): Promise<string> => {
      const body = await call('/gsql/v1/loading-jobs/run?graph=Company_Graph', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            name: 'load_company',
            streaming: !eof,
            dataSources: [
              { filename: 'f1', name: 'k1', path: '', config: { topic, default_start_offset: -2 } },
            ],
          },
        ]),
      });
      expect(body).toMatchObject({ error: false, jobIds: [expect.any(String)] });
      return (body.jobIds as string[])[0] as string;
    },
    /** The run's status once it is no longer RUNNING. */
    waitForRun: async (jobId: string): Promise<Record<string, unknown>> => {
      for (let i = 0; i < 400; i++) {
        const body = await call(
          `/gsql/v1/loading-jobs/status/${encodeURIComponent(jobId)}?graph=Company_Graph`,
        );
        const overall = (body.results as { overall: Record<string, unknown> }[])[0]?.overall ?? {};
        if (overall.status !== 'RUNNING') return overall;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`run ${jobId} still RUNNING`);
    },
    companies: async (): Promise<string[]> => {
      const body = await call('/restpp/graph/Company_Graph/vertices/Company');
      return (body.results as { v_id: string }[]).map((v) => v.v_id).sort();
    },
  };
};

describe('mirror-only connector: the handler mirrors, your loading job loads', () => {
  let env: Env;
  let config: ConnectorConfig;
  let handler: StreamHandler;
  let clientsBuilt = 0;

  beforeAll(async () => {
    env = await startEnv({ partitions: 2 });
    const text = VALID.replace(/^tigergraph\..*\n/gm, '');
    config = testConfig(
      edit(
        'target.cluster.bootstrap.servers',
        env.kafka.bootstrapServers,
        edit(
          'source.cluster.bootstrap.servers',
          env.kafka.bootstrapServers,
          edit('topics', env.source, text),
        ),
      ),
    );
    handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20, factor: 2 },
      createTigerGraph: () => {
        clientsBuilt++;
        return createTigerGraphClient({ url: env.tg.url, version: 3 });
      },
    });
  });
  afterAll(async () => {
    await handler.close();
    await env.stop();
  });

  const rec = (partition: number, offset: number, value: string | null): KafkaRecord => ({
    topic: env.source,
    partition,
    offset,
    timestamp: 1_700_000_000_000 + offset,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`key-${offset}`),
    value: value === null ? null : Buffer.from(value),
    headers: [{ key: 'trace', value: Buffer.from(`t${offset}`) }],
  });
  const event = (records: KafkaRecord[]) =>
    JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092' }),
      ),
    ) as unknown;

  it('produces to <alias>.<topic> and counts every acknowledged record as loaded, never calling TigerGraph', async () => {
    expect(config.tigergraph).toBeUndefined();
    const before = env.tg.requests().length;
    const result = await handler(
      event([
        rec(0, 10, '{"company":"Alpha","employee_num":10}'),
        rec(1, 11, '{"company":"Beta","employee_num":20}'),
        rec(1, 12, null),
        rec(0, 13, '{"company":"Gamma","employee_num":30}'),
      ]),
      context,
    );
    expect(result).toMatchObject({
      mode: 'mirror-only',
      records: 4,
      produced: 3,
      loaded: 3,
      rejected: 0,
      deadLettered: 0,
      tombstones: 1,
      jobIds: [],
    });
    expect(result.loaded + result.tombstones).toBe(result.records);
    // No TigerGraph client was built, the emulator saw no request at all, and no run started.
    expect(clientsBuilt).toBe(0);
    expect(env.tg.requests().slice(before)).toEqual([]);
    expect(env.tg.runs()).toEqual([]);

    const mirrored = await readTopic(env.kafka.bootstrapServers, env.target, 3);
    const alpha = mirrored.find((m) => m.value?.toString().includes('Alpha'));
    expect(alpha).toMatchObject({ partition: 0, timestamp: String(1_700_000_000_010) });
    expect(alpha?.key?.toString()).toBe('key-10');
    expect((alpha?.headers.trace as Buffer).toString()).toBe('t10');
    expect(mirrored.find((m) => m.value?.toString().includes('Beta'))?.partition).toBe(1);
  });

  it('an EOF run of your loading job (RUN LOADING JOB ... USING EOF="true") loads them', async () => {
    const tg = gsql(env.tg.url);
    const run = await tg.waitForRun(await tg.runLoadingJob(env.target, true));
    expect(run.status).toBe('FINISHED');
    expect(await tg.companies()).toEqual(['Alpha', 'Beta', 'Gamma']);
  });

  it('a streaming run of your loading job (USING EOF="false") loads what later batches mirror', async () => {
    const tg = gsql(env.tg.url);
    await tg.runLoadingJob(env.target, false);
    const result = await handler(
      event([rec(0, 14, '{"company":"Delta","employee_num":40}')]),
      context,
    );
    expect(result).toMatchObject({ mode: 'mirror-only', records: 1, loaded: 1, jobIds: [] });
    expect(
      env.tg.requests().filter((r) => r.path.includes('loading-jobs') && r.method === 'POST'),
    ).toHaveLength(2);
    const deadline = Date.now() + 20_000;
    let names = await tg.companies();
    while (!names.includes('Delta') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      names = await tg.companies();
    }
    expect(names).toEqual(['Alpha', 'Beta', 'Delta', 'Gamma']);
    expect(clientsBuilt).toBe(0);
    // Only the user's two runs: the handler started none.
    expect(env.tg.runs().map((r) => r.streaming)).toEqual([false, true]);
  });
});
