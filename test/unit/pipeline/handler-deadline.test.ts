/**
 * The stream handler's deadline signal: aborts what a batch waits for at the Lambda deadline,
 * and is stopped when the invocation ends, however it ends (no timer outlives it).
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ConnectorConfig } from '../../../lib/config/index.ts';
import { TigerStreamError } from '../../../lib/errors/index.ts';
import { encodeKafkaEvent } from '../../../lib/event/index.ts';
import { silentLogger } from '../../../lib/observability/index.ts';
import { createStreamHandler } from '../../../lib/pipeline/index.ts';
import { SignalDelivery, testConfig } from '../../helpers/fakes.ts';
import { VALID, edit } from '../../helpers/config.ts';

/** The example connector without its tigergraph.* keys: mirror-only, nothing but the produce. */
const mirrorOnly = (): ConnectorConfig =>
  testConfig(
    [
      'tigergraph.url',
      'tigergraph.graph',
      'tigergraph.loading.job',
      'tigergraph.loading.filename',
      'tigergraph.loading.data.source',
    ].reduce((text, key) => edit(key, undefined, text), VALID),
  );

const event = () =>
  JSON.parse(
    JSON.stringify(
      encodeKafkaEvent(
        [
          {
            topic: 'companies',
            partition: 0,
            offset: 7,
            timestamp: 1,
            timestampType: 'CREATE_TIME',
            key: Buffer.from('k'),
            value: Buffer.from('{"a":1}'),
            headers: [],
          },
        ],
        { eventSource: 'SelfManagedKafka', bootstrapServers: 'src1:9092' },
      ),
    ),
  ) as unknown;

/** A context whose deadline, less the handler's 2 s margin, is `ms` away. */
const contextWith = (ms: number): Context =>
  ({ awsRequestId: 'deadline', getRemainingTimeInMillis: () => 2000 + ms }) as unknown as Context;

const build = (delivery: SignalDelivery) =>
  createStreamHandler({
    loadConfig: () => Promise.resolve(mirrorOnly()),
    resolveBrokers: (value) => Promise.resolve(value),
    createDelivery: () => delivery,
    logger: silentLogger(),
    retryPolicy: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the stream handler's deadline signal", () => {
  it('aborts a send still waiting at the deadline, with a TimeoutError', async () => {
    const delivery = new SignalDelivery({ 'hello.companies': 1 });
    delivery.hang = true;
    const handler = build(delivery);
    await expect(handler(event(), contextWith(50))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(delivery.signals).toHaveLength(1);
    expect(delivery.signals[0]?.aborted).toBe(true);
  });

  it('is stopped when a batch succeeds: it does not fire after the invocation, past its deadline', async () => {
    const delivery = new SignalDelivery({ 'hello.companies': 1 });
    const handler = build(delivery);
    await expect(handler(event(), contextWith(50))).resolves.toMatchObject({
      records: 1,
      produced: 1,
    });
    await sleep(150);
    expect(delivery.signals).toHaveLength(1);
    expect(delivery.signals[0]?.aborted).toBe(false);
  });

  it('is stopped when a batch fails too', async () => {
    const delivery = new SignalDelivery({ 'hello.companies': 1 });
    delivery.failures.push(new TigerStreamError('KAFKA_BROKER_DOWN', 'down', { retriable: false }));
    const handler = build(delivery);
    await expect(handler(event(), contextWith(50))).rejects.toMatchObject({
      code: 'KAFKA_BROKER_DOWN',
    });
    await sleep(150);
    expect(delivery.signals).toHaveLength(1);
    expect(delivery.signals[0]?.aborted).toBe(false);
  });
});
