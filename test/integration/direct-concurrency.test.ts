/**
 * Direct mode's /ddl posts side by side (tigergraph.direct.concurrency) on the emulator: up to
 * the configured number in flight, and each source partition's upserts applied in source order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient, type TigerGraphClient } from '../../lib/tigergraph/index.ts';
import { startEnv, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const PARTITIONS = 6;
const PER_PARTITION = 60;

/**
 * The real client, each /ddl post held back before it is sent: post n by 60 - 4n ms, so later
 * posts reach the emulator first. Two chunks of one partition in flight together would reach
 * it in the wrong order and leave its vertex on an earlier offset.
 */
function heldBack(url: string): {
  client: TigerGraphClient;
  inFlight: () => number;
  most: () => number;
} {
  const real = createTigerGraphClient({ url, version: 3 });
  let calls = 0;
  let inFlight = 0;
  let most = 0;
  return {
    inFlight: () => inFlight,
    most: () => most,
    client: {
      ...real,
      async postDdl(graph, job, filename, body, signal) {
        const call = calls++;
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 60 - 4 * call)));
          return await real.postDdl(graph, job, filename, body, signal);
        } finally {
          inFlight--;
        }
      },
    },
  };
}

describe('direct mode on the emulator: posts side by side, each partition in order', () => {
  let env: Env;
  let handler: StreamHandler;
  let ddl: ReturnType<typeof heldBack>;
  beforeAll(async () => {
    env = await startEnv({
      partitions: PARTITIONS,
      settings: {
        'tigergraph.delivery': 'direct',
        'tigergraph.batch.max.bytes': '1024',
        'tigergraph.direct.concurrency': '4',
      },
    });
    ddl = heldBack(env.tg.url);
    handler = createStreamHandler({
      loadConfig: () => Promise.resolve(env.config),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1 },
      createTigerGraph: () => ddl.client,
    });
  });
  afterAll(async () => {
    await handler.close();
    await env.stop();
  });

  /** Every record of partition p sets vertex `Lane <p>` to its offset. */
  const event = (from: number): unknown => {
    const records: KafkaRecord[] = Array.from({ length: PARTITIONS }, (_, p) =>
      Array.from({ length: PER_PARTITION }, (_, i) => ({
        topic: env.source,
        partition: p,
        offset: from + i,
        timestamp: 1_700_000_000_000,
        timestampType: 'CREATE_TIME',
        key: null,
        value: Buffer.from(JSON.stringify({ company: `Lane ${p}`, employee_num: from + i })),
        headers: [],
      })),
    ).flat();
    return JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:1' }),
      ),
    ) as unknown;
  };
  const ddlPosts = (): number =>
    env.tg.requests().filter((r) => r.method === 'POST' && r.path.startsWith('/restpp/ddl/'))
      .length;

  it('keeps 4 posts in flight and leaves each vertex on its partition’s last offset', async () => {
    const result = await handler(event(100), context);
    expect(result).toMatchObject({ records: 360, loaded: 360, rejected: 0 });
    // 6 partitions dealt into 4 lanes; 1 KiB chunks of 24 lines of about 40 bytes: each
    // partition's 60 lines span 3 posts or more of its lane (16 in all).
    expect(ddlPosts()).toBeGreaterThanOrEqual(PARTITIONS * 2);
    expect(ddl.most()).toBe(4);
    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(Object.fromEntries(vertices.map((v) => [v.v_id, v.attributes.employee_num]))).toEqual(
      Object.fromEntries(
        Array.from({ length: PARTITIONS }, (_, p) => [`Lane ${p}`, 100 + PER_PARTITION - 1]),
      ),
    );
  });

  it('a post TigerGraph refuses fails the batch with its code, the other lanes waited for; the redelivery loads it', async () => {
    env.tg.injectFault({ match: /^POST \/restpp\/ddl\//, status: 400, code: 'REST-30000' });
    await expect(handler(event(1000), context)).rejects.toMatchObject({
      code: 'TIGERGRAPH_REST_30000',
      retriable: false,
    });
    expect(ddl.inFlight()).toBe(0);
    // The event-source mapping delivers the batch again: every partition ends on its last.
    expect(await handler(event(1000), context)).toMatchObject({ records: 360, loaded: 360 });
    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(new Set(vertices.map((v) => v.attributes.employee_num))).toEqual(
      new Set([1000 + PER_PARTITION - 1]),
    );
  });
});
