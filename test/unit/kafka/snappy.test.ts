import fc from 'fast-check';
import * as snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { SnappyFormatError, compressSnappy, decompressSnappy } from '../../../lib/kafka/snappy.ts';
import { fixtureInput } from './codec-fixtures.ts';

const MAX = 64 * 1024 * 1024;
const XERIAL_HEADER = '82534e41505059000000000100000001';

/** xerial framing built by hand from raw chunks, as snappy-java's SnappyOutputStream writes it. */
const xerial = (...chunks: Buffer[]): Buffer =>
  Buffer.concat([
    Buffer.from(XERIAL_HEADER, 'hex'),
    ...chunks.flatMap((c) => {
      const raw = snappy.compress(c);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(raw.length);
      return [length, raw];
    }),
  ]);

describe('Snappy (Kafka)', () => {
  it("writes xerial's framing, as Kafka's Java producer does, in 32 KiB chunks", () => {
    const frame = compressSnappy(fixtureInput());
    expect(frame.subarray(0, 16).toString('hex')).toBe(XERIAL_HEADER);
    expect(frame.length).toBeLessThan(fixtureInput().length / 5);
    const firstChunk = frame.readUInt32BE(16);
    expect(snappy.uncompress(frame.subarray(20, 20 + firstChunk)).length).toBe(32 * 1024);
  });

  it('reads raw Snappy, as librdkafka writes it', () => {
    expect(decompressSnappy(snappy.compress(fixtureInput()), MAX).equals(fixtureInput())).toBe(
      true,
    );
  });

  it('reads xerial chunks written by another encoder', () => {
    const data = fixtureInput();
    const frame = xerial(data.subarray(0, 1000), data.subarray(1000));
    expect(decompressSnappy(frame, MAX).equals(data)).toBe(true);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80_000 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(decompressSnappy(compressSnappy(data), MAX).equals(data)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['raw data that is not Snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a truncated xerial chunk', xerial(fixtureInput()).subarray(0, 40)],
    ['a xerial length cut short', xerial(fixtureInput()).subarray(0, 18)],
  ])('refuses %s', (_, data) => {
    expect(() => decompressSnappy(data, MAX)).toThrow(SnappyFormatError);
  });

  it('refuses output over the bound', () => {
    expect(() => decompressSnappy(compressSnappy(fixtureInput()), 40_000)).toThrow(/too big/);
    expect(() => decompressSnappy(snappy.compress(fixtureInput()), 40_000)).toThrow(/too big/);
  });
});
