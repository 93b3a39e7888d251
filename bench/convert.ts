/**
 * Converter speed on a realistic record (a dozen fields: strings, ints, a long, a timestamp,
 * an optional string, an array, a nested record), against the plain baseline measured in the
 * same run: avsc `fromBuffer` then `JSON.stringify`. Also checks that the compiled converter's
 * output is byte for byte the interpreted converter's.
 */
import avro from 'avsc';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
} from '../lib/convert/index.ts';
import { compare, result, type BenchResult } from './harness.ts';
import { benchInterop } from './interop.ts';

export const BENCH_SCHEMA = {
  type: 'record',
  name: 'Company',
  namespace: 'bench',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'int' },
    { name: 'revenue', type: 'long' },
    { name: 'founded', type: 'int' },
    { name: 'updated_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'ticker', type: ['null', 'string'] },
    { name: 'city', type: 'string' },
    { name: 'country', type: 'string' },
    { name: 'rating', type: 'int' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    {
      name: 'ceo',
      type: {
        type: 'record',
        name: 'Person',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'age', type: 'int' },
        ],
      },
    },
    { name: 'public', type: 'boolean' },
  ],
};

const RECORDS = 1000;

export function benchRecords(): Buffer[] {
  const type = avro.Type.forSchema(BENCH_SCHEMA as avro.Schema);
  return Array.from({ length: RECORDS }, (_, i) =>
    type.toBuffer({
      company: `Company ${i} Holdings`,
      employee_num: 10 + ((i * 7919) % 400_000),
      revenue: 1_000_000_000 + i * 12_345_679,
      founded: 1900 + (i % 120),
      updated_at: 1_700_000_000_000 + i * 1000,
      ticker: i % 3 === 0 ? null : `TK${i}`,
      city: 'Redwood City',
      country: 'US',
      rating: i % 5,
      tags: ['graph', 'database', `t${i % 10}`],
      ceo: { name: `Person ${i}`, age: 30 + (i % 40) },
      public: i % 2 === 0,
    }),
  );
}

/** A wide record (150 fields of the same kinds), whose generated code is split into functions. */
const WIDE_KINDS: unknown[] = [
  'string',
  'int',
  'long',
  ['null', 'string'],
  { type: 'long', logicalType: 'timestamp-millis' },
  'boolean',
];
export const WIDE_SCHEMA = {
  type: 'record',
  name: 'Wide',
  namespace: 'bench',
  fields: Array.from({ length: 150 }, (_, i) => ({
    name: `field_${i}`,
    type: WIDE_KINDS[i % WIDE_KINDS.length],
  })),
};

function wideRecords(): Buffer[] {
  const type = avro.Type.forSchema(WIDE_SCHEMA as avro.Schema);
  const value = (i: number): Record<string, unknown> =>
    Object.fromEntries(
      WIDE_SCHEMA.fields.map((f, k): [string, unknown] => {
        switch (k % WIDE_KINDS.length) {
          case 0:
            return [f.name, `value ${i}-${k}`];
          case 1:
            return [f.name, i * 31 + k];
          case 2:
            return [f.name, 10_000_000_000 + i * k];
          case 3:
            return [f.name, i % 2 === 0 ? null : `opt ${k}`];
          case 4:
            return [f.name, 1_700_000_000_000 + i * 1000];
          default:
            return [f.name, (i + k) % 2 === 0];
        }
      }),
    );
  return Array.from({ length: 200 }, (_, i) => type.toBuffer(value(i)));
}

export async function benchConvert(): Promise<BenchResult[]> {
  const buffers = benchRecords();
  const node = parseSchema(BENCH_SCHEMA);
  const compiled = createCompiledConverter(node, 'datetime');
  const interpreted = createInterpretedConverter(node, 'datetime');
  const plain = avro.Type.forSchema(BENCH_SCHEMA as avro.Schema);

  let mismatches = 0;
  for (const b of buffers)
    if (!(compiled(b, 0).value as Buffer).equals(interpreted(b, 0).value as Buffer)) mismatches++;
  console.log(
    `convert: compiled output equals interpreted output byte for byte on ${buffers.length - mismatches}/${buffers.length} records`,
  );
  if (mismatches > 0)
    throw new Error(`compiled and interpreted converters differ on ${mismatches} records`);
  console.log(`convert: sample ${String(compiled(buffers[1] as Buffer, 0).value)}`);

  let sink = 0;
  const runBaseline = (): void => {
    for (const b of buffers) sink += JSON.stringify(plain.fromBuffer(b)).length;
  };
  const fast = await compare(RECORDS, runBaseline, () => {
    for (const b of buffers) sink += (compiled(b, 0).value as Buffer).length;
  });
  const slow = await compare(
    RECORDS,
    runBaseline,
    () => {
      for (const b of buffers) sink += (interpreted(b, 0).value as Buffer).length;
    },
    5,
  );
  const wide = wideRecords();
  const widePlain = avro.Type.forSchema(WIDE_SCHEMA as avro.Schema);
  const wideCompiled = createCompiledConverter(parseSchema(WIDE_SCHEMA), 'datetime');
  const wideInterpreted = createInterpretedConverter(parseSchema(WIDE_SCHEMA), 'datetime');
  const wideMismatches = wide.filter(
    (b) => !(wideCompiled(b, 0).value as Buffer).equals(wideInterpreted(b, 0).value as Buffer),
  ).length;
  if (wideMismatches > 0)
    throw new Error(`compiled and interpreted converters differ on ${wideMismatches} wide records`);
  const wideRun = await compare(
    wide.length,
    () => {
      for (const b of wide) sink += JSON.stringify(widePlain.fromBuffer(b)).length;
    },
    () => {
      for (const b of wide) sink += (wideCompiled(b, 0).value as Buffer).length;
    },
    7,
  );
  if (sink === 0) console.log('');
  const interop = await benchInterop();
  return [
    result(
      'convert: compiled Avro → TigerGraph JSON',
      fast.candidate,
      'avsc fromBuffer + JSON.stringify',
      fast.baseline,
      fast.ratio,
    ),
    result(
      'convert: interpreted Avro → TigerGraph JSON',
      slow.candidate,
      'avsc fromBuffer + JSON.stringify',
      slow.baseline,
      slow.ratio,
    ),
    result(
      'convert: compiled, 150-field record',
      wideRun.candidate,
      'avsc fromBuffer + JSON.stringify',
      wideRun.baseline,
      wideRun.ratio,
    ),
    ...interop,
  ];
}
