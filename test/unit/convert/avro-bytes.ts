/**
 * Avro bytes built by hand, for inputs no honest encoder writes (hostile counts, broken
 * blocks): zig-zag longs, and object container files from their parts.
 */

/** A zig-zag varint long, exact for any 64-bit value. */
export function long(value: number | bigint): Buffer {
  const n = BigInt(value);
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  do {
    const low = Number(z & 0x7fn);
    z >>= 7n;
    out.push(z === 0n ? low : low | 0x80);
  } while (z !== 0n);
  return Buffer.from(out);
}

/** Avro bytes or string: the length, then the bytes. */
export const bytes = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return Buffer.concat([long(data.length), data]);
};

export const SYNC = Buffer.from('0123456789abcdef', 'latin1');

export interface Block {
  readonly count: number | bigint;
  /** The block's bytes as stored (compressed when the file has a codec). */
  readonly data: Buffer;
}

/** An object container file: magic, header map (avro.schema, then avro.codec if given), sync, blocks. */
export function containerFile(
  schema: string,
  blocks: readonly Block[],
  codec?: string,
  sync: Buffer = SYNC,
): Buffer {
  const meta: [string, string][] = [['avro.schema', schema]];
  if (codec !== undefined) meta.push(['avro.codec', codec]);
  return Buffer.concat([
    Buffer.from('Obj\x01', 'latin1'),
    long(meta.length),
    ...meta.flatMap(([k, v]) => [bytes(k), bytes(v)]),
    long(0),
    sync,
    ...blocks.flatMap((b) => [long(b.count), long(b.data.length), b.data, sync]),
  ]);
}
