/**
 * errors.tolerance on the embedded broker and the emulator: Kafka errors injected with the
 * mock cluster's push_request_errors (Produce, API key 0), a record larger than
 * producer.max.request.size, and records TigerGraph rejects, through the stream handler.
 */
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { KAFKA_API_KEYS, KAFKA_ERRORS } from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { DLQ_HEADERS, createStreamHandler, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { readTopic, startEnv, uniqueTopic, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'record-errors',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('record-level, fatal and retriable Kafka errors through the handler', () => {
  let env: Env;
  const handlers: StreamHandler[] = [];
  let offset = 0;
  const metrics: { name: string; value: number }[] = [];
  beforeAll(async () => {
    env = await startEnv({ partitions: 1 });
  });
  afterAll(async () => {
    for (const h of handlers) await h.close();
    await env.stop();
  });

  const handlerWith = (settings: Record<string, string>): StreamHandler => {
    const config = withSettings(env.config, settings);
    const h = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      metrics: { addMetric: (name, _unit, value) => metrics.push({ name, value }) },
      retryPolicy: { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 20, factor: 2 },
    });
    handlers.push(h);
    return h;
  };
  const withDlq = (): { dlq: string; handler: StreamHandler } => {
    const dlq = uniqueTopic('dlq');
    env.kafka.createTopic(dlq, 1);
    return {
      dlq,
      handler: handlerWith({
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
      }),
    };
  };
  const companies = (prefix: string, n: number): KafkaRecord[] =>
    Array.from({ length: n }, (_, i) => ({
      topic: env.source,
      partition: 0,
      offset: offset++,
      timestamp: 1_700_000_000_000 + i,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`${prefix}-${i}`),
      value: Buffer.from(JSON.stringify({ company: `${prefix}-${i}`, employee_num: i })),
      headers: [{ key: 'trace', value: Buffer.from(`${prefix}${i}`) }],
    }));
  const event = (records: KafkaRecord[]): unknown =>
    encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' });
  const vertices = async (prefix: string): Promise<string[]> =>
    (
      await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
        'Company_Graph',
        'Company',
      )
    )
      .map((v) => v.v_id)
      .filter((id) => id.startsWith(`${prefix}-`))
      .sort();
  const metric = (name: string): number[] =>
    metrics.filter((m) => m.name === name).map((m) => m.value);
  let mirrored = 0;
  /** The target topic's records written since the last call. */
  const newlyMirrored = async (count: number): Promise<string[]> => {
    const all = await readTopic(env.kafka.bootstrapServers, env.target, mirrored + count);
    const fresh = all.slice(mirrored).map((r) => String(r.value));
    mirrored += count;
    return fresh.map((v) => (JSON.parse(v) as { company: string }).company);
  };

  // Eight records, the one at index 5 refused: the produce of all eight fails, then the halves
  // are produced first half first until record 5 stands alone. Pushed in the order of those
  // sends: [0-7] refused, [0-3] ok, [4-7] refused, [4-5] refused, [4] ok, [5] refused,
  // [6-7] ok, then the dead letter ok.
  const isolating = (code: number): number[] => [code, 0, code, code, 0, code, 0, 0];

  it.each([
    ['MESSAGE_TOO_LARGE', KAFKA_ERRORS.MESSAGE_TOO_LARGE, 'KAFKA_RECORD_TOO_LARGE'],
    ['INVALID_RECORD', KAFKA_ERRORS.INVALID_RECORD, 'KAFKA_RECORD_INVALID'],
    ['CORRUPT_MESSAGE', KAFKA_ERRORS.CORRUPT_MESSAGE, 'KAFKA_RECORD_CORRUPT'],
  ] as const)(
    'errors.tolerance=all: %s (%i) refuses one record; it is dead-lettered with %s and its original bytes, the others delivered in order and loaded',
    async (name, kafkaCode, code) => {
      const { dlq, handler } = withDlq();
      const prefix = `iso-${name}`;
      const records = companies(prefix, 8);
      env.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, isolating(kafkaCode));
      metrics.length = 0;
      const result = await handler(event(records), context);
      expect(result).toMatchObject({
        records: 8,
        produced: 7,
        loaded: 7,
        rejected: 0,
        deadLettered: 1,
        // Record-level errors are not retried: every refused send was tried once.
        retries: 0,
      });
      expect(await newlyMirrored(7)).toEqual([0, 1, 2, 3, 4, 6, 7].map((i) => `${prefix}-${i}`));
      const [dead] = await readTopic(env.kafka.bootstrapServers, dlq, 1);
      expect(String(dead?.value)).toBe(String(records[5]?.value));
      expect(String(dead?.key)).toBe(`${prefix}-5`);
      expect(String(dead?.headers.trace)).toBe(`${prefix}5`);
      expect(String(dead?.headers[DLQ_HEADERS.code])).toBe(code);
      expect(String(dead?.headers[DLQ_HEADERS.message])).toContain(`(${name})`);
      expect(String(dead?.headers[DLQ_HEADERS.offset])).toBe(String(records[5]?.offset));
      expect(await vertices(prefix)).toEqual(
        [0, 1, 2, 3, 4, 6, 7].map((i) => `${prefix}-${i}`).sort(),
      );
      expect(metric('dead-letter-count')).toEqual([1]);
    },
  );

  it('errors.tolerance=none: MESSAGE_TOO_LARGE fails the batch at once, not retriable, naming the record; nothing is retried', async () => {
    const handler = handlerWith({});
    const [refused] = companies('none', 1);
    env.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [KAFKA_ERRORS.MESSAGE_TOO_LARGE]);
    metrics.length = 0;
    const error = await handler(event([refused as KafkaRecord]), context).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'KAFKA_RECORD_TOO_LARGE',
      retriable: false,
      kafkaError: 'MESSAGE_TOO_LARGE',
      details: expect.objectContaining({ topic: env.source, offset: refused?.offset }) as unknown,
    });
    expect(metric('retry-count')).toEqual([0]);
    expect(metric('batch-failed-count')).toEqual([1]);
    // The one pushed error was spent on the one attempt: the batch goes through when redelivered.
    const again = await handler(event([refused as KafkaRecord]), context);
    expect(again).toMatchObject({ loaded: 1, retries: 0 });
    expect(await newlyMirrored(1)).toEqual(['none-0']);
  });

  it('TOPIC_AUTHORIZATION_FAILED fails the invocation at once with KAFKA_AUTHORIZATION_FAILED, under errors.tolerance=all too; nothing dead-lettered', async () => {
    const { dlq, handler } = withDlq();
    env.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED]);
    metrics.length = 0;
    const error = await handler(event(companies('acl', 3)), context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KAFKA_AUTHORIZATION_FAILED', retriable: false });
    expect((error as Error).message).toContain(
      "the target cluster's ACLs do not let this principal write to the topic (TOPIC_AUTHORIZATION_FAILED)",
    );
    expect(metric('retry-count')).toEqual([0]);
    await expect(readTopic(env.kafka.bootstrapServers, dlq, 1, 1500)).rejects.toThrow(/read 0\/1/);
  });

  it('NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT are retried, and the batch is delivered once', async () => {
    const handler = handlerWith({});
    env.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [
      KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER,
      KAFKA_ERRORS.REQUEST_TIMED_OUT,
    ]);
    const result = await handler(event(companies('leader', 3)), context);
    expect(result).toMatchObject({ records: 3, loaded: 3, retries: 2 });
    expect(await newlyMirrored(3)).toEqual(['leader-0', 'leader-1', 'leader-2']);
  });

  it('a record larger than producer.max.request.size is refused before it is sent: errors.tolerance=none fails the batch; under all its dead letter, as large, goes without its value and the batch goes on', async () => {
    const big = companies('huge', 2).map((r, i) =>
      i === 1
        ? { ...r, value: Buffer.from(JSON.stringify({ company: 'huge-1', pad: 'x'.repeat(2000) })) }
        : r,
    );
    await expect(
      handlerWith({ 'producer.max.request.size': '1500' })(event(big), context),
    ).rejects.toMatchObject({
      code: 'KAFKA_RECORD_TOO_LARGE',
      retriable: false,
      message: expect.stringContaining('more than producer.max.request.size=1500') as unknown,
    });
    // Under errors.tolerance=all the original bytes are as large for the dead-letter topic: the
    // dead letter goes without its value, saying why, and the batch goes on.
    const dlq = uniqueTopic('dlq');
    env.kafka.createTopic(dlq, 1);
    const result = await handlerWith({
      'producer.max.request.size': '1500',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
    })(event(big), context);
    expect(result).toMatchObject({ deadLettered: 1 });
    const [dead] = await readTopic(env.kafka.bootstrapServers, dlq, 1);
    expect(dead?.value).toBeNull();
    expect(String(dead?.headers['tigerstream.dead.letter.value.omitted'])).toMatch(
      /^KAFKA_RECORD_TOO_LARGE: the dead-letter topic refused the value of \d+ bytes/,
    );
    // huge-0 was delivered by the first attempt's first half, then by the one that went on.
    expect(await newlyMirrored(2)).toEqual(['huge-0', 'huge-0']);
  });
});

describe('a real oversized record: Avro that grows past producer.max.request.size as JSON', () => {
  // A bytes field becomes base64 in JSON (4/3 of its size): the converted line is larger than
  // the producer allows, while the original Avro, dead-lettered, is not.
  const SCHEMA = {
    type: 'record',
    name: 'Company',
    fields: [
      { name: 'company', type: 'string' },
      { name: 'employee_num', type: 'long' },
      { name: 'logo', type: 'bytes' },
    ],
  };
  const type = avro.Type.forSchema(SCHEMA as avro.Schema);
  let env: Env;
  let handler: StreamHandler;
  const dlq = uniqueTopic('dlq');
  beforeAll(async () => {
    env = await startEnv({ partitions: 1 });
    env.kafka.createTopic(dlq, 1);
    const config = withSettings(env.config, {
      'value.converter':
        'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry',
      'value.converter.schemas': JSON.stringify(SCHEMA),
      'producer.max.request.size': '3900',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
    });
    handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1 },
    });
  });
  afterAll(async () => {
    await handler.close();
    await env.stop();
  });

  it('is dead-lettered with its original Avro bytes; the others load', async () => {
    const values = [0, 1, 2, 3].map((i) =>
      type.toBuffer({
        company: `Avro-${i}`,
        employee_num: i,
        logo: Buffer.alloc(i === 2 ? 3000 : 8, i),
      }),
    );
    const records: KafkaRecord[] = values.map((value, i) => ({
      topic: env.source,
      partition: 0,
      offset: 40 + i,
      timestamp: 1_700_000_000_000,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`a${i}`),
      value,
      headers: [],
    }));
    const result = await handler(
      encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' }),
      context,
    );
    expect(result).toMatchObject({ records: 4, produced: 3, loaded: 3, deadLettered: 1 });
    const [dead] = await readTopic(env.kafka.bootstrapServers, dlq, 1);
    expect(dead?.value).toEqual(values[2]);
    expect(String(dead?.headers[DLQ_HEADERS.code])).toBe('KAFKA_RECORD_TOO_LARGE');
    expect(String(dead?.headers[DLQ_HEADERS.offset])).toBe('42');
    const loaded = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(loaded.map((v) => v.v_id).sort()).toEqual(['Avro-0', 'Avro-1', 'Avro-3']);
  });
});

describe('records TigerGraph rejects, errors.tolerance=none, on the emulator', () => {
  let env: Env;
  const handlers: StreamHandler[] = [];
  beforeAll(async () => {
    env = await startEnv({ partitions: 1 });
  });
  afterAll(async () => {
    for (const h of handlers) await h.close();
    await env.stop();
  });
  const records = (from: number): KafkaRecord[] =>
    [0, 1, 2].map((i) => ({
      topic: env.source,
      partition: 0,
      offset: from + i,
      timestamp: 1_700_000_000_000,
      timestampType: 'CREATE_TIME',
      key: null,
      // The middle one has no primary id: TigerGraph loads no vertex from it.
      value: Buffer.from(
        JSON.stringify(i === 1 ? { employee_num: 1 } : { company: `R${from + i}` }),
      ),
      headers: [],
    }));

  it.each([
    ['kafka', 0, /of EOF run\(s\) \S+ over hello\.src-[0-9a-f]+\[0\] from offset 0/],
    [
      'direct',
      10,
      /of the 3 record\(s\) posted from src-[0-9a-f]+\[0\] offset 10 to src-[0-9a-f]+\[0\] offset 12/,
    ],
  ] as const)(
    '%s mode: the batch fails with TIGERGRAPH_RECORDS_REJECTED, not retriable',
    async (delivery, from, where) => {
      const config = withSettings(env.config, { 'tigergraph.delivery': delivery });
      const handler = createStreamHandler({
        loadConfig: () => Promise.resolve(config),
        logger: silentLogger(),
      });
      handlers.push(handler);
      const error = await handler(
        encodeKafkaEvent(records(from), {
          eventSource: 'SelfManagedKafka',
          bootstrapServers: 'x:1',
        }),
        context,
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'TIGERGRAPH_RECORDS_REJECTED',
        retriable: false,
        details: expect.objectContaining({ rejectedObjects: 1 }) as unknown,
      });
      expect((error as Error).message).toMatch(where);
      expect((error as Error).message).toContain('errors.tolerance=none fails the batch');
    },
  );
});
