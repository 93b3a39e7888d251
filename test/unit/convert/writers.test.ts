/**
 * The compiled converter writes numbers, timestamps, base64, enum symbols, strings and map keys
 * as bytes of its own (lib/convert/compiled-runtime.ts); each must give the interpreted
 * converter's text exactly, at the edges of every fast path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
  type TimestampFormat,
} from '../../../lib/convert/index.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import { bytes as avroBytes, long } from './avro-bytes.ts';

type Outcome = { text: string | undefined; end: number } | { code: string };

function outcome(
  convert: (b: Buffer, start: number) => { value: Buffer | undefined; end: number },
  input: Buffer,
): Outcome {
  try {
    const r = convert(input, 0);
    return { text: r.value?.toString('utf8'), end: r.end };
  } catch (error) {
    if (!(error instanceof ConvertError)) throw error;
    return { code: error.code };
  }
}

/**
 * Converts each input with the interpreted converter and with compiled ones (fields inline,
 * and every record split into functions, where strings go through a helper), expecting the
 * same text, end or error; returns the interpreted texts.
 */
function agree(
  schema: object,
  inputs: readonly Buffer[],
  ts: TimestampFormat = 'datetime',
): Outcome[] {
  const node = parseSchema(schema);
  const interpreted = createInterpretedConverter(node, ts);
  const compiled = [
    createCompiledConverter(node, ts),
    createCompiledConverter(node, ts, { maxFunctionSource: 1 }),
  ];
  return inputs.map((input) => {
    const expected = outcome(interpreted, input);
    for (const convert of compiled) expect(outcome(convert, input)).toEqual(expected);
    return expected;
  });
}

const record = (...types: unknown[]): object => ({
  type: 'record',
  name: 'R',
  fields: types.map((type, i) => ({ name: `f${i}`, type })),
});
/** Ten bytes after the value: varint reads then take the path that checks the end only once. */
const PADDING = Buffer.alloc(10);
const both = (value: Buffer): Buffer[] => [value, Buffer.concat([value, PADDING])];
const texts = (outcomes: Outcome[]): (string | undefined)[] =>
  outcomes.map((o) => ('text' in o ? o.text : o.code));

describe('compiled writers agree with the interpreted converter', () => {
  it('ints and longs at every digit count, the 32-bit and 2^53 edges, and the 64-bit extremes', () => {
    const values: bigint[] = [0n, 1n, -1n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, 2n ** 53n - 1n];
    values.push(2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 48n, -(2n ** 48n));
    for (let p = 1n; p < 10n ** 19n; p *= 10n) values.push(p - 1n, p, p + 1n, -p, 1n - p, 99n * p);
    const longs = values.filter((v) => v >= -(2n ** 63n) && v < 2n ** 63n);
    const out = agree(
      record('long'),
      longs.flatMap((v) => both(long(v))),
    );
    expect(texts(out)).toContain(`{"f0":-9223372036854775808}`);
    expect(texts(out)).toContain(`{"f0":9007199254740993}`);
    const ints = longs.filter((v) => v >= -(2n ** 31n) && v < 2n ** 31n);
    agree(
      record('int'),
      ints.flatMap((v) => both(long(v))),
    );
  });

  it('varints of every length, cut short at every byte, at the end of the data or before more', () => {
    const inputs: Buffer[] = [];
    for (let bits = 0; bits <= 64; bits += 3) {
      const v = bits === 64 ? 2n ** 63n - 1n : 2n ** BigInt(bits) - 1n;
      for (const value of [v, -v - 1n]) {
        const encoded = long(value);
        for (let cut = 0; cut <= encoded.length; cut++)
          inputs.push(...both(encoded.subarray(0, cut)));
      }
    }
    // Eleven bytes with the continuation bit: longer than a long may be.
    inputs.push(...both(Buffer.alloc(11, 0xff)));
    for (const type of ['int', 'long', { type: 'long', logicalType: 'timestamp-millis' }])
      for (const ts of ['datetime', 'epoch'] as const) agree(record(type, 'int'), inputs, ts);
  });

  it('random longs in every timestamp format (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 8 }),
        (vs) => {
          const types = [
            'long',
            ...['millis', 'micros'].map((u) => ({ type: 'long', logicalType: `timestamp-${u}` })),
          ];
          for (const ts of ['datetime', 'iso8601', 'epoch'] as const)
            for (const type of types)
              agree(
                record(type),
                vs.flatMap((v) => both(long(v))),
                ts,
              );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('timestamps: the same day again, day and year edges, other days in between, out of range', () => {
    const DAY = 86_400_000;
    const day = 19_675 * DAY;
    const ms = [day, day + 1, day + DAY - 1, day + 12 * 3_600_000 + 34 * 60_000 + 56_789, day - 1];
    ms.push(day + DAY, day, 0, -1, -DAY, -DAY - 1, 1, 951_782_400_000, 951_868_799_999);
    // Year 0 and 9999 (civil dates) and beyond them (Date's text), the largest a Date holds and
    // one past it (an error, also on a day met before).
    ms.push(-62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000);
    ms.push(8.64e15, 8.64e15 + 1, -8.64e15, -8.64e15 - 1, 8.64e15 - DAY, 8.64e15 - 1);
    const millis = agree(
      record({ type: 'long', logicalType: 'timestamp-millis' }),
      ms.flatMap((v) => both(long(v))),
    );
    expect(
      texts(millis)
        .filter((_, i) => i % 2 === 0)
        .slice(0, 5),
    ).toEqual([
      '{"f0":"2023-11-14 00:00:00"}',
      '{"f0":"2023-11-14 00:00:00"}',
      '{"f0":"2023-11-14 23:59:59"}',
      '{"f0":"2023-11-14 12:34:56"}',
      '{"f0":"2023-11-13 23:59:59"}',
    ]);
    expect(texts(millis)).toContain('CONVERT_VALUE_OUT_OF_RANGE');
    for (const logicalType of [
      'timestamp-micros',
      'local-timestamp-micros',
      'local-timestamp-millis',
    ])
      agree(
        record({ type: 'long', logicalType }, 'string'),
        ms.flatMap((v) =>
          [1n, 1000n, 999n].map((k) => Buffer.concat([long(BigInt(v) * k), avroBytes('x')])),
        ),
      );
  });

  it('doubles and floats: short decimals, their neighbours, integers, the edges of plain notation', () => {
    const values = [0, -0, NaN, Infinity, -Infinity, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, 1.5];
    values.push(1e-6, 9.99999e-7, 1.000001e-6, 1e-7, 999_999_999.5, 1e9, 1e15, 1e21, 1e22);
    values.push(2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 24 + 2);
    // 33554448 as a float reads back from 33554450, the float's text, not the double's.
    values.push(
      16_777_216,
      16_777_217,
      33_554_448,
      67_108_872,
      5e-324,
      1.7976931348623157e308,
      123_456_789.123_456,
    );
    values.push(0.000_001_234_567, 99_999.95, 12.345_678_901_234_5, 37.774_929_5, -122.419_415_5);
    // Floats with few decimals where a float's spacing is wide: 2^21 + 0.25 reads back from
    // 2097152.2 already, so the double's text ("2097152.25") is not the float's.
    values.push(
      2_097_152.25,
      4_194_303.75,
      1_048_576.125,
      8_388_607.5,
      524_288.0625,
      131_072.015625,
    );
    for (let i = 0; i < 400; i++) values.push(i / 4, i / 3, i / 100, i * 0.1, -i / 7, i * 1e-7);
    const input = (d: number): Buffer => {
      const b = Buffer.alloc(12);
      b.writeFloatLE(d, 0);
      b.writeDoubleLE(d, 4);
      return b;
    };
    const withNeighbours = values.flatMap((v) => {
      const b = input(v);
      const up = Buffer.from(b);
      up.writeUInt32LE((up.readUInt32LE(0) + 1) >>> 0, 0);
      up.writeBigUInt64LE(BigInt.asUintN(64, up.readBigUInt64LE(4) + 1n), 4);
      return [b, up];
    });
    const out = agree(record('float', 'double'), withNeighbours);
    expect(texts(out)).toContain('{"f0":0.1,"f1":0.1}');
    expect(texts(out)).toContain('{"f0":-0,"f1":-0}');
    expect(texts(out)).toContain('{"f0":"NaN","f1":"NaN"}');
  });

  it('random doubles and floats from their bits (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.nat({ max: 0xffffffff }),
        (d, f) => {
          const b = Buffer.alloc(12);
          b.writeUInt32LE(f, 0);
          b.writeBigUInt64LE(d, 4);
          agree(record('float', 'double'), [b]);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('bytes and fixed as base64, for every length up to past the native encoder threshold', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) % 256));
    const inputs = Array.from({ length: 301 }, (_, n) => avroBytes(data.subarray(0, n)));
    const out = agree(record('bytes'), inputs);
    expect(texts(out)[0]).toBe('{"f0":""}');
    expect(texts(out)[4]).toBe(`{"f0":"${data.subarray(0, 4).toString('base64')}"}`);
    for (const size of [0, 1, 2, 3, 4, 16, 255, 256, 257])
      agree({ type: 'fixed', name: `F${size}`, size }, [
        data.subarray(0, size),
        data.subarray(0, size - 1),
      ]);
  });

  it('enum symbols, in a switch (few symbols) and from a table (many), and numbers past the last', () => {
    for (const count of [1, 3, 16, 17, 40]) {
      const symbols = Array.from({ length: count }, (_, i) => `S_${i}`);
      const schema = record({ type: 'enum', name: 'E', symbols });
      const out = agree(
        schema,
        [0, 1, count - 1, count, count + 5, -1].map((i) => long(i)),
      );
      expect(texts(out)[0]).toBe('{"f0":"S_0"}');
      expect(texts(out)[3]).toBe('CONVERT_AVRO_INVALID');
    }
  });

  it('strings of every length to 13 with a character JSON escapes (or non-ASCII) at every place', () => {
    const inputs: Buffer[] = [];
    for (let length = 0; length <= 13; length++)
      for (let at = -1; at < length; at++)
        for (const special of ['"', '\\', '\n', '\u001f', '\u007f', ' ', '~', 'é', '\ud800']) {
          const chars = Array.from({ length }, (_, i) => String.fromCharCode(97 + (i % 26)));
          if (at >= 0) chars[at] = special;
          inputs.push(avroBytes(chars.join('')));
        }
    const out = agree(record('string'), inputs);
    expect(texts(out)).toContain('{"f0":"ab\\"defg"}');
    expect(texts(out)).toContain('{"f0":"abcd\\nf"}');
  });

  it('strings and map keys: printable ASCII, escapes, control characters, non-ASCII, broken UTF-8', () => {
    const samples: (string | Buffer)[] = [
      '',
      'a',
      'plain text',
      'quote " here',
      'back\\slash',
      'line\nbreak',
    ];
    samples.push(
      'tab\t',
      '\u0000\u001f\u007f',
      'é',
      'naïve café',
      '日本語',
      '😀',
      '\u2028\u2029',
      'a'.repeat(500),
    );
    samples.push(
      Buffer.from([0xff]),
      Buffer.from([0x61, 0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0x80, 0x61]),
    );
    const strings = samples.map((s) => avroBytes(s));
    agree(
      record('string', 'string'),
      strings.flatMap((s) => [Buffer.concat([s, s])]),
    );
    // A map with a nullable value: a null entry leaves out its key as well.
    const map = record({ type: 'map', values: ['null', 'string', 'long'] });
    const entries = strings.map((key, i) =>
      Buffer.concat([
        key,
        long(i % 3),
        ...(i % 3 === 1 ? [avroBytes('v')] : i % 3 === 2 ? [long(i)] : []),
      ]),
    );
    const out = agree(map, [Buffer.concat([long(entries.length), ...entries, long(0)])]);
    const read = JSON.parse(texts(out)[0] ?? '') as { f0: Record<string, unknown> };
    expect(read.f0).toMatchObject({
      a: 'v',
      'plain text': 2,
      'back\\slash': 'v',
      'line\nbreak': 5,
    });
    expect(Object.keys(read.f0)).not.toContain('quote " here');
    agree(record({ type: 'map', values: 'string' }), [
      Buffer.concat([
        long(-2),
        long(9),
        avroBytes('é'),
        avroBytes('x'),
        avroBytes('k'),
        avroBytes('\n'),
        long(0),
      ]),
    ]);
  });
});
