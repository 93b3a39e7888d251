/**
 * Avro object container codecs (the `avro.codec` header value): how one block's bytes are
 * decompressed, with the bounds untrusted blocks need. Pure JavaScript only (Node's zlib for
 * deflate), so the same code runs on Node 20 and on Lambda's Node 22, x86 or arm64, bundled:
 * snappy with `snappyjs`, zstandard with `fzstd` (Node's own zstd exists only from 22.15).
 */
import { inflateRawSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { uncompress } from 'snappyjs';
import { ConvertError, messageOf } from '../errors/index.ts';

/** Bound on the decompressed blocks of one container value (all blocks together), and on one decompressed Glue value. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

/**
 * Bound on the window one zstandard frame may declare: the decoder allocates it before reading
 * a block. 8 MiB is the largest zstd's levels 1 to 19 use, and what RFC 8878 asks every decoder
 * to support; a producer at an `--ultra` level (20 to 22) writes larger windows.
 */
export const MAX_ZSTD_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Bound on the window bytes the zstd decoder may move for one value. fzstd shifts its whole
 * window once per zstd block (and allocates one per frame), so a block of a few bytes under a
 * large window costs the window, not its size. An honest 64 MiB ({@link MAX_BLOCK_BYTES}) in
 * full 128 KiB zstd blocks under the largest allowed window moves 4 GiB (well under a second).
 */
export const MAX_ZSTD_WINDOW_MOVES = 4 * 1024 * 1024 * 1024;

/** What one value may still decompress to; one object per value, shared by its blocks. */
export interface DecompressBudget {
  bytesLeft: number;
  windowMovesLeft: number;
}

export const createDecompressBudget = (): DecompressBudget => ({
  bytesLeft: MAX_BLOCK_BYTES,
  windowMovesLeft: MAX_ZSTD_WINDOW_MOVES,
});

const invalid = (codec: string, why: string, cause?: unknown): ConvertError =>
  new ConvertError(
    'CONVERT_CODEC_DATA_INVALID',
    `An Avro container block (codec ${codec}) does not decompress: ${why}`,
    { cause, details: { codec } },
  );
const tooLarge = (codec: string): ConvertError =>
  new ConvertError(
    'CONVERT_CODEC_OUTPUT_TOO_LARGE',
    `The blocks of an Avro container file (codec ${codec}) decompress to more than ${MAX_BLOCK_BYTES} bytes, the limit for one value (MAX_BLOCK_BYTES)`,
    { details: { codec } },
  );
const windowTooLarge = (message: string): ConvertError =>
  new ConvertError('CONVERT_CODEC_WINDOW_TOO_LARGE', message, {
    details: { codec: 'zstandard' },
  });

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, zlib's), as the snappy codec stores it; zlib.crc32 only exists from Node 20.15. */
export function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++)
    c = (CRC_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Length of the uncompressed data a raw snappy stream starts with (a varint of at most 32 bits). */
function snappyLength(data: Buffer): number | undefined {
  let n = 0;
  for (let i = 0; i < 5 && i < data.length; i++) {
    const c = data[i] as number;
    n += (c & 0x7f) * 2 ** (7 * i);
    if (c < 0x80) return n;
  }
  return undefined;
}

/**
 * snappy, as the Avro specification defines the codec: a raw snappy stream, then the 4-byte
 * big-endian CRC-32 of the uncompressed data, checked (snappyjs does not notice every corrupt
 * stream; the checksum does).
 */
function decompressSnappy(raw: Buffer, budget: DecompressBudget): Buffer {
  if (raw.length < 5) throw invalid('snappy', 'it is shorter than a snappy stream and its CRC-32');
  const body = raw.subarray(0, raw.length - 4);
  const length = snappyLength(body);
  if (length === undefined) throw invalid('snappy', 'its uncompressed length is not a varint');
  if (length > budget.bytesLeft) throw tooLarge('snappy');
  let out: Buffer;
  try {
    out = uncompress(body, length);
  } catch (error) {
    throw invalid('snappy', messageOf(error), error);
  }
  const expected = raw.readUInt32BE(raw.length - 4);
  if (crc32(out) !== expected)
    throw new ConvertError(
      'CONVERT_CODEC_CHECKSUM_MISMATCH',
      `An Avro container block (codec snappy) fails its check: the CRC-32 of its uncompressed data is 0x${crc32(out).toString(16).padStart(8, '0')}, the block says 0x${expected.toString(16).padStart(8, '0')}`,
      { details: { codec: 'snappy' } },
    );
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames carry 0x184D2A50 to 0x184D2A5F. */
const ZSTD_SKIPPABLE = 0x184d2a50;
/** Largest block content (RFC 8878 Block_Maximum_Size). */
const ZSTD_MAX_BLOCK = 128 * 1024;

const readLE = (b: Buffer, at: number, bytes: number): number => {
  let n = 0;
  for (let i = bytes - 1; i >= 0; i--) n = n * 256 + (b[at + i] as number);
  return n;
};

/**
 * Walks the frames of a zstd stream without decompressing (RFC 8878: frame headers and block
 * headers give every size), checking what fzstd would trust: each frame's window and declared
 * content size, that every block lies within the data, and the window moves the blocks cost
 * (spent from the budget). Leaves decoding errors to fzstd.
 */
function checkZstdFrames(data: Buffer, budget: DecompressBudget): void {
  const end = (): never => {
    throw invalid('zstandard', 'the data ends inside a frame');
  };
  let p = 0;
  while (p < data.length) {
    if (p + 4 > data.length) end();
    const magic = data.readUInt32LE(p);
    if ((magic & 0xfffffff0) >>> 0 === ZSTD_SKIPPABLE) {
      if (p + 8 > data.length) end();
      p += 8 + data.readUInt32LE(p + 4);
      if (p > data.length) end();
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw invalid('zstandard', 'a frame does not start with the magic');
    const descriptor = data[p + 4];
    if (descriptor === undefined) return end();
    p += 5;
    const single = (descriptor & 0x20) !== 0;
    if (descriptor & 0x08) throw invalid('zstandard', 'a frame header sets the reserved bit');
    let window = 0;
    if (!single) {
      const w = data[p++];
      if (w === undefined) return end();
      const base = 2 ** (10 + (w >> 3));
      window = base + (base / 8) * (w & 7);
    }
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3] as number;
    const sizeBytes = [single ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
    if (p + dictionaryBytes + sizeBytes > data.length) end();
    if (readLE(data, p, dictionaryBytes) !== 0)
      throw invalid('zstandard', 'a frame needs a dictionary, and Avro blocks have none');
    p += dictionaryBytes;
    const contentSize = readLE(data, p, sizeBytes) + (sizeBytes === 2 ? 256 : 0);
    p += sizeBytes;
    if (single) window = contentSize;
    if (sizeBytes > 0 && contentSize > budget.bytesLeft) throw tooLarge('zstandard');
    if (window > MAX_ZSTD_WINDOW_BYTES)
      throw windowTooLarge(
        `An Avro container block (codec zstandard) has a frame with a ${window}-byte window, more than the ${MAX_ZSTD_WINDOW_BYTES} allowed (MAX_ZSTD_WINDOW_BYTES); the producer may write at most zstd level 19`,
      );
    let moves = window;
    for (let last = false; !last;) {
      if (p + 3 > data.length) end();
      const header = readLE(data, p, 3);
      p += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw invalid('zstandard', 'a block has the reserved type');
      // Block_Maximum_Size; for an RLE block the size is what it regenerates from one byte.
      if (size > Math.min(window || ZSTD_MAX_BLOCK, ZSTD_MAX_BLOCK))
        throw invalid('zstandard', 'a block is larger than zstd allows');
      p += type === 1 ? 1 : size;
      if (p > data.length) end();
      moves += window;
    }
    if (descriptor & 0x04) p += 4; // content checksum (XXH64), which fzstd does not check
    if (p > data.length) end();
    budget.windowMovesLeft -= moves;
    if (budget.windowMovesLeft < 0)
      throw windowTooLarge(
        `The zstandard blocks of an Avro container file would move more than ${MAX_ZSTD_WINDOW_MOVES} window bytes (MAX_ZSTD_WINDOW_MOVES): too many small zstd blocks under large windows`,
      );
  }
}

/** zstandard: one or more zstd frames; decoded as a stream so the output bound stops it early. */
function decompressZstd(raw: Buffer, budget: DecompressBudget): Buffer {
  checkZstdFrames(raw, budget);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const decoder = new Decompress((chunk) => {
    length += chunk.length;
    if (length > budget.bytesLeft) throw tooLarge('zstandard');
    chunks.push(chunk);
  });
  try {
    decoder.push(raw, true);
  } catch (error) {
    if (error instanceof ConvertError) throw error;
    throw invalid('zstandard', messageOf(error), error);
  }
  return Buffer.concat(chunks, length);
}

function decompressDeflate(raw: Buffer, budget: DecompressBudget): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, budget.bytesLeft) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('deflate');
    throw invalid('deflate', messageOf(error), error);
  }
}

/** The codecs, by their `avro.codec` name; each returns the block's uncompressed bytes. */
export const CONTAINER_CODECS = {
  null: (raw: Buffer): Buffer => raw,
  deflate: decompressDeflate,
  snappy: decompressSnappy,
  zstandard: decompressZstd,
} as const satisfies Record<string, (raw: Buffer, budget: DecompressBudget) => Buffer>;

export type ContainerCodec = keyof typeof CONTAINER_CODECS;

export const isContainerCodec = (name: string): name is ContainerCodec =>
  Object.hasOwn(CONTAINER_CODECS, name);

/**
 * Decompresses one block and spends its size from the value's budget (MAX_BLOCK_BYTES bounds
 * what the blocks of one value decompress to together, not each block: otherwise a value of
 * many small compressed blocks could still inflate without bound).
 *
 * @throws ConvertError `CONVERT_CODEC_DATA_INVALID`, `CONVERT_CODEC_CHECKSUM_MISMATCH`,
 *   `CONVERT_CODEC_OUTPUT_TOO_LARGE` or `CONVERT_CODEC_WINDOW_TOO_LARGE`.
 */
export function decompressBlock(
  codec: ContainerCodec,
  raw: Buffer,
  budget: DecompressBudget,
): Buffer {
  // Uncompressed blocks are views of the value itself, already bounded by its size.
  if (codec === 'null') return raw;
  const data = CONTAINER_CODECS[codec](raw, budget);
  budget.bytesLeft -= data.length;
  if (budget.bytesLeft < 0) throw tooLarge(codec);
  return data;
}
