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
      return Number.isFinite(value)
        ? expect(json).toBe(Object.is(value, -0) ? 0 : value)
        : expect(json).toBe(String(value));
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
