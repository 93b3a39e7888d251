import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createByteArrayConverter, type Converter } from '../../../lib/convert/index.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import { encodeKafkaEvent, type DecodedBatch, type KafkaRecord } from '../../../lib/event/index.ts';
import { silentLogger } from '../../../lib/observability/index.ts';
import {
  createStreamHandler,
  processBatch,
  type BatchResult,
  type PipelineDeps,
} from '../../../lib/pipeline/index.ts';
import { VALID, edit } from '../../helpers/config.ts';
import { FakeDelivery, FakeTigerGraph, testConfig } from '../../helpers/fakes.ts';

/** VALID without any tigergraph.* key: a mirror-only connector. */
const MIRROR_ONLY = VALID.replace(/^tigergraph\..*\n/gm, '');

const record = (partition: number, offset: number, value: string | null): KafkaRecord => ({
  topic: 'companies',
  partition,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  timestampType: 'CREATE_TIME',
  key: Buffer.from(`k${offset}`),
  value: value === null ? null : Buffer.from(value),
  headers: [{ key: 'h', value: Buffer.from([0xc3, 0xa9]) }],
});
const batchOf = (...records: KafkaRecord[]): DecodedBatch => ({
  eventSource: 'SelfManagedKafka',
  eventSourceArn: undefined,
  bootstrapServers: 'b:1',
  records,
});
const accounted = (r: BatchResult): number => r.loaded + r.rejected + r.deadLettered + r.tombstones;

const setup = (text = MIRROR_ONLY) => {
  const delivery = new FakeDelivery({ 'hello.companies': 3, dlq: 1 });
  const deps: PipelineDeps = {
    config: testConfig(text),
    converter: createByteArrayConverter(),
    delivery,
    logger: silentLogger(),
    retryPolicy: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
    sleep: () => Promise.resolve(),
  };
  return { delivery, deps };
};

describe('processBatch (mirror-only: no tigergraph.* key)', () => {
  it('produces to <alias>.<topic> as kafka mode does and counts each acknowledged record as loaded', async () => {
    const { delivery, deps } = setup();
    const records = [record(2, 7, '{"company":"A"}'), record(0, 8, null), record(0, 9, 'plain')];
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toEqual({
      mode: 'mirror-only',
      records: 3,
      produced: 2,
      loaded: 2,
      rejected: 0,
      deadLettered: 0,
      tombstones: 1,
      objectsLoaded: 0,
      objectsRejected: 0,
      retries: 0,
      bytes: 20,
      jobIds: [],
    });
    expect(accounted(result)).toBe(result.records);
    expect(delivery.logs.get('hello.companies')?.[2]).toEqual([
      {
        topic: 'hello.companies',
        partition: 2,
        key: records[0]?.key,
        value: records[0]?.value,
        headers: records[0]?.headers,
        timestamp: records[0]?.timestamp,
      },
    ]);
    expect(delivery.logs.get('hello.companies')?.[0]?.map((r) => r.value?.toString())).toEqual([
      'plain',
    ]);
  });

  it('never touches a TigerGraph client, even one that is given', async () => {
    const { delivery, deps } = setup();
    const tigergraph = new FakeTigerGraph(delivery);
    const start = vi.spyOn(tigergraph, 'startLoadingJob');
    const post = vi.spyOn(tigergraph, 'postDdl');
    const progress = vi.spyOn(tigergraph, 'getProgress');
    await processBatch(batchOf(record(0, 1, '{"company":"A"}')), { ...deps, tigergraph });
    expect([start, post, progress].map((f) => f.mock.calls.length)).toEqual([0, 0, 0]);
  });

  it('dead-letters what cannot be converted (errors.tolerance=all) and keeps every record accounted for', async () => {
    const failing: Converter = {
      name: 'failing',
      convert: (r) => {
        if (r.value?.toString() === 'bad') throw new ConvertError('CONVERT_AVRO_INVALID', 'bad');
        return Promise.resolve({ kind: 'values', values: [r.value as Buffer] });
      },
    };
    const { delivery, deps } = setup(
      edit(
        'errors.deadletterqueue.topic.name',
        'dlq',
        edit('errors.tolerance', 'all', MIRROR_ONLY),
      ),
    );
    const result = await processBatch(batchOf(record(1, 1, 'bad'), record(1, 2, '{"a":1}')), {
      ...deps,
      converter: failing,
    });
    expect(result).toMatchObject({ mode: 'mirror-only', loaded: 1, deadLettered: 1 });
    expect(accounted(result)).toBe(2);
    expect(delivery.logs.get('dlq')?.[0]).toHaveLength(1);
  });

  it('fails the batch, so the ESM redelivers it, when TigerGraph Kafka never acknowledges', async () => {
    const { delivery, deps } = setup();
    const { DeliveryError } = await import('../../../lib/errors/index.ts');
    const down = new DeliveryError('KAFKA_PRODUCE_RETRIABLE', 'down', { retriable: true });
    delivery.failures = [down, down];
    await expect(processBatch(batchOf(record(0, 1, '{"a":1}')), deps)).rejects.toBe(down);
  });

  it('refuses a connector that calls the loader without a TigerGraph client, before producing', async () => {
    const { delivery, deps } = setup(VALID);
    await expect(processBatch(batchOf(record(0, 1, '{"a":1}')), deps)).rejects.toMatchObject({
      code: 'CONFIG_TIGERGRAPH_CLIENT_MISSING',
    });
    expect(delivery.sent).toEqual([]);
  });
});

describe('stream handler with a mirror-only connector', () => {
  it('builds no TigerGraph client and returns the mirror-only accounting', async () => {
    const delivery = new FakeDelivery({ 'hello.companies': 3 });
    const createTigerGraph = vi.fn();
    const handler = createStreamHandler({
      loadConfig: () => Promise.resolve(testConfig(MIRROR_ONLY)),
      createDelivery: () => delivery,
      resolveBrokers: (value) => Promise.resolve(value),
      createTigerGraph,
      logger: silentLogger(),
    });
    const event = JSON.parse(
      JSON.stringify(
        encodeKafkaEvent([record(0, 1, '{"a":1}'), record(1, 2, null)], {
          eventSource: 'SelfManagedKafka',
          bootstrapServers: 'b:1',
        }),
      ),
    ) as unknown;
    const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 } as Context;
    const result = await handler(event, context);
    await handler.close();
    expect(result).toMatchObject({ mode: 'mirror-only', records: 2, loaded: 1, tombstones: 1 });
    expect(createTigerGraph).not.toHaveBeenCalled();
  });
});
