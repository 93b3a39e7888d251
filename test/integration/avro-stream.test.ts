import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { startSchemaRegistry, type SchemaRegistryStandIn } from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler, DLQ_HEADERS, type StreamHandler } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { readTopic, startEnv, type Env } from '../helpers/embedded.ts';

const SCHEMA = {
  type: 'record',
  name: 'Company',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'long' },
    { name: 'listed', type: { type: 'int', logicalType: 'date' } },
  ],
};
const type = avro.Type.forSchema(SCHEMA as avro.Schema);
const context = {
  awsRequestId: 'avro',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('Avro with a schema registry through the stream', () => {
  let env: Env;
  let registry: SchemaRegistryStandIn;
  let handler: StreamHandler;
  let id = 0;
  beforeAll(async () => {
    registry = await startSchemaRegistry({ basicAuth: { username: 'sr', password: 'sr-pass' } });
    id = registry.register('companies-value', SCHEMA);
    env = await startEnv({ partitions: 1 });
    env.kafka.createTopic('dlq', 1);
    const config = withSettings(env.config, {
      'value.converter': 'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
      'value.converter.schema.registry.url': registry.url,
      'value.converter.basic.auth.user.info': 'sr:sr-pass',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': 'dlq',
    });
    handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1 },
    });
  });
  afterAll(async () => {
    await handler.close();
    await registry.stop();
    await env.stop();
  });

  const framed = (schemaId: number, value: object): Buffer => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(schemaId, 1);
    return Buffer.concat([head, type.toBuffer(value)]);
  };
  const rec = (offset: number, value: Buffer): KafkaRecord => ({
    topic: env.source,
    partition: 0,
    offset,
    timestamp: 1_700_000_000_000,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`k${offset}`),
    value,
    headers: [{ key: 'origin', value: Buffer.from('test') }],
  });
  const event = (records: KafkaRecord[]) =>
    encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' });

  it('loads converted records and dead-letters one it cannot convert, with its original bytes and the error', async () => {
    const bad = framed(999, { company: 'Ghost', employee_num: 0, listed: 0 });
    const result = await handler(
      event([
        rec(0, framed(id, { company: 'TigerGraph', employee_num: 346, listed: 19_723 })),
        rec(1, bad),
        rec(2, framed(id, { company: 'Apple', employee_num: 373_704, listed: 3_652 })),
      ]),
      context,
    );
    expect(result).toMatchObject({
      records: 3,
      produced: 2,
      loaded: 2,
      deadLettered: 1,
      rejected: 0,
    });
    const [dead] = await readTopic(env.kafka.bootstrapServers, 'dlq', 1);
    expect(dead?.value).toEqual(bad);
    expect(dead?.key?.toString()).toBe('k1');
    const header = (k: string) => (dead?.headers[k] as Buffer | undefined)?.toString();
    expect(header('origin')).toBe('test');
    expect(header(DLQ_HEADERS.code)).toBe('CONVERT_SCHEMA_NOT_FOUND');
    expect(header(DLQ_HEADERS.offset)).toBe('1');
    expect(header(DLQ_HEADERS.topic)).toBe(env.source);
    const mirrored = await readTopic(env.kafka.bootstrapServers, env.target, 2);
    expect(mirrored.map((m) => m.value?.toString())).toEqual([
      '{"company":"TigerGraph","employee_num":346,"listed":"2024-01-01"}',
      '{"company":"Apple","employee_num":373704,"listed":"1980-01-01"}',
    ]);
    const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
      'Company_Graph',
      'Company',
    );
    expect(vertices.map((v) => [v.v_id, v.attributes.employee_num])).toEqual([
      ['TigerGraph', 346],
      ['Apple', 373704],
    ]);
    expect(registry.fetches(id)).toBe(1);
  });

  it('fails the batch (so it is retried) when the registry is down, dead-lettering nothing', async () => {
    const other = registry.register('companies-value', {
      ...SCHEMA,
      fields: [...SCHEMA.fields, { name: 'x', type: ['null', 'int'], default: null }],
    });
    registry.failNext(503, 10);
    const value = Buffer.concat([
      Buffer.from([0, 0, 0, 0, other]),
      avro.Type.forSchema({
        ...SCHEMA,
        fields: [...SCHEMA.fields, { name: 'x', type: ['null', 'int'], default: null }],
      } as avro.Schema).toBuffer({ company: 'Later', employee_num: 1, listed: 0, x: null }),
    ]);
    await expect(handler(event([rec(3, value)]), context)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
  });
});
