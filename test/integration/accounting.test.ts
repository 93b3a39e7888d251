/**
 * Every source record is counted once (loaded, rejected, dead-lettered or tombstone) for a
 * loading job with a vertex and an edge per line, with pretty-printed JSON values and with
 * values that carry a line break, in both delivery modes, on the embedded broker and emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import {
  DLQ_HEADERS,
  createStreamHandler,
  type BatchResult,
  type StreamHandler,
} from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { readTopic, startEnv, uniqueTopic, type Env } from '../helpers/embedded.ts';

// A vertex and an edge per line: the shape that made BatchResult count objects as records.
const PERSON_GSQL = (topic: string): string => `
CREATE VERTEX Person (primary_id name STRING, age INT)
CREATE VERTEX Company (primary_id name STRING, employee_num INT)
CREATE DIRECTED EDGE works_at (FROM Person, TO Company)
CREATE GRAPH Company_Graph (Person, Company, works_at)
CREATE DATA_SOURCE KAFKA k1 = "{\\"broker\\":\\"localhost:30002\\"}" FOR GRAPH Company_Graph
CREATE LOADING JOB load_company FOR GRAPH Company_Graph {
  DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"${topic}\\",\\"default_start_offset\\":-2}";
  LOAD f1 TO VERTEX Person VALUES ($"name", $"age") USING JSON_FILE="true";
  LOAD f1 TO EDGE works_at VALUES ($"name", $"company") USING JSON_FILE="true";
}
`;

const context = {
  awsRequestId: 'accounting',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const sum = (r: BatchResult): number => r.loaded + r.rejected + r.deadLettered + r.tombstones;

describe('per-record accounting on the emulator', () => {
  let env: Env;
  const handlers: StreamHandler[] = [];
  let offset = 0;
  beforeAll(async () => {
    env = await startEnv({ partitions: 1, gsql: PERSON_GSQL });
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
      retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20, factor: 2 },
    });
    handlers.push(h);
    return h;
  };
  const records = (values: (string | Buffer | null)[]): KafkaRecord[] =>
    values.map((v) => ({
      topic: env.source,
      partition: 0,
      offset: offset++,
      timestamp: Date.now(),
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`k${offset}`),
      value: v === null ? null : Buffer.from(v),
      headers: [],
    }));
  const eventOf = (rs: KafkaRecord[]): unknown =>
    JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(rs, { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' }),
      ),
    ) as unknown;
  const people = (prefix: string, n: number, bad: (i: number) => boolean): string[] =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify(bad(i) ? { age: i } : { name: `${prefix}${i}`, age: 30 + i, company: 'Acme' }),
    );

  it('kafka mode: a vertex and an edge per line give records 10 = loaded 8 + rejected 2, objects 16 + 4', async () => {
    // errors.tolerance=all: an EOF run's rejections are counted (under none they fail the batch).
    const handler = handlerWith({ 'errors.tolerance': 'all' });
    const result = await handler(
      eventOf(records(people('k', 10, (i) => i === 3 || i === 7))),
      context,
    );
    expect(result).toMatchObject({
      records: 10,
      loaded: 8,
      rejected: 2,
      deadLettered: 0,
      tombstones: 0,
      objectsLoaded: 16,
      objectsRejected: 4,
    });
    expect(sum(result)).toBe(result.records);
  });

  it('kafka mode: pretty-printed JSON values are one compact line each (3 records, 3 loaded)', async () => {
    const handler = handlerWith({});
    const pretty = ['pa', 'pb', 'pc'].map((name, i) =>
      JSON.stringify({ name, age: 40 + i, company: 'Acme', note: 'a b\nc' }, null, 2),
    );
    expect(pretty.every((p) => p.includes('\n'))).toBe(true);
    const result = await handler(eventOf(records([...pretty, null])), context);
    expect(result).toMatchObject({ records: 4, loaded: 3, rejected: 0, tombstones: 1 });
    expect(result.objectsLoaded).toBe(6);
    const tg = createTigerGraphClient({ url: env.tg.url, version: 3 });
    const pa = (await tg.listVertices('Company_Graph', 'Person')).find((v) => v.v_id === 'pa');
    expect(pa?.attributes).toMatchObject({ age: 40 });
    // The produced line is compact: no line break outside strings, the string's own \n kept.
    // 10 lines from the test before, then these 3 (the tombstone is not mirrored).
    const mirrored = await readTopic(env.kafka.bootstrapServers, env.target, 13);
    const line = mirrored.find((m) => m.value?.toString().includes('"pa"'))?.value?.toString();
    expect(line).toBe('{"name":"pa","age":40,"company":"Acme","note":"a b\\nc"}');
  });

  it('direct mode: a non-JSON value with a line break is dead-lettered alone; neighbours load', async () => {
    const dlq = uniqueTopic('dlq');
    env.kafka.createTopic(dlq, 1);
    const handler = handlerWith({
      'tigergraph.delivery': 'direct',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
    });
    // Protobuf-like bytes: field 1, length-delimited, containing 0x0a.
    const protobuf = Buffer.from([0x0a, 0x03, 0x41, 0x0a, 0x42, 0x10, 0x0a]);
    const values = [
      ...people('d', 4, () => false),
      protobuf,
      JSON.stringify({ name: 'dpretty', age: 50, company: 'Acme' }, null, 4),
      ...people('e', 4, (i) => i === 2),
    ];
    const rs = records(values);
    const result = await handler(eventOf(rs), context);
    expect(result).toMatchObject({
      records: 10,
      loaded: 8,
      rejected: 0,
      deadLettered: 2,
      tombstones: 0,
    });
    expect(sum(result)).toBe(10);
    const dead = await readTopic(env.kafka.bootstrapServers, dlq, 2);
    const byOffset = new Map(
      dead.map((d) => [
        (d.headers[DLQ_HEADERS.offset] as Buffer).toString(),
        (d.headers[DLQ_HEADERS.code] as Buffer).toString(),
      ]),
    );
    expect(byOffset).toEqual(
      new Map([
        [String(rs[4]?.offset), 'CONVERT_VALUE_MULTILINE'],
        [String(rs[8]?.offset), 'TIGERGRAPH_RECORD_REJECTED'],
      ]),
    );
    const tg = createTigerGraphClient({ url: env.tg.url, version: 3 });
    const names = (await tg.listVertices('Company_Graph', 'Person')).map((v) => v.v_id);
    expect(names).toEqual(expect.arrayContaining(['d0', 'd3', 'dpretty', 'e0', 'e3']));
  });

  it('direct mode singles out records that lost only their edge: each counted, exactly', async () => {
    const handler = handlerWith({ 'tigergraph.delivery': 'direct', 'errors.tolerance': 'all' });
    // No "company": the Person vertex loads, the works_at edge has no target id.
    const values = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify(
        i % 3 === 0 ? { name: `edge${i}`, age: i } : { name: `edge${i}`, age: i, company: 'Acme' },
      ),
    );
    const result = await handler(eventOf(records(values)), context);
    expect(result).toMatchObject({
      records: 10,
      loaded: 6,
      rejected: 4,
      deadLettered: 0,
      objectsLoaded: 16,
      objectsRejected: 4,
    });
  });

  it('kafka mode: a non-JSON value with a line break is a record-level error; JSON Lines load line by line', async () => {
    const handler = handlerWith({ 'errors.tolerance': 'all' });
    const protobuf = Buffer.from([0x0a, 0x03, 0x41, 0x0a, 0x42, 0x10, 0x0a]);
    const ndjson = `${JSON.stringify({ name: 'nd1', age: 1, company: 'Acme' })}\n${JSON.stringify({ name: 'nd2', age: 2, company: 'Acme' })}\n`;
    const result = await handler(
      eventOf(records([...people('kp', 2, () => false), protobuf, ndjson])),
      context,
    );
    expect(result).toMatchObject({
      records: 4,
      produced: 4,
      loaded: 3,
      rejected: 1,
      deadLettered: 0,
      objectsLoaded: 8,
      objectsRejected: 0,
    });
  });

  it('direct mode never dead-letters a loaded record beside a record of several rejected lines', async () => {
    const dlq = uniqueTopic('dlq');
    env.kafka.createTopic(dlq, 1);
    const handler = handlerWith({
      'tigergraph.delivery': 'direct',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
    });
    const rs = records([
      `${JSON.stringify({ age: 1 })}\n${JSON.stringify({ age: 2 })}`,
      JSON.stringify({ name: 'multiGood', age: 3, company: 'Acme' }),
    ]);
    const result = await handler(eventOf(rs), context);
    expect(result).toMatchObject({ records: 2, loaded: 1, deadLettered: 1, rejected: 0 });
    const dead = await readTopic(env.kafka.bootstrapServers, dlq, 1);
    expect((dead[0]?.headers[DLQ_HEADERS.offset] as Buffer).toString()).toBe(String(rs[0]?.offset));
  });

  it('direct mode without a dead-letter topic: rejected records counted, never more than sent', async () => {
    const handler = handlerWith({ 'tigergraph.delivery': 'direct', 'errors.tolerance': 'all' });
    const result = await handler(eventOf(records(people('n', 6, (i) => i < 2))), context);
    expect(result).toMatchObject({ records: 6, loaded: 4, rejected: 2, objectsRejected: 4 });
    expect(sum(result)).toBe(6);
  });
});
