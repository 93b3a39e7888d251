/**
 * The converter on a complex record: Avro's interop record (every primitive, bytes, a map of
 * records, a union with an array branch, an enum, a fixed, and a recursive record), against
 * avsc decoding the same bytes into objects and nothing more (issue 12 item 6: the compiled
 * converter should reach at least that).
 */
import avro from 'avsc';
import {
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
} from '../lib/convert/index.ts';
import { compare, result, type BenchResult } from './harness.ts';

/**
 * Our own test data, written from the field list of the interop schema in the Apache Avro
 * project's test schemas (share/test/schemas/interop.avsc, Apache-2.0): the same fields,
 * kinds and nesting, including the recursive `Node`.
 */
export const INTEROP_SCHEMA = {
  type: 'record',
  name: 'Interop',
  namespace: 'org.apache.avro',
  fields: [
    { name: 'intField', type: 'int' },
    { name: 'longField', type: 'long' },
    { name: 'stringField', type: 'string' },
    { name: 'boolField', type: 'boolean' },
    { name: 'floatField', type: 'float' },
    { name: 'doubleField', type: 'double' },
    { name: 'bytesField', type: 'bytes' },
    { name: 'nullField', type: 'null' },
    { name: 'arrayField', type: { type: 'array', items: 'double' } },
    {
      name: 'mapField',
      type: {
        type: 'map',
        values: { type: 'record', name: 'Foo', fields: [{ name: 'label', type: 'string' }] },
      },
    },
    { name: 'unionField', type: ['boolean', 'double', { type: 'array', items: 'bytes' }] },
    { name: 'enumField', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
    { name: 'fixedField', type: { type: 'fixed', name: 'MD5', size: 16 } },
    {
      name: 'recordField',
      type: {
        type: 'record',
        name: 'Node',
        fields: [
          { name: 'label', type: 'string' },
          { name: 'children', type: { type: 'array', items: 'Node' } },
        ],
      },
    },
  ],
};

interface TreeNode {
  label: string;
  children: TreeNode[];
}
const tree = (i: number, depth: number): TreeNode => ({
  label: `node ${i}.${depth}`,
  children: depth === 0 ? [] : [tree(i, depth - 1), tree(i + 1, depth - 1)],
});

const RECORDS = 500;

function interopRecords(): Buffer[] {
  const type = avro.Type.forSchema(INTEROP_SCHEMA as avro.Schema);
  return Array.from({ length: RECORDS }, (_, i) =>
    type.toBuffer({
      intField: i * 7,
      longField: 9_000_000_000 + i,
      stringField: `interop record ${i}`,
      boolField: i % 2 === 0,
      floatField: i / 4,
      doubleField: i * 1.5,
      bytesField: Buffer.from(`bytes ${i}`),
      nullField: null,
      arrayField: [1.5, 2.25, i, i / 3],
      mapField: { a: { label: `a${i}` }, b: { label: `b${i}` }, c: { label: `c${i}` } },
      // avsc's unwrapped unions pick the branch by the value's type.
      unionField:
        i % 3 === 0 ? true : i % 3 === 1 ? i + 0.5 : [Buffer.from('x'), Buffer.from('yz')],
      enumField: ['A', 'B', 'C'][i % 3],
      fixedField: Buffer.alloc(16, i % 256),
      recordField: tree(i, 2),
    }),
  );
}

export async function benchInterop(): Promise<BenchResult[]> {
  const buffers = interopRecords();
  const node = parseSchema(INTEROP_SCHEMA);
  const compiled = createCompiledConverter(node, 'datetime');
  const interpreted = createInterpretedConverter(node, 'datetime');
  const plain = avro.Type.forSchema(INTEROP_SCHEMA as avro.Schema);
  const mismatches = buffers.filter(
    (b) => !(compiled(b, 0).value as Buffer).equals(interpreted(b, 0).value as Buffer),
  ).length;
  if (mismatches > 0)
    throw new Error(`compiled and interpreted converters differ on ${mismatches} interop records`);
  console.log(
    `convert: interop record, compiled output equals interpreted on ${buffers.length}/${buffers.length}; sample ${String(compiled(buffers[2] as Buffer, 0).value)}`,
  );
  let sink = 0;
  const run = await compare(
    RECORDS,
    () => {
      for (const b of buffers) sink += plain.fromBuffer(b) === undefined ? 0 : 1;
    },
    () => {
      for (const b of buffers) sink += (compiled(b, 0).value as Buffer).length;
    },
    11,
  );
  if (sink === 0) console.log('');
  return [
    result(
      'convert: compiled, interop record',
      run.candidate,
      'avsc fromBuffer only (decode)',
      run.baseline,
      run.ratio,
    ),
  ];
}
