import { describe, expect, it } from 'vitest';
import { convertBoth, encode, field } from '../../helpers/avro.ts';

const dec = (unscaled: bigint, bytes: number): Buffer => {
  const b = Buffer.alloc(bytes);
  let v = unscaled < 0n ? (1n << BigInt(bytes * 8)) + unscaled : unscaled;
  for (let i = bytes - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
};

describe('Avro → TigerGraph JSON (DESIGN.md section 3), every row', () => {
  it('record: an object, fields in schema order, nested records stay nested', () => {
    const schema = {
      type: 'record',
      name: 'Company',
      fields: [
        { name: 'name', type: 'string' },
        {
          name: 'hq',
          type: {
            type: 'record',
            name: 'Place',
            fields: [
              { name: 'city', type: 'string' },
              { name: 'zip', type: 'int' },
            ],
          },
        },
        { name: 'employees', type: 'int' },
      ],
    };
    expect(
      convertBoth(
        schema,
        encode(schema, {
          name: 'TigerGraph',
          hq: { city: 'Redwood City', zip: 94065 },
          employees: 346,
        }),
      ),
    ).toBe('{"name":"TigerGraph","hq":{"city":"Redwood City","zip":94065},"employees":346}');
  });

  it('null, or a union branch that is null: the field is omitted', () => {
    const schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'null' },
        { name: 'b', type: ['null', 'string'] },
        { name: 'c', type: 'int' },
        { name: 'd', type: ['null', 'int'] },
      ],
    };
    expect(convertBoth(schema, encode(schema, { a: null, b: null, c: 1, d: null }))).toBe(
      '{"c":1}',
    );
    expect(
      convertBoth(schema, encode(schema, { a: null, b: { string: 'x' }, c: 1, d: { int: 2 } })),
    ).toBe('{"b":"x","c":1,"d":2}');
  });

  it('union: the branch value unwrapped, for every branch of a union of several', () => {
    const type = [
      'null',
      'string',
      'long',
      { type: 'record', name: 'P', fields: [{ name: 'x', type: 'int' }] },
      { type: 'array', items: 'int' },
    ];
    expect(field(type, { string: 's' })).toBe('{"f":"s"}');
    expect(field(type, { long: 5n })).toBe('{"f":5}');
    expect(field(type, { P: { x: 1 } })).toBe('{"f":{"x":1}}');
    expect(field(type, { array: [1, 2] })).toBe('{"f":[1,2]}');
    expect(field(type, null)).toBe('{}');
  });

  it('boolean, string (JSON-escaped), enum symbol', () => {
    expect(field('boolean', true)).toBe('{"f":true}');
    expect(field('boolean', false)).toBe('{"f":false}');
    expect(field('string', 'tab\there "quoted" \\ é 日本 \u0001\n')).toBe(
      `{"f":${JSON.stringify('tab\there "quoted" \\ é 日本 \u0001\n')}}`,
    );
    expect(field({ type: 'enum', name: 'Size', symbols: ['SMALL', 'LARGE'] }, 'LARGE')).toBe(
      '{"f":"LARGE"}',
    );
  });

  it('int and long: every digit exact, also beyond 2^53', () => {
    expect(field('int', -2147483648)).toBe('{"f":-2147483648}');
    expect(field('int', 2147483647)).toBe('{"f":2147483647}');
    expect(field('long', 9007199254740993n)).toBe('{"f":9007199254740993}');
    expect(field('long', -9223372036854775808n)).toBe('{"f":-9223372036854775808}');
    expect(field('long', 9223372036854775807n)).toBe('{"f":9223372036854775807}');
    expect(field('long', 0n)).toBe('{"f":0}');
    expect(field('long', -1n)).toBe('{"f":-1}');
  });

  it('float and double: shortest round-trip number (-0 keeps its sign); NaN and infinities as strings', () => {
    expect(field('float', Math.fround(0.1))).toBe('{"f":0.1}');
    expect(field('float', Math.fround(3.4028234663852886e38))).toBe('{"f":3.4028235e+38}');
    expect(field('double', 0.1)).toBe('{"f":0.1}');
    expect(field('double', 1e21)).toBe('{"f":1e+21}');
    expect(field('double', -0)).toBe('{"f":-0}');
    expect(field('float', -0)).toBe('{"f":-0}');
    expect(field('double', 0)).toBe('{"f":0}');
    expect(field('float', 0)).toBe('{"f":0}');
    expect(Object.is((JSON.parse(field('double', -0) ?? '') as { f: number }).f, -0)).toBe(true);
    expect(field({ type: 'array', items: 'double' }, [-0, 0, -0.5])).toBe('{"f":[-0,0,-0.5]}');
    expect(field('double', NaN)).toBe('{"f":"NaN"}');
    expect(field('float', Infinity)).toBe('{"f":"Infinity"}');
    expect(field('double', -Infinity)).toBe('{"f":"-Infinity"}');
  });

  it('bytes and fixed: base64', () => {
    expect(field('bytes', Buffer.from([0, 255, 16]))).toBe('{"f":"AP8Q"}');
    expect(field({ type: 'fixed', name: 'F', size: 4 }, Buffer.from('abcd'))).toBe(
      '{"f":"YWJjZA=="}',
    );
  });

  it('array and map: array and object (a null map value is omitted, a null item kept)', () => {
    expect(field({ type: 'array', items: ['null', 'int'] }, [{ int: 1 }, null, { int: 3 }])).toBe(
      '{"f":[1,null,3]}',
    );
    expect(
      field(
        { type: 'map', values: ['null', 'string'] },
        { b: { string: 'x' }, a: null, '2': { string: 'y' } },
      ),
    ).toMatch(/^\{"f":\{("b":"x","2":"y"|"2":"y","b":"x")\}\}$/);
    expect(field({ type: 'array', items: { type: 'map', values: 'long' } }, [{ k: 1n }, {}])).toBe(
      '{"f":[{"k":1},{}]}',
    );
  });

  it('decimal (bytes or fixed): a JSON number with the exact digits and scale', () => {
    const bytesDecimal = { type: 'bytes', logicalType: 'decimal', precision: 40, scale: 2 };
    expect(field(bytesDecimal, dec(1230n, 2))).toBe('{"f":12.30}');
    expect(field(bytesDecimal, dec(-5n, 1))).toBe('{"f":-0.05}');
    expect(field(bytesDecimal, dec(123456789012345678901234567890123n, 14))).toBe(
      '{"f":1234567890123456789012345678901.23}',
    );
    expect(
      field(
        { type: 'fixed', name: 'D', size: 8, logicalType: 'decimal', precision: 18, scale: 4 },
        dec(-12345678n, 8),
      ),
    ).toBe('{"f":-1234.5678}');
    expect(
      field({ type: 'bytes', logicalType: 'decimal', precision: 5, scale: 0 }, dec(42n, 1)),
    ).toBe('{"f":42}');
  });

  it('date, time-millis, time-micros', () => {
    expect(field({ type: 'int', logicalType: 'date' }, 19_723)).toBe('{"f":"2024-01-01"}');
    expect(field({ type: 'int', logicalType: 'date' }, -1)).toBe('{"f":"1969-12-31"}');
    expect(field({ type: 'int', logicalType: 'time-millis' }, 45_296_789)).toBe(
      '{"f":"12:34:56.789"}',
    );
    expect(field({ type: 'long', logicalType: 'time-micros' }, 45_296_789_012n)).toBe(
      '{"f":"12:34:56.789012"}',
    );
  });

  it('timestamps: TigerGraph DATETIME in UTC by default, iso8601 or epoch on request', () => {
    const millis = { type: 'long', logicalType: 'timestamp-millis' };
    const micros = { type: 'long', logicalType: 'timestamp-micros' };
    expect(field(millis, 1_700_000_000_123n)).toBe('{"f":"2023-11-14 22:13:20"}');
    expect(field(micros, 1_700_000_000_123_456n)).toBe('{"f":"2023-11-14 22:13:20"}');
    expect(field({ type: 'long', logicalType: 'local-timestamp-millis' }, 0n)).toBe(
      '{"f":"1970-01-01 00:00:00"}',
    );
    expect(field({ type: 'long', logicalType: 'local-timestamp-micros' }, -1n)).toBe(
      '{"f":"1969-12-31 23:59:59"}',
    );
    expect(field(millis, 1_700_000_000_123n, 'iso8601')).toBe('{"f":"2023-11-14T22:13:20.123Z"}');
    expect(field(micros, 1_700_000_000_123_456n, 'iso8601')).toBe(
      '{"f":"2023-11-14T22:13:20.123456Z"}',
    );
    expect(field(micros, 1_700_000_000_123_456n, 'epoch')).toBe('{"f":1700000000123456}');
    expect(field(millis, 1_700_000_000_123n, 'epoch')).toBe('{"f":1700000000123}');
  });

  it('uuid: the string; duration: months, days, milliseconds', () => {
    expect(
      field({ type: 'string', logicalType: 'uuid' }, '123e4567-e89b-12d3-a456-426614174000'),
    ).toBe('{"f":"123e4567-e89b-12d3-a456-426614174000"}');
    const d = Buffer.alloc(12);
    d.writeUInt32LE(3, 0);
    d.writeUInt32LE(14, 4);
    d.writeUInt32LE(86_399_999, 8);
    expect(field({ type: 'fixed', name: 'Dur', size: 12, logicalType: 'duration' }, d)).toBe(
      '{"f":{"months":3,"days":14,"milliseconds":86399999}}',
    );
  });

  it('ignores an invalid logical type and uses the underlying type, as the Avro spec says', () => {
    expect(field({ type: 'string', logicalType: 'date' }, 'x')).toBe('{"f":"x"}');
    expect(
      field({ type: 'bytes', logicalType: 'decimal', precision: 2, scale: 5 }, Buffer.from([1])),
    ).toBe('{"f":"AQ=="}');
  });

  it('recursive records and named-type references in namespaces', () => {
    const schema = {
      type: 'record',
      name: 'Node',
      namespace: 'g',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'next', type: ['null', 'Node'] },
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
        { name: 'other', type: 'g.Kind' },
      ],
    };
    const value = {
      id: 1n,
      next: { 'g.Node': { id: 2n, next: null, kind: 'B', other: 'A' } },
      kind: 'A',
      other: 'B',
    };
    expect(convertBoth(schema, encode(schema, value))).toBe(
      '{"id":1,"next":{"id":2,"kind":"B","other":"A"},"kind":"A","other":"B"}',
    );
  });

  it('a date or timestamp beyond what a DATETIME holds is a record-level error in both converters', () => {
    expect(() => field({ type: 'int', logicalType: 'date' }, 2_000_000_000)).toThrow(
      expect.objectContaining({ code: 'CONVERT_VALUE_OUT_OF_RANGE' }),
    );
    expect(() =>
      field({ type: 'long', logicalType: 'timestamp-millis' }, 9_000_000_000_000_000n),
    ).toThrow(expect.objectContaining({ code: 'CONVERT_VALUE_OUT_OF_RANGE' }));
  });

  it('a top-level null gives no line', () => {
    expect(convertBoth('null', Buffer.alloc(0))).toBeUndefined();
  });
});
