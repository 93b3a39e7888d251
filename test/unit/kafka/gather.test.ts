/**
 * The ESM's batching window across fetches (lib/kafka/gather.ts): a batch goes when it is full
 * or when its oldest record has waited the window, one at a time and in order, in the
 * background (adding waits only when two batches are held); the commit position goes past
 * control records only when nothing was gathered after the batch; a stop, a rebalance, a
 * failed commit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KafkaRecord } from '../../../lib/event/index.ts';
import {
  createGatherer,
  type GatheredBatch,
  type GathererOptions,
} from '../../../lib/kafka/gather.ts';

const record = (offset: number, partition = 0): KafkaRecord => ({
  topic: 't',
  partition,
  offset,
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  key: null,
  value: Buffer.from(`v${offset}`),
  headers: [],
});
const records = (from: number, count: number, partition = 0): KafkaRecord[] =>
  Array.from({ length: count }, (_, i) => record(from + i, partition));

interface Delivered {
  offsets: number[];
  next: number;
  at: number;
  partition: number;
}
const delivery = (batch: GatheredBatch): Delivered => ({
  offsets: batch.records.map((r) => r.offset),
  next: batch.next(),
  at: Date.now(),
  partition: batch.partition,
});

/** A gatherer whose hand-overs are recorded (offsets, commit position, time) and succeed. */
const setUp = (options: Partial<GathererOptions> = {}) => {
  const delivered: Delivered[] = [];
  const failures: { error: unknown; from: number }[] = [];
  const gatherer = createGatherer({
    batchSize: 10,
    windowMs: 100,
    deliver: (batch) => {
      delivered.push(delivery(batch));
      return Promise.resolve(true);
    },
    onHandOverFailure: (error, { from }) => failures.push({ error, from }),
    ...options,
  });
  return { gatherer, delivered, failures };
};

/** A deliver that holds the batches it is told to until released. */
const holding = (hold: (batch: GatheredBatch) => boolean) => {
  const delivered: Delivered[] = [];
  let release: () => void = () => undefined;
  const deliver = async (batch: GatheredBatch): Promise<boolean> => {
    if (hold(batch))
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    delivered.push(delivery(batch));
    return true;
  };
  return { delivered, deliver, release: () => release() };
};

describe('createGatherer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gathers small fetches into one batch of batchSize and hands it over at once', async () => {
    const { gatherer, delivered } = setUp();
    for (let i = 0; i < 3; i++) await gatherer.add('t', 0, records(i * 3, 3), i * 3 + 3);
    await gatherer.idle();
    expect(delivered).toEqual([]);
    expect(gatherer.held('t', 0)).toBe(9);
    await gatherer.add('t', 0, records(9, 3), 12);
    await gatherer.idle();
    expect(delivered).toEqual([
      { offsets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], next: 10, at: 0, partition: 0 },
    ]);
    expect(gatherer.held('t', 0)).toBe(2);
  });

  it('hands over what it holds once the oldest record has waited the window, not before', async () => {
    const { gatherer, delivered } = setUp();
    await gatherer.add('t', 0, records(0, 2), 2);
    await vi.advanceTimersByTimeAsync(60);
    await gatherer.add('t', 0, records(2, 2), 4);
    await vi.advanceTimersByTimeAsync(39);
    expect(delivered).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(delivered).toEqual([{ offsets: [0, 1, 2, 3], next: 4, at: 100, partition: 0 }]);
    expect(gatherer.held('t', 0)).toBe(0);
  });

  it('hands over everything gathered at once, in slices of batchSize, with a window of 0', async () => {
    const { gatherer, delivered } = setUp({ windowMs: 0 });
    await gatherer.add('t', 0, records(0, 25), 25);
    await gatherer.idle();
    expect(delivered.map((d) => d.offsets.length)).toEqual([10, 10, 5]);
    expect(delivered.map((d) => d.next)).toEqual([10, 20, 25]);
  });

  it('commits past control records only with the batch that empties the partition', async () => {
    const { gatherer, delivered } = setUp();
    // Records 0..11, then a commit marker at 12: the fetch's position is 13.
    await gatherer.add('t', 0, records(0, 12), 13);
    await gatherer.idle();
    expect(delivered.map((d) => d.next)).toEqual([10]);
    await vi.advanceTimersByTimeAsync(100);
    expect(delivered.map((d) => d.next)).toEqual([10, 13]);
  });

  it('asks the commit position when the batch is handled: control records fetched meanwhile count', async () => {
    const { delivered, deliver, release } = holding(() => true);
    const gatherer = createGatherer({
      batchSize: 10,
      windowMs: 100,
      deliver,
      onHandOverFailure: () => undefined,
    });
    await gatherer.add('t', 0, records(0, 3), 3);
    await vi.advanceTimersByTimeAsync(100); // 0..2 handed over, held in the handler
    expect(gatherer.held('t', 0)).toBe(3);
    gatherer.advance('t', 0, 5); // a commit marker fetched meanwhile
    release();
    await gatherer.idle();
    expect(delivered).toEqual([{ offsets: [0, 1, 2], next: 5, at: 100, partition: 0 }]);
    expect(gatherer.held('t', 0)).toBe(0);
  });

  it('reports the position when control records come after the commit position was asked', async () => {
    const positions: number[] = [];
    const gatherer = createGatherer({
      batchSize: 10,
      windowMs: 100,
      deliver: (batch) => {
        batch.next(); // asked for the commit, then the marker arrives before the batch is done
        gatherer.advance('t', 0, 7);
        return Promise.resolve(true);
      },
      onHandOverFailure: () => undefined,
      onPosition: ({ next }) => positions.push(next),
    });
    await gatherer.add('t', 0, records(0, 3), 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(positions).toEqual([7]);
  });

  it('keeps partitions apart, each with its own window', async () => {
    const { gatherer, delivered } = setUp();
    await gatherer.add('t', 0, records(0, 2, 0), 2);
    await vi.advanceTimersByTimeAsync(50);
    await gatherer.add('t', 1, records(0, 3, 1), 3);
    await vi.advanceTimersByTimeAsync(50);
    expect(delivered).toEqual([{ offsets: [0, 1], next: 2, at: 100, partition: 0 }]);
    await vi.advanceTimersByTimeAsync(50);
    expect(delivered.at(-1)).toEqual({ offsets: [0, 1, 2], next: 3, at: 150, partition: 1 });
  });

  it('hands over one batch at a time, in order, while adding goes on; adding waits once two batches are held', async () => {
    const { delivered, deliver, release } = holding((b) => b.records[0]?.offset === 0);
    const gatherer = createGatherer({
      batchSize: 4,
      windowMs: 100,
      deliver,
      onHandOverFailure: () => undefined,
    });
    await gatherer.add('t', 0, records(0, 4), 4); // full: handed over, and held in the handler
    await gatherer.add('t', 0, records(4, 4), 8); // returns: one batch held
    let added = false;
    const adding = gatherer.add('t', 0, records(8, 4), 12).then(() => (added = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(added).toBe(false); // two batches held: the fetcher waits
    expect(delivered).toEqual([]);
    release();
    await adding;
    await gatherer.idle();
    expect(delivered.map((d) => d.offsets[0])).toEqual([0, 4, 8]);
  });

  it('stops for good when a batch is refused: nothing more is handed over', async () => {
    const deliver = vi.fn(() => Promise.resolve(false));
    const { gatherer } = setUp({ deliver });
    await gatherer.add('t', 0, records(0, 10), 10);
    await gatherer.idle();
    expect(await gatherer.add('t', 0, records(10, 10), 20)).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(deliver).toHaveBeenCalledTimes(1);
  });

  it('drops what it holds on clear (a rebalance): the window sends nothing', async () => {
    const { gatherer, delivered } = setUp();
    await gatherer.add('t', 0, records(0, 3), 3);
    gatherer.clear();
    expect(gatherer.held('t', 0)).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(delivered).toEqual([]);
    await gatherer.add('t', 0, records(0, 3), 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(delivered.map((d) => d.offsets)).toEqual([[0, 1, 2]]);
  });

  it('sends nothing it dropped on clear, even when clear comes while a batch is being handed over; idle waits for that batch', async () => {
    const { delivered, deliver, release } = holding((b) => b.records[0]?.offset === 0);
    const gatherer = createGatherer({
      batchSize: 4,
      windowMs: 100,
      deliver,
      onHandOverFailure: () => undefined,
    });
    await gatherer.add('t', 0, records(0, 2), 2);
    await vi.advanceTimersByTimeAsync(100); // 0..1 handed over, and held in the handler
    await gatherer.add('t', 0, records(2, 2), 4); // gathered meanwhile
    gatherer.clear(); // a rebalance: 2..3 are read again by whoever owns the partition
    let idle = false;
    const settling = gatherer.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(idle).toBe(false);
    release();
    await settling;
    await vi.advanceTimersByTimeAsync(1000);
    // The batch in flight commits past itself only: 2..3 were dropped unhandled.
    expect(delivered.map((d) => ({ offsets: d.offsets, next: d.next }))).toEqual([
      { offsets: [0, 1], next: 2 },
    ]);
  });

  it('after close (a stop) takes nothing more and hands nothing more over; the batch in flight commits past itself only', async () => {
    const { delivered, deliver, release } = holding((b) => b.records[0]?.offset === 0);
    const gatherer = createGatherer({
      batchSize: 2,
      windowMs: 0,
      deliver,
      onHandOverFailure: () => undefined,
    });
    await gatherer.add('t', 0, records(0, 2), 2); // handed over, held in the handler
    await vi.advanceTimersByTimeAsync(1);
    await gatherer.add('t', 0, records(2, 2), 4); // queued behind it
    gatherer.close();
    expect(await gatherer.add('t', 0, records(4, 2), 6)).toBe(false);
    const settling = gatherer.idle();
    release();
    await settling;
    await vi.advanceTimersByTimeAsync(1000);
    expect(delivered.map((d) => ({ offsets: d.offsets, next: d.next }))).toEqual([
      { offsets: [0, 1], next: 2 },
    ]);
  });

  it('takes partitions in turns: one that stays due does not hold back another past its window', async () => {
    const delivered: Delivered[] = [];
    const gatherer = createGatherer({
      batchSize: 2,
      windowMs: 10,
      // Each hand-over takes 5 ms.
      deliver: async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        delivered.push(delivery(batch));
        return true;
      },
      onHandOverFailure: () => undefined,
    });
    // Five full batches, due at once (adding waits while two batches are held, so not awaited
    // until the end); then one record of another partition, due after 10 ms.
    const adding = gatherer.add('t', 0, records(0, 10), 10);
    await gatherer.add('t', 1, records(0, 1), 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await adding).toBe(true);
    expect(delivered.map((d) => `${d.partition}:${d.offsets.join(',')}`)).toEqual([
      '0:0,1',
      '0:2,3',
      '1:0',
      '0:4,5',
      '0:6,7',
      '0:8,9',
    ]);
  });

  it('reports a batch that failed, from its first offset, and starts the partition afresh', async () => {
    let fail = true;
    const { gatherer, delivered, failures } = setUp({
      deliver: (batch) => {
        if (fail) return Promise.reject(new Error('commit failed'));
        delivered.push(delivery(batch));
        return Promise.resolve(true);
      },
    });
    await gatherer.add('t', 0, records(5, 3), 8);
    await gatherer.add('t', 0, records(8, 10), 18); // a full batch: 5..14 go, and fail
    await gatherer.idle();
    expect(failures).toEqual([{ error: new Error('commit failed'), from: 5 }]);
    expect(gatherer.held('t', 0)).toBe(0);
    fail = false;
    // Read again from offset 5, as the consumer's seek makes it.
    await gatherer.add('t', 0, records(5, 3), 8);
    await vi.advanceTimersByTimeAsync(100);
    expect(delivered.map((d) => d.offsets)).toEqual([[5, 6, 7]]);
  });
});
