/**
 * Direct mode's lanes (lib/pipeline/direct.ts): /ddl posts side by side up to
 * tigergraph.direct.concurrency, never two chunks of one source partition at once.
 */
import { describe, expect, it } from 'vitest';
import { createByteArrayConverter } from '../../../lib/convert/index.ts';
import { TigerGraphError } from '../../../lib/errors/index.ts';
import type { DecodedBatch, KafkaRecord } from '../../../lib/event/index.ts';
import { silentLogger } from '../../../lib/observability/index.ts';
import { DLQ_HEADERS, processBatch, type PipelineDeps } from '../../../lib/pipeline/index.ts';
import type { Line } from '../../../lib/pipeline/common.ts';
import { planLanes } from '../../../lib/pipeline/direct.ts';
import type { LoadCounts, RunProgress, TigerGraphClient } from '../../../lib/tigergraph/index.ts';
import { edit } from '../../helpers/config.ts';
import { FakeDelivery, testConfig } from '../../helpers/fakes.ts';

interface Row {
  readonly company?: string;
  readonly employee_num: number;
  readonly p: number;
}

/** One post as the fake saw it. */
interface Post {
  readonly call: number;
  readonly partitions: ReadonlySet<number>;
  readonly body: string;
  readonly signal: AbortSignal | undefined;
  readonly startedAt: number;
  done: boolean;
}

/**
 * A /ddl that takes its time: each post's lines are applied (upserted, in the post's order)
 * only when it answers, after `delayMs(call)`. Later posts answering sooner is what would let
 * a later chunk of a partition land before an earlier one, were both in flight at once.
 */
class SlowDdl implements TigerGraphClient {
  readonly posts: Post[] = [];
  /** The calls whose lines were applied, in the order they were. */
  readonly applied: number[] = [];
  /** Company -> employee_num, as upserted. */
  readonly graph = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  /** Set when two posts in flight at once held lines of the same partition. */
  sharedPartition: string | undefined;
  /** When the first failure was answered (performance.now()). */
  failedAt: number | undefined;
  constructor(
    readonly delayMs: (call: number, partitions: ReadonlySet<number>) => number = (call) =>
      Math.max(1, 40 - 3 * call),
    /** An error for a post, by its lines' partitions and call number. */
    readonly fail: (partitions: ReadonlySet<number>, call: number) => Error | undefined = () =>
      undefined,
    /** Whether a post whose delay is over may answer yet (else it waits another millisecond). */
    readonly ready: (call: number, partitions: ReadonlySet<number>, ddl: SlowDdl) => boolean = () =>
      true,
  ) {}
  postDdl(
    _graph: string,
    _job: string,
    _filename: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<LoadCounts> {
    const rows = body.split('\n').map((l) => JSON.parse(l) as Row);
    const post: Post = {
      call: this.posts.length,
      partitions: new Set(rows.map((r) => r.p)),
      body,
      signal,
      startedAt: performance.now(),
      done: false,
    };
    for (const other of this.posts.filter((p) => !p.done))
      for (const p of post.partitions)
        if (other.partitions.has(p)) this.sharedPartition = `calls ${other.call} and ${post.call}`;
    this.posts.push(post);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<LoadCounts>((resolve, reject) => {
      const settle = (): void => {
        post.done = true;
        this.inFlight--;
      };
      let timer: ReturnType<typeof setTimeout>;
      const answer = (): void => {
        if (!this.ready(post.call, post.partitions, this)) {
          timer = setTimeout(answer, 1);
          return;
        }
        {
          signal?.removeEventListener('abort', onAbort);
          settle();
          const error = this.fail(post.partitions, post.call);
          if (error) {
            this.failedAt ??= performance.now();
            reject(error);
            return;
          }
          this.applied.push(post.call);
          let valid = 0;
          let rejected = 0;
          for (const r of rows)
            if (r.company === undefined) rejected++;
            else {
              valid++;
              this.graph.set(r.company, r.employee_num);
            }
          resolve({
            validLines: rows.length,
            rejectedLines: 0,
            validObjects: valid,
            rejectedObjects: rejected,
            filteredObjects: 0,
          });
        }
      };
      timer = setTimeout(answer, this.delayMs(post.call, post.partitions));
      // As the real client: an aborted request is a retriable TIGERGRAPH_UNREACHABLE.
      const onAbort = (): void => {
        clearTimeout(timer);
        settle();
        reject(
          new TigerGraphError('TIGERGRAPH_UNREACHABLE', 'aborted', {
            retriable: true,
            cause: signal?.reason,
          }),
        );
      };
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  startLoadingJob(): Promise<string[]> {
    return Promise.reject(new Error('direct mode starts no loading job'));
  }
  getProgress(): Promise<RunProgress> {
    return Promise.reject(new Error('direct mode reads no run'));
  }
  listVertices(): Promise<{ v_id: string; attributes: Record<string, unknown> }[]> {
    return Promise.resolve([]);
  }
}

/** Record `i` of partition `p`: it sets vertex P<p> to its offset (the same vertex each time). */
const record = (p: number, offset: number, value?: Partial<Row>): KafkaRecord => ({
  topic: 'companies',
  partition: p,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  timestampType: 'CREATE_TIME',
  key: null,
  value: Buffer.from(
    JSON.stringify({ company: `P${p}`, employee_num: offset, p, pad: 'x'.repeat(40), ...value }),
  ),
  headers: [],
});

/** `perPartition` records of each of `partitions` partitions, ordered as the ESM orders them. */
const records = (partitions: number, perPartition: number): KafkaRecord[] =>
  Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: perPartition }, (_, i) => record(p, 1000 + i)),
  ).flat();

const batchOf = (list: readonly KafkaRecord[]): DecodedBatch => ({
  eventSource: 'SelfManagedKafka',
  eventSourceArn: undefined,
  bootstrapServers: 'b:1',
  records: list,
});

const setup = (client: TigerGraphClient, ...edits: [string, string][]) => {
  const text = edits.reduce(
    (t, [k, v]) => edit(k, v, t),
    edit('tigergraph.batch.max.bytes', '1024', edit('tigergraph.delivery', 'direct')),
  );
  const delivery = new FakeDelivery({ dlq: 1 });
  const deps: PipelineDeps = {
    config: testConfig(text),
    converter: createByteArrayConverter(),
    delivery,
    tigergraph: client,
    logger: silentLogger(),
    retryPolicy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
  };
  return { deps, delivery };
};

describe('direct mode: chunks of different partitions posted side by side', () => {
  it.each([
    [1, 1],
    [2, 2],
    [4, 4],
    [6, 6],
    [16, 6],
  ])(
    'tigergraph.direct.concurrency=%i keeps %i posts in flight at most (6 partitions)',
    async (concurrency, most) => {
      const ddl = new SlowDdl(() => 5);
      const { deps } = setup(ddl, ['tigergraph.direct.concurrency', String(concurrency)]);
      const result = await processBatch(batchOf(records(6, 30)), deps);
      expect(result).toMatchObject({ records: 180, loaded: 180, rejected: 0 });
      expect(ddl.maxInFlight).toBe(most);
      expect(ddl.sharedPartition).toBeUndefined();
    },
  );

  it('posts what it posted before at concurrency 1: one post at a time, every line in order, chunks mixing partitions', async () => {
    const ddl = new SlowDdl(() => 1);
    const { deps } = setup(ddl, ['tigergraph.direct.concurrency', '1']);
    const list = records(3, 10);
    await processBatch(batchOf(list), deps);
    expect(ddl.maxInFlight).toBe(1);
    expect(ddl.posts.some((p) => p.partitions.size > 1)).toBe(true);
    expect(ddl.posts.every((p) => Buffer.byteLength(p.body) + 1 <= 1024)).toBe(true);
    expect(ddl.posts.map((p) => p.body).join('\n')).toBe(
      list.map((r) => r.value?.toString()).join('\n'),
    );
    // Full chunks: each but the last would have overflowed with the next line.
    const sizes = ddl.posts.map((p) => Buffer.byteLength(p.body) + 1);
    expect(sizes.slice(0, -1).every((n) => n + 76 > 1024)).toBe(true);
  });

  it('posts a batch that fits one chunk as one post, whatever the concurrency', async () => {
    const ddl = new SlowDdl(() => 1);
    const { deps } = setup(
      ddl,
      ['tigergraph.direct.concurrency', '16'],
      ['tigergraph.batch.max.bytes', '4096'],
    );
    const list = records(6, 6); // 36 lines of about 76 bytes: 2.7 KiB
    await processBatch(batchOf(list), deps);
    expect(ddl.posts.map((p) => p.body)).toEqual([list.map((r) => r.value?.toString()).join('\n')]);
  });

  it('keeps each partition in order: later posts answering first never let a later line land first', async () => {
    // 6 partitions of 40 updates of one vertex each, 1 KiB chunks (about 12 lines): about
    // 4 chunks per partition; post n answers after 40 - 3n ms, so a partition whose chunks
    // were in flight together would end on an earlier offset than its last.
    const ddl = new SlowDdl();
    const { deps } = setup(ddl, ['tigergraph.direct.concurrency', '4']);
    const result = await processBatch(batchOf(records(6, 40)), deps);
    expect(result).toMatchObject({ records: 240, loaded: 240 });
    expect(ddl.posts.length).toBeGreaterThanOrEqual(6 * 4);
    expect(ddl.maxInFlight).toBe(4);
    expect(ddl.sharedPartition).toBeUndefined();
    expect(Object.fromEntries(ddl.graph)).toEqual(
      Object.fromEntries(Array.from({ length: 6 }, (_, p) => [`P${p}`, 1039])),
    );
  });

  it('a lane that fails fails the batch with its code; the others start nothing more and their posts in flight are aborted and waited for', async () => {
    // One lane per partition. The first round (calls 0-5) loads; partition 2's second post
    // is refused (not retriable) once every lane's second post has started (so the machine's
    // load cannot decide the order), while the other lanes' second posts would take 5 s.
    const ddl = new SlowDdl(
      (call, partitions) => (call < 6 ? 10 : partitions.has(2) ? 5 : 5000),
      (partitions, call) =>
        partitions.has(2) && call >= 6
          ? new TigerGraphError('TIGERGRAPH_HTTP_400', 'refused', { retriable: false })
          : undefined,
      (call, partitions, self) => !(partitions.has(2) && call >= 6) || self.posts.length >= 12,
    );
    const { deps } = setup(ddl, ['tigergraph.direct.concurrency', '6']);
    const error = await processBatch(batchOf(records(6, 40)), deps).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_HTTP_400' });
    expect(ddl.inFlight).toBe(0);
    const failedAt = ddl.failedAt as number;
    expect(ddl.posts.filter((p) => p.startedAt > failedAt)).toEqual([]);
    const inFlightAtFailure = ddl.posts.filter((p) => p.call >= 6 && !p.partitions.has(2));
    expect(inFlightAtFailure).toHaveLength(5);
    expect(inFlightAtFailure.every((p) => p.signal?.aborted === true)).toBe(true);
    // Only the first round was applied: the aborted posts were not, and nothing came after.
    expect(ddl.applied).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('errors.tolerance=none: a lane whose chunk TigerGraph rejected fails the batch, naming that chunk', async () => {
    const ddl = new SlowDdl(() => 2);
    const { deps } = setup(ddl, ['tigergraph.direct.concurrency', '4']);
    const list = records(6, 20).map((r) =>
      r.partition === 3 && r.offset === 1015 ? record(3, 1015, { company: undefined }) : r,
    );
    const error = await processBatch(batchOf(list), deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_RECORDS_REJECTED',
      details: { partition: 3, rejectedObjects: 1 },
    });
    expect(ddl.inFlight).toBe(0);
  });

  it('errors.tolerance=all: records rejected in several lanes are dead-lettered in source order', async () => {
    const ddl = new SlowDdl();
    const { deps, delivery } = setup(
      ddl,
      ['tigergraph.direct.concurrency', '4'],
      ['errors.tolerance', 'all'],
      ['errors.deadletterqueue.topic.name', 'dlq'],
    );
    const bad = new Set(['0/1030', '4/1002', '5/1017', '5/1033']);
    const list = records(6, 40).map((r) =>
      bad.has(`${r.partition}/${r.offset}`)
        ? record(r.partition, r.offset, { company: undefined })
        : r,
    );
    const result = await processBatch(batchOf(list), deps);
    expect(result).toMatchObject({ records: 240, loaded: 236, rejected: 0, deadLettered: 4 });
    const dead = delivery.logs.get('dlq')?.[0] ?? [];
    const header = (i: number, key: string): string | undefined =>
      dead[i]?.headers.find((h) => h.key === key)?.value.toString();
    expect(
      dead.map((_, i) => `${header(i, DLQ_HEADERS.partition)}/${header(i, DLQ_HEADERS.offset)}`),
    ).toEqual([...bad]);
    expect(ddl.sharedPartition).toBeUndefined();
  });

  it('the invocation deadline (its signal) stops every lane and fails the batch', async () => {
    // Posts that would take 5 s; the deadline comes once three are in flight, whatever the
    // machine's load, so only the signal can end them.
    const ddl = new SlowDdl(() => 5000);
    const deadline = new AbortController();
    const post = ddl.postDdl.bind(ddl);
    ddl.postDdl = (...args: Parameters<SlowDdl['postDdl']>) => {
      const answer = post(...args);
      if (ddl.posts.length === 3) setTimeout(() => deadline.abort(), 5);
      return answer;
    };
    const { deps } = setup(ddl, ['tigergraph.direct.concurrency', '3']);
    const error = await processBatch(batchOf(records(6, 40)), {
      ...deps,
      signal: deadline.signal,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_UNREACHABLE' });
    expect(ddl.posts).toHaveLength(3);
    expect(ddl.inFlight).toBe(0);
  });
});

describe('planLanes', () => {
  const lineOf = (p: number, offset: number, bytes: number): Line => ({
    record: { ...record(p, offset), topic: 't' },
    value: Buffer.alloc(bytes - 1, 'x'),
  });
  const partitionsOf = (lane: readonly Line[]): number[] => [
    ...new Set(lane.map((l) => l.record.partition)),
  ];

  it('puts whole partitions in lanes, largest first into the lightest lane, lines in source order', () => {
    const lines = [
      ...[0, 1, 2].map((i) => lineOf(0, i, 100)), // 300 bytes
      ...[0, 1].map((i) => lineOf(1, i, 100)), // 200
      lineOf(2, 0, 250), // 250
      lineOf(3, 0, 100), // 100
      lineOf(4, 0, 100), // 100
    ];
    const lanes = planLanes(lines, 3, 100);
    // 300, 250 and 200 bytes open the lanes; 100 joins the 200, the last 100 the 250.
    expect(lanes.map(partitionsOf)).toEqual([[0], [2, 4], [1, 3]]);
    for (const lane of lanes)
      expect(lane.map((l) => lines.indexOf(l))).toEqual(
        [...lane.map((l) => lines.indexOf(l))].sort((a, b) => a - b),
      );
    expect(lanes.flat()).toHaveLength(lines.length);
  });

  it('makes no more lanes than the chunks the batch needs: one for a batch that fits one chunk', () => {
    const lines = [0, 1, 2, 3, 4].map((p) => lineOf(p, 0, 210)); // 1,050 bytes in 5 partitions
    expect(planLanes(lines, 8, 500)).toHaveLength(3);
    expect(planLanes(lines, 8, 1050)).toEqual([lines]);
    expect(planLanes(lines, 8, 1049)).toHaveLength(2);
  });

  it('makes one lane of every line at concurrency 1 or with one partition, and none of no line', () => {
    const mixed = [lineOf(0, 0, 10), lineOf(1, 0, 10), lineOf(0, 1, 10)];
    expect(planLanes(mixed, 1, 10)).toEqual([mixed]);
    const one = [lineOf(5, 0, 10), lineOf(5, 1, 10)];
    expect(planLanes(one, 8, 10)).toEqual([one]);
    expect(planLanes([], 4, 10)).toEqual([]);
  });

  it('tells partitions of different topics apart', () => {
    const a = lineOf(0, 0, 10);
    const b = { ...lineOf(0, 0, 10), record: { ...lineOf(0, 0, 10).record, topic: 'u' } };
    expect(planLanes([a, b], 2, 10)).toEqual([[a], [b]]);
  });
});
