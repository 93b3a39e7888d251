/**
 * The record batch and Produce request encoder (lib/kafka/produce-request.ts), checked against
 * what others wrote: CRC-32C's published check value and kafkajs's own CRC-32C, and kafkajs's
 * record batch decoder (the one its consumer uses) reading back what we encoded.
 */
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../lib/kafka/crc32c.ts';
import {
  encodeProduceBody,
  encodeRecordBatch,
  prepareRecordBatch,
  varintSize,
  type BatchRecord,
} from '../../../lib/kafka/produce-request.ts';

const require = createRequire(import.meta.url);
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (
  b: Buffer,
) => number;
const KafkaDecoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  d: unknown,
) => Promise<{
  firstTimestamp: string;
  maxTimestamp: string;
  lastOffsetDelta: number;
  producerId: string;
  records: {
    key: Buffer | null;
    value: Buffer | null;
    timestamp: string;
    offset: string;
    headers: Record<string, Buffer | Buffer[]>;
  }[];
}>;

/** kafkajs's decoder reads the magic byte elsewhere (Fetch); it starts at the batch. */
const decode = (batch: Buffer) => decodeBatch(new KafkaDecoder(batch));

describe('CRC-32C', () => {
  it("gives the check value of CRC-32C's catalogue for 123456789", () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it("equals kafkajs's own CRC-32C on any bytes and any slice", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.nat(40), (bytes, a, b) => {
        const buf = Buffer.from(bytes);
        const start = Math.min(a, buf.length);
        const end = Math.max(start, buf.length - b);
        expect(crc32c(buf, start, end)).toBe(kafkajsCrc32c(buf.subarray(start, end)) >>> 0);
      }),
    );
  });

  it('gives 0, the CRC-32C of no bytes, for an empty or reversed range', () => {
    const buf = Buffer.from('123456789abcdefgh');
    expect(crc32c(buf, 5, 5)).toBe(0);
    expect(crc32c(buf, 10, 5)).toBe(0);
    expect(crc32c(buf, 16, 3)).toBe(0);
  });
});

const arbRecord = (first: number): fc.Arbitrary<BatchRecord> =>
  fc.record({
    key: fc.option(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))),
    value: fc.option(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b))),
    headers: fc.array(
      fc.record({
        key: fc.constantFrom('h', 'k', 'ünï', '__connect.errors.topic'),
        value: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
      }),
      { maxLength: 3 },
    ),
    // Deltas both ways and beyond 32 bits.
    timestamp: fc.integer({ min: -1, max: 2 ** 40 }).map((d) => (d < 0 ? -1 : first + d - 2 ** 39)),
  });

describe('a record batch', () => {
  it("is read back by kafkajs's decoder: every key, value, header, timestamp and offset", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbRecord(1_700_000_000_000), { minLength: 1, maxLength: 30 }),
        async (records) => {
          const batch = await encodeRecordBatch(records);
          expect(batch.readUInt32BE(17)).toBe(crc32c(batch, 21));
          expect(batch.readInt32BE(8)).toBe(batch.length - 12);
          expect(batch[16]).toBe(2);
          const got = await decode(batch);
          const stamps = records.map((r) => r.timestamp);
          expect(Number(got.firstTimestamp)).toBe(Math.min(...stamps));
          expect(Number(got.maxTimestamp)).toBe(Math.max(...stamps));
          expect(got.lastOffsetDelta).toBe(records.length - 1);
          expect(got.producerId).toBe('-1');
          expect(got.records).toHaveLength(records.length);
          got.records.forEach((r, i) => {
            const sent = records[i] as BatchRecord;
            expect(r.offset).toBe(String(i));
            expect(Number(r.timestamp)).toBe(sent.timestamp);
            expect(r.key === null ? null : Buffer.from(r.key)).toEqual(sent.key);
            expect(r.value === null ? null : Buffer.from(r.value)).toEqual(sent.value);
            const headers: Record<string, Buffer[]> = {};
            for (const h of sent.headers) (headers[h.key] ??= []).push(h.value as Buffer);
            expect(
              Object.fromEntries(
                Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
              ),
            ).toEqual(headers);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('compressed: the codec gets the records section and its id is in the attributes', async () => {
    const records: BatchRecord[] = Array.from({ length: 50 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`{"n":${i}}`),
      headers: [],
      timestamp: 1_700_000_000_000 + i,
    }));
    const batch = await encodeRecordBatch(records, {
      id: 1,
      compress: (b) => Promise.resolve(gzipSync(b)),
    });
    expect(batch.readInt16BE(21) & 7).toBe(1);
    expect(batch.readInt32BE(57)).toBe(50);
    const plain = await encodeRecordBatch(records);
    expect(gunzipSync(batch.subarray(61))).toEqual(plain.subarray(61));
    const got = await decode(batch);
    expect(got.records.map((r) => String(r.value))).toEqual(records.map((r) => String(r.value)));
  });

  it('refuses an empty batch', async () => {
    await expect(encodeRecordBatch([])).rejects.toThrow(/at least one record/);
  });

  it('sizes varints as Kafka writes them (zigzag, 7 bits a byte)', () => {
    expect([0, -1, 1, -64, 63, 64, -65, 8191, 8192, 2 ** 31, -(2 ** 40)].map(varintSize)).toEqual([
      1, 1, 1, 1, 1, 2, 2, 2, 3, 5, 6,
    ]);
  });
});

describe('a Produce request body (versions 3 to 7)', () => {
  it("holds a null transactional id, acks, timeout and each topic-partition's batch, after the headroom asked for", async () => {
    const records = (n: number): BatchRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        key: null,
        value: Buffer.from(`v${i}`),
        headers: [],
        timestamp: 5 + i,
      }));
    const gzip = { id: 1, compress: (b: Buffer) => Promise.resolve(gzipSync(b)) };
    for (const headroom of [0, 7, 128]) {
      const full = encodeProduceBody(
        -1,
        1234,
        [
          {
            topic: 'tö',
            partitions: [
              { partition: 7, batch: await prepareRecordBatch(records(1)) },
              { partition: 2, batch: await prepareRecordBatch(records(3), gzip) },
            ],
          },
          {
            topic: 'b',
            partitions: [{ partition: 0, batch: await prepareRecordBatch(records(2)) }],
          },
        ],
        headroom,
      );
      const d = new KafkaDecoder(full.subarray(headroom)) as {
        readInt16(): number;
        readInt32(): number;
        readString(): string;
        readBytes(): Buffer;
        canReadBytes(n: number): boolean;
      };
      expect(d.readInt16()).toBe(-1);
      expect(d.readInt16()).toBe(-1);
      expect(d.readInt32()).toBe(1234);
      expect(d.readInt32()).toBe(2);
      expect(d.readString()).toBe('tö');
      expect(d.readInt32()).toBe(2);
      expect(d.readInt32()).toBe(7);
      expect(Buffer.from(d.readBytes())).toEqual(await encodeRecordBatch(records(1)));
      expect(d.readInt32()).toBe(2);
      expect(Buffer.from(d.readBytes())).toEqual(await encodeRecordBatch(records(3), gzip));
      expect(d.readString()).toBe('b');
      expect(d.readInt32()).toBe(1);
      expect(d.readInt32()).toBe(0);
      expect(Buffer.from(d.readBytes())).toEqual(await encodeRecordBatch(records(2)));
      expect(d.canReadBytes(1)).toBe(false);
    }
  });
});

describe('the fast producer without kafkajs internals', () => {
  it("is not made when kafkajs has no cluster factory, so lib/kafka uses kafkajs's producer", async () => {
    const { createFastProducer, fastProduceSupport } =
      await import('../../../lib/kafka/fast-produce.ts');
    const kafkajs = (await import('kafkajs')).default;
    const real = new kafkajs.Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    expect(fastProduceSupport(real)).toBe(true);
    const bare = Object.create(null) as typeof real;
    expect(fastProduceSupport(bare)).toBe(false);
    expect(createFastProducer(bare, undefined)).toBeUndefined();
  });
});
