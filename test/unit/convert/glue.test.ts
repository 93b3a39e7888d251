import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createConverter, type RegistryClient } from '../../../lib/convert/index.ts';
import { MAX_GLUE_VALUE_BYTES } from '../../../lib/convert/framing.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import { decodeKafkaEvent, type KafkaRecord } from '../../../lib/event/index.ts';
import { edit } from '../../helpers/config.ts';
import { testConfig } from '../../helpers/fakes.ts';
import { ROOT, fixture } from '../../helpers/fixtures.ts';
import { COMPANY_SCHEMA, DATUMS, SCHEMA_VERSION_ID, frameGlue } from '../../fixtures/glue/build.ts';

const GLUE_DIR = join(ROOT, 'test', 'fixtures', 'glue');
const COMPANY_AVSC = join(GLUE_DIR, 'company.avsc');
const company = avro.Type.forSchema(JSON.parse(COMPANY_SCHEMA) as avro.Schema);

const V1 = {
  type: 'record',
  name: 'Company',
  namespace: 'demo',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'int' },
  ],
};
const OTHER = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'long' }] };
const t1 = avro.Type.forSchema(V1 as avro.Schema);
const body = (name: string, n: number): Buffer => t1.toBuffer({ company: name, employee_num: n });
const confluent = (id: number, datum: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, datum]);
};
const UUID_BYTES = Buffer.from(SCHEMA_VERSION_ID.replaceAll('-', ''), 'hex');
/** A Glue header with any compression byte, followed by `rest` as is. */
const glueWith = (compression: number, rest: Buffer): Buffer =>
  Buffer.concat([Buffer.from([0x03, compression]), UUID_BYTES, rest]);

const record = (value: Buffer): KafkaRecord => ({
  topic: 'companies',
  partition: 3,
  offset: 77,
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  key: null,
  value,
  headers: [],
});
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
/** A registry that knows no schema and records what it was asked (a Glue value asks nothing). */
const emptyRegistry = (): RegistryClient & { asked: number[] } => {
  const asked: number[] = [];
  return {
    asked,
    schema: (id) => {
      asked.push(id);
      return Promise.reject(new ConvertError('CONVERT_SCHEMA_NOT_FOUND', `no schema ${id}`));
    },
  };
};
type AnyConverter = Awaited<ReturnType<typeof createConverter>>;
const lines = async (c: AnyConverter, value: Buffer): Promise<string[]> => {
  const r = await c.convert(record(value));
  return r.kind === 'values' ? r.values.map((v) => v.toString()) : [];
};
const failure = (c: AnyConverter, value: Buffer): Promise<unknown> =>
  Promise.resolve(c.convert(record(value))).then(
    () => new Error('converted, but an error was expected'),
    (e: unknown) => e,
  );

const TIGERGRAPH = '{"company":"TigerGraph","employee_num":346,"founded":"2012-01-01 00:00:00"}';
const APPLE =
  '{"company":"Apple","employee_num":164000,"ceo":"Tim Cook","founded":"1976-04-01 00:00:00"}';

describe('the MSK Serverless sample with Glue-framed values', () => {
  const batch = () => decodeKafkaEvent(fixture('glue/msk-serverless-event.json'));

  it('is an MSK Serverless event whose stored values hold the documented Glue frames', () => {
    const b = batch();
    expect(b.eventSource).toBe('aws:kafka');
    expect(b.eventSourceArn).toMatch(/^arn:aws:kafka:us-east-1:123456789012:cluster\/.+-s1$/);
    expect(b.records.map((r) => r.offset)).toEqual([100, 101]);
    b.records.forEach((r, i) => {
      const value = r.value!;
      expect(value[0]).toBe(0x03);
      expect(value[1]).toBe(i === 0 ? 0x00 : 0x05);
      expect(value.subarray(2, 18)).toEqual(UUID_BYTES);
      const datum = i === 0 ? value.subarray(18) : inflateSync(value.subarray(18));
      expect(datum).toEqual(company.toBuffer(DATUMS[i]));
    });
  });

  it('converts with its one configured schema (TigerGraphAvroConverterWithoutSchemaRegistry)', async () => {
    const c = await createConverter(schemaFreeConfig(COMPANY_AVSC));
    const out: string[] = [];
    for (const r of batch().records) out.push(...(await lines(c, r.value!)));
    expect(out).toEqual([TIGERGRAPH, APPLE]);
  });

  it('converts with value.converter.reader.schema (TigerGraphAvroConverter), asking no registry', async () => {
    const registry = emptyRegistry();
    const c = await createConverter(
      registryConfig(`value.converter.reader.schema=${COMPANY_AVSC}\n`),
      { registry },
    );
    const out: string[] = [];
    for (const r of batch().records) out.push(...(await lines(c, r.value!)));
    expect(out).toEqual([TIGERGRAPH, APPLE]);
    expect(registry.asked).toEqual([]);
  });
});

describe('Glue framing', () => {
  it.each(['none', 'zlib'] as const)(
    'is stripped (compression %s) by both converters before decoding',
    async (compression) => {
      const value = frameGlue(body('Glue', 42), compression);
      const schemaFree = await createConverter(schemaFreeConfig(JSON.stringify(V1)));
      const registry = await createConverter(
        registryConfig(`value.converter.reader.schema=${JSON.stringify(V1)}\n`),
        { registry: emptyRegistry() },
      );
      for (const c of [schemaFree, registry])
        expect(await lines(c, value)).toEqual(['{"company":"Glue","employee_num":42}']);
    },
  );

  it('says which schema to configure when none or several could be the writer schema', async () => {
    const value = frameGlue(body('x', 1), 'none');
    const cases: [AnyConverter, string][] = [
      [await createConverter(schemaFreeConfig(JSON.stringify([V1, OTHER]))), 'names 2 schemas'],
      [await createConverter(schemaFreeConfig('')), 'names no schema'],
      [
        await createConverter(registryConfig(), { registry: emptyRegistry() }),
        'Set value.converter.reader.schema',
      ],
    ];
    for (const [c, hint] of cases) {
      const error = await failure(c, value);
      expect(error).toBeInstanceOf(ConvertError);
      expect(error).toMatchObject({
        code: 'CONVERT_GLUE_FRAMING_UNSUPPORTED',
        details: { schemaVersionId: SCHEMA_VERSION_ID, topic: 'companies', offset: 77 },
      });
      expect((error as Error).message).toContain(hint);
      expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION_ID}`);
    }
  });

  describe('hostile values give record-level coded errors, never the payload', () => {
    const secret = body('secret-payload', 1);
    const bomb = deflateSync(Buffer.alloc(MAX_GLUE_VALUE_BYTES + 1));
    const cases: [string, Buffer, string, string][] = [
      [
        'a header with a truncated schema version id',
        Buffer.concat([Buffer.from([0x03, 0x00]), UUID_BYTES.subarray(0, 9)]),
        'CONVERT_GLUE_HEADER_TRUNCATED',
        'a Glue header takes 18',
      ],
      [
        'an unknown compression byte',
        glueWith(0x01, secret),
        'CONVERT_GLUE_COMPRESSION_UNKNOWN',
        'compression byte 0x01; allowed: 0x00 (none), 0x05 (zlib)',
      ],
      [
        'zlib that does not inflate',
        glueWith(0x05, secret),
        'CONVERT_GLUE_ZLIB_INVALID',
        'does not inflate',
      ],
      [
        'raw deflate where zlib is due',
        glueWith(0x05, deflateSync(secret).subarray(2, -4)),
        'CONVERT_GLUE_ZLIB_INVALID',
        'does not inflate',
      ],
      [
        'zlib that inflates beyond the bound',
        glueWith(0x05, bomb),
        'CONVERT_GLUE_PAYLOAD_TOO_LARGE',
        `more than ${MAX_GLUE_VALUE_BYTES} bytes`,
      ],
      [
        'a datum followed by extra bytes',
        glueWith(0x05, deflateSync(Buffer.concat([secret, Buffer.from([0])]))),
        'CONVERT_AVRO_TRAILING_BYTES',
        'follow the Avro datum',
      ],
    ];
    const converters = async (): Promise<[string, AnyConverter][]> => [
      ['schema-free, one schema', await createConverter(schemaFreeConfig(JSON.stringify(V1)))],
      [
        'registry, reader schema',
        await createConverter(
          registryConfig(`value.converter.reader.schema=${JSON.stringify(V1)}\n`),
          { registry: emptyRegistry() },
        ),
      ],
    ];
    it.each(cases)('%s', async (_, value, code, hint) => {
      for (const [name, c] of await converters()) {
        const error = await failure(c, value);
        expect(error, name).toBeInstanceOf(ConvertError);
        expect(error, name).toMatchObject({
          code,
          retriable: false,
          details: { framing: 'glue', topic: 'companies', partition: 3, offset: 77 },
        });
        expect((error as Error).message, name).toContain(hint);
        expect((error as Error).message, name).not.toContain('secret-payload');
      }
    });
  });
});

describe('Confluent framing without a registry', () => {
  it('is read with the one configured schema (the schema id is not checked)', async () => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify(V1)));
    expect(await lines(c, confluent(7, body('Framed', 5)))).toEqual([
      '{"company":"Framed","employee_num":5}',
    ]);
  });

  it('is a coded error naming the schema id when several schemas are configured', async () => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify([V1, OTHER])));
    const error = await failure(c, confluent(7, body('x', 1)));
    expect(error).toMatchObject({
      code: 'CONVERT_SCHEMA_UNKNOWN',
      details: { framing: 'confluent', schemaId: 7 },
    });
    expect((error as Error).message).toContain('Confluent framing (schema id 7) or raw Avro');
  });
});

describe('detection with one configured schema: framing first, raw Avro when framing fails', () => {
  const LONGS = {
    type: 'record',
    name: 'Longs',
    fields: [
      { name: 'n', type: 'long' },
      { name: 'm', type: 'long' },
      { name: 'name', type: 'string' },
    ],
  };
  const tl = avro.Type.forSchema(LONGS as avro.Schema);

  it.each([
    ['0x03 0x00 and a whole Glue header', { n: -2, m: 0, name: 'a'.repeat(20) }],
    ['0x03 and a short value', { n: -2, m: 1, name: '' }],
    ['0x03 and no Glue compression byte', { n: -2, m: 5, name: 'b'.repeat(30) }],
    ['0x00 and a Confluent-length value', { n: 0, m: 0, name: 'TigerGraph' }],
  ])('a raw datum starting %s still reads raw', async (_, datum) => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify(LONGS)));
    const value = tl.toBuffer(datum);
    expect(value[0]).toBe(datum.n === 0 ? 0x00 : 0x03);
    expect(await lines(c, value)).toEqual([JSON.stringify(datum)]);
  });

  it('reports the framed reading when neither reading decodes', async () => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify(V1)));
    // V1's first field is a string: raw 0x00 is "", then the int, then trailing bytes.
    const error = await failure(c, confluent(7, body('x', 1).subarray(0, 2)));
    expect(error).toMatchObject({
      code: 'CONVERT_AVRO_TRUNCATED',
      details: { framing: 'confluent' },
    });
  });

  it('gives the same line for a value raw, Confluent-framed and Glue-framed (either compression)', async () => {
    const c = await createConverter(schemaFreeConfig(JSON.stringify(V1)));
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.nat({ max: 2 ** 32 - 1 }),
        async (name, n, id) => {
          const datum = body(name, n);
          const expected = [JSON.stringify({ company: name, employee_num: n })];
          for (const value of [
            datum,
            confluent(id, datum),
            frameGlue(datum, 'none'),
            frameGlue(datum, 'zlib'),
          ])
            expect(await lines(c, value)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
