import { describe, expect, it } from 'vitest';
import { createByteArrayConverter, type Converter } from '../../../lib/convert/index.ts';
import { ConvertError, TigerStreamError } from '../../../lib/errors/index.ts';
import type { DecodedBatch, KafkaRecord } from '../../../lib/event/index.ts';
import type { OutRecord } from '../../../lib/kafka/index.ts';
import { createLogger, silentLogger } from '../../../lib/observability/index.ts';
import {
  DLQ_HEADERS,
  processBatch,
  type PipelineDeps,
  type StreamingRun,
} from '../../../lib/pipeline/index.ts';
import { FIRST_RUN_ESTIMATE_MS, createRunTimes } from '../../../lib/pipeline/deadline.ts';
import { edit } from '../../helpers/config.ts';
import { FakeDelivery, FakeTigerGraph, testConfig } from '../../helpers/fakes.ts';

const record = (
  partition: number,
  offset: number,
  value: string | null,
  extra: Partial<KafkaRecord> = {},
): KafkaRecord => ({
  topic: 'companies',
  partition,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  timestampType: 'CREATE_TIME',
  key: Buffer.from(`k${offset}`),
  value: value === null ? null : Buffer.from(value),
  headers: [{ key: 'h', value: Buffer.from([0xc3, 0xa9]) }],
  ...extra,
});
const batchOf = (...records: KafkaRecord[]): DecodedBatch => ({
  eventSource: 'SelfManagedKafka',
  eventSourceArn: undefined,
  bootstrapServers: 'b:1',
  records,
});
const fastRetry = {
  retryPolicy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
  sleep: () => Promise.resolve(),
};

const setup = (configText?: string, partitions = 3) => {
  const delivery = new FakeDelivery({ 'hello.companies': partitions, dlq: 1 });
  const tigergraph = new FakeTigerGraph(delivery);
  const deps: PipelineDeps = {
    config: testConfig(configText),
    converter: createByteArrayConverter(),
    delivery,
    tigergraph,
    logger: silentLogger(),
    ...fastRetry,
  };
  return { delivery, tigergraph, deps };
};

describe('processBatch (kafka mode)', () => {
  it('produces to <alias>.<topic> on the same partition with key, headers and timestamp kept', async () => {
    const { delivery, deps } = setup();
    const r = record(2, 7, '{"company":"A"}');
    await processBatch(batchOf(r), deps);
    expect(delivery.logs.get('hello.companies')?.[2]).toEqual([
      {
        topic: 'hello.companies',
        partition: 2,
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: r.timestamp,
      },
    ]);
  });

  it('falls back to the key hash when the target has fewer partitions than the source', async () => {
    const { delivery, deps } = setup(undefined, 1);
    await processBatch(batchOf(record(2, 0, '{"company":"A"}')), deps);
    expect(delivery.sent[0]?.[0]?.partition).toBeUndefined();
  });

  it('starts one EOF run over exactly the offsets it produced, per partition', async () => {
    const { tigergraph, deps } = setup();
    await processBatch(
      batchOf(record(0, 1, '{"company":"A"}'), record(1, 5, '{"company":"B"}')),
      deps,
    );
    const result = await processBatch(
      batchOf(
        record(0, 2, '{"company":"C"}'),
        record(0, 3, '{"company":"D"}'),
        record(1, 6, '{"company":"E"}'),
      ),
      deps,
    );
    expect(tigergraph.runs[1]).toEqual({
      graph: 'Company_Graph',
      job: 'load_company',
      filename: 'f1',
      dataSource: 'k1',
      topic: 'hello.companies',
      streaming: false,
      partitions: [
        { partition: 0, start_offset: 1 },
        { partition: 1, start_offset: 1 },
      ],
    });
    expect(result).toMatchObject({
      records: 3,
      produced: 3,
      loaded: 3,
      rejected: 0,
      deadLettered: 0,
      tombstones: 0,
      jobIds: ['run-2'],
    });
  });

  // The streaming run's start, adoption, resume and replacement: test/unit/pipeline/streaming.test.ts.
  it('asks at most once a minute whether the streaming run still runs, and resumes it under its own id when it stopped', async () => {
    const { tigergraph, deps } = setup(edit('tigergraph.loading.eof', 'false'));
    const streamingRuns = new Map<string, StreamingRun>();
    let clock = 1_000_000;
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    });
    const run = (offset: number) =>
      processBatch(batchOf(record(0, offset, '{"company":"A"}')), {
        ...deps,
        logger: log,
        streamingRuns,
        now: () => clock,
      });
    tigergraph.status = 'RUNNING';
    await run(1);
    clock += 30_000;
    await run(2); // within the minute: not asked
    clock += 61_000;
    await run(3); // asked: still running
    expect(tigergraph.runs).toHaveLength(1);
    tigergraph.status = 'ABORTED';
    clock += 10_000;
    await run(4); // within the minute of the last answer: not asked yet
    expect(tigergraph.resumed).toEqual([]);
    clock += 61_000;
    const result = await run(5);
    expect(tigergraph.runs).toHaveLength(1);
    expect(tigergraph.resumed).toEqual(['run-1']);
    expect(result.jobIds).toEqual(['run-1']);
    expect(
      lines.find((l) => l.message === 'Resumed the streaming run of the loading job'),
    ).toMatchObject({ jobId: 'run-1', was: 'ABORTED' });
  });

  it('skips and counts tombstones, and counts records TigerGraph rejects (errors.tolerance=all)', async () => {
    const { deps } = setup(edit('errors.tolerance', 'all'));
    const result = await processBatch(
      batchOf(
        record(0, 1, null),
        record(0, 2, '{"name":"no id field"}'),
        record(0, 3, '{"company":"ok"}'),
      ),
      deps,
    );
    expect(result).toMatchObject({
      records: 3,
      produced: 2,
      loaded: 1,
      rejected: 1,
      tombstones: 1,
    });
    expect(result.records).toBe(
      result.loaded + result.rejected + result.deadLettered + result.tombstones,
    );
  });

  it('retries a retriable produce failure and a retriable loader failure', async () => {
    const { delivery, tigergraph, deps } = setup();
    delivery.failures.push(
      new TigerStreamError('KAFKA_PRODUCE_RETRIABLE', 'broker down', { retriable: true }),
    );
    tigergraph.startFailures.push(
      new TigerStreamError('TIGERGRAPH_HTTP_503', 'busy', { retriable: true }),
    );
    const result = await processBatch(batchOf(record(0, 1, '{"company":"A"}')), deps);
    expect(result.loaded).toBe(1);
    expect(tigergraph.runs).toHaveLength(1);
  });

  it('fails the batch on a non-retriable loader error, after the records were produced', async () => {
    const { tigergraph, deps } = setup();
    tigergraph.startFailures.push(
      new TigerStreamError('TIGERGRAPH_REST_1004', 'graph not found', { retriable: false }),
    );
    await expect(
      processBatch(batchOf(record(0, 1, '{"company":"A"}')), deps),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_1004' });
  });

  it('fails with a clear error when the target topic does not exist', async () => {
    const { deps } = setup(edit('source.cluster.alias', 'other'));
    await expect(processBatch(batchOf(record(0, 1, '{}')), deps)).rejects.toMatchObject({
      code: 'KAFKA_TARGET_TOPIC_MISSING',
      message: expect.stringContaining('other.companies') as unknown,
    });
  });

  it('keeps the topic name under IdentityReplicationPolicy', async () => {
    const delivery = new FakeDelivery({ companies: 3 });
    const deps: PipelineDeps = {
      ...setup(
        edit(
          'replication.policy.class',
          'org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
        ),
      ).deps,
      delivery,
      tigergraph: new FakeTigerGraph(delivery),
    };
    await processBatch(batchOf(record(0, 1, '{"company":"A"}')), deps);
    expect(delivery.logs.get('companies')?.[0]).toHaveLength(1);
  });
});

describe('processBatch record-level errors', () => {
  const failing: Converter = {
    name: 'failing',
    convert: (r) => {
      if (r.value?.toString() === 'bad')
        throw new ConvertError('CONVERT_AVRO_DECODE_FAILED', 'cannot decode', {
          details: { topic: r.topic, partition: r.partition, offset: r.offset },
        });
      return { kind: 'values', values: [r.value as Buffer] };
    },
  };

  it('fails the batch under errors.tolerance=none', async () => {
    const { deps } = setup();
    await expect(
      processBatch(batchOf(record(0, 1, 'bad')), { ...deps, converter: failing }),
    ).rejects.toMatchObject({ code: 'CONVERT_AVRO_DECODE_FAILED' });
  });

  it('dead-letters the original record with error headers under errors.tolerance=all and goes on', async () => {
    const { delivery, deps } = setup(
      edit('errors.deadletterqueue.topic.name', 'dlq', edit('errors.tolerance', 'all')),
    );
    const bad = record(1, 9, 'bad');
    const result = await processBatch(batchOf(bad, record(1, 10, '{"company":"ok"}')), {
      ...deps,
      converter: failing,
    });
    expect(result).toMatchObject({ records: 2, produced: 1, loaded: 1, deadLettered: 1 });
    const [dead] = delivery.logs.get('dlq')?.[0] ?? [];
    expect(dead?.value).toEqual(bad.value);
    expect(dead?.key).toEqual(bad.key);
    const headers = Object.fromEntries(
      (dead?.headers ?? []).map((h) => [h.key, h.value.toString()]),
    );
    expect(headers).toMatchObject({
      h: 'é',
      [DLQ_HEADERS.code]: 'CONVERT_AVRO_DECODE_FAILED',
      [DLQ_HEADERS.topic]: 'companies',
      [DLQ_HEADERS.partition]: '1',
      [DLQ_HEADERS.offset]: '9',
    });
  });

  it('a dead-letter topic that does not exist fails the batch before anything is produced: KAFKA_DEAD_LETTER_TOPIC_MISSING, not retriable, naming the topic', async () => {
    const { deps } = setup(
      edit('errors.deadletterqueue.topic.name', 'missing', edit('errors.tolerance', 'all')),
    );
    const delivery = new FakeDelivery({ 'hello.companies': 3 });
    const sends: number[] = [];
    const send = delivery.send.bind(delivery);
    delivery.send = (records, options) => {
      sends.push(records.length);
      return send(records, options);
    };
    const error = await processBatch(batchOf(record(0, 1, '{"company":"ok"}')), {
      ...deps,
      delivery,
      tigergraph: new FakeTigerGraph(delivery),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'KAFKA_DEAD_LETTER_TOPIC_MISSING',
      retriable: false,
      details: { topic: 'missing' },
    });
    expect((error as Error).message).toMatch(
      /^Dead-letter topic missing \(errors.deadletterqueue.topic.name\) does not exist on .*; create it there, or remove the key/,
    );
    expect(sends).toEqual([]);
  });

  it('a dead-letter topic name is not checked under errors.tolerance=none (nothing is dead-lettered)', async () => {
    const { deps } = setup(edit('errors.deadletterqueue.topic.name', 'missing'));
    const result = await processBatch(batchOf(record(0, 1, '{"company":"ok"}')), deps);
    expect(result).toMatchObject({ records: 1, loaded: 1 });
  });

  it('counts the record as rejected under errors.tolerance=all without a dead-letter topic', async () => {
    const { deps } = setup(edit('errors.tolerance', 'all'));
    const result = await processBatch(
      batchOf(record(0, 1, 'bad'), record(0, 2, '{"company":"ok"}')),
      { ...deps, converter: failing },
    );
    expect(result).toMatchObject({ records: 2, loaded: 1, rejected: 1, deadLettered: 0 });
  });
});

describe('processBatch (direct mode)', () => {
  it('posts JSON lines in order, chunked under tigergraph.batch.max.bytes', async () => {
    const { tigergraph, deps } = setup(
      edit('tigergraph.batch.max.bytes', '1024', edit('tigergraph.delivery', 'direct')),
    );
    const records = Array.from({ length: 40 }, (_, i) =>
      record(0, i, JSON.stringify({ company: `C${i}`, pad: 'x'.repeat(40) })),
    );
    const result = await processBatch(batchOf(...records), deps);
    expect(tigergraph.posts.length).toBeGreaterThan(1);
    expect(tigergraph.posts.every((b) => Buffer.byteLength(b) <= 1024)).toBe(true);
    expect(
      tigergraph.posts
        .join('\n')
        .split('\n')
        .map((l) => (JSON.parse(l) as { company: string }).company),
    ).toEqual(records.map((_, i) => `C${i}`));
    expect(result).toMatchObject({ records: 40, loaded: 40, rejected: 0 });
  });

  const directWith = (...edits: [string, string][]): string =>
    edits.reduce(
      (text, [k, v]) => edit(k, v, text),
      edit('tigergraph.batch.max.bytes', '4096', edit('tigergraph.delivery', 'direct')),
    );
  const rows = (n: number, bad: (i: number) => boolean): KafkaRecord[] =>
    Array.from({ length: n }, (_, i) =>
      record(i % 3, 100 + i, JSON.stringify(bad(i) ? { other: i } : { company: `C${i}` })),
    );
  const capture = (): { logger: PipelineDeps['logger']; lines: Record<string, unknown>[] } => {
    const lines: Record<string, unknown>[] = [];
    return {
      lines,
      logger: createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    };
  };

  it('singles out the records TigerGraph rejected and dead-letters them (errors.tolerance=all)', async () => {
    const { delivery, tigergraph, deps } = setup(
      directWith(['errors.tolerance', 'all'], ['errors.deadletterqueue.topic.name', 'dlq']),
    );
    const records = rows(60, (i) => i === 7 || i === 41);
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toMatchObject({ records: 60, loaded: 58, rejected: 0, deadLettered: 2 });
    const dead = delivery.logs.get('dlq')?.flat() ?? [];
    expect(dead.map((d) => d.value?.toString())).toEqual([
      records[7]?.value?.toString(),
      records[41]?.value?.toString(),
    ]);
    const header = (i: number, key: string): string | undefined =>
      dead[i]?.headers.find((h) => h.key === key)?.value?.toString();
    expect(header(0, DLQ_HEADERS.code)).toBe('TIGERGRAPH_RECORD_REJECTED');
    expect(header(0, DLQ_HEADERS.offset)).toBe('107');
    expect(header(1, DLQ_HEADERS.partition)).toBe(String(41 % 3));
    expect(header(1, DLQ_HEADERS.offset)).toBe('141');
    expect(dead[0]?.key).toEqual(records[7]?.key);
    // One post, then halves down to each rejected line: far fewer posts than lines.
    expect(tigergraph.posts.length).toBeLessThan(30);
  });

  it('without a dead-letter topic singles out and counts the rejected record, logging its offset (errors.tolerance=all)', async () => {
    const { delivery, tigergraph, deps } = setup(directWith(['errors.tolerance', 'all']));
    const log = capture();
    const records = rows(20, (i) => i === 5);
    const result = await processBatch(batchOf(...records), { ...deps, logger: log.logger });
    expect(result).toMatchObject({ records: 20, loaded: 19, rejected: 1, deadLettered: 0 });
    // Halves posted again until the rejected line stood alone (loading is an upsert).
    expect(tigergraph.posts.length).toBeGreaterThan(1);
    expect(delivery.logs.get('dlq')?.flat()).toEqual([]);
    expect(log.lines.filter((l) => l.message === 'TigerGraph rejected a record')).toEqual([
      expect.objectContaining({
        topic: 'companies',
        partition: 5 % 3,
        offset: 105,
        error: expect.objectContaining({ code: 'TIGERGRAPH_RECORD_REJECTED' }) as unknown,
      }),
    ]);
  });

  it('splits a chunk most of whose lines were rejected and accounts for every record exactly', async () => {
    const { delivery, deps } = setup(
      directWith(['errors.tolerance', 'all'], ['errors.deadletterqueue.topic.name', 'dlq']),
    );
    const records = rows(30, (i) => i % 4 !== 0);
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toMatchObject({ records: 30, loaded: 8 });
    expect(result.rejected + result.deadLettered).toBe(22);
    const dead = (delivery.logs.get('dlq')?.flat() ?? []).map((d) => d.value?.toString());
    expect(dead).toHaveLength(result.deadLettered);
    // Only records TigerGraph rejected are dead-lettered, never one it loaded.
    const good = new Set(records.filter((_, i) => i % 4 === 0).map((r) => r.value?.toString()));
    expect(dead.filter((v) => good.has(v))).toEqual([]);
  });

  it('dead-letters every line of a chunk rejected whole without splitting it', async () => {
    const { delivery, tigergraph, deps } = setup(
      directWith(['errors.tolerance', 'all'], ['errors.deadletterqueue.topic.name', 'dlq']),
    );
    const records = Array.from({ length: 10 }, (_, i) => record(0, i, `not json ${i}`));
    const result = await processBatch(batchOf(...records), deps);
    expect(result).toMatchObject({ records: 10, loaded: 0, rejected: 0, deadLettered: 10 });
    expect(tigergraph.posts).toHaveLength(1);
    expect(delivery.logs.get('dlq')?.flat()).toHaveLength(10);
  });

  it('when the re-post budget is spent, counts the rest as rejected and logs their offsets', async () => {
    const { delivery, deps } = setup(
      directWith(['errors.tolerance', 'all'], ['errors.deadletterqueue.topic.name', 'dlq']),
    );
    const log = capture();
    const result = await processBatch(batchOf(...rows(200, (i) => i % 4 === 0)), {
      ...deps,
      logger: log.logger,
    });
    expect(result.loaded).toBe(150);
    expect(result.deadLettered).toBeGreaterThan(0);
    expect(result.rejected).toBeGreaterThan(0);
    // Every record is in exactly one outcome.
    expect(result.loaded + result.rejected + result.deadLettered).toBe(200);
    expect(delivery.logs.get('dlq')?.flat()).toHaveLength(result.deadLettered);
    expect(
      log.lines.find((l) => l.message === 'TigerGraph rejected lines that were not singled out'),
    ).toMatchObject({
      reason: expect.stringContaining('budget') as unknown,
      from: { topic: 'companies' },
      to: { topic: 'companies' },
    });
  });
});

describe('processBatch and the Lambda deadline (EOF runs)', () => {
  const withClock = (start: number, deadline: number) => {
    const env = setup();
    let t = start;
    const aborted: string[] = [];
    env.tigergraph.abortRun = (_graph, id) => {
      aborted.push(id);
      return Promise.resolve();
    };
    const deps: PipelineDeps = {
      ...env.deps,
      now: () => t,
      deadline,
      runTimes: createRunTimes(),
      // Each poll's wait moves the clock on.
      sleep: (ms: number) => {
        t += ms;
        return Promise.resolve();
      },
    };
    return { ...env, deps, aborted };
  };

  it('starts no EOF run when the time left cannot cover one, and fails retriable', async () => {
    const { tigergraph, deps, delivery } = withClock(0, FIRST_RUN_ESTIMATE_MS - 1);
    await expect(
      processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps),
    ).rejects.toMatchObject({
      code: 'TIGERGRAPH_DEADLINE_TOO_CLOSE',
      retriable: true,
    });
    expect(tigergraph.runs).toHaveLength(0);
    // Produced already: the redelivery's run covers only its own offsets, so none loads twice.
    expect(delivery.logs.get('hello.companies')?.[0]).toHaveLength(1);
  });

  // timeoutMs becomes kafkajs's sendBatch `timeout`: the broker's wait for the replicas' acks
  // (acks=all), not a client-side request timeout; the client's wait is cut by the abort
  // signal at the deadline (test/integration/embedded-kafka.test.ts).
  it("passes the time left before the deadline, at most 30 s, as each produce request's broker ack timeout", async () => {
    const options: ({ timeoutMs?: number; signal?: AbortSignal } | undefined)[] = [];
    const near = withClock(0, FIRST_RUN_ESTIMATE_MS + 4000);
    const far = withClock(0, 600_000);
    for (const env of [near, far]) {
      const send = env.delivery.send.bind(env.delivery);
      env.delivery.send = (
        records: readonly OutRecord[],
        o?: { timeoutMs?: number; signal?: AbortSignal },
      ) => {
        options.push(o);
        return send(records);
      };
      await processBatch(batchOf(record(0, 0, '{"company":"A"}')), env.deps);
    }
    expect(options.map((o) => o?.timeoutMs)).toEqual([FIRST_RUN_ESTIMATE_MS + 4000, 30_000]);
  });

  it('aborts the run it gave up on at the deadline before failing', async () => {
    const { tigergraph, deps, aborted } = withClock(0, FIRST_RUN_ESTIMATE_MS + 1000);
    tigergraph.status = 'RUNNING';
    const error = await processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TIGERGRAPH_LOADING_JOB_TIMEOUT', retriable: true });
    expect((error as Error).message).toBe(
      'Loading job run run-1 was still running at the invocation deadline; aborted run-1; the batch is delivered again',
    );
    expect(tigergraph.runs).toHaveLength(1);
    expect(aborted).toEqual(['run-1']);
  });

  /** A start that answers two run ids (the second one `<id>.b`). */
  const twoRunsPerStart = (tigergraph: FakeTigerGraph): void => {
    const start = tigergraph.startLoadingJob.bind(tigergraph);
    tigergraph.startLoadingJob = async (run) => {
      const ids = await start(run);
      return [...ids, `${ids[0] ?? ''}.b`];
    };
  };

  it('with several runs, aborts the one it gave up on and every one not waited for yet', async () => {
    const { tigergraph, deps, aborted } = withClock(0, FIRST_RUN_ESTIMATE_MS + 1000);
    twoRunsPerStart(tigergraph);
    tigergraph.status = 'RUNNING';
    const error = await processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_LOADING_JOB_TIMEOUT',
      details: { jobId: 'run-1', aborted: 'run-1,run-1.b', notAborted: '' },
    });
    expect(aborted).toEqual(['run-1', 'run-1.b']);
  });

  it('with several runs, one that ended FAILED is not aborted but those not waited for are', async () => {
    const { tigergraph, deps, aborted } = withClock(0, 60_000);
    twoRunsPerStart(tigergraph);
    tigergraph.status = 'FAILED';
    await expect(
      processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_LOADING_JOB_FAILED' });
    expect(aborted).toEqual(['run-1.b']);
  });

  it('says which runs it could not abort, and how to abort them, instead of claiming it aborted them', async () => {
    const { tigergraph, deps } = withClock(0, FIRST_RUN_ESTIMATE_MS + 1000);
    twoRunsPerStart(tigergraph);
    tigergraph.status = 'RUNNING';
    tigergraph.abortRun = (_graph, id) =>
      id === 'run-1' ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED'));
    const error = await processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_LOADING_JOB_TIMEOUT',
      retriable: true,
      details: { aborted: 'run-1', notAborted: 'run-1.b' },
    });
    expect((error as Error).message).toBe(
      'Loading job run run-1 was still running at the invocation deadline; aborted run-1; could not abort run-1.b: abort it (3.x ABORT LOADING JOB <id>, 4.x the abort endpoint), or it loads the batch a second time beside the redelivery; the batch is delivered again',
    );
  });

  it('a client that cannot abort: the error says the run was not aborted', async () => {
    const { tigergraph, deps } = withClock(0, FIRST_RUN_ESTIMATE_MS + 1000);
    tigergraph.status = 'RUNNING';
    delete tigergraph.abortRun;
    const error = await processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ details: { aborted: '', notAborted: 'run-1' } });
    expect((error as Error).message).toContain('could not abort run-1: abort it');
    expect((error as Error).message).not.toContain('aborted run-1');
  });

  it('aborts the run when its status cannot be read until the handler gives up', async () => {
    const { tigergraph, deps, aborted } = withClock(0, 60_000);
    tigergraph.getProgress = () =>
      Promise.reject(new TigerStreamError('TIGERGRAPH_UNREACHABLE', 'down', { retriable: true }));
    await expect(
      processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps),
    ).rejects.toMatchObject({
      code: 'TIGERGRAPH_UNREACHABLE',
    });
    expect(aborted).toEqual(['run-1']);
  });

  it('does not abort a run that ended by itself, and learns how long runs take', async () => {
    const { tigergraph, deps, aborted } = withClock(0, 60_000);
    tigergraph.status = 'FAILED';
    await expect(
      processBatch(batchOf(record(0, 0, '{"company":"A"}')), deps),
    ).rejects.toMatchObject({
      code: 'TIGERGRAPH_LOADING_JOB_FAILED',
    });
    expect(aborted).toEqual([]);
    tigergraph.status = 'FINISHED';
    await processBatch(batchOf(record(0, 1, '{"company":"B"}')), deps);
    // A finished run taught the container that runs take 0 ms of its clock here.
    expect(deps.runTimes?.estimateMs()).toBe(0);
  });
});
