import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lz4FormatError, compressLz4Frame, decompressLz4Frames } from '../../../lib/kafka/lz4.ts';
import { xxh32 } from '../../../lib/kafka/xxh32.ts';
import { bigBlocksFrame, fixtureInput, independentFrame, linkedFrame } from './codec-fixtures.ts';

const MAX = 64 * 1024 * 1024;

/** Every sequence of one LZ4 block: where its match starts in the output, and the block's size. */
function sequencesOf(block: Buffer): { matchStarts: number[]; lastLiterals: number; size: number } {
  const matchStarts: number[] = [];
  let s = 0;
  let d = 0;
  const length = (n: number): number => {
    let b: number;
    do {
      b = block[s++]!;
      n += b;
    } while (b === 255);
    return n;
  };
  for (;;) {
    const token = block[s++]!;
    let literals = token >> 4;
    if (literals === 15) literals = length(literals);
    s += literals;
    d += literals;
    if (s >= block.length) return { matchStarts, lastLiterals: literals, size: d };
    s += 2;
    let match = token & 15;
    if (match === 15) match = length(match);
    matchStarts.push(d);
    d += match + 4;
  }
}

/** The compressed blocks of a frame with no optional fields, as our writer makes them. */
function blocksOf(frame: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  for (let p = 7; ;) {
    const word = frame.readUInt32LE(p);
    p += 4;
    if (word === 0) return blocks;
    const size = word & 0x7fffffff;
    if ((word & 0x80000000) === 0) blocks.push(frame.subarray(p, p + size));
    p += size;
  }
}

const repetitive = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 140_000 }), fc.integer())
  .map(([alphabet, length, seed]) => {
    let x = seed >>> 0 || 1;
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = 97 + ((x >>> 0) % alphabet);
    }
    return out;
  });

describe('xxh32', () => {
  it.each([
    ['', 0x02cc5d05],
    ['a', 0x550d7456],
    ['abc', 0x32d153ff],
    ['Nobody inspects the spammish repetition', 0xe2293b2f],
  ])('hashes %j as the reference does', (text, expected) => {
    expect(xxh32(Buffer.from(text))).toBe(expected);
  });
});

describe('LZ4 frames (Kafka)', () => {
  it.each([
    ['linked 64 KiB blocks with block checksums and a content size', linkedFrame],
    ['independent blocks with a content checksum', independentFrame],
    ['4 MiB blocks', bigBlocksFrame],
  ])('reads what the lz4 tool (liblz4) writes: %s', (_, frame) => {
    expect(decompressLz4Frames(frame, MAX).equals(fixtureInput())).toBe(true);
  });

  it("writes the header Kafka's Java producer writes: 64 KiB independent blocks, no checksums", () => {
    const frame = compressLz4Frame(fixtureInput());
    expect(frame.subarray(0, 7).toString('hex')).toBe('04224d18604082');
    expect(frame.subarray(-4).readUInt32LE()).toBe(0);
    expect(frame.length).toBeLessThan(fixtureInput().length / 10);
  });

  it('round-trips any bytes, and repetitive bytes across several blocks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(decompressLz4Frames(compressLz4Frame(data), MAX).equals(data)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(repetitive, (data) => {
        expect(decompressLz4Frames(compressLz4Frame(data), MAX).equals(data)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it("keeps the block format's end rules: the last 5 bytes are literals, no match starts in the last 12", () => {
    fc.assert(
      fc.property(repetitive, (data) => {
        for (const block of blocksOf(compressLz4Frame(data))) {
          const { matchStarts, lastLiterals, size } = sequencesOf(block);
          expect(lastLiterals).toBeGreaterThanOrEqual(5);
          for (const start of matchStarts) expect(start).toBeLessThanOrEqual(size - 12);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('stores a block that does not shrink', () => {
    const noise = Buffer.from(
      fc.sample(fc.uint8Array({ minLength: 70_000, maxLength: 70_000 }), 1)[0]!,
    );
    const frame = compressLz4Frame(noise);
    expect(frame.readUInt32LE(7)).toBe((0x80000000 | 65_536) >>> 0);
    expect(frame.length).toBe(7 + 4 + 65_536 + 4 + (70_000 - 65_536) + 4);
    expect(decompressLz4Frames(frame, MAX).equals(noise)).toBe(true);
  });

  it('reads frames written by Kafka before 0.10, whose header checksum covers the magic too', () => {
    const frame = Buffer.from(compressLz4Frame(Buffer.from('legacy framing')));
    frame[6] = (xxh32(frame, 0, 6) >>> 8) & 0xff;
    expect(decompressLz4Frames(frame, MAX).toString()).toBe('legacy framing');
  });

  it('reads concatenated frames', () => {
    const two = Buffer.concat([compressLz4Frame(Buffer.from('one ')), independentFrame]);
    expect(
      decompressLz4Frames(two, MAX).equals(Buffer.concat([Buffer.from('one '), fixtureInput()])),
    ).toBe(true);
  });

  const corrupt = (edit: (frame: Buffer) => void, from = linkedFrame): Buffer => {
    const frame = Buffer.from(from);
    edit(frame);
    return frame;
  };
  it.each([
    ['no magic', corrupt((f) => f.writeUInt32LE(0x12345678, 0)), /no LZ4 frame magic/],
    ['a wrong header checksum', corrupt((f) => (f[14] = (f[14]! + 1) & 0xff)), /header checksum/],
    ['a changed block', corrupt((f) => (f[40] = (f[40]! + 1) & 0xff)), /block checksum/],
    [
      'a changed content',
      corrupt((f) => (f[30] = (f[30]! + 1) & 0xff), independentFrame),
      /not valid/,
    ],
    ['a truncated frame', linkedFrame.subarray(0, linkedFrame.length - 10), /truncated/],
    ['reserved bits', corrupt((f) => (f[5] = f[5]! | 1)), /reserved bits/],
  ])('refuses a frame with %s', (_, frame, message) => {
    expect(() => decompressLz4Frames(frame, MAX)).toThrow(Lz4FormatError);
    expect(() => decompressLz4Frames(frame, MAX)).toThrow(message);
  });

  it('refuses a match that points before its block in an independent-block frame', () => {
    // Literals "abcd" then a match 5 bytes back: before the start of the output.
    const block = Buffer.from([
      0x40, 0x61, 0x62, 0x63, 0x64, 0x05, 0x00, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65,
    ]);
    const frame = Buffer.concat([
      compressLz4Frame(Buffer.alloc(0)).subarray(0, 7),
      Buffer.from([block.length, 0, 0, 0]),
      block,
      Buffer.alloc(4),
    ]);
    expect(() => decompressLz4Frames(frame, MAX)).toThrow(/before the window/);
  });

  it('refuses output over the bound, before or while decoding', () => {
    expect(() => decompressLz4Frames(linkedFrame, 50_000)).toThrow(/holds more than 50000 bytes/);
    expect(() => decompressLz4Frames(independentFrame, 50_000)).toThrow(
      /holds more than 50000 bytes/,
    );
  });
});
