import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  createCompiledConverter,
  createInterpretedConverter,
  generateSource,
  parseSchema,
} from '../../../lib/convert/index.ts';
import { ConvertError } from '../../../lib/errors/index.ts';

const SCHEMA = {
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
};
const type = avro.Type.forSchema(SCHEMA as avro.Schema);
const node = parseSchema(SCHEMA);
const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

describe('compiled converter output pool', () => {
  it('keeps every returned value intact while many records fill and replace the pool', () => {
    const compiled = createCompiledConverter(node, 'datetime');
    const interpreted = createInterpretedConverter(node, 'datetime');
    const inputs = Array.from({ length: 20_000 }, (_, i) =>
      type.toBuffer({
        id: i * 7_777_777,
        name: `row ${i} ${'x'.repeat(i % 200)}`,
        tags: ['a', `t${i}`],
      }),
    );
    const outputs = inputs.map((b) => compiled(b, 0).value);
    const total = outputs.reduce((n, b) => n + (b?.length ?? 0), 0);
    expect(total).toBeGreaterThan(3 * 1048576);
    // Checked only after all were converted: an earlier view overwritten would show here.
    inputs.forEach((b, i) => {
      expect(text(outputs[i])).toBe(text(interpreted(b, 0).value));
    });
  });

  it('converters of different schemas interleaved (one shared pool) keep their values intact', () => {
    const other = { type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] };
    const otherType = avro.Type.forSchema(other as avro.Schema);
    const a = createCompiledConverter(node, 'datetime');
    const b = createCompiledConverter(parseSchema(other), 'datetime');
    const outputs: { value: Buffer | undefined; expected: string }[] = [];
    for (let i = 0; i < 15_000; i++) {
      const row = { id: i, name: 'y'.repeat(i % 300), tags: [] };
      outputs.push({ value: a(type.toBuffer(row), 0).value, expected: JSON.stringify(row) });
      outputs.push({
        value: b(otherType.toBuffer({ n: -i }), 0).value,
        expected: JSON.stringify({ n: -i }),
      });
    }
    for (const { value, expected } of outputs) expect(text(value)).toBe(expected);
  });

  it('converts one datum larger than the pool (a 3 MiB string, an array of 200,000 items)', () => {
    const big = type.toBuffer({
      id: 1,
      name: 'é'.repeat(1_500_000),
      tags: Array.from({ length: 200_000 }, (_, i) => `tag-${i}`),
    });
    // Inline string code, and the string helper of records split into functions.
    for (const options of [{}, { maxFunctionSource: 1 }]) {
      const compiled = createCompiledConverter(node, 'datetime', options);
      const value = compiled(big, 0).value as Buffer;
      expect(value.length).toBeGreaterThan(4 * 1048576);
      expect(JSON.parse(value.toString('utf8'))).toEqual({
        id: 1,
        name: 'é'.repeat(1_500_000),
        tags: Array.from({ length: 200_000 }, (_, i) => `tag-${i}`),
      });
    }
  });

  it('a datum that fails leaves no trace in the values before and after it', () => {
    const compiled = createCompiledConverter(node, 'datetime');
    const first = compiled(type.toBuffer({ id: 1, name: 'first', tags: [] }), 0).value;
    const broken = type.toBuffer({ id: 2, name: 'broken', tags: ['lost'] });
    expect(() => compiled(broken.subarray(0, broken.length - 2), 0)).toThrow(ConvertError);
    const next = compiled(type.toBuffer({ id: 3, name: 'next', tags: ['x'] }), 0).value;
    expect(text(first)).toBe('{"id":1,"name":"first","tags":[]}');
    expect(text(next)).toBe('{"id":3,"name":"next","tags":["x"]}');
  });
});

describe('compiled converter at every position near the end of the pool', () => {
  /** Every kind of value, so every write site meets the end of the pool. */
  const RICH = {
    type: 'record',
    name: 'Rich',
    fields: [
      { name: 'name', type: 'string' },
      { name: 'n', type: 'int' },
      { name: 'big', type: 'long' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'day', type: { type: 'int', logicalType: 'date' } },
      { name: 'maybe', type: ['null', 'string'] },
      { name: 'ok', type: 'boolean' },
      { name: 'f', type: 'float' },
      { name: 'd', type: 'double' },
      { name: 'raw', type: 'bytes' },
      { name: 'md5', type: { type: 'fixed', name: 'MD5', size: 16 } },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['ALPHA', 'BETA'] } },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'attrs', type: { type: 'map', values: ['null', 'long'] } },
      {
        name: 'sub',
        type: { type: 'record', name: 'Sub', fields: [{ name: 'x', type: 'double' }] },
      },
      { name: 'text', type: 'string' },
    ],
  };
  const richType = avro.Type.forSchema(RICH as avro.Schema, { wrapUnions: true });
  const datum = richType.toBuffer({
    name: 'Company 7 Holdings',
    n: -123_456,
    big: 9_007_199_254,
    at: 1_700_000_123_456,
    day: 19_675,
    maybe: { string: 'here' },
    ok: true,
    f: 0.1,
    d: 1 / 3,
    raw: Buffer.from('bytes of 7'),
    md5: Buffer.alloc(16, 7),
    kind: 'BETA',
    tags: ['graph', 'séquence', 'x"y'],
    attrs: { a: { long: 1 }, b: null, ç: { long: -2 } },
    sub: { x: 2.5 },
    text: 'naïve "quoted" \\ line\nbreak',
  });
  const filler = { type: 'record', name: 'Filler', fields: [{ name: 's', type: 'string' }] };
  const fillerType = avro.Type.forSchema(filler as avro.Schema);
  const fill = createCompiledConverter(parseSchema(filler), 'datetime');
  /** Converts a filler of `size` output bytes (`{"s":"…"}`); returns the pool's bytes left after it. */
  const fillWith = (size: number): number => {
    const value = fill(fillerType.toBuffer({ s: 'x'.repeat(size - 8) }), 0).value as Buffer;
    expect(value.length).toBe(size);
    return value.buffer.byteLength - value.byteOffset - value.length;
  };
  /**
   * Fills the shared pool until exactly `left` bytes of it are left, for any `left` up to half
   * the pool less 8. A filler is at least 8 bytes, so when fewer than `left` + 8 are left, a
   * filler longer than the rest (and never shorter than 8) starts a new pool first.
   */
  const leave = (left: number): void => {
    let rest = fillWith(8);
    if (rest !== left && rest < left + 8) rest = fillWith(Math.max(rest + 1, 8));
    if (rest !== left) expect(fillWith(rest - left)).toBe(left);
  };

  it('writes the same bytes wherever the datum starts, split or not (a new pool when it does not fit)', () => {
    const expected = createInterpretedConverter(parseSchema(RICH), 'datetime')(datum, 0).value;
    const size = (expected as Buffer).length;
    for (const options of [{}, { maxFunctionSource: 1 }]) {
      const compiled = createCompiledConverter(parseSchema(RICH), 'datetime', options);
      // Room checks reserve more than is written: this datum still takes a new pool with 63
      // bytes more than its size left, so the sweep runs on 64 bytes past that.
      for (let left = 0; left <= size + 128; left++) {
        leave(left);
        const value = compiled(datum, 0).value as Buffer;
        expect(text(value)).toBe(text(expected));
        // Either it fit in what was left, or it went to the start of a new pool.
        expect(value.byteOffset === 0 || left >= size).toBe(true);
      }
    }
  });
});

describe('generated code', () => {
  it('inlines records used once and gives shared and recursive records a function', () => {
    const once = generateSource(parseSchema(SCHEMA), 'datetime').source;
    expect(once).not.toMatch(/function r0\(/);
    const shared = generateSource(
      parseSchema({
        type: 'record',
        name: 'Pair',
        fields: [
          { name: 'a', type: { type: 'record', name: 'P', fields: [{ name: 'x', type: 'int' }] } },
          { name: 'b', type: 'P' },
          { name: 'next', type: ['null', 'Pair'] },
        ],
      }),
      'datetime',
    ).source;
    expect(shared).toMatch(/function r0\(/);
    expect(shared).toMatch(/function r1\(/);
  });

  it('splits a very wide record into several functions and still writes the same bytes', () => {
    // 300 optional fields: the "first field written" flag crosses the function boundaries.
    const wide = {
      type: 'record',
      name: 'Wide',
      fields: Array.from({ length: 300 }, (_, i) => ({
        name: `f${i}`,
        type: i % 3 === 0 ? ['null', 'string'] : ['null', 'long'],
      })),
    };
    const wideNode = parseSchema(wide);
    const source = generateSource(wideNode, 'datetime').source;
    expect(source.match(/function g\d+\(/g)?.length).toBeGreaterThan(1);
    const compiled = createCompiledConverter(wideNode, 'datetime');
    const interpreted = createInterpretedConverter(wideNode, 'datetime');
    for (const present of [
      [],
      [0],
      [250],
      [7, 140, 299],
      Array.from({ length: 300 }, (_, i) => i),
    ]) {
      const value = Object.fromEntries(
        wide.fields.map((f, i) => [
          f.name,
          present.includes(i)
            ? i % 3 === 0
              ? { string: `v${i}` }
              : { long: i * 1_000_003 }
            : null,
        ]),
      );
      const bytes = avro.Type.forSchema(wide as avro.Schema, { wrapUnions: true }).toBuffer(value);
      expect(text(compiled(bytes, 0).value)).toBe(text(interpreted(bytes, 0).value));
    }
  });
});
