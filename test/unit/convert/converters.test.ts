import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createConverter, fingerprint, type RegistryClient } from '../../../lib/convert/index.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import type { KafkaRecord } from '../../../lib/event/index.ts';
import { testConfig } from '../../helpers/fakes.ts';
import { edit } from '../../helpers/config.ts';

const V1 = {
  type: 'record',
  name: 'Company',
  namespace: 'demo',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'int' },
  ],
};
const V2 = {
  ...V1,
  fields: [
    ...V1.fields,
    { name: 'founded', type: 'int', default: 1970 },
    { name: 'ceo', type: ['null', 'string'], default: null },
  ],
};
const t1 = avro.Type.forSchema(V1 as avro.Schema);
const body = (company: string, n: number): Buffer => t1.toBuffer({ company, employee_num: n });
const record = (value: Buffer | null): KafkaRecord => ({
  topic: 'companies',
  partition: 2,
  offset: 41,
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  key: null,
  value,
  headers: [],
});

/** A registry in memory (a hand-written fake of our own port). */
const fakeRegistry = (schemas: Record<number, string>): RegistryClient & { asked: number[] } => {
  const asked: number[] = [];
  return {
    asked,
    schema: (id) => {
      asked.push(id);
      const s = schemas[id];
      return s === undefined
        ? Promise.reject(new ConvertError('CONVERT_SCHEMA_NOT_FOUND', `no schema ${id}`))
        : Promise.resolve(s);
    },
  };
};
const confluent = (id: number, avroBody: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, avroBody]);
};
const registryConfig = (extra = '') =>
  testConfig(
    edit(
      'value.converter',
      'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
    ).replace(
      '[connector_1]',
      `value.converter.schema.registry.url=http://127.0.0.1:8081\n${extra}[connector_1]`,
    ),
  );
const schemaFreeConfig = (schemas: string) =>
  testConfig(
    edit(
      'value.converter',
      'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry',
    ).replace(
      '[connector_1]',
      `${schemas ? `value.converter.schemas=${schemas}\n` : ''}[connector_1]`,
    ),
  );
const lines = (c: Awaited<ReturnType<typeof createConverter>>, value: Buffer) =>
  Promise.resolve(c.convert(record(value))).then((r) =>
    r.kind === 'values' ? r.values.map((v) => v.toString()) : [],
  );

async function containerFile(values: unknown[], codec: 'null' | 'deflate'): Promise<Buffer> {
  const encoder = new avro.streams.BlockEncoder(t1, { codec });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => encoder.on('end', resolve));
  for (const v of values) encoder.write(v);
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

describe('TigerGraphAvroConverter (schema registry)', () => {
  it('reads Confluent framing and asks the registry once per schema id', async () => {
    const registry = fakeRegistry({ 7: JSON.stringify(V1) });
    const c = await createConverter(registryConfig(), { registry });
    expect(await lines(c, confluent(7, body('TigerGraph', 346)))).toEqual([
      '{"company":"TigerGraph","employee_num":346}',
    ]);
    expect(await lines(c, confluent(7, body('Apple', 373704)))).toEqual([
      '{"company":"Apple","employee_num":373704}',
    ]);
    expect(registry.asked).toEqual([7]);
  });

  it('gives record-level errors with the coordinates, never the payload', async () => {
    const c = await createConverter(registryConfig(), {
      registry: fakeRegistry({ 7: JSON.stringify(V1), 8: '{"type":"nonsense"}' }),
    });
    const cases: [Buffer, string][] = [
      [confluent(9, body('x', 1)), 'CONVERT_SCHEMA_NOT_FOUND'],
      [confluent(8, body('x', 1)), 'CONVERT_SCHEMA_INVALID'],
      [Buffer.concat([Buffer.from('{"company":"plain json"}')]), 'CONVERT_FRAMING_UNKNOWN'],
      [
        Buffer.concat([Buffer.from([3, 0]), Buffer.alloc(16, 0xab), body('x', 1)]),
        'CONVERT_GLUE_FRAMING_UNSUPPORTED',
      ],
      [
        confluent(7, Buffer.concat([body('x', 1), Buffer.from([0])])),
        'CONVERT_AVRO_TRAILING_BYTES',
      ],
      [confluent(7, body('secret-payload', 1).subarray(0, 5)), 'CONVERT_AVRO_TRUNCATED'],
    ];
    for (const [value, code] of cases) {
      const error = await Promise.resolve(c.convert(record(value))).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(ConvertError);
      expect(error).toMatchObject({
        code,
        retriable: false,
        details: { topic: 'companies', partition: 2, offset: 41 },
      });
      expect((error as Error).message).not.toContain('secret-payload');
    }
  });

  it('names the Glue schema version it detected', async () => {
    const c = await createConverter(registryConfig(), { registry: fakeRegistry({}) });
    const glue = Buffer.concat([
      Buffer.from([3, 0]),
      Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      body('x', 1),
    ]);
    await expect(Promise.resolve(c.convert(record(glue)))).rejects.toThrow(
      'schema version 00112233-4455-6677-8899-aabbccddeeff',
    );
  });

  it('applies a reader schema with Avro schema resolution (defaults for new fields)', async () => {
    const c = await createConverter(
      registryConfig(`value.converter.reader.schema=${JSON.stringify(V2)}\n`),
      { registry: fakeRegistry({ 1: JSON.stringify(V1) }) },
    );
    expect(await lines(c, confluent(1, body('Google', 277618)))).toEqual([
      '{"company":"Google","employee_num":277618,"founded":1970}',
    ]);
  });

  it('reports a writer schema the reader schema cannot read', async () => {
    const reader = {
      type: 'record',
      name: 'Company',
      namespace: 'demo',
      fields: [{ name: 'company', type: 'int' }],
    };
    const c = await createConverter(
      registryConfig(`value.converter.reader.schema=${JSON.stringify(reader)}\n`),
      { registry: fakeRegistry({ 1: JSON.stringify(V1) }) },
    );
    await expect(
      Promise.resolve(c.convert(record(confluent(1, body('x', 1))))),
    ).rejects.toMatchObject({ code: 'CONVERT_SCHEMA_INCOMPATIBLE' });
  });

  it('rejects a bad timestamp format when the file is validated', () => {
    expect(() => registryConfig('value.converter.timestamp.format=unix\n')).toThrow(
      'CONFIG_TIMESTAMP_FORMAT_INVALID',
    );
  });
});

describe('TigerGraphAvroConverterWithoutSchemaRegistry', () => {
  it.each(['null', 'deflate'] as const)(
    'turns every record of an object container file (%s codec) into a line',
    async (codec) => {
      const c = await createConverter(schemaFreeConfig(''));
      const file = await containerFile(
        [
          { company: 'A', employee_num: 1 },
          { company: 'B', employee_num: 2 },
          { company: 'C', employee_num: 3 },
        ],
        codec,
      );
      expect(await lines(c, file)).toEqual([
        '{"company":"A","employee_num":1}',
        '{"company":"B","employee_num":2}',
        '{"company":"C","employee_num":3}',
      ]);
    },
  );

  it('resolves single-object encoding against the configured schemas by CRC-64-AVRO fingerprint', async () => {
    const other = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'long' }] };
    const c = await createConverter(schemaFreeConfig(JSON.stringify([V1, other])));
    const single = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprint(V1), body('Single', 5)]);
    expect(await lines(c, single)).toEqual(['{"company":"Single","employee_num":5}']);
    const unknown = Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8), body('x', 1)]);
    await expect(Promise.resolve(c.convert(record(unknown)))).rejects.toMatchObject({
      code: 'CONVERT_SCHEMA_UNKNOWN',
    });
  });

  it('reads raw Avro with exactly one configured schema, and says why otherwise', async () => {
    expect(
      await lines(await createConverter(schemaFreeConfig(JSON.stringify(V1))), body('Raw', 9)),
    ).toEqual(['{"company":"Raw","employee_num":9}']);
    const two = await createConverter(schemaFreeConfig(JSON.stringify([V1, V2])));
    await expect(Promise.resolve(two.convert(record(body('Raw', 9))))).rejects.toThrow(
      'raw values need exactly one',
    );
  });

  it('reads value.converter.schemas from .avsc files', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'avsc-'));
    writeFileSync(join(dir, 'company.avsc'), JSON.stringify(V1));
    const c = await createConverter(schemaFreeConfig(join(dir, 'company.avsc')));
    expect(await lines(c, body('FromFile', 1))).toEqual([
      '{"company":"FromFile","employee_num":1}',
    ]);
    await expect(
      createConverter(schemaFreeConfig(join(dir, 'missing.avsc'))),
    ).rejects.toMatchObject({ code: 'CONFIG_SCHEMA_FILE_UNREADABLE' });
  });

  it('counts a null value as a tombstone', async () => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify(V1)));
    expect(await c.convert(record(null))).toEqual({ kind: 'tombstone' });
  });
});
