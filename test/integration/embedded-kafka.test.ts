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
        KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER,
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
      // One send is one attempt (kafkajs does not retry inside it): the leader change comes
      // back as retriable, and our retry helper gets past the other two.
      await expect(delivery.send(records)).rejects.toMatchObject({
        code: 'KAFKA_PRODUCE_RETRIABLE',
        retriable: true,
        kafkaError: 'NOT_LEADER_OR_FOLLOWER',
      });
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

  it('a send in flight when the invocation deadline nears stops waiting at its signal (KAFKA_SEND_ABORTED), well before the slow broker answers; a send whose signal already fired is refused at once', async () => {
    kafka = startEmbeddedKafka();
    const topic = uniqueTopic();
    kafka.createTopic(topic, 1);
    const delivery = createKafkaDelivery({
      brokers: kafka.bootstrapServers.split(','),
      security: plaintext,
      requestTimeoutMs: 10_000,
    });
    const one = (v: string) => [
      { topic, partition: 0, key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() },
    ];
    try {
      await delivery.send(one('warm-up'));
      // Every answer of the broker now takes 3 s.
      kafka.setRoundTripTime(1, 3000);
      const started = Date.now();
      await expect(
        delivery.send(one('slow'), { signal: AbortSignal.timeout(300) }),
      ).rejects.toMatchObject({ code: 'KAFKA_SEND_ABORTED', retriable: true });
      expect(Date.now() - started).toBeLessThan(2000);
      // A signal that fired before the send: nothing is waited for.
      const gone = AbortSignal.abort();
      await expect(delivery.send(one('late'), { signal: gone })).rejects.toMatchObject({
        code: 'KAFKA_SEND_ABORTED',
      });
      kafka.setRoundTripTime(1, 0);
    } finally {
      await delivery.disconnect();
    }
  });

  describe('delivery classifies what the broker answers (lib/kafka/errors.ts)', () => {
    const record = (topic: string, value: string, partition = 0) => ({
      topic,
      partition,
      key: null,
      value: Buffer.from(value),
      headers: [],
      timestamp: Date.now(),
    });

    it.each([
      ['MESSAGE_TOO_LARGE', KAFKA_ERRORS.MESSAGE_TOO_LARGE, 'KAFKA_RECORD_TOO_LARGE'],
      ['RECORD_LIST_TOO_LARGE', KAFKA_ERRORS.RECORD_LIST_TOO_LARGE, 'KAFKA_RECORD_TOO_LARGE'],
      ['INVALID_RECORD', KAFKA_ERRORS.INVALID_RECORD, 'KAFKA_RECORD_INVALID'],
      // kafkajs itself calls CORRUPT_MESSAGE retriable: one error pushed, and the send still
      // fails, so nothing retried it.
      ['CORRUPT_MESSAGE', KAFKA_ERRORS.CORRUPT_MESSAGE, 'KAFKA_RECORD_CORRUPT'],
      [
        'TOPIC_AUTHORIZATION_FAILED',
        KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED,
        'KAFKA_AUTHORIZATION_FAILED',
      ],
    ] as const)(
      '%s (%i) refuses the send at once, not retriable, with %s',
      async (name, kafkaCode, code) => {
        kafka = startEmbeddedKafka();
        const topic = uniqueTopic();
        kafka.createTopic(topic, 1);
        const delivery = createKafkaDelivery({
          brokers: kafka.bootstrapServers.split(','),
          security: plaintext,
        });
        try {
          await delivery.send([record(topic, 'warm-up')]);
          kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [kafkaCode]);
          const error = await delivery.send([record(topic, 'refused')]).catch((e: unknown) => e);
          expect(error).toMatchObject({ code, retriable: false, kafkaError: name });
          expect((error as Error).message).toContain(`(${name})`);
          // The one pushed error was spent on the one attempt: the next send goes through.
          await delivery.send([record(topic, 'after')]);
          const read = await readTopic(kafka.bootstrapServers, topic, 2);
          expect(read.map((r) => r.value?.toString())).toEqual(['warm-up', 'after']);
        } finally {
          await delivery.disconnect();
        }
      },
    );

    it('producer.max.request.size: a larger record is refused before it is sent; a send is cut into requests within it', async () => {
      kafka = startEmbeddedKafka();
      const topic = uniqueTopic();
      kafka.createTopic(topic, 2);
      const delivery = createKafkaDelivery({
        brokers: kafka.bootstrapServers.split(','),
        security: plaintext,
        maxRequestSize: 1000,
      });
      try {
        const big = record(topic, 'x'.repeat(1000));
        await expect(delivery.send([record(topic, 'small'), big])).rejects.toMatchObject({
          code: 'KAFKA_RECORD_TOO_LARGE',
          retriable: false,
          kind: 'record',
          message: expect.stringContaining('more than producer.max.request.size=1000') as unknown,
        });
        // Ten 300-byte records over two partitions: more than one request holds. The broker
        // refuses the second request: the first one's records are in the topic, so the send
        // was cut (in order) rather than sent whole.
        const records = Array.from({ length: 10 }, (_, i) =>
          record(topic, `${String(i).padStart(3, '0')}${'v'.repeat(297)}`, i % 2),
        );
        kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [0, KAFKA_ERRORS.MESSAGE_TOO_LARGE]);
        await expect(delivery.send(records)).rejects.toMatchObject({
          code: 'KAFKA_RECORD_TOO_LARGE',
        });
        const first = await readTopic(kafka.bootstrapServers, topic, 2);
        expect(first.map((r) => r.value?.subarray(0, 3).toString()).sort()).toEqual(['000', '001']);
        // Unrefused, all ten arrive, in order within each partition.
        const ranges = await delivery.send(records);
        expect(ranges.sort((a, b) => a.partition - b.partition)).toEqual([
          { topic, partition: 0, firstOffset: 1 },
          { topic, partition: 1, firstOffset: 1 },
        ]);
        const all = await readTopic(kafka.bootstrapServers, topic, 12);
        for (const p of [0, 1])
          expect(
            all
              .filter((r) => r.partition === p)
              .slice(1)
              .map((r) => Number(r.value?.subarray(0, 3).toString())),
          ).toEqual([0, 2, 4, 6, 8].map((n) => n + p));
      } finally {
        await delivery.disconnect();
      }
    });

    it('SASL against a listener that has none fails to connect at once, not retriable', async () => {
      kafka = startEmbeddedKafka();
      const topic = uniqueTopic();
      kafka.createTopic(topic, 1);
      const delivery = createKafkaDelivery({
        brokers: kafka.bootstrapServers.split(','),
        security: {
          ...plaintext,
          protocol: 'SASL_PLAINTEXT',
          mechanism: 'PLAIN',
          username: 'u',
          password: 'p',
        },
        connectionTimeoutMs: 1000,
      });
      try {
        const error = await delivery.send([record(topic, 'x')]).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'KAFKA_BROKER_API_UNSUPPORTED', retriable: false });
        expect((error as Error).message).toContain('Connecting to the target Kafka cluster');
        await expect(delivery.partitionCount(topic)).rejects.toMatchObject({
          code: 'KAFKA_BROKER_API_UNSUPPORTED',
          retriable: false,
          details: expect.objectContaining({ topic }) as unknown,
        });
      } finally {
        await delivery.disconnect();
      }
    });
  });
});
