import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { createKafkaDelivery, type KafkaDelivery } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { DLQ_HEADERS, createStreamHandler, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { readTopic, startEnv, uniqueTopic, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('stream handler on the embedded broker and the emulator', () => {
  let env: Env;
  let handler: StreamHandler;
  let deliveriesBuilt = 0;
  const metrics: { name: string; unit: string; value: number }[] = [];
  beforeAll(async () => {
    env = await startEnv({ partitions: 3 });
    handler = createStreamHandler({
      loadConfig: () => Promise.resolve(env.config),
      logger: silentLogger(),
      metrics: { addMetric: (name, unit, value) => metrics.push({ name, unit, value }) },
      retryPolicy: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50, factor: 2 },
      createDelivery: (config, logger): KafkaDelivery => {
        deliveriesBuilt++;
        return createKafkaDelivery({
          brokers: config.targetBootstrapServers.split(','),
          security: config.target,
          logger,
        });
      },
    });
  });
  afterAll(async () => {
    await handler.close();
    await env.stop();
  });

  const rec = (
    partition: number,
    offset: number,
    value: string | null,
    extra: Partial<KafkaRecord> = {},
  ): KafkaRecord => ({
    topic: env.source,
    partition,
    offset,
    timestamp: 1_700_000_000_000 + offset,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`key-${partition}-${offset}`),
    value: value === null ? null : Buffer.from(value),
    headers: [],
    ...extra,
  });
  const event = (
    records: KafkaRecord[],
    eventSource: 'aws:kafka' | 'SelfManagedKafka' = 'aws:kafka',
  ) =>
    JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(records, {
          eventSource,
          bootstrapServers: 'b-1:9092',
          ...(eventSource === 'aws:kafka'
            ? { eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/x/y' }
            : {}),
        }),
      ),
    ) as unknown;

  it('mirrors records to <alias>.<topic> (same partition, key, headers, timestamp) and loads them', async () => {
    const records = [
      rec(0, 10, '{"company":"Alpha","employee_num":10}', {
        headers: [
          { key: 'trace', value: Buffer.from('café') },
          { key: 'trace', value: Buffer.from('second') },
        ],
      }),
      rec(2, 4, '{"company":"Beta","employee_num":20}', { key: null }),
      rec(2, 5, null),
    ];
    const result = await handler(event(records), context);
    expect(result).toMatchObject({
      records: 3,
      produced: 2,
      loaded: 2,
      rejected: 0,
      deadLettered: 0,
      tombstones: 1,
    });

    const mirrored = await readTopic(env.kafka.bootstrapServers, env.target, 2);
    const alpha = mirrored.find((m) => m.value?.toString().includes('Alpha'));
    const beta = mirrored.find((m) => m.value?.toString().includes('Beta'));
    expect(alpha).toMatchObject({ partition: 0, timestamp: String(1_700_000_000_010) });
    expect(alpha?.key?.toString()).toBe('key-0-10');
    expect((alpha?.headers.trace as Buffer[]).map((b) => b.toString())).toEqual(['café', 'second']);
    expect(beta).toMatchObject({ partition: 2, key: null });

    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(vertices.map((v) => v.v_id).sort()).toEqual(['Alpha', 'Beta']);
    expect(env.tg.runs().at(-1)).toMatchObject({ status: 'FINISHED', streaming: false });
  });

  it("reuses one producer across invocations and records each batch's metrics", async () => {
    metrics.length = 0;
    await handler(
      event([rec(1, 1, '{"company":"Gamma","employee_num":1}')], 'SelfManagedKafka'),
      context,
    );
    await handler(
      event([rec(1, 2, '{"company":"Delta","employee_num":2}')], 'SelfManagedKafka'),
      context,
    );
    expect(deliveriesBuilt).toBe(1);
    const recordCounts = metrics.filter((m) => m.name === 'record-count');
    expect(recordCounts).toEqual([
      { name: 'record-count', unit: 'Count', value: 1 },
      { name: 'record-count', unit: 'Count', value: 1 },
    ]);
    expect(metrics.filter((m) => m.name === 'loaded-count').map((m) => m.value)).toEqual([1, 1]);
    expect(metrics.filter((m) => m.name === 'objects-loaded-count').map((m) => m.value)).toEqual([
      1, 1,
    ]);
  });

  it('retries a loader that answers 503 and succeeds', async () => {
    env.tg.injectFault({
      match: /^POST \/gsqlserver\/gsql\/file/,
      status: 503,
      code: 'REST-12001',
      message: 'no GPE running',
    });
    const result = await handler(
      event([rec(0, 20, '{"company":"Epsilon","employee_num":5}')]),
      context,
    );
    expect(result.loaded).toBe(1);
  });

  it('throws (so the ESM redelivers) when the loader keeps failing', async () => {
    env.tg.injectFault({
      match: /^POST \/gsqlserver\/gsql\/file/,
      status: 400,
      code: 'REST-30000',
      message: 'loading job is broken',
      times: 5,
    });
    await expect(
      handler(event([rec(0, 21, '{"company":"Zeta","employee_num":6}')]), context),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_30000', retriable: false });
  });

  it("reports a failing batch's records, age and retries in its metrics", async () => {
    env.tg.clearFaults();
    env.tg.injectFault({
      match: /^POST \/gsqlserver\/gsql\/file/,
      status: 503,
      code: 'REST-12001',
      message: 'no GPE running',
      times: 10,
    });
    metrics.length = 0;
    const oldest = Date.now() - 60_000;
    await expect(
      handler(
        event([
          rec(0, 22, '{"company":"Eta","employee_num":7}', { timestamp: oldest }),
          rec(0, 23, '{"company":"Theta","employee_num":8}'),
        ]),
        context,
      ),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_12001', retriable: true });
    env.tg.clearFaults();
    const value = (name: string) => metrics.filter((m) => m.name === name).map((m) => m.value);
    expect(value('batch-failed-count')).toEqual([1]);
    expect(value('failed-record-count')).toEqual([2]);
    expect(value('record-count')).toEqual([]);
    // maxAttempts 3: two retries before the invocation gave up.
    expect(value('retry-count')).toEqual([2]);
    expect(value('record-age-ms')[0]).toBeGreaterThanOrEqual(60_000);
    expect(value('loaded-count')).toEqual([]);
  });

  it('rejects a malformed event before producing anything', async () => {
    await expect(
      handler({ eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't' }] } }, context),
    ).rejects.toMatchObject({ code: 'EVENT_MALFORMED' });
  });
});

/** A broker and an emulator (two partitions) with a handler for a connector with `settings`. */
async function startHandler(
  settings: Record<string, string>,
): Promise<{ env: Env; handler: StreamHandler }> {
  const env = await startEnv({ partitions: 2, settings });
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(env.config),
    logger: silentLogger(),
    retryPolicy: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50, factor: 2 },
  });
  return { env, handler };
}

async function stopHandler(env: Env, handler: StreamHandler): Promise<void> {
  await handler.close();
  await env.stop();
}

describe('direct mode on the emulator: rejected lines go to the dead-letter topic', () => {
  let env: Env;
  let handler: StreamHandler;
  const dlq = uniqueTopic('dlq');
  beforeAll(async () => {
    ({ env, handler } = await startHandler({
      'tigergraph.delivery': 'direct',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
    }));
    env.kafka.createTopic(dlq, 1);
  });
  afterAll(() => stopHandler(env, handler));

  it('loads the good records and dead-letters exactly the ones TigerGraph rejected, with their offsets', async () => {
    const records: KafkaRecord[] = Array.from({ length: 30 }, (_, i) => ({
      topic: env.source,
      partition: i % 2,
      offset: 500 + i,
      timestamp: 1_700_000_000_000 + i,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(
        i === 4
          ? '{"employee_num":4}' // no primary id: TigerGraph loads no vertex from it
          : i === 17
            ? 'not json'
            : JSON.stringify({ company: `Direct ${i}`, employee_num: i }),
      ),
      headers: [{ key: 'trace', value: Buffer.from(`t${i}`) }],
    }));
    const result = await handler(
      JSON.parse(
        JSON.stringify(
          encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:1' }),
        ),
      ) as unknown,
      context,
    );
    expect(result).toMatchObject({ records: 30, loaded: 28, rejected: 0, deadLettered: 2 });
    const dead = await readTopic(env.kafka.bootstrapServers, dlq, 2);
    const header = (d: (typeof dead)[number], key: string): string => String(d.headers[key]);
    expect(
      dead.map((d) => [
        String(d.value),
        header(d, 'trace'),
        header(d, DLQ_HEADERS.offset),
        header(d, DLQ_HEADERS.code),
      ]),
    ).toEqual([
      ['{"employee_num":4}', 't4', '504', 'TIGERGRAPH_RECORD_REJECTED'],
      ['not json', 't17', '517', 'TIGERGRAPH_RECORD_REJECTED'],
    ]);
    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(vertices).toHaveLength(28);
  });
});

describe('streaming mode on the emulator (tigergraph.loading.eof=false)', () => {
  let env: Env;
  let handler: StreamHandler;
  beforeAll(async () => {
    ({ env, handler } = await startHandler({ 'tigergraph.loading.eof': 'false' }));
  });
  afterAll(() => stopHandler(env, handler));

  it('one run loads every partition, also one the first batch did not have', async () => {
    const batch = (partition: number, from: number): unknown =>
      JSON.parse(
        JSON.stringify(
          encodeKafkaEvent(
            Array.from({ length: 5 }, (_, i) => ({
              topic: env.source,
              partition,
              offset: from + i,
              timestamp: 1_700_000_000_000,
              timestampType: 'CREATE_TIME' as const,
              key: null,
              value: Buffer.from(JSON.stringify({ company: `S${partition}-${from + i}` })),
              headers: [],
            })),
            { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:1' },
          ),
        ),
      ) as unknown;
    const first = await handler(batch(0, 0), context);
    const second = await handler(batch(1, 0), context);
    expect(second.jobIds).toEqual(first.jobIds);
    expect(env.tg.runs().filter((r) => r.streaming)).toHaveLength(1);
    const client = createTigerGraphClient({ url: env.tg.url, version: 3 });
    const deadline = Date.now() + 20_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await client.listVertices('Company_Graph', 'Company')).map((v) => v.v_id).sort();
      if (names.length >= 10) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(names).toEqual([
      'S0-0',
      'S0-1',
      'S0-2',
      'S0-3',
      'S0-4',
      'S1-0',
      'S1-1',
      'S1-2',
      'S1-3',
      'S1-4',
    ]);
  });
});
