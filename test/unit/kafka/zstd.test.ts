import fc from 'fast-check';
import { decompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import {
  ZstdFormatError,
  compressZstd,
  decompressZstd,
  zstdCompressesNatively,
} from '../../../lib/kafka/zstd.ts';
import { fixtureInput, zstdFrame, zstdNoSizeFrame } from './codec-fixtures.ts';

const MAX = 64 * 1024 * 1024;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

describe('zstd (Kafka)', () => {
  it.each([
    ['with a content size and checksum', zstdFrame],
    ['without a content size', zstdNoSizeFrame],
  ])('reads what the zstd tool (libzstd) writes: %s', (_, frame) => {
    expect(decompressZstd(frame, MAX).equals(fixtureInput())).toBe(true);
  });

  it("compresses with Node's zlib where it has zstd (Node >= 22.15), else writes raw blocks", () => {
    expect(zstdCompressesNatively).toBe(major > 22 || (major === 22 && minor >= 15));
    const frame = compressZstd(fixtureInput());
    expect(frame.readUInt32LE(0)).toBe(0xfd2fb528);
    if (zstdCompressesNatively) expect(frame.length).toBeLessThan(fixtureInput().length / 10);
    else expect(frame.length).toBe(fixtureInput().length + 9 + 3);
    // Read back by another decoder than ours.
    expect(Buffer.from(decompress(frame)).equals(fixtureInput())).toBe(true);
  });

  it('round-trips any bytes, across several 128 KiB blocks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300_000 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(decompressZstd(compressZstd(data), MAX).equals(data)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('reads concatenated frames and skips skippable frames', () => {
    const skippable = Buffer.from('502a4d1803000000616263', 'hex');
    const data = Buffer.concat([zstdFrame, skippable, compressZstd(Buffer.from('tail'))]);
    expect(decompressZstd(data, MAX).toString()).toBe(`${fixtureInput().toString()}tail`);
  });

  it('refuses a frame that declares more than the bound before decoding it', () => {
    // Single segment, an 8-byte content size of 1 GiB, one empty raw last block.
    const header = Buffer.from('28b52ffde0', 'hex');
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(1n << 30n);
    const bomb = Buffer.concat([header, size, Buffer.from([1, 0, 0])]);
    expect(() => decompressZstd(bomb, MAX)).toThrow(/declares more than/);
    expect(() => decompressZstd(zstdNoSizeFrame, 1000)).toThrow(/more than 1000 bytes/);
  });

  it('refuses a frame whose many blocks would make the decoder shift its window for too long', () => {
    // No content size, an 8 MiB window (Window_Log 23), 1,000 empty raw blocks, then the last.
    const header = Buffer.from('28b52ffd0068', 'hex');
    const empty = Buffer.from([0, 0, 0]);
    const frame = Buffer.concat([
      header,
      ...Array<Buffer>(1000).fill(empty),
      Buffer.from([1, 0, 0]),
    ]);
    expect(() => decompressZstd(frame, MAX)).toThrow(/too many blocks for its window/);
    // The same frame with a few blocks is read.
    const few = Buffer.concat([header, empty, empty, Buffer.from([1, 0, 0])]);
    expect(decompressZstd(few, MAX).length).toBe(0);
  });

  it.each([
    ['not a frame', Buffer.from('not zstd at all')],
    ['a truncated frame', zstdFrame.subarray(0, zstdFrame.length - 20)],
    ['a reserved block type', Buffer.from('28b52ffd2004070000', 'hex')],
  ])('refuses %s', (_, data) => {
    expect(() => decompressZstd(data, MAX)).toThrow(ZstdFormatError);
  });
});
