import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { withSettings, type ConnectorConfig } from '../../../lib/config/index.ts';
import { DeliveryError } from '../../../lib/errors/index.ts';
import {
  createHeartbeatHandler,
  decodeHeartbeat,
  type HeartbeatHandlerDeps,
} from '../../../lib/heartbeat/index.ts';
import { silentLogger } from '../../../lib/observability/index.ts';
import { FakeDelivery, SignalDelivery, testConfig } from '../../helpers/fakes.ts';

const context = {
  awsRequestId: 'heartbeat-unit',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const heartbeatConfig = (settings: Record<string, string> = {}): ConnectorConfig =>
  withSettings(testConfig(), { 'emit.heartbeats.interval.seconds': '60', ...settings });

const build = (
  config: ConnectorConfig,
  delivery: FakeDelivery,
  more: Partial<HeartbeatHandlerDeps> = {},
) =>
  createHeartbeatHandler({
    loadConfig: () => Promise.resolve(config),
    resolveBrokers: (value) => Promise.resolve(value),
    createDelivery: () => delivery,
    logger: silentLogger(),
    now: () => 1_700_000_000_123,
    retryPolicy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2, factor: 2 },
    ...more,
  });

describe('heartbeat handler', () => {
  it("writes one MirrorMaker 2 heartbeat to partition 0 of heartbeats, stamped with the invocation's time", async () => {
    const delivery = new FakeDelivery({ heartbeats: 1 });
    const handler = build(heartbeatConfig(), delivery);
    const result = await handler({}, context);
    expect(result).toEqual({
      sent: true,
      heartbeat: {
        sourceClusterAlias: 'hello',
        targetClusterAlias: 'world',
        timestamp: 1_700_000_000_123,
      },
      topic: 'heartbeats',
      partition: 0,
      offset: 0,
    });
    expect(delivery.sent).toHaveLength(1);
    const [record] = delivery.sent[0]!;
    expect(record).toMatchObject({
      topic: 'heartbeats',
      partition: 0,
      headers: [],
      timestamp: 1_700_000_000_123,
    });
    expect(decodeHeartbeat(record!)).toEqual({
      sourceClusterAlias: 'hello',
      targetClusterAlias: 'world',
      timestamp: 1_700_000_000_123,
    });
    await handler({}, context);
    expect(delivery.logs.get('heartbeats')?.[0]).toHaveLength(2);
  });

  it('builds the producer once and reuses it across invocations', async () => {
    const delivery = new FakeDelivery({ heartbeats: 1 });
    const createDelivery = vi.fn(() => delivery);
    const resolveBrokers = vi.fn((value: string) => Promise.resolve(value));
    const config = heartbeatConfig();
    const handler = build(config, delivery, { createDelivery, resolveBrokers });
    await handler({}, context);
    await handler({}, context);
    expect(createDelivery).toHaveBeenCalledTimes(1);
    expect(resolveBrokers).toHaveBeenCalledWith('tg:30002', config.target);
  });

  it('writes nothing when the configuration turns heartbeats off', async () => {
    const delivery = new FakeDelivery({ heartbeats: 1 });
    for (const config of [
      heartbeatConfig({ 'emit.heartbeats.enabled': 'false' }),
      testConfig(), // no interval
    ]) {
      const handler = build(config, delivery);
      await expect(handler({}, context)).resolves.toEqual({ sent: false, reason: 'disabled' });
    }
    expect(delivery.sent).toEqual([]);
  });

  it('says what to create when the target has no heartbeats topic', async () => {
    const delivery = new FakeDelivery({});
    await expect(build(heartbeatConfig(), delivery)({}, context)).rejects.toMatchObject({
      code: 'HEARTBEAT_TOPIC_MISSING',
      retriable: false,
      message: expect.stringContaining('1 partition, cleanup.policy=compact') as unknown,
    });
    expect(delivery.sent).toEqual([]);
  });

  it('tries a retriable failure again, and fails the invocation once attempts run out', async () => {
    const failure = () =>
      new DeliveryError('KAFKA_PRODUCE_RETRIABLE', 'broker went away', { retriable: true });
    const delivery = new FakeDelivery({ heartbeats: 1 });
    delivery.failures = [failure()];
    await expect(build(heartbeatConfig(), delivery)({}, context)).resolves.toMatchObject({
      sent: true,
    });
    delivery.failures = [failure(), failure(), failure()];
    await expect(build(heartbeatConfig(), delivery)({}, context)).rejects.toMatchObject({
      code: 'KAFKA_PRODUCE_RETRIABLE',
    });
    expect(delivery.logs.get('heartbeats')?.[0]).toHaveLength(1);
  });

  it('disconnects the old producer when the target changes', async () => {
    const first = new FakeDelivery({ heartbeats: 1 });
    const second = new FakeDelivery({ heartbeats: 1 });
    const disconnect = vi.spyOn(first, 'disconnect');
    let config = heartbeatConfig();
    const deliveries = [first, second];
    const handler = createHeartbeatHandler({
      loadConfig: () => Promise.resolve(config),
      resolveBrokers: (value) => Promise.resolve(value),
      createDelivery: () => deliveries.shift() as FakeDelivery,
      logger: silentLogger(),
    });
    await handler({}, context);
    config = withSettings(config, { 'target.cluster.bootstrap.servers': 'tg2:30002' });
    await handler({}, context);
    expect(disconnect).toHaveBeenCalledTimes(1);
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(1);
  });

  describe("the deadline's signal", () => {
    /** A delivery recording each send's signal; `hang`: sends wait for the signal to abort. */
    const recording = (hang = false) => {
      const delivery = new SignalDelivery({ heartbeats: 1 });
      delivery.hang = hang;
      return { delivery, signals: delivery.signals };
    };
    // The deadline, less the handler's 1 s margin, is 50 ms away.
    const short = {
      awsRequestId: 'heartbeat-deadline',
      getRemainingTimeInMillis: () => 1050,
    } as unknown as Context;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('aborts a send still waiting at the deadline', async () => {
      const { delivery, signals } = recording(true);
      const handler = build(heartbeatConfig(), delivery, { now: Date.now });
      await expect(handler({}, short)).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(signals).toHaveLength(1);
      expect(signals[0]?.aborted).toBe(true);
    });

    it('is stopped when the heartbeat is written: it never fires after the invocation', async () => {
      const { delivery, signals } = recording();
      const handler = build(heartbeatConfig(), delivery, { now: Date.now });
      await expect(handler({}, short)).resolves.toMatchObject({ sent: true });
      await sleep(150);
      expect(signals).toHaveLength(1);
      expect(signals[0]?.aborted).toBe(false);
    });

    it('is stopped when the invocation fails too', async () => {
      const { delivery, signals } = recording();
      delivery.failures = [
        new DeliveryError('KAFKA_PRODUCE_FAILED', 'refused', { retriable: false }),
      ];
      const handler = build(heartbeatConfig(), delivery, { now: Date.now });
      await expect(handler({}, short)).rejects.toMatchObject({ code: 'KAFKA_PRODUCE_FAILED' });
      await sleep(150);
      expect(signals).toHaveLength(1);
      expect(signals[0]?.aborted).toBe(false);
    });
  });
});
