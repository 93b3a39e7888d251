/**
 * Zstandard as Kafka uses it: plain zstd frames. Reading is fzstd (pure JS, every Node).
 * Writing is Node's own zlib zstd, where the runtime has it (Node >= 22.15 and >= 23.8, so
 * Lambda's nodejs22.x) at Kafka's default level 3; on an older Node (the local runner on Node
 * 20) the frame holds the data in raw blocks: valid zstd that every consumer reads, without
 * the size saving.
 */
import * as zlib from 'node:zlib';
import { decompress } from 'fzstd';

/** Thrown for input this module cannot read; the codec wraps it with its code. */
export class ZstdFormatError extends Error {
  override readonly name = 'ZstdFormatError';
}

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Kafka's default `compression.zstd.level`. */
const KAFKA_DEFAULT_LEVEL = 3;
/**
 * Bound on the window bytes fzstd moves for one batch. A frame without a content size (what
 * streaming encoders such as Java's zstd-jni write) is decoded through its window, shifted
 * once per block: 8 blocks of 128 KiB under a 2 MiB window (level 3) move 16 MiB, while the
 * 300,000 empty blocks that fit in 1 MiB under an 8 MiB window would move 2.4 TiB.
 */
const MAX_WINDOW_MOVES = 4 * 1024 * 1024 * 1024;
/** The format's largest block (Block_Maximum_Size). */
const MAX_RAW_BLOCK = 128 * 1024;

type ZstdCompress = (data: Buffer, options: { params: Record<number, number> }) => Buffer;
const native = (zlib as { zstdCompressSync?: ZstdCompress }).zstdCompressSync;
const LEVEL_PARAM = (zlib.constants as Record<string, number | undefined>).ZSTD_c_compressionLevel;

/** True where Node's zlib compresses zstd; false where frames are written with raw blocks. */
export const zstdCompressesNatively = native !== undefined && LEVEL_PARAM !== undefined;

/** One zstd frame of raw blocks: single segment, content size in 4 bytes, no checksum. */
function storedFrame(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_RAW_BLOCK));
  const out = Buffer.allocUnsafe(4 + 1 + 4 + blocks * 3 + data.length);
  out.writeUInt32LE(MAGIC, 0);
  // Frame_Header_Descriptor: Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag.
  out[4] = 0xa0;
  out.writeUInt32LE(data.length, 5);
  let o = 9;
  for (let i = 0; i < blocks; i++) {
    const start = i * MAX_RAW_BLOCK;
    const size = Math.min(MAX_RAW_BLOCK, data.length - start);
    // Block_Header: Last_Block bit, Block_Type 0 (Raw), Block_Size.
    out.writeUIntLE((size << 3) | (i === blocks - 1 ? 1 : 0), o, 3);
    data.copy(out, o + 3, start, start + size);
    o += 3 + size;
  }
  return out;
}

/** Compresses `data` to a zstd frame (see the module comment for which encoder). */
export function compressZstd(data: Buffer): Buffer {
  if (native !== undefined && LEVEL_PARAM !== undefined)
    return native(data, { params: { [LEVEL_PARAM]: KAFKA_DEFAULT_LEVEL } });
  return storedFrame(data);
}

const truncated = (): never => {
  throw new ZstdFormatError('zstd data is truncated');
};

/**
 * Walks the frames of `data` without decoding them: the largest buffers decoding them makes
 * (each frame's content size when declared, else its window size, the format's own bound on
 * what a decoder must hold), and the bytes fzstd moves for frames without a content size,
 * where it shifts the whole window once per block.
 */
function framesCost(data: Buffer): { memory: number; windowMoves: number } {
  let memory = 0;
  let windowMoves = 0;
  for (let at = 0; at < data.length;) {
    if (at + 8 > data.length) truncated();
    const magic = data.readUInt32LE(at);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      at += 8 + data.readUInt32LE(at + 4);
      continue;
    }
    if (magic !== MAGIC) throw new ZstdFormatError('zstd data holds something other than a frame');
    const descriptor = data[at + 4] as number;
    const singleSegment = (descriptor & 0x20) !== 0;
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
    let p = at + 5;
    let window = 0;
    if (!singleSegment) {
      const w = data[p++] as number;
      const base = 2 ** (10 + (w >> 3));
      window = base + (base / 8) * (w & 7);
    }
    p += [0, 1, 2, 4][descriptor & 3] as number;
    if (p + sizeBytes > data.length) truncated();
    const size =
      sizeBytes === 0
        ? 0
        : sizeBytes === 8
          ? Number(data.readBigUInt64LE(p))
          : data.readUIntLE(p, sizeBytes) + (sizeBytes === 2 ? 256 : 0);
    p += sizeBytes;
    memory += sizeBytes === 0 ? window : size;
    let blocks = 0;
    for (let last = false; !last; blocks++) {
      if (p + 3 > data.length) truncated();
      const header = data.readUIntLE(p, 3);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new ZstdFormatError('zstd block type is reserved');
      // An RLE block (type 1) stores one byte; Block_Size is what it expands to.
      p += 3 + (type === 1 ? 1 : header >>> 3);
    }
    if (sizeBytes === 0) windowMoves += blocks * window;
    at = p + ((descriptor & 0x04) !== 0 ? 4 : 0);
  }
  return { memory, windowMoves };
}

/**
 * Decompresses one or more zstd frames (skippable frames are skipped).
 *
 * @param maxBytes refuse frames that declare, or produce, more than this (a bound on untrusted sizes).
 * @throws ZstdFormatError for invalid data or output over `maxBytes`.
 */
export function decompressZstd(data: Buffer, maxBytes: number): Buffer {
  const cost = framesCost(data);
  if (cost.memory > maxBytes)
    throw new ZstdFormatError(`zstd data declares more than ${maxBytes} bytes`);
  if (cost.windowMoves > MAX_WINDOW_MOVES)
    throw new ZstdFormatError(
      `zstd data has too many blocks for its window: decoding would move ${cost.windowMoves} bytes, over ${MAX_WINDOW_MOVES}`,
    );
  let out: Uint8Array;
  try {
    out = decompress(data);
  } catch (error) {
    throw new ZstdFormatError(
      `zstd data is not valid: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (out.length > maxBytes)
    throw new ZstdFormatError(`zstd data holds more than ${maxBytes} bytes`);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}
