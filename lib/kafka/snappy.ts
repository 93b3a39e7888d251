/**
 * Snappy as Kafka uses it. Java producers write xerial's framing (snappy-java's
 * `SnappyOutputStream`: an 8-byte magic, two 4-byte versions, then big-endian length-prefixed
 * raw Snappy chunks); librdkafka writes one raw Snappy block. Both are read here; the framing
 * Java writes is what is written, which every Kafka client reads.
 */
import { compress, uncompress } from 'snappyjs';

/** Thrown for input this module cannot read; the codec wraps it with its code. */
export class SnappyFormatError extends Error {
  override readonly name = 'SnappyFormatError';
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** snappy-java's `SnappyOutputStream` default block size. */
const XERIAL_BLOCK_SIZE = 32 * 1024;
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);

const isXerial = (data: Buffer): boolean =>
  data.length >= 16 && data.subarray(0, 8).equals(XERIAL_MAGIC);

const uncompressRaw = (chunk: Buffer, maxBytes: number): Buffer => {
  try {
    return uncompress(chunk, maxBytes);
  } catch (error) {
    throw new SnappyFormatError(
      `Snappy data is not valid: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
};

/** Compresses `data` in xerial's framing, as Kafka's Java producer does. */
export function compressSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_SIZE) {
    const chunk = compress(data.subarray(start, start + XERIAL_BLOCK_SIZE));
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(chunk.length);
    parts.push(length, chunk);
  }
  return Buffer.concat(parts);
}

/**
 * Decompresses xerial-framed or raw Snappy.
 *
 * @param maxBytes refuse output larger than this (a bound on untrusted sizes).
 * @throws SnappyFormatError for invalid data or output over `maxBytes`.
 */
export function decompressSnappy(data: Buffer, maxBytes: number): Buffer {
  if (!isXerial(data)) return uncompressRaw(data, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = 16; at < data.length;) {
    if (at + 4 > data.length) throw new SnappyFormatError('Snappy (xerial) chunk is truncated');
    const length = data.readUInt32BE(at);
    at += 4;
    if (at + length > data.length)
      throw new SnappyFormatError('Snappy (xerial) chunk is truncated');
    const chunk = uncompressRaw(data.subarray(at, at + length), maxBytes - total);
    parts.push(chunk);
    total += chunk.length;
    at += length;
  }
  return Buffer.concat(parts, total);
}
