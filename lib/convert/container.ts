/** Reading Avro object container files: the header, then each block, decompressed. */
import { ConvertError } from '../errors/index.ts';
import {
  CONTAINER_CODECS,
  createDecompressBudget,
  decompressBlock,
  isContainerCodec,
} from './codecs.ts';

class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
  long(): number {
    let n = 0;
    let f = 1;
    let c: number | undefined;
    let k = 0;
    do {
      c = this.buf[this.pos++];
      if (c === undefined)
        throw new ConvertError('CONVERT_CONTAINER_INVALID', 'The Avro container file ends early');
      if (++k > 10)
        throw new ConvertError(
          'CONVERT_CONTAINER_INVALID',
          'The Avro container file has a long of more than 10 bytes',
        );
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
  /** The records the block claims; the caller checks it against the data (limits.ts). */
  readonly count: number;
  /** The block's uncompressed bytes. */
  readonly data: Buffer;
}

/**
 * Reads an object container file: its writer schema and its (decompressed) blocks. The blocks
 * of one file decompress to at most MAX_BLOCK_BYTES together.
 *
 * @throws ConvertError `CONVERT_CONTAINER_INVALID`, `CONVERT_CODEC_UNSUPPORTED`, or a
 *   `CONVERT_CODEC_*` code of codecs.ts.
 */
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
  if (!isContainerCodec(codec))
    throw new ConvertError(
      'CONVERT_CODEC_UNSUPPORTED',
      `The Avro container file uses codec ${codec}; supported: ${Object.keys(CONTAINER_CODECS).join(', ')}`,
    );
  const budget = createDecompressBudget();
  const blocks: ContainerBlock[] = [];
  while (c.pos < file.length) {
    const count = c.long();
    if (count < 0)
      throw new ConvertError(
        'CONVERT_CONTAINER_INVALID',
        `An Avro container block claims ${count} records; a count cannot be negative`,
      );
    const raw = c.take(c.long());
    if (!c.take(16).equals(sync))
      throw new ConvertError(
        'CONVERT_CONTAINER_INVALID',
        'An Avro container block does not end with the file sync marker',
      );
    blocks.push({ count, data: decompressBlock(codec, raw, budget) });
  }
  return { schema, blocks };
}
