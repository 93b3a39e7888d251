/**
 * errors.tolerance for records TigerGraph's Kafka refuses and records TigerGraph rejects
 * (lib/pipeline/policy.ts): dead-lettered or counted under `all`, the batch failed at once
 * under `none`.
 */
import { describe, expect, it } from 'vitest';
import { createByteArrayConverter } from '../../../lib/convert/index.ts';
import { TigerStreamError } from '../../../lib/errors/index.ts';
import type { DecodedBatch, KafkaRecord } from '../../../lib/event/index.ts';
import { KafkaError, type OutRecord } from '../../../lib/kafka/index.ts';
import { createLogger } from '../../../lib/observability/index.ts';
import {
  DLQ_HEADERS,
  decideRecordFailure,
  processBatch,
  type PipelineDeps,
} from '../../../lib/pipeline/index.ts';
import { handleRejectedLines } from '../../../lib/pipeline/direct.ts';
import { DLQ_VALUE_OMITTED_HEADER } from '../../../lib/pipeline/produce.ts';
import { edit } from '../../helpers/config.ts';
import { FakeDelivery, FakeTigerGraph, testConfig } from '../../helpers/fakes.ts';

const record = (partition: number, offset: number, value: string): KafkaRecord => ({
  topic: 'companies',
  partition,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  timestampType: 'CREATE_TIME',
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(value),
  headers: [{ key: 'h', value: Buffer.from('v') }],
});
const batchOf = (...records: KafkaRecord[]): DecodedBatch => ({
  eventSource: 'SelfManagedKafka',
  eventSourceArn: undefined,
  bootstrapServers: 'b:1',
  records,
});
const company = (n: number, pad = ''): string => JSON.stringify({ company: `C${n}`, pad });

const setup = (...edits: [string, string][]) => {
  const delivery = new FakeDelivery({ 'hello.companies': 2, dlq: 1 });
  const tigergraph = new FakeTigerGraph(delivery);
  const lines: Record<string, unknown>[] = [];
  const deps: PipelineDeps = {
    config: testConfig(
      edits.reduce<string | undefined>((text, [k, v]) => edit(k, v, text), undefined),
    ),
    converter: createByteArrayConverter(),
    delivery,
    tigergraph,
    logger: createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    retryPolicy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
    sleep: () => Promise.resolve(),
  };
  return { delivery, tigergraph, deps, lines };
};
const ALL_DLQ: [string, string][] = [
  ['errors.tolerance', 'all'],
  ['errors.deadletterqueue.topic.name', 'dlq'],
];
const tooLarge = (): KafkaError =>
  new KafkaError('KAFKA_RECORD_TOO_LARGE', 'Producing failed: too large (MESSAGE_TOO_LARGE)', {
    kind: 'record',
    kafkaError: 'MESSAGE_TOO_LARGE',
  });
/** TigerGraph's Kafka refuses any send to the target topic holding a value with "big" in it. */
const refuseBig = (r: OutRecord): KafkaError | undefined =>
  r.topic === 'hello.companies' && r.value?.toString().includes('big') ? tooLarge() : undefined;
const values = (list: readonly OutRecord[] | undefined): string[] =>
  (list ?? []).map((r) => (JSON.parse(r.value?.toString() ?? '') as { company: string }).company);
const header = (r: OutRecord | undefined, key: string): string | undefined =>
  r?.headers.find((h) => h.key === key)?.value.toString();

describe("records TigerGraph's Kafka refuses (record-level Kafka errors)", () => {
  const twelve = (bad: number[]): KafkaRecord[] =>
    Array.from({ length: 12 }, (_, i) =>
      record(i % 2, 100 + i, company(i, bad.includes(i) ? 'big' : '')),
    );

  it('errors.tolerance=all: the refused record is dead-lettered with its original bytes and code, the others delivered in order and loaded', async () => {
    const { delivery, tigergraph, deps, lines } = setup(...ALL_DLQ);
    delivery.refuse = refuseBig;
    const records = twelve([5]);
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toMatchObject({
      records: 12,
      produced: 11,
      loaded: 11,
      rejected: 0,
      deadLettered: 1,
    });
    const log = delivery.logs.get('hello.companies');
    expect(values(log?.[0])).toEqual(['C0', 'C2', 'C4', 'C6', 'C8', 'C10']);
    expect(values(log?.[1])).toEqual(['C1', 'C3', 'C7', 'C9', 'C11']);
    const [dead] = delivery.logs.get('dlq')?.[0] ?? [];
    expect(dead?.value).toEqual(records[5]?.value);
    expect(dead?.key).toEqual(records[5]?.key);
    expect(header(dead, 'h')).toBe('v');
    expect(header(dead, DLQ_HEADERS.code)).toBe('KAFKA_RECORD_TOO_LARGE');
    expect(header(dead, DLQ_HEADERS.message)).toContain('MESSAGE_TOO_LARGE');
    expect(header(dead, DLQ_HEADERS.offset)).toBe('105');
    expect(header(dead, DLQ_HEADERS.partition)).toBe('1');
    // The EOF run loads from the first offsets produced; the one refused send was halved
    // down to the record, each refused send tried once (record-level errors are not retried).
    expect(tigergraph.runs[0]?.partitions).toEqual([
      { partition: 0, start_offset: 0 },
      { partition: 1, start_offset: 0 },
    ]);
    const refused = delivery.attempts.filter((a) => a.some((r) => refuseBig(r)));
    expect(refused.map((a) => a.length)).toEqual([12, 6, 3, 2, 1]);
    expect(lines.find((l) => l.message === 'Record sent to the dead-letter topic')).toMatchObject({
      topic: 'companies',
      partition: 1,
      offset: 105,
      error: expect.objectContaining({ code: 'KAFKA_RECORD_TOO_LARGE' }) as unknown,
    });
  });

  it('errors.tolerance=all without a dead-letter topic: the refused records are counted as rejected and logged', async () => {
    const { delivery, deps, lines } = setup(['errors.tolerance', 'all']);
    delivery.refuse = refuseBig;
    const result = await processBatch(batchOf(...twelve([0, 11])), deps);
    expect(result).toMatchObject({ records: 12, produced: 10, loaded: 10, rejected: 2 });
    expect(
      lines
        .filter((l) => l.message === 'Record rejected (errors.tolerance=all, no dead-letter topic)')
        .map((l) => l.offset),
    ).toEqual([100, 111]);
  });

  it('errors.tolerance=none: the batch fails at once with the record code and its coordinates, not retriable', async () => {
    const { delivery, tigergraph, deps } = setup();
    delivery.refuse = refuseBig;
    const error = await processBatch(batchOf(record(0, 7, company(1, 'big'))), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'KAFKA_RECORD_TOO_LARGE',
      retriable: false,
      kafkaError: 'MESSAGE_TOO_LARGE',
      details: { topic: 'companies', partition: 0, offset: 7 },
    });
    expect((error as Error).message).toContain(
      "TigerGraph's Kafka refused the record at companies[0] offset 7",
    );
    expect((error as Error).message).toContain('errors.tolerance=none fails the batch');
    expect(delivery.attempts).toHaveLength(1);
    expect(tigergraph.runs).toEqual([]);
  });

  it('a send refused as a whole whose halves are accepted (a request too large) delivers everything', async () => {
    const { delivery, deps } = setup();
    // The broker's limit is on the request: more than 6 records at once is too large.
    const refuseMany = () => undefined;
    delivery.refuse = refuseMany;
    const original = delivery.send.bind(delivery);
    delivery.send = (records) =>
      records.length > 6 ? Promise.reject(tooLarge()) : original(records);
    const result = await processBatch(batchOf(...twelve([])), deps);
    expect(result).toMatchObject({ records: 12, produced: 12, loaded: 12, deadLettered: 0 });
    expect(values(delivery.logs.get('hello.companies')?.[0])).toEqual([
      'C0',
      'C2',
      'C4',
      'C6',
      'C8',
      'C10',
    ]);
  });

  it('retries a retriable failure of a part while singling out the refused record', async () => {
    const { delivery, deps } = setup(...ALL_DLQ);
    delivery.refuse = refuseBig;
    const records = twelve([11]);
    const original = delivery.send.bind(delivery);
    let calls = 0;
    delivery.send = (part) => {
      calls++;
      // The second send (the first half) meets a leader change once.
      if (calls === 2)
        return Promise.reject(
          new KafkaError('KAFKA_PRODUCE_RETRIABLE', 'leader moved', {
            kind: 'retriable',
            kafkaError: 'NOT_LEADER_OR_FOLLOWER',
          }),
        );
      return original(part);
    };
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toMatchObject({ loaded: 11, deadLettered: 1, retries: 1 });
  });

  it('a fatal Kafka error fails the batch at once, whatever errors.tolerance says', async () => {
    const { delivery, deps } = setup(...ALL_DLQ);
    delivery.refuse = () =>
      new KafkaError('KAFKA_AUTHORIZATION_FAILED', 'not allowed (TOPIC_AUTHORIZATION_FAILED)', {
        kind: 'fatal',
        kafkaError: 'TOPIC_AUTHORIZATION_FAILED',
      });
    await expect(processBatch(batchOf(...twelve([])), deps)).rejects.toMatchObject({
      code: 'KAFKA_AUTHORIZATION_FAILED',
      retriable: false,
    });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.logs.get('dlq')?.[0]).toEqual([]);
  });

  it('a dead letter the dead-letter topic refuses goes without its value, saying why (nothing is dropped)', async () => {
    const { delivery, deps } = setup(...ALL_DLQ);
    // The original bytes are as large for the dead-letter topic as they were for the target.
    delivery.refuse = (r) => (r.value?.toString().includes('big') ? tooLarge() : undefined);
    const result = await processBatch(batchOf(...twelve([3])), deps);
    expect(result).toMatchObject({ records: 12, deadLettered: 1 });
    const [letter] = delivery.logs.get('dlq')?.[0] ?? [];
    expect(letter?.value).toBeNull();
    const header = (key: string) => letter?.headers.find((h) => h.key === key)?.value?.toString();
    expect(header(DLQ_VALUE_OMITTED_HEADER)).toMatch(
      /^KAFKA_RECORD_TOO_LARGE: the dead-letter topic refused the value of \d+ bytes; read it from the source/,
    );
    expect(header(DLQ_HEADERS.offset)).toBe('103'); // twelve() numbers offsets from 100
  });

  it('a dead letter refused even without its value fails the batch (KAFKA_DEAD_LETTER_REFUSED)', async () => {
    const { delivery, deps } = setup(...ALL_DLQ);
    delivery.refuse = (r) =>
      r.value?.toString().includes('big') || r.topic === 'dlq' ? tooLarge() : undefined;
    const error = await processBatch(batchOf(...twelve([3])), deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'KAFKA_DEAD_LETTER_REFUSED',
      retriable: false,
      details: expect.objectContaining({ topic: 'dlq' }) as unknown,
    });
    expect((error as Error).message).toContain(
      'The dead-letter topic dlq refused 1 dead letter(s), even without the value',
    );
  });

  it('a mirror-only connector dead-letters a refused record the same way', async () => {
    const delivery = new FakeDelivery({ 'hello.companies': 2, dlq: 1 });
    delivery.refuse = refuseBig;
    const mirrorOnly = testConfig(
      ALL_DLQ.reduce<string | undefined>((text, [k, v]) => edit(k, v, text), undefined),
    );
    const settings = Object.fromEntries(
      Object.entries(mirrorOnly.settings).filter(([k]) => !k.startsWith('tigergraph.')),
    );
    const { deps } = setup(...ALL_DLQ);
    const result = await processBatch(batchOf(...twelve([2])), {
      ...deps,
      config: { ...mirrorOnly, settings, tigergraph: undefined },
      delivery,
      tigergraph: undefined,
    });
    expect(result).toMatchObject({ mode: 'mirror-only', loaded: 11, deadLettered: 1 });
  });
});

describe('records TigerGraph rejects follow errors.tolerance', () => {
  const mixed = (pad = ''): KafkaRecord[] =>
    Array.from({ length: 10 }, (_, i) =>
      record(0, 200 + i, i === 4 ? JSON.stringify({ other: i, pad }) : company(i, pad)),
    );

  it('kafka mode, EOF run waited for, errors.tolerance=none: the batch fails with TIGERGRAPH_RECORDS_REJECTED, not retriable', async () => {
    const { tigergraph, deps } = setup();
    const error = await processBatch(batchOf(...mixed()), deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_RECORDS_REJECTED',
      retriable: false,
      details: { job: 'load_company', rejectedLines: 0, rejectedObjects: 1, jobIds: 'run-1' },
    });
    expect((error as Error).message).toContain(
      "TigerGraph's loading job load_company rejected 0 line(s) and 1 object(s) of EOF run(s) run-1 over hello.companies[0] from offset 0",
    );
    // One run, not retried within the invocation.
    expect(tigergraph.runs).toHaveLength(1);
  });

  it('kafka mode, errors.tolerance=all with a dead-letter topic: the rejected record is singled out through /ddl and dead-lettered with the reason', async () => {
    const { delivery, tigergraph, deps } = setup(...ALL_DLQ);
    const batch = mixed();
    const result = await processBatch(batchOf(...batch), deps);
    expect(result).toMatchObject({ records: 10, loaded: 9, rejected: 0, deadLettered: 1 });
    // The EOF run's sums said one object was rejected; the lines were posted again to find it.
    expect(tigergraph.runs).toHaveLength(1);
    expect(tigergraph.posts.length).toBeGreaterThan(0);
    const letters = delivery.logs.get('dlq')?.[0] ?? [];
    expect(letters).toHaveLength(1);
    const header = (key: string) =>
      letters[0]?.headers.find((h) => h.key === key)?.value?.toString();
    expect(header(DLQ_HEADERS.code)).toBe('TIGERGRAPH_RECORD_REJECTED');
    const bad = batch.find((r) => !r.value?.toString().includes('company'));
    expect(header(DLQ_HEADERS.offset)).toBe(String(bad?.offset));
  });

  it.each([
    [
      'a /ddl failing past its retries (5xx)',
      (tg: FakeTigerGraph) => {
        tg.postDdl = () =>
          Promise.reject(new TigerStreamError('TIGERGRAPH_HTTP_503', 'busy', { retriable: true }));
      },
      {},
    ],
    [
      'a /ddl that reads fewer lines than were posted',
      (tg: FakeTigerGraph) => {
        tg.postDdl = () =>
          Promise.resolve({
            validLines: 1,
            rejectedLines: 0,
            validObjects: 1,
            rejectedObjects: 0,
            filteredObjects: 0,
          });
      },
      {},
    ],
    [
      'a /ddl that rejects other records than the run did',
      (tg: FakeTigerGraph) => {
        tg.postDdl = (_g, _j, _f, body) =>
          Promise.resolve({
            validLines: body.split('\n').length,
            rejectedLines: 0,
            validObjects: body.split('\n').length,
            rejectedObjects: 0,
            filteredObjects: 0,
          });
      },
      {},
    ],
    [
      'too little time left before the deadline',
      () => undefined,
      { deadline: 4_000, now: () => 0 },
    ],
  ] as const)(
    'kafka mode, errors.tolerance=all: with %s the records are counted from the run, nothing dead-lettered, the batch goes on',
    async (_what, arrange, extra) => {
      const { delivery, tigergraph, deps } = setup(...ALL_DLQ);
      arrange(tigergraph);
      const result = await processBatch(batchOf(...mixed()), { ...deps, ...extra });
      expect(result).toMatchObject({ records: 10, loaded: 9, rejected: 1, deadLettered: 0 });
      expect(delivery.logs.get('dlq')?.[0]).toEqual([]);
    },
  );

  it('kafka mode, errors.tolerance=all: when /ddl refuses the job, or without a dead-letter topic, the rejected record is counted', async () => {
    const refusing = setup(...ALL_DLQ);
    refusing.tigergraph.postDdl = () =>
      Promise.reject(
        new TigerStreamError('TIGERGRAPH_REST_30000', 'not a file job', { retriable: false }),
      );
    expect(await processBatch(batchOf(...mixed()), refusing.deps)).toMatchObject({
      records: 10,
      loaded: 9,
      rejected: 1,
      deadLettered: 0,
    });
    expect(refusing.delivery.logs.get('dlq')?.[0]).toEqual([]);
    const plain = setup(['errors.tolerance', 'all']);
    expect(await processBatch(batchOf(...mixed()), plain.deps)).toMatchObject({
      loaded: 9,
      rejected: 1,
      deadLettered: 0,
    });
    expect(plain.tigergraph.posts).toHaveLength(0);
  });

  it.each([
    ['tigergraph.loading.eof', 'false'],
    ['tigergraph.loading.wait', 'false'],
  ] as const)(
    "kafka mode with %s=%s, errors.tolerance=none: TigerGraph's verdict is not known, the batch succeeds",
    async (key, value) => {
      const { deps } = setup([key, value]);
      const result = await processBatch(batchOf(...mixed()), { ...deps, streamingRuns: new Map() });
      expect(result).toMatchObject({ records: 10, loaded: 10, rejected: 0 });
    },
  );

  it('direct mode, errors.tolerance=none: the first chunk with rejections fails the batch at once, naming its offsets; later chunks are not posted', async () => {
    const { tigergraph, deps } = setup(
      ['tigergraph.delivery', 'direct'],
      ['tigergraph.batch.max.bytes', '1024'],
    );
    const error = await processBatch(batchOf(...mixed('x'.repeat(300))), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_RECORDS_REJECTED',
      retriable: false,
      details: { topic: 'companies', partition: 0, rejectedObjects: 1 },
    });
    expect((error as Error).message).toContain(
      'of the 3 record(s) posted from companies[0] offset 203 to companies[0] offset 205; errors.tolerance=none fails the batch',
    );
    // Chunks of 1024 bytes hold 3 of these records: offset 204 was in the second post.
    expect(tigergraph.posts).toHaveLength(2);
  });

  it('direct mode, errors.tolerance=all: the rejected record is dead-lettered with its reason', async () => {
    const { delivery, deps } = setup(['tigergraph.delivery', 'direct'], ...ALL_DLQ);
    const result = await processBatch(batchOf(...mixed()), deps);
    expect(result).toMatchObject({ records: 10, loaded: 9, deadLettered: 1 });
    const [dead] = delivery.logs.get('dlq')?.[0] ?? [];
    expect(header(dead, DLQ_HEADERS.code)).toBe('TIGERGRAPH_RECORD_REJECTED');
    expect(header(dead, DLQ_HEADERS.message)).toContain('a missing or invalid id or attribute');
    expect(header(dead, DLQ_HEADERS.offset)).toBe('204');
  });

  it('handing singled-out rejections over under errors.tolerance=none fails the batch', async () => {
    const { deps } = setup(['tigergraph.delivery', 'direct']);
    const r = record(0, 1, '{}');
    const tg = deps.config.tigergraph;
    if (tg === undefined) throw new Error('the test connector calls TigerGraph');
    await expect(
      handleRejectedLines(
        deps,
        { settings: tg, client: new FakeTigerGraph(new FakeDelivery({})) },
        [{ line: { record: r, value: Buffer.from('{}') }, counts: undefined }],
      ),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_RECORD_REJECTED' });
  });
});

describe('decideRecordFailure', () => {
  const config = (tolerance: 'none' | 'all', dlq?: string) => ({
    errorsTolerance: tolerance,
    deadLetterTopic: dlq,
  });
  it('fails the batch for what is not about one record, whatever the tolerance', () => {
    const retriable = new KafkaError('KAFKA_PRODUCE_RETRIABLE', 'x', {
      kind: 'retriable',
      kafkaError: undefined,
    });
    for (const error of [
      retriable,
      new TigerStreamError('REGISTRY_UNAVAILABLE', 'down'),
      new Error('bug'),
    ])
      expect(decideRecordFailure(error, config('all', 'dlq'))).toBe('fail-batch');
    expect(decideRecordFailure(tooLarge(), config('none', 'dlq'))).toBe('fail-batch');
    expect(decideRecordFailure(tooLarge(), config('all', 'dlq'))).toBe('dead-letter');
    expect(decideRecordFailure(tooLarge(), config('all'))).toBe('reject');
  });
});

describe("TigerGraph's rejections that its statistics cannot pin to records (kafka mode, EOF run)", () => {
  it('counts the fewest records that explain them, keeps the sum, and logs the most they could be with a note', async () => {
    const { tigergraph, deps, lines } = setup(['errors.tolerance', 'all']);
    // Two objects per line (a vertex and an edge): each record lost its edge.
    tigergraph.getProgress = (_graph, jobId) =>
      Promise.resolve({
        jobId,
        status: 'FINISHED',
        counts: {
          validLines: 2,
          rejectedLines: 0,
          validObjects: 2,
          rejectedObjects: 2,
          filteredObjects: 0,
        },
        error: undefined,
      });
    const result = await processBatch(
      batchOf(record(0, 1, company(1)), record(0, 2, company(2))),
      deps,
    );
    expect(result).toMatchObject({ records: 2, loaded: 1, rejected: 1, objectsRejected: 2 });
    expect(result.loaded + result.rejected + result.deadLettered + result.tombstones).toBe(2);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'TigerGraph rejected records of this batch',
        rejected: 1,
        rejectedAtMost: 2,
        note: 'rejected is a lower bound: 0 line(s) and 2 object(s) were rejected, which could be from up to 2 record(s)',
        objectsRejected: 2,
      }),
    );
  });

  it('one object per line: the count is exact and no bound is logged', async () => {
    const { deps, lines } = setup(['errors.tolerance', 'all']);
    const result = await processBatch(
      batchOf(record(0, 1, company(1)), record(0, 2, '{"pad":"no id"}')),
      deps,
    );
    expect(result).toMatchObject({ loaded: 1, rejected: 1, objectsRejected: 1 });
    const warned = lines.find((l) => l.message === 'TigerGraph rejected records of this batch');
    expect(warned).toMatchObject({ rejected: 1 });
    expect(warned).not.toHaveProperty('rejectedAtMost');
  });
});
