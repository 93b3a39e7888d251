/**
 * The straightforward Avro binary → TigerGraph JSON converter: a recursive reader over the
 * schema model. It is the reference the compiled converter must match byte for byte.
 */
import { ConvertError } from '../errors/index.ts';
import {
  formatBytes,
  formatDate,
  formatDecimal,
  formatDouble,
  formatDuration,
  formatFloat,
  formatTime,
  formatTimestamp,
  type TimestampFormat,
} from './format.ts';
import { claimItems, createItemBudget, isEmptyType, type ItemBudget } from './limits.ts';
import type { Node } from './schema.ts';

export const truncated = (): ConvertError =>
  new ConvertError('CONVERT_AVRO_TRUNCATED', 'The Avro data ends before the schema says it should');

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly budget: ItemBudget,
  ) {
    this.pos = start;
  }
  /** The next block's item count (0 ends the list), checked against the bytes left (limits.ts). */
  blockCount(empty: boolean, what: string): number {
    let n = this.long();
    if (n < 0) {
      n = -n;
      this.long(); // the block's size in bytes, which we do not need
    }
    claimItems(n, empty, this.buf.length - this.pos, this.budget, what);
    return n;
  }
  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw truncated();
    return b;
  }
  /** A zig-zag varint as a BigInt (exact). */
  bigLong(): bigint {
    let x = 0n;
    let shift = 0n;
    let c: number;
    do {
      c = this.byte();
      x |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if (shift > 70n)
        throw new ConvertError('CONVERT_AVRO_INVALID', 'An Avro long is longer than 10 bytes');
    } while (c & 0x80);
    return (x >> 1n) ^ -(x & 1n);
  }
  long(): number {
    return Number(this.bigLong());
  }
  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) throw truncated();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function read(r: Reader, node: Node, ts: TimestampFormat): string | undefined {
  switch (node.kind) {
    case 'null':
      return undefined;
    case 'boolean':
      return r.byte() === 0 ? 'false' : 'true';
    case 'int': {
      const v = r.long();
      if (node.logical === 'date') return formatDate(v);
      if (node.logical === 'time-millis') return formatTime(v, false);
      return String(v);
    }
    case 'long': {
      const v = r.bigLong();
      switch (node.logical) {
        case 'time-micros':
          return formatTime(Number(v), true);
        case 'timestamp-millis':
        case 'local-timestamp-millis':
          return formatTimestamp(v, false, ts);
        case 'timestamp-micros':
        case 'local-timestamp-micros':
          return formatTimestamp(v, true, ts);
        default:
          return v.toString();
      }
    }
    case 'float':
      return formatFloat(r.take(4).readFloatLE(0));
    case 'double':
      return formatDouble(r.take(8).readDoubleLE(0));
    case 'bytes': {
      const b = r.take(r.long());
      return node.logical === 'decimal' ? formatDecimal(b, node.scale ?? 0) : formatBytes(b);
    }
    case 'string':
      return JSON.stringify(r.take(r.long()).toString('utf8'));
    case 'fixed': {
      const b = r.take(node.size);
      if (node.logical === 'decimal') return formatDecimal(b, node.scale ?? 0);
      if (node.logical === 'duration') return formatDuration(b);
      return formatBytes(b);
    }
    case 'enum': {
      const i = r.long();
      const symbol = node.symbols[i];
      if (symbol === undefined)
        throw new ConvertError(
          'CONVERT_AVRO_INVALID',
          `Enum ${node.name} has no symbol number ${i}`,
        );
      return JSON.stringify(symbol);
    }
    case 'union': {
      const i = r.long();
      const branch = node.branches[i];
      if (branch === undefined)
        throw new ConvertError('CONVERT_AVRO_INVALID', `A union has no branch number ${i}`);
      return read(r, branch, ts);
    }
    case 'record': {
      const parts: string[] = [];
      for (const f of node.fields) {
        const v = read(r, f.type, ts);
        if (v !== undefined) parts.push(`${JSON.stringify(f.name)}:${v}`);
      }
      return `{${parts.join(',')}}`;
    }
    case 'array': {
      const parts: string[] = [];
      const empty = isEmptyType(node.items);
      for (let n = r.blockCount(empty, 'items'); n !== 0; n = r.blockCount(empty, 'items'))
        for (let i = 0; i < n; i++) parts.push(read(r, node.items, ts) ?? 'null');
      return `[${parts.join(',')}]`;
    }
    case 'map': {
      const parts: string[] = [];
      // An entry is never empty: its key's length takes a byte.
      for (let n = r.blockCount(false, 'entries'); n !== 0; n = r.blockCount(false, 'entries'))
        for (let i = 0; i < n; i++) {
          const key = JSON.stringify(r.take(r.long()).toString('utf8'));
          const v = read(r, node.values, ts);
          if (v !== undefined) parts.push(`${key}:${v}`);
        }
      return `{${parts.join(',')}}`;
    }
  }
}

/**
 * Converts one datum at `start` into UTF-8 JSON; `value` is undefined for a null datum.
 * `budget` is the value's allowance of empty items (limits.ts): pass one object to every datum
 * of a value (the records of a container file); without it the datum gets a budget of its own.
 */
export type DatumConverter = (
  buf: Buffer,
  start: number,
  budget?: ItemBudget,
) => { value: Buffer | undefined; end: number };

export function createInterpretedConverter(node: Node, ts: TimestampFormat): DatumConverter {
  return (buf, start, budget = createItemBudget()) => {
    const r = new Reader(buf, start, budget);
    const text = read(r, node, ts);
    return { value: text === undefined ? undefined : Buffer.from(text, 'utf8'), end: r.pos };
  };
}
