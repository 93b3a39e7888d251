/**
 * Hostile block counts (issue 9, item 6): every count is bounded by the bytes left, and items
 * that take no bytes by MAX_EMPTY_ITEMS per value, in both converters and the container
 * reader. These inputs used to loop until the Lambda timed out or ran out of heap; a hang here
 * fails on vitest's timeout, so the tests only assert the coded error.
 */
import { describe, expect, it } from 'vitest';
import {
  createSchemaFreeAvroConverter,
  type AvroConverterOptions,
} from '../../../lib/convert/avro.ts';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
  type DatumConverter,
  type TimestampFormat,
} from '../../../lib/convert/index.ts';
import { MAX_EMPTY_ITEMS, createItemBudget, isEmptyType } from '../../../lib/convert/limits.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import { containerFile, long } from './avro-bytes.ts';

const compilers: [string, AvroConverterOptions['compile']][] = [
  ['compiled', (s: string, ts: TimestampFormat) => createCompiledConverter(parseSchema(s), ts)],
  [
    'interpreted',
    (s: string, ts: TimestampFormat) => createInterpretedConverter(parseSchema(s), ts),
  ],
];
const schemaFree = (
  compile: AvroConverterOptions['compile'],
  schemas: string[] = [],
  reader?: string,
) =>
  createSchemaFreeAvroConverter(schemas, {
    timestampFormat: 'datetime',
    compile,
    readerSchema: reader,
  });

/** The error a conversion rejects with (it must be one: a record-level, non-retriable ConvertError). */
async function failure(run: () => Promise<unknown>): Promise<ConvertError> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConvertError);
  expect((caught as ConvertError).retriable).toBe(false);
  return caught as ConvertError;
}

const EMPTY_RECORD = '{"type":"record","name":"E","fields":[]}';
const NONE = Buffer.alloc(0);

describe.each(compilers)('hostile container record counts (%s converter)', (_, compile) => {
  it('the 61-byte message: schema null, a block claiming 10^10 records of no bytes', async () => {
    const message = containerFile('null', [{ count: 10_000_000_000, data: NONE }]);
    expect(message.length).toBe(61);
    const error = await failure(() => schemaFree(compile)(message));
    expect(error.code).toBe('CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY');
    expect(error.message).toContain(`at most ${MAX_EMPTY_ITEMS}`);
    expect(error.message).toContain('MAX_EMPTY_ITEMS');
  });

  it('schema "null" with a block claiming 10^11 records, and a negative count', async () => {
    const message = containerFile('"null"', [{ count: 100_000_000_000, data: NONE }]);
    expect((await failure(() => schemaFree(compile)(message))).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
    const negative = containerFile('"null"', [{ count: -5, data: NONE }]);
    expect((await failure(() => schemaFree(compile)(negative))).code).toBe(
      'CONVERT_CONTAINER_INVALID',
    );
  });

  it('the 96-byte message: an empty record, a block claiming 10^8 records', async () => {
    const message = containerFile(EMPTY_RECORD, [{ count: 100_000_000, data: NONE }]);
    expect(message.length).toBe(96);
    expect((await failure(() => schemaFree(compile)(message))).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
  });

  it('empty records up to the bound convert; the bound is per value, across blocks', async () => {
    const three = containerFile(EMPTY_RECORD, [{ count: 3, data: NONE }]);
    expect((await schemaFree(compile)(three)).map(String)).toEqual(['{}', '{}', '{}']);
    const atBound = containerFile('"null"', [{ count: MAX_EMPTY_ITEMS, data: NONE }]);
    expect(await schemaFree(compile)(atBound)).toEqual([]);
    const half = MAX_EMPTY_ITEMS / 2;
    const split = containerFile('"null"', [
      { count: half, data: NONE },
      { count: half + 1, data: NONE },
    ]);
    expect((await failure(() => schemaFree(compile)(split))).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
  });

  it('records that take bytes: a count beyond the block bytes is CONVERT_AVRO_BLOCK_COUNT_INVALID', async () => {
    const message = containerFile('"int"', [{ count: 1_000_000_000, data: long(7) }]);
    const error = await failure(() => schemaFree(compile)(message));
    expect(error.code).toBe('CONVERT_AVRO_BLOCK_COUNT_INVALID');
    expect(error.message).toBe(
      'An Avro block claims 1000000000 records but only 1 byte(s) are left; each takes at least one byte, so the count must be at most the bytes left',
    );
    const honest = containerFile('"int"', [{ count: 2, data: Buffer.concat([long(7), long(-8)]) }]);
    expect((await schemaFree(compile)(honest)).map(String)).toEqual(['7', '-8']);
  });

  it('records holding arrays of nulls share the one budget of their container value', async () => {
    const schema = '{"type":"array","items":"null"}';
    const nulls = (n: number) => Buffer.concat([long(n), long(0)]);
    const half = MAX_EMPTY_ITEMS / 2;
    const ok = containerFile(schema, [
      { count: 2, data: Buffer.concat([nulls(half), nulls(half)]) },
    ]);
    const lines = await schemaFree(compile)(ok);
    expect(lines).toHaveLength(2);
    const over = containerFile(schema, [
      { count: 1, data: nulls(half) },
      { count: 1, data: nulls(half + 1) },
    ]);
    expect((await failure(() => schemaFree(compile)(over))).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
  });
});

/** One datum with both converters; each must throw the same coded error. */
function bothFail(schema: unknown, datum: Buffer): ConvertError {
  const node = parseSchema(schema as object);
  const errors = [
    createCompiledConverter(node, 'datetime'),
    createInterpretedConverter(node, 'datetime'),
  ].map((convert: DatumConverter) => {
    try {
      convert(datum, 0);
    } catch (error) {
      return error;
    }
    return undefined;
  });
  expect(errors[0]).toBeInstanceOf(ConvertError);
  expect(errors[1]).toEqual(errors[0]);
  return errors[0] as ConvertError;
}

describe('hostile array and map counts in one datum (both converters)', () => {
  const HUGE = 100_000_000_000;

  it.each([
    ['null', 'null'],
    ['an empty record', { type: 'record', name: 'E', fields: [] }],
    ['a record of nulls', { type: 'record', name: 'N', fields: [{ name: 'a', type: 'null' }] }],
    ['a zero-size fixed', { type: 'fixed', name: 'Z', size: 0 }],
  ])('an array of %s claiming 10^11 items: CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY', (_, items) => {
    const error = bothFail({ type: 'array', items }, Buffer.concat([long(HUGE), long(0)]));
    expect(error.code).toBe('CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY');
  });

  it('a negative count (with a byte size) is checked the same way', () => {
    const datum = Buffer.concat([long(-HUGE), long(0), long(0)]);
    expect(bothFail({ type: 'array', items: 'null' }, datum).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
  });

  it('empty items count across blocks and nested arrays of one datum, not per block', () => {
    // Before: up to MAX_EMPTY_ITEMS per block, so each few-byte inner array could add a million.
    const inner = Buffer.concat([long(MAX_EMPTY_ITEMS / 2 + 1), long(0)]);
    const datum = Buffer.concat([long(2), inner, inner, long(0)]);
    expect(bothFail({ type: 'array', items: { type: 'array', items: 'null' } }, datum).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
    const blocks = Buffer.concat([long(MAX_EMPTY_ITEMS), long(1), long(0)]);
    expect(bothFail({ type: 'array', items: 'null' }, blocks).code).toBe(
      'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    );
  });

  it.each([
    ['an array of ints', { type: 'array', items: 'int' }, 'items'],
    ['an array of arrays', { type: 'array', items: { type: 'array', items: 'null' } }, 'items'],
    ['a map of nulls (a key takes a byte)', { type: 'map', values: 'null' }, 'entries'],
  ])('%s claiming 10^11: CONVERT_AVRO_BLOCK_COUNT_INVALID', (_, schema, what) => {
    const error = bothFail(schema, Buffer.concat([long(HUGE), long(0), long(0)]));
    expect(error.code).toBe('CONVERT_AVRO_BLOCK_COUNT_INVALID');
    expect(error.message).toContain(`claims ${HUGE} ${what} but only 2 byte(s) are left`);
  });

  it('a budget passed in is spent across datums; without one each datum has its own', () => {
    const node = parseSchema({ type: 'array', items: 'null' });
    const datum = Buffer.concat([long(MAX_EMPTY_ITEMS / 2 + 1), long(0)]);
    for (const convert of [
      createCompiledConverter(node, 'datetime'),
      createInterpretedConverter(node, 'datetime'),
    ]) {
      expect(convert(datum, 0).end).toBe(datum.length);
      expect(convert(datum, 0).end).toBe(datum.length);
      const budget = createItemBudget();
      convert(datum, 0, budget);
      expect(budget.left).toBe(MAX_EMPTY_ITEMS / 2 - 1);
      expect(() => convert(datum, 0, budget)).toThrow(
        expect.objectContaining({ code: 'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY' }) as Error,
      );
    }
  });

  it('isEmptyType tells empty types, and survives a record that holds only itself', () => {
    const self = parseSchema({ type: 'record', name: 'R', fields: [{ name: 'r', type: 'R' }] });
    expect(isEmptyType(self)).toBe(false);
    expect(() =>
      createCompiledConverter(
        parseSchema({
          type: 'array',
          items: { type: 'record', name: 'S', fields: [{ name: 's', type: 'S' }] },
        }),
        'datetime',
      ),
    ).not.toThrow();
    expect(isEmptyType(parseSchema({ type: 'record', name: 'E', fields: [] }))).toBe(true);
    expect(isEmptyType(parseSchema(['null']))).toBe(false); // a union index takes a byte
    expect(isEmptyType(parseSchema({ type: 'fixed', name: 'F', size: 1 }))).toBe(false);
  });
});

describe.each(compilers)('hostile counts under a reader schema (%s converter)', (_, compile) => {
  // avsc's decoder believes counts; the writer's converter checks the datum before it runs.
  const writer = JSON.stringify({
    type: 'record',
    name: 'W',
    fields: [
      { name: 'a', type: { type: 'array', items: 'null' } },
      { name: 'm', type: { type: 'map', values: 'int' } },
    ],
  });
  const reader = JSON.stringify({
    type: 'record',
    name: 'W',
    fields: [
      { name: 'a', type: { type: 'array', items: 'null' } },
      { name: 'm', type: { type: 'map', values: 'int' } },
      { name: 'added', type: 'int', default: 5 },
    ],
  });

  it('resolves honest data, and rejects hostile counts with a coded error', async () => {
    const convert = schemaFree(compile, [writer], reader);
    const honest = Buffer.concat([
      long(2),
      long(0),
      long(1),
      Buffer.from([2, 0x61]),
      long(3),
      long(0),
    ]);
    expect((await convert(honest)).map(String)).toEqual([
      '{"a":[null,null],"m":{"a":3},"added":5}',
    ]);
    const nulls = Buffer.concat([long(100_000_000_000), long(0), long(0)]);
    expect((await failure(() => convert(nulls))).code).toBe('CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY');
    // (An array of one null first: a value starting 0x00 would be tried as Confluent framing.)
    const entries = Buffer.concat([long(1), long(0), long(100_000_000_000), long(0)]);
    expect((await failure(() => convert(entries))).code).toBe('CONVERT_AVRO_BLOCK_COUNT_INVALID');
  });
});
