/**
 * When `tgstream run --eof` stops: the caught-up rule (lib/local/runner.ts caughtUp) over
 * positions read from kafkajs's own Batch (lib/kafka/consumer.ts positionAfter). The embedded
 * broker (librdkafka's mock cluster) cannot take kafkajs's transactional produce, so a
 * partition ending in a commit marker is built here as kafkajs's fetch builds it: a Batch over
 * a data record and a control record, as node_modules/kafkajs/src/consumer/batch.js filters it.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { positionAfter } from '../../../lib/kafka/index.ts';
import { caughtUp } from '../../../lib/local/index.ts';

interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly isControlRecord?: boolean;
}
interface KafkajsBatch {
  readonly messages: readonly FetchedMessage[];
  lastOffset(): string;
  isEmpty(): boolean;
}
type BatchConstructor = new (
  topic: string,
  fetchedOffset: string,
  partitionData: {
    partition: number;
    highWatermark: string;
    messages: FetchedMessage[];
    abortedTransactions: unknown[];
  },
) => KafkajsBatch;

// kafkajs's fetch result, the class its consumer hands to eachBatch (untyped JavaScript).
const Batch = createRequire(import.meta.url)('kafkajs/src/consumer/batch.js') as BatchConstructor;

const data = (offset: number): FetchedMessage => ({
  offset: String(offset),
  key: null,
  value: Buffer.from('{}'),
});
const commitMarker = (offset: number): FetchedMessage => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, 1]),
  value: null,
  isControlRecord: true,
});
const fetched = (fetchedOffset: number, highWatermark: number, messages: FetchedMessage[]) =>
  new Batch('t', String(fetchedOffset), {
    partition: 0,
    highWatermark: String(highWatermark),
    messages,
    abortedTransactions: [],
  });

describe('tgstream run --eof: when a partition is caught up', () => {
  it('a partition whose last entry is a commit marker is caught up once its batch is consumed, though no record has the last offset', () => {
    // Records at 0 and 1, the transaction's commit marker at 2: the high watermark is 3.
    const batch = fetched(0, 3, [data(0), data(1), commitMarker(2)]);
    expect(batch.messages.map((m) => m.offset)).toEqual(['0', '1']);
    const ends = new Map([['t-0', 3]]);
    // The old rule (last record + 1) stays one short forever.
    expect(caughtUp(ends, new Map([['t-0', 2]]))).toBe(false);
    expect(positionAfter(batch)).toBe(3);
    expect(caughtUp(ends, new Map([['t-0', positionAfter(batch)]]))).toBe(true);
  });

  it('a fetch of the commit marker alone (kafkajs reports it with no records) moves the position to the end', () => {
    const batch = fetched(2, 3, [commitMarker(2)]);
    expect(batch.isEmpty()).toBe(true);
    expect(positionAfter(batch)).toBe(3);
    // As kafkajs's END_BATCH_PROCESS payload carries it.
    expect(positionAfter({ lastOffset: batch.lastOffset() })).toBe(3);
  });

  it('a batch that ends in a data record is caught up at its last record + 1, not before', () => {
    const batch = fetched(0, 5, [data(0), data(1), data(2)]);
    const ends = new Map([['t-0', 5]]);
    expect(positionAfter(batch)).toBe(3);
    expect(caughtUp(ends, new Map([['t-0', positionAfter(batch)]]))).toBe(false);
    expect(
      caughtUp(ends, new Map([['t-0', positionAfter(fetched(3, 5, [data(3), data(4)]))]])),
    ).toBe(true);
  });

  it('every partition must be caught up; partitions with nothing to read are not waited for', () => {
    const ends = new Map([
      ['t-0', 3],
      ['t-1', 7],
    ]);
    expect(caughtUp(ends, new Map([['t-0', 3]]))).toBe(false);
    expect(
      caughtUp(
        ends,
        new Map([
          ['t-0', 3],
          ['t-1', 7],
          ['t-2', 1],
        ]),
      ),
    ).toBe(true);
    expect(caughtUp(new Map(), new Map())).toBe(true);
  });
});
