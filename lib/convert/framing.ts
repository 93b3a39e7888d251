/** Recognizing how an Avro value is framed, and reading Avro object container files. */
import { inflateRawSync } from 'node:zlib';
import { ConvertError } from '../errors/index.ts';

export const CONFLUENT_MAGIC = 0x00;
export const GLUE_HEADER_VERSION = 0x03;
export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
/** Bound on one decompressed container block. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

export type Framing =
  | { readonly kind: 'confluent'; readonly schemaId: number; readonly offset: 5 }
  | { readonly kind: 'glue'; readonly schemaVersionId: string; readonly compression: number }
  | { readonly kind: 'container' }
  | { readonly kind: 'single-object'; readonly fingerprint: Buffer; readonly offset: 10 }
  | { readonly kind: 'raw' };

const uuid = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Tells the framing from the first bytes. */
export function detectFraming(value: Buffer): Framing {
  if (value.length >= 4 && value.subarray(0, 4).equals(CONTAINER_MAGIC))
    return { kind: 'container' };
  if (value.length >= 10 && value[0] === 0xc3 && value[1] === 0x01)
    return { kind: 'single-object', fingerprint: value.subarray(2, 10), offset: 10 };
  if (
    value.length >= 18 &&
    value[0] === GLUE_HEADER_VERSION &&
    (value[1] === 0x00 || value[1] === 0x05)
  )
    return { kind: 'glue', compression: value[1], schemaVersionId: uuid(value.subarray(2, 18)) };
  if (value.length >= 5 && value[0] === CONFLUENT_MAGIC)
    return { kind: 'confluent', schemaId: value.readUInt32BE(1), offset: 5 };
  return { kind: 'raw' };
}

class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
  long(): number {
    let n = 0;
    let f = 1;
    let c: number | undefined;
    do {
      c = this.buf[this.pos++];
      if (c === undefined)
        throw new ConvertError('CONVERT_CONTAINER_INVALID', 'The Avro container file ends early');
      n += (c & 0x7f) * f;
      f *= 128;
    } while (c & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new ConvertError('CONVERT_CONTAINER_INVALID', 'The Avro container file ends early');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export interface ContainerBlock {
  readonly count: number;
  readonly data: Buffer;
}

/** Reads an object container file: its writer schema and its (decompressed) blocks. */
export function readContainer(file: Buffer): { schema: string; blocks: ContainerBlock[] } {
  const c = new Cursor(file, 4);
  const meta = new Map<string, Buffer>();
  for (let n = c.long(); n !== 0; n = c.long()) {
    if (n < 0) {
      n = -n;
      c.long();
    }
    for (let i = 0; i < n; i++) meta.set(c.take(c.long()).toString('utf8'), c.take(c.long()));
  }
  const sync = c.take(16);
  const schema = meta.get('avro.schema')?.toString('utf8');
  if (schema === undefined)
    throw new ConvertError(
      'CONVERT_CONTAINER_INVALID',
      'The Avro container file has no avro.schema in its header',
    );
  const codec = meta.get('avro.codec')?.toString('utf8') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate')
    throw new ConvertError(
      'CONVERT_CODEC_UNSUPPORTED',
      `The Avro container file uses codec ${codec}; supported: null, deflate`,
    );
  const blocks: ContainerBlock[] = [];
  while (c.pos < file.length) {
    const count = c.long();
    const raw = c.take(c.long());
    if (!c.take(16).equals(sync))
      throw new ConvertError(
        'CONVERT_CONTAINER_INVALID',
        'An Avro container block does not end with the file sync marker',
      );
    let data: Buffer;
    try {
      data = codec === 'deflate' ? inflateRawSync(raw, { maxOutputLength: MAX_BLOCK_BYTES }) : raw;
    } catch {
      throw new ConvertError(
        'CONVERT_CONTAINER_INVALID',
        `An Avro container block does not inflate (or exceeds ${MAX_BLOCK_BYTES} bytes)`,
      );
    }
    blocks.push({ count, data });
  }
  return { schema, blocks };
}
