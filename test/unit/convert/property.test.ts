/* eslint-disable @typescript-eslint/no-confusing-void-expression -- check() returns the one assertion it makes for each Avro type */
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConvertError } from '../../../lib/errors/index.ts';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
} from '../../../lib/convert/index.ts';
import { underlying } from '../../helpers/avro.ts';

let names = 0;
const name = (): string => `T${names++}`;

/** Random Avro schemas, depth-limited; union branches of distinct kinds as the spec requires. */
const schemaArb: fc.Arbitrary<unknown> = fc.letrec<{ schema: unknown; leaf: unknown }>((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom('null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'),
    fc.constant({ type: 'int', logicalType: 'date' }),
    fc.constant({ type: 'long', logicalType: 'timestamp-millis' }),
    fc.constant({ type: 'int', logicalType: 'time-millis' }),
    fc.constant({ type: 'string', logicalType: 'uuid' }),
    fc.integer({ min: 1, max: 16 }).map((size) => ({ type: 'fixed', name: name(), size })),
    fc.constant(null).map(() => ({ type: 'enum', name: name(), symbols: ['A', 'B', 'C'] })),
    fc
      .constant(null)
      .map(() => ({ type: 'bytes', logicalType: 'decimal', precision: 30, scale: 3 })),
  ),
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('schema'), { minLength: 1, maxLength: 5 }).map((types) => ({
      type: 'record',
      name: name(),
      fields: types.map((type, i) => ({ name: `f${i}`, type })),
    })),
    tie('schema').map((items) => ({ type: 'array', items })),
    tie('schema').map((values) => ({ type: 'map', values })),
    fc.uniqueArray(fc.constantFrom('null', 'int', 'string', 'double', 'boolean'), {
      minLength: 1,
      maxLength: 4,
    }),
  ),
})).schema;

/** Checks converted JSON against avsc's decoded value, per the mapping (the reference reading). */
function check(node: unknown, value: unknown, json: unknown): void {
  const s = underlying(node);
  if (Array.isArray(node)) {
    if (value === null) return expect(json).toBeUndefined();
    const [branch, inner] = Object.entries(value as object)[0] as [string, unknown];
    const picked = (node as unknown[]).find(
      (b) => (typeof b === 'string' ? b : (b as { type: string }).type) === branch,
    );
    return check(picked, inner, json);
  }
  const type = typeof s === 'string' ? s : (s as { type: string }).type;
  const logical =
    typeof node === 'object' && node !== null
      ? (node as { logicalType?: string }).logicalType
      : undefined;
  switch (type) {
    case 'null':
      return expect(json).toBeUndefined();
    case 'record': {
      const fields = (node as { fields: { name: string; type: unknown }[] }).fields;
      for (const f of fields)
        check(
          f.type,
          (value as Record<string, unknown>)[f.name],
          (json as Record<string, unknown>)[f.name],
        );
      return expect(
        Object.keys(json as object).every((k) => fields.some((f) => f.name === k)),
      ).toBe(true);
    }
    case 'array':
      return (value as unknown[]).forEach((v, i) =>
        check(
          (node as { items: unknown }).items,
          v,
          (json as unknown[])[i] === null ? undefined : (json as unknown[])[i],
        ),
      );
    case 'map':
      return Object.entries(value as object).forEach(([k, v]) =>
        check((node as { values: unknown }).values, v, (json as Record<string, unknown>)[k]),
      );
    case 'float':
      return Number.isFinite(value)
        ? expect(Math.fround(json as number)).toBe(value)
        : expect(typeof json).toBe('string');
    case 'double':
      return Number.isFinite(value) ? expect(json).toBe(value) : expect(json).toBe(String(value));
    case 'bytes':
      if (logical === 'decimal') return expect(typeof json).toBe('number');
      return expect(json).toBe((value as Buffer).toString('base64'));
    case 'fixed':
      return expect(json).toBe((value as Buffer).toString('base64'));
    case 'int':
      if (logical === 'date')
        return expect(json).toBe(
          new Date((value as number) * 86_400_000).toISOString().slice(0, 10),
        );
      if (logical === 'time-millis') return expect(typeof json).toBe('string');
      return expect(json).toBe(value);
    case 'long':
      if (logical === 'timestamp-millis')
        return expect(json).toBe(
          new Date(value as number).toISOString().slice(0, 19).replace('T', ' '),
        );
      return expect(json).toBe(value);
    default:
      return expect(json).toBe(value);
  }
}

describe('converters on random schemas and values (property)', () => {
  it('compiled equals interpreted byte for byte, is valid JSON, and reads back as avsc decodes the value', () => {
    fc.assert(
      fc.property(schemaArb, fc.integer({ min: 0, max: 1000 }), (schema, seed) => {
        const type = avro.Type.forSchema(underlying(schema) as avro.Schema, { wrapUnions: true });
        const node = parseSchema(schema as object);
        const compiled = createCompiledConverter(node, 'datetime');
        const interpreted = createInterpretedConverter(node, 'datetime');
        for (let i = 0; i < 5 + (seed % 5); i++) {
          const value = type.random();
          const bytes = type.toBuffer(value);
          let a: ReturnType<typeof compiled> | ConvertError;
          let b: ReturnType<typeof compiled> | ConvertError;
          try {
            a = compiled(bytes, 0);
          } catch (error) {
            a = error as ConvertError;
          }
          try {
            b = interpreted(bytes, 0);
          } catch (error) {
            b = error as ConvertError;
          }
          if (a instanceof Error || b instanceof Error) {
            // Values a JSON DATETIME cannot hold (random dates far outside year 0-9999) are
            // record-level errors, the same in both converters.
            expect(a).toBeInstanceOf(ConvertError);
            expect((a as ConvertError).code).toBe((b as ConvertError).code);
            expect((a as ConvertError).code).toBe('CONVERT_VALUE_OUT_OF_RANGE');
            continue;
          }
          expect(a).toEqual(b);
          expect(a.end).toBe(bytes.length);
          check(
            schema,
            type.fromBuffer(bytes),
            a.value === undefined ? undefined : JSON.parse(a.value.toString('utf8')),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** More logical types than the reference reading knows, for the agreement property below. */
const logicalArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    { type: 'long', logicalType: 'timestamp-micros' },
    { type: 'long', logicalType: 'local-timestamp-millis' },
    { type: 'long', logicalType: 'local-timestamp-micros' },
    { type: 'long', logicalType: 'time-micros' },
  ),
  fc.constant(null).map(() => ({
    type: 'fixed',
    name: name(),
    size: 9,
    logicalType: 'decimal',
    precision: 20,
    scale: 2,
  })),
  fc.constant(null).map(() => ({ type: 'fixed', name: name(), size: 12, logicalType: 'duration' })),
);

/** A record used twice and a recursive record: the compiled converter calls functions for these. */
const SHARED_AND_RECURSIVE = {
  type: 'record',
  name: 'Root',
  fields: [
    {
      name: 'a',
      type: {
        type: 'record',
        name: 'Pair',
        fields: [
          { name: 'k', type: 'string' },
          { name: 'v', type: ['null', 'long'] },
        ],
      },
    },
    { name: 'b', type: { type: 'array', items: 'Pair' } },
    {
      name: 'tree',
      type: {
        type: 'record',
        name: 'Tree',
        fields: [
          { name: 'label', type: 'string' },
          { name: 'next', type: ['null', 'Tree'] },
        ],
      },
    },
  ],
};

/** Corrupts an encoding: cuts it short, overwrites a byte, or inserts one. */
const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(0, 1, 34, 92, 0x7f, 0x80, 0xc3, 0xff), fc.nat(255)),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(0, 1, 34, 92, 0x7f, 0x80, 0xc3, 0xff), fc.nat(255)),
  }),
);
function mutate(
  bytes: Buffer,
  m: { kind: 'cut' | 'set' | 'insert'; at: number; byte?: number },
): Buffer {
  const at = bytes.length === 0 ? 0 : m.at % (bytes.length + (m.kind === 'insert' ? 1 : 0));
  if (m.kind === 'cut') return bytes.subarray(0, at);
  if (m.kind === 'set') {
    const copy = Buffer.from(bytes);
    if (copy.length > 0) copy[at] = m.byte ?? 0;
    return copy;
  }
  return Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte ?? 0]), bytes.subarray(at)]);
}

type Outcome = { value: string | undefined; end: number } | { code: string; message: string };
function outcome(
  convert: (b: Buffer, start: number) => { value: Buffer | undefined; end: number },
  bytes: Buffer,
): Outcome {
  try {
    const r = convert(bytes, 0);
    return { value: r.value?.toString('hex'), end: r.end };
  } catch (error) {
    if (!(error instanceof ConvertError)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe('compiled and interpreted converters agree on every input (property)', () => {
  it('on valid, truncated and corrupted bytes, in every timestamp format, with shared, recursive and split records', () => {
    const anySchema = fc.oneof(
      schemaArb,
      logicalArb,
      fc.array(fc.oneof(schemaArb, logicalArb), { minLength: 1, maxLength: 6 }).map((types) => ({
        type: 'record',
        name: name(),
        fields: types.map((type, i) => ({ name: `f${i}`, type })),
      })),
      fc.constant(SHARED_AND_RECURSIVE),
    );
    fc.assert(
      fc.property(
        anySchema,
        fc.constantFrom('datetime' as const, 'iso8601' as const, 'epoch' as const),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (schema, ts, mutations) => {
          const type = avro.Type.forSchema(underlying(schema) as avro.Schema, { wrapUnions: true });
          const node = parseSchema(schema as object);
          const interpreted = createInterpretedConverter(node, ts);
          // Also compiled with every record's fields split into functions of their own.
          const compiledOnes = [
            createCompiledConverter(node, ts),
            createCompiledConverter(node, ts, { maxFunctionSource: 1 }),
          ];
          const agree = (bytes: Buffer): void => {
            const expected = outcome(interpreted, bytes);
            for (const compiled of compiledOnes) expect(outcome(compiled, bytes)).toEqual(expected);
          };
          const valid = type.toBuffer(type.random());
          agree(valid);
          // Truncations (every one, or 100 spread over a long encoding), then random damage.
          const step = Math.max(1, Math.floor(valid.length / 100));
          for (let cut = 0; cut < valid.length; cut += step) agree(valid.subarray(0, cut));
          let bytes = valid;
          for (const m of mutations) {
            bytes = mutate(bytes, m);
            agree(bytes);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('float and double read back exactly (property)', () => {
  it('every finite value, -0 included, parses back to the same number in both converters', () => {
    // Object.is equality (toBe) tells -0 from 0.
    const schema = {
      type: 'record',
      name: 'Numbers',
      fields: [
        { name: 'f', type: 'float' },
        { name: 'd', type: 'double' },
      ],
    };
    const node = parseSchema(schema);
    const converters = [
      createCompiledConverter(node, 'datetime'),
      createInterpretedConverter(node, 'datetime'),
    ];
    fc.assert(
      fc.property(
        fc.float({ noDefaultInfinity: true, noNaN: true }),
        fc.double({ noDefaultInfinity: true, noNaN: true }),
        fc.constantFrom(-0, 0),
        (f, d, zero) => {
          for (const [ff, dd] of [
            [f, d],
            [zero, zero],
          ] as const) {
            const bytes = Buffer.alloc(12);
            bytes.writeFloatLE(ff, 0);
            bytes.writeDoubleLE(dd, 4);
            for (const convert of converters) {
              const json = JSON.parse(convert(bytes, 0).value?.toString('utf8') ?? '') as {
                f: number;
                d: number;
              };
              // A float's text is the shortest that reads back through float32.
              expect(Math.fround(json.f)).toBe(Math.fround(ff));
              expect(json.d).toBe(dd);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
