import { afterEach, describe, expect, it } from 'vitest';
import {
  KAFKA_API_KEYS,
  KAFKA_ERRORS,
  startEmbeddedKafka,
  type EmbeddedKafka,
} from '../../lib/local/index.ts';
import { createKafkaDelivery } from '../../lib/kafka/index.ts';
import { retry } from '../../lib/errors/retry.ts';
import { testConfig } from '../helpers/fakes.ts';
import { produce, readTopic, uniqueTopic } from '../helpers/embedded.ts';

const plaintext = testConfig().target;
let kafka: EmbeddedKafka | undefined;
afterEach(() => {
  kafka?.stop();
  kafka = undefined;
});

describe('embedded Kafka broker (librdkafka mock cluster)', () => {
  it('starts N brokers on loopback and serves kafkajs produce and consume', async () => {
    kafka = startEmbeddedKafka({ brokers: 3 });
    expect(kafka.bootstrapServers.split(',')).toHaveLength(3);
    expect(kafka.bootstrapServers.split(',').every((b) => b.startsWith('127.0.0.1:'))).toBe(true);
    const topic = uniqueTopic();
    kafka.createTopic(topic, 4, 3);
    await produce(
      kafka.bootstrapServers,
      topic,
      [0, 1, 2, 3].map((p) => ({ key: `k${p}`, value: `v${p}`, partition: p })),
    );
    const read = await readTopic(kafka.bootstrapServers, topic, 4);
    expect(read.map((r) => `${r.partition}:${r.value?.toString()}`).sort()).toEqual([
      '0:v0',
      '1:v1',
      '2:v2',
      '3:v3',
    ]);
  });

  it('rejects bad arguments with clear errors', () => {
    expect(() => startEmbeddedKafka({ brokers: 0 })).toThrow(
      expect.objectContaining({ code: 'LOCAL_BROKER_COUNT_INVALID' }),
    );
    kafka = startEmbeddedKafka();
    expect(() => kafka?.createTopic('bad topic!', 1)).toThrow(
      expect.objectContaining({ code: 'LOCAL_TOPIC_NAME_INVALID' }),
    );
    expect(() => kafka?.brokerDown(7)).toThrow(
      expect.objectContaining({ code: 'LOCAL_BROKER_ID_INVALID' }),
    );
  });

  it('delivery survives pushed produce errors (retriable Kafka codes) and keeps every record', async () => {
    kafka = startEmbeddedKafka();
    const topic = uniqueTopic();
    kafka.createTopic(topic, 1);
    const delivery = createKafkaDelivery({
      brokers: kafka.bootstrapServers.split(','),
      security: plaintext,
    });
    try {
      await delivery.send([
        {
          topic,
          partition: 0,
          key: null,
          value: Buffer.from('warm-up'),
          headers: [],
          timestamp: Date.now(),
        },
      ]);
      kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [
        KAFKA_ERRORS.NOT_ENOUGH_REPLICAS,
        KAFKA_ERRORS.REQUEST_TIMED_OUT,
      ]);
      const records = Array.from({ length: 5 }, (_, i) => ({
        topic,
        partition: 0,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        headers: [],
        timestamp: Date.now(),
      }));
      const ranges = await retry(() => delivery.send(records), {
        policy: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 200, factor: 2 },
      });
      expect(ranges).toEqual([{ topic, partition: 0, firstOffset: 1 }]);
      const read = await readTopic(kafka.bootstrapServers, topic, 6);
      expect(read.map((r) => r.value?.toString())).toEqual([
        'warm-up',
        'v0',
        'v1',
        'v2',
        'v3',
        'v4',
      ]);
    } finally {
      await delivery.disconnect();
    }
  });

  it('delivery reports a broker that is down as retriable, then rebuilds and succeeds once it is up', async () => {
    kafka = startEmbeddedKafka();
    const topic = uniqueTopic();
    kafka.createTopic(topic, 1);
    const delivery = createKafkaDelivery({
      brokers: kafka.bootstrapServers.split(','),
      security: plaintext,
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1000,
    });
    const one = (v: string) => [
      { topic, partition: 0, key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() },
    ];
    try {
      await delivery.send(one('before'));
      kafka.brokerDown(1);
      await expect(delivery.send(one('during'))).rejects.toMatchObject({ retriable: true });
      kafka.brokerUp(1);
      await retry(() => delivery.send(one('after')), {
        policy: { maxAttempts: 10, initialDelayMs: 200, maxDelayMs: 1000, factor: 2 },
      });
      const read = await readTopic(kafka.bootstrapServers, topic, 2);
      expect(read.map((r) => r.value?.toString())).toContain('after');
    } finally {
      await delivery.disconnect();
    }
  });
});
