/**
 * The fast producer (lib/kafka/fast-produce.ts: record batches TigerStream encodes itself) on
 * the embedded broker, read back by Debian's kcat (librdkafka) and by kafkajs's consumer
 * decoder: every key, value, header (repeated keys too), timestamp, null and partition arrives
 * as sent, in order; offsets reported are where the records are.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaDelivery, type OutRecord } from '../../lib/kafka/index.ts';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../lib/local/index.ts';
import { uniqueTopic } from '../helpers/embedded.ts';

const RequestQueue = createRequire(import.meta.url)(
  'kafkajs/src/network/requestQueue/index.js',
) as {
  prototype: { checkPendingRequests(): void };
};

const hasKcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0;

const kcatRead = (brokers: string, topic: string, partition: number): string[] => {
  const r = spawnSync(
    'kcat',
    [
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-p',
      String(partition),
      '-e',
      '-q',
      '-Z',
      '-f',
      '%o|%k|%s|%T|%h\n',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
};

/** A new topic of `partitions` partitions on `on`, and a delivery (the fast producer) to it. */
const deliveryToNewTopic = (on: EmbeddedKafka, prefix: string, partitions: number) => {
  const topic = uniqueTopic(prefix);
  on.createTopic(topic, partitions);
  const delivery = createKafkaDelivery({
    brokers: on.bootstrapServers.split(','),
    security: { protocol: 'PLAINTEXT' } as never,
  });
  return { topic, delivery };
};

describe.skipIf(!hasKcat)('the fast producer, read back by kcat', () => {
  let kafka: EmbeddedKafka;
  beforeAll(() => {
    kafka = startEmbeddedKafka();
  });
  afterAll(() => kafka.stop());

  it('writes keys, values, headers, timestamps and nulls exactly, per partition in order, at the offsets it reports', async () => {
    const { topic, delivery } = deliveryToNewTopic(kafka, 'fast', 3);
    const base = 1_700_000_000_000;
    const records: OutRecord[] = Array.from({ length: 300 }, (_, i) => ({
      topic,
      partition: i % 3,
      key: i % 7 === 0 ? null : Buffer.from(`k${i}`),
      value: i % 11 === 0 ? null : Buffer.from(JSON.stringify({ n: i, s: 'é✓ "q"' })),
      headers:
        i % 5 === 0
          ? [
              { key: 'h', value: Buffer.from(`a${i}`) },
              { key: 'h', value: Buffer.from(`b${i}`) },
              { key: 'ünï', value: Buffer.from('v') },
            ]
          : [],
      // Out of order and far apart (a delta beyond 32 bits), as source records can be.
      timestamp: i === 5 ? 1000 : base + ((i * 7919) % 300) * 1000,
    }));
    try {
      const first = await delivery.send(records);
      const second = await delivery.send(records.slice(0, 3));
      expect(first.map((r) => [r.partition, r.firstOffset]).sort()).toEqual([
        [0, 0],
        [1, 0],
        [2, 0],
      ]);
      expect(second.map((r) => [r.partition, r.firstOffset]).sort()).toEqual([
        [0, 100],
        [1, 100],
        [2, 100],
      ]);
    } finally {
      await delivery.disconnect();
    }
    for (let p = 0; p < 3; p++) {
      const expected = [...records.filter((r) => r.partition === p), records[p] as OutRecord].map(
        (r, offset) =>
          [
            offset,
            r.key === null ? 'NULL' : r.key.toString(),
            r.value === null ? 'NULL' : r.value.toString(),
            r.timestamp,
            r.headers.map((h) => `${h.key}=${h.value.toString()}`).join(','),
          ].join('|'),
      );
      expect(kcatRead(kafka.bootstrapServers, topic, p)).toEqual(expected);
    }
  });

  it('sends to every partition of a topic in one send, and kafkajs produces the same log for the same records', async () => {
    const [fastTopic, kafkajsTopic] = [uniqueTopic('fast'), uniqueTopic('kjs')];
    kafka.createTopic(fastTopic, 6);
    kafka.createTopic(kafkajsTopic, 6);
    const records = (topic: string): OutRecord[] =>
      Array.from({ length: 600 }, (_, i) => ({
        topic,
        // Keyed records with no partition: the key's murmur2 hash picks, as in Java clients.
        partition: i % 2 === 0 ? i % 6 : undefined,
        key: Buffer.from(`key-${i}`),
        value: Buffer.from(`value-${i}`),
        headers: [],
        timestamp: 1_700_000_000_000 + i,
      }));
    for (const [producer, topic] of [
      ['fast', fastTopic],
      ['kafkajs', kafkajsTopic],
    ] as const) {
      const delivery = createKafkaDelivery({
        brokers: kafka.bootstrapServers.split(','),
        security: { protocol: 'PLAINTEXT' } as never,
        producer,
      });
      try {
        const ranges = await delivery.send(records(topic));
        expect(ranges.map((r) => r.partition).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      } finally {
        await delivery.disconnect();
      }
    }
    for (let p = 0; p < 6; p++) {
      const fast = kcatRead(kafka.bootstrapServers, fastTopic, p);
      expect(fast.length).toBeGreaterThan(0);
      expect(fast).toEqual(kcatRead(kafka.bootstrapServers, kafkajsTopic, p));
    }
  });

  it("sends to the new leader after a partition's leadership moved (the failed send reads the metadata again)", async () => {
    const two = startEmbeddedKafka({ brokers: 2 });
    const topic = uniqueTopic('moved');
    two.createTopic(topic, 1, 2);
    const delivery = createKafkaDelivery({
      brokers: two.bootstrapServers.split(','),
      security: { protocol: 'PLAINTEXT' } as never,
    });
    const record = (n: number): OutRecord => ({
      topic,
      partition: 0,
      key: null,
      value: Buffer.from(`v${n}`),
      headers: [],
      timestamp: Date.now(),
    });
    try {
      two.setPartitionLeader(topic, 0, 1);
      await delivery.send([record(0)]);
      two.setPartitionLeader(topic, 0, 2);
      // The old leader refuses (retriable); the handler's retry then reaches the new one.
      const first = await delivery.send([record(1)]).catch((e: unknown) => e);
      expect(first).toMatchObject({ code: 'KAFKA_PRODUCE_RETRIABLE', retriable: true });
      await delivery.send([record(1)]);
      await delivery.send([record(2)]);
      expect(kcatRead(two.bootstrapServers, topic, 0).map((l) => l.split('|')[2])).toEqual([
        'v0',
        'v1',
        'v2',
      ]);
    } finally {
      await delivery.disconnect();
      two.stop();
    }
  });

  it('leaves its connections quiet between sends (no kafkajs check every millisecond)', async () => {
    const { topic, delivery } = deliveryToNewTopic(kafka, 'quiet', 1);
    const checks = vi.spyOn(RequestQueue.prototype, 'checkPendingRequests');
    try {
      const value = Buffer.from('x');
      await delivery.send([{ topic, partition: 0, key: null, value, headers: [], timestamp: 1 }]);
      // The send's own checks: one per response.
      expect(checks.mock.calls.length).toBeGreaterThan(0);
      checks.mockClear();
      // kafkajs 2.2.4 would check each connection's queue about 200 times here (lib/kafka/request-queue.ts).
      await sleep(200);
      expect(checks).not.toHaveBeenCalled();
      await delivery.send([{ topic, partition: 0, key: null, value, headers: [], timestamp: 2 }]);
    } finally {
      checks.mockRestore();
      await delivery.disconnect();
    }
    expect(kcatRead(kafka.bootstrapServers, topic, 0)).toHaveLength(2);
  });

  it('refuses a partition the topic does not have, with a coded retriable error, and writes nothing', async () => {
    const { topic, delivery } = deliveryToNewTopic(kafka, 'fast', 1);
    const record = (partition: number): OutRecord => ({
      topic,
      partition,
      key: null,
      value: Buffer.from('x'),
      headers: [],
      timestamp: Date.now(),
    });
    try {
      await expect(delivery.send([record(0), record(4)])).rejects.toMatchObject({
        code: 'KAFKA_PRODUCE_RETRIABLE',
        retriable: true,
        message: expect.stringContaining('Partition 4 of') as unknown,
      });
    } finally {
      await delivery.disconnect();
    }
    expect(kcatRead(kafka.bootstrapServers, topic, 0)).toEqual([]);
  });
});
