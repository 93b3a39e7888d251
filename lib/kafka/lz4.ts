/**
 * LZ4 as Kafka uses it: the LZ4 frame format (magic 0x184D2204) around LZ4 blocks. Kafka's
 * Java producer writes 64 KiB independent blocks with no checksums
 * (`KafkaLZ4BlockOutputStream`); librdkafka writes frames through liblz4's LZ4F API. This
 * module writes what Java writes and reads any frame either writes (linked or independent
 * blocks, block and content checksums, content size, concatenated frames).
 *
 * Written here rather than taken from npm: the pure-JS package (lz4js) writes linked 4 MiB
 * blocks and lets the last match start inside the final 12 bytes, which the block format
 * forbids; the other packages are native or WebAssembly builds, which the arm64 Lambda bundle
 * avoids.
 */
import { xxh32 } from './xxh32.ts';

/** Thrown for a frame this module cannot read; the codec wraps it with its code. */
export class Lz4FormatError extends Error {
  override readonly name = 'Lz4FormatError';
}

const MAGIC = 0x184d2204;
const MIN_MATCH = 4;
/** The block format's end rules: the last 5 bytes are literals, the last match starts 12 before the end. */
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65_535;
const HASH_LOG = 12;
/** Kafka's `KafkaLZ4BlockOutputStream.BLOCKSIZE_64KB`. */
const BLOCK_SIZE = 64 * 1024;
const BLOCK_SIZES: Readonly<Record<number, number>> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED_BIT = 0x80000000;

const tooLarge = (maxBytes: number): Lz4FormatError =>
  new Lz4FormatError(`LZ4 frame holds more than ${maxBytes} bytes`);

const fail = (what: string): never => {
  throw new Lz4FormatError(`LZ4 frame is not valid: ${what}`);
};

/** Compresses one block; returns its end in `out`, or -1 when it would not be smaller. */
function compressBlock(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  at: number,
  table: Int32Array,
): number {
  table.fill(0);
  const limit = at + (end - start) - 1;
  let o = at;
  let anchor = start;
  const writeLength = (n: number): void => {
    for (; n >= 255; n -= 255) out[o++] = 255;
    out[o++] = n;
  };
  if (end - start > MF_LIMIT) {
    const matchStartLimit = end - MF_LIMIT;
    const matchEndLimit = end - LAST_LITERALS;
    let ip = start;
    while (ip <= matchStartLimit) {
      const sequence = src.readUInt32LE(ip);
      const h = Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);
      let ref = (table[h] ?? 0) - 1;
      table[h] = ip + 1;
      if (ref < start || ip - ref > MAX_OFFSET || src.readUInt32LE(ref) !== sequence) {
        // LZ4's acceleration: step further the longer nothing matched.
        ip += 1 + ((ip - anchor) >> 6);
        continue;
      }
      while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
        ip--;
        ref--;
      }
      let length = MIN_MATCH;
      while (ip + length < matchEndLimit && src[ip + length] === src[ref + length]) length++;
      const literals = ip - anchor;
      // Worst case of this sequence: token, length bytes, literals, offset, length bytes.
      if (o + literals + literals / 255 + length / 255 + 8 > limit) return -1;
      out[o++] = (Math.min(literals, 15) << 4) | Math.min(length - MIN_MATCH, 15);
      if (literals >= 15) writeLength(literals - 15);
      src.copy(out, o, anchor, ip);
      o += literals;
      out.writeUInt16LE(ip - ref, o);
      o += 2;
      if (length - MIN_MATCH >= 15) writeLength(length - MIN_MATCH - 15);
      ip += length;
      anchor = ip;
    }
  }
  const literals = end - anchor;
  if (o + literals + literals / 255 + 2 > limit) return -1;
  out[o++] = Math.min(literals, 15) << 4;
  if (literals >= 15) writeLength(literals - 15);
  src.copy(out, o, anchor, end);
  return o + literals;
}

/**
 * Compresses `data` to one LZ4 frame as Kafka's Java producer writes it: 64 KiB independent
 * blocks, no checksums, no content size; a block that does not shrink is stored.
 */
export function compressLz4Frame(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK_SIZE));
  const out = Buffer.allocUnsafe(7 + data.length + blocks * 4 + 4);
  out.writeUInt32LE(MAGIC, 0);
  out[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENT;
  out[5] = 4 << 4;
  out[6] = (xxh32(out, 4, 6) >>> 8) & 0xff;
  let o = 7;
  const table = new Int32Array(1 << HASH_LOG);
  for (let start = 0; start < data.length; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, data.length);
    const blockEnd = compressBlock(data, start, end, out, o + 4, table);
    if (blockEnd < 0) {
      out.writeUInt32LE((UNCOMPRESSED_BIT | (end - start)) >>> 0, o);
      data.copy(out, o + 4, start, end);
      o += 4 + end - start;
    } else {
      out.writeUInt32LE(blockEnd - o - 4, o);
      o = blockEnd;
    }
  }
  out.writeUInt32LE(0, o);
  return out.subarray(0, o + 4);
}

/** Decodes one block into `dst` at `d`; back references may reach down to `windowStart`. */
function decompressBlock(
  src: Buffer,
  s: number,
  sEnd: number,
  dst: Buffer,
  d: number,
  windowStart: number,
): number {
  const readLength = (n: number): number => {
    let b: number;
    do {
      if (s >= sEnd) fail('a length runs past the end of its block');
      b = src[s++] as number;
      n += b;
    } while (b === 255);
    return n;
  };
  for (;;) {
    if (s >= sEnd) fail('a block ends without its last literals');
    const token = src[s++] as number;
    let literals = token >> 4;
    if (literals === 15) literals = readLength(literals);
    if (s + literals > sEnd || d + literals > dst.length) fail('literals run past a block');
    src.copy(dst, d, s, s + literals);
    s += literals;
    d += literals;
    if (s === sEnd) return d;
    if (s + 2 > sEnd) fail('a match offset runs past the end of its block');
    const offset = src.readUInt16LE(s);
    s += 2;
    let length = token & 15;
    if (length === 15) length = readLength(length);
    length += MIN_MATCH;
    if (offset === 0 || d - offset < windowStart) fail('a match points before the window');
    if (d + length > dst.length) fail('a match runs past the block size');
    if (offset >= length) dst.copy(dst, d, d - offset, d - offset + length);
    else for (let i = 0; i < length; i++) dst[d + i] = dst[d - offset + i] as number;
    d += length;
  }
}

interface FrameHeader {
  readonly independent: boolean;
  readonly blockChecksum: boolean;
  readonly contentChecksum: boolean;
  readonly contentSize: number | undefined;
  readonly blockMax: number;
  /** Where the first block starts. */
  readonly end: number;
}

function readHeader(src: Buffer, at: number): FrameHeader {
  if (at + 7 > src.length || src.readUInt32LE(at) !== MAGIC) fail('no LZ4 frame magic');
  const flg = src[at + 4] as number;
  const bd = src[at + 5] as number;
  if ((flg & 0xc0) !== FLG_VERSION) fail(`version ${(flg >> 6).toString()} (1 is defined)`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) fail('reserved bits are set');
  const blockMax = BLOCK_SIZES[(bd >> 4) & 7] ?? fail('unknown block size');
  let end = at + 6;
  let contentSize: number | undefined;
  if (flg & FLG_CONTENT_SIZE) {
    if (end + 8 > src.length) fail('truncated header');
    const size = src.readBigUInt64LE(end);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(size);
    end += 8;
  }
  if (flg & FLG_DICT_ID) fail('a dictionary is required, and Kafka never uses one');
  if (end + 1 > src.length) fail('truncated header');
  const checksum = (xxh32(src, at + 4, end) >>> 8) & 0xff;
  // Kafka before 0.10 (message format v0) hashed the magic too; its frames are still read.
  const legacy = (xxh32(src, at, end) >>> 8) & 0xff;
  if (src[end] !== checksum && src[end] !== legacy) fail('header checksum mismatch');
  return {
    independent: (flg & FLG_BLOCK_INDEPENDENT) !== 0,
    blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
    contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
    contentSize,
    blockMax,
    end: end + 1,
  };
}

/**
 * Decompresses one or more concatenated LZ4 frames.
 *
 * @param maxBytes refuse output larger than this (a bound on untrusted sizes).
 * @throws Lz4FormatError for anything that is not a valid frame, or for output over `maxBytes`.
 */
export function decompressLz4Frames(src: Buffer, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (at < src.length) {
    const header = readHeader(src, at);
    // First pass: where the blocks are, and an output size that holds them.
    const blocks: { start: number; size: number; stored: boolean }[] = [];
    let p = header.end;
    let bound = 0;
    for (;;) {
      if (p + 4 > src.length) fail('truncated before its end mark');
      const word = src.readUInt32LE(p);
      p += 4;
      if (word === 0) break;
      const stored = (word & UNCOMPRESSED_BIT) !== 0;
      const size = word & ~UNCOMPRESSED_BIT;
      if (size > header.blockMax) fail('a block is larger than the frame block size');
      if (p + size + (header.blockChecksum ? 4 : 0) > src.length) fail('truncated block');
      if (header.blockChecksum && src.readUInt32LE(p + size) !== xxh32(src, p, p + size))
        fail('block checksum mismatch');
      blocks.push({ start: p, size, stored });
      bound += stored ? size : header.blockMax;
      p += size + (header.blockChecksum ? 4 : 0);
    }
    if (header.contentSize !== undefined) bound = Math.min(bound, header.contentSize);
    const budget = maxBytes - total;
    if ((header.contentSize ?? 0) > budget) throw tooLarge(maxBytes);
    const out = Buffer.allocUnsafe(Math.min(bound, budget));
    let d = 0;
    try {
      for (const block of blocks) {
        if (block.stored) {
          if (d + block.size > out.length) fail('content is larger than its declared size');
          src.copy(out, d, block.start, block.start + block.size);
          d += block.size;
        } else {
          const windowStart = header.independent ? d : 0;
          d = decompressBlock(src, block.start, block.start + block.size, out, d, windowStart);
        }
      }
    } catch (error) {
      // Out of room only because of the budget: say so rather than call the frame invalid.
      throw bound > budget && error instanceof Lz4FormatError ? tooLarge(maxBytes) : error;
    }
    if (header.contentSize !== undefined && d !== header.contentSize)
      fail('content size does not match the frame header');
    if (header.contentChecksum) {
      if (p + 4 > src.length) fail('truncated content checksum');
      if (src.readUInt32LE(p) !== xxh32(out, 0, d)) fail('content checksum mismatch');
      p += 4;
    }
    parts.push(out.subarray(0, d));
    total += d;
    at = p;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}
