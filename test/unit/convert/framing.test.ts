import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
} from '../../../lib/convert/index.ts';
import { mayHoldDatum } from '../../../lib/convert/framing.ts';

const LINK = {
  type: 'record',
  name: 'Link',
  fields: [
    { name: 'v', type: 'int' },
    { name: 'next', type: ['null', 'Link'] },
  ],
};
const ALL = {
  type: 'record',
  name: 'All',
  fields: [
    { name: 'n', type: 'null' },
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'by', type: 'bytes' },
    { name: 's', type: 'string' },
    { name: 'fx', type: { type: 'fixed', name: 'F4', size: 4 } },
    { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] } },
    { name: 'a', type: { type: 'array', items: ['null', 'int', 'string'] } },
    {
      name: 'm',
      type: { type: 'map', values: LINK },
    },
  ],
};
const node = parseSchema(ALL);
const type = avro.Type.forSchema(ALL as avro.Schema);
const decoders = [
  createCompiledConverter(node, 'datetime'),
  createInterpretedConverter(node, 'datetime'),
];
/** Whether a converter reads `buf` as exactly one datum (what convertAll demands). */
const decodes = (convert: (typeof decoders)[number], buf: Buffer): boolean => {
  try {
    return convert(buf, 0).end === buf.length;
  } catch {
    return false;
  }
};
const samples = Array.from({ length: 60 }, () => type.toBuffer(type.random()));

describe('mayHoldDatum', () => {
  it('says true for every valid datum', () => {
    for (const buf of samples) expect(mayHoldDatum(node, buf, 0)).toBe(true);
  });

  it('says false only when no decoder reads the bytes (truncated, extended, corrupted, random)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: samples.length - 1 }),
        fc.oneof(
          fc.record({ cut: fc.nat() }),
          fc.record({ extra: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
          fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
          fc.record({ random: fc.uint8Array({ maxLength: 64 }) }),
        ),
        (i, change) => {
          const valid = samples[i]!;
          let buf: Buffer;
          if ('cut' in change) buf = valid.subarray(0, change.cut % valid.length);
          else if ('extra' in change) buf = Buffer.concat([valid, change.extra]);
          else if ('at' in change) {
            buf = Buffer.from(valid);
            buf[change.at % buf.length] = change.byte;
          } else buf = Buffer.from(change.random);
          if (!mayHoldDatum(node, buf, 0))
            for (const convert of decoders) expect(decodes(convert, buf)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('checks from an offset, as after a framing header', () => {
    const datum = samples[0]!;
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), datum]);
    expect(mayHoldDatum(node, framed, 5)).toBe(true);
    expect(mayHoldDatum(node, framed.subarray(0, -1), 5)).toBe(false);
  });

  it('gives up (says true) on a huge count of empty items, and on nesting deeper than the stack', () => {
    const nulls = parseSchema({ type: 'array', items: 'null' });
    // A block claiming 2^40 null items: walking it would take forever.
    const claim = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00]);
    const started = Date.now();
    expect(mayHoldDatum(nulls, claim, 0)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    const link = parseSchema(LINK);
    const depth = 500_000;
    const deep = Buffer.alloc(depth * 2 + 2);
    for (let k = 0; k < depth; k++) deep[k * 2 + 1] = 0x02; // v = 0, next = branch 1 (Link)
    expect(mayHoldDatum(link, deep, 0)).toBe(true);
  });
});
