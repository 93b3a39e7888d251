import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDate,
  formatDouble,
  formatFloat,
  formatTimestamp,
} from '../../../lib/convert/format.ts';

/** The definition formatFloat keeps: the first precision whose text reads back as the float. */
function searchFloat(x: number): string {
  if (!Number.isFinite(x) || x === 0) return formatDouble(x);
  for (let p = 1; p < 10; p++) {
    const text = x.toPrecision(p);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(x);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The float with these 32 bits. */
const fromBits = (bits: number): number => {
  u32[0] = bits;
  return f32[0] as number;
};
/** The float `steps` floats away from x (in bit order). */
const neighbour = (x: number, steps: number): number => {
  f32[0] = x;
  u32[0] = ((u32[0] as number) + steps) >>> 0;
  return f32[0];
};

describe('formatFloat', () => {
  it('gives the text of the precision search on every kind of float (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const x = fromBits(bits);
        expect(formatFloat(x)).toBe(searchFloat(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives the text of the search on short decimals and their neighbours, at every magnitude (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9_999_999 }),
        fc.integer({ min: -46, max: 38 }),
        fc.boolean(),
        fc.integer({ min: -2, max: 2 }),
        (mantissa, exponent, negative, steps) => {
          const x = neighbour(
            Math.fround(Number(`${negative ? '-' : ''}${mantissa}e${exponent}`)),
            steps,
          );
          expect(formatFloat(x)).toBe(searchFloat(x));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the search at the edges of its fast paths', () => {
    const edges = [
      16_777_215,
      16_777_216,
      16_777_217,
      16_777_218,
      33_554_430,
      1e-37,
      9.99999e-38,
      1.17549435e-38,
      1.1754942e-38,
      1e-45,
      1e38,
      9.99999e37,
      1.00001e38,
      3.4028235e38,
      0.1,
      0.3,
      1 / 3,
      123456,
      1234567,
      0.000123456,
      999999,
      1000001,
    ];
    for (const edge of edges)
      for (const steps of [-1, 0, 1])
        for (const sign of [1, -1]) {
          const x = neighbour(Math.fround(sign * edge), steps);
          expect(formatFloat(x)).toBe(searchFloat(x));
        }
    for (let i = 0; i < 5000; i++) {
      const x = Math.fround(16_777_216 - i);
      expect(formatFloat(x)).toBe(searchFloat(x));
      expect(formatFloat(Math.fround(i / 4))).toBe(searchFloat(Math.fround(i / 4)));
    }
    for (const x of [0, -0, NaN, Infinity, -Infinity]) expect(formatFloat(x)).toBe(searchFloat(x));
  });
});

describe('dates and timestamps at the ends of the years a DATETIME holds', () => {
  const YEAR_10000 = Date.UTC(10000, 0, 1);
  const YEAR_MINUS_1 = Date.UTC(-1, 11, 31, 23, 59);

  it('writes year 9999 and year 0 as DESIGN section 3 says ("YYYY-MM-DD HH:MM:SS")', () => {
    expect(formatTimestamp(YEAR_10000 - 1000, false, 'datetime')).toBe('"9999-12-31 23:59:59"');
    expect(formatTimestamp(Date.parse('0000-01-01T00:00:00Z'), false, 'datetime')).toBe(
      '"0000-01-01 00:00:00"',
    );
    expect(formatDate(YEAR_10000 / 86_400_000 - 1)).toBe('"9999-12-31"');
  });

  it('refuses a year after 9999 or before 0 with CONVERT_VALUE_OUT_OF_RANGE, never malformed text', () => {
    for (const write of [
      () => formatTimestamp(YEAR_10000, false, 'datetime'),
      () => formatTimestamp(YEAR_10000 * 1000, true, 'iso8601'),
      () => formatTimestamp(YEAR_MINUS_1, false, 'datetime'),
      () => formatDate(YEAR_10000 / 86_400_000),
    ])
      expect(write).toThrow(expect.objectContaining({ code: 'CONVERT_VALUE_OUT_OF_RANGE' }));
  });
});
