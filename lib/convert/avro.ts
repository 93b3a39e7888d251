/**
 * The TigerGraph Avro converters: with a schema registry (Confluent framing; AWS Glue framing
 * detected), and without one (object container files, single-object encoding against the
 * configured schemas, or raw binary with one configured schema). Writer schemas come from
 * the message; an optional reader schema is applied with Avro schema resolution.
 */
import avro from 'avsc';
import { ConvertError, isTigerStreamError, messageOf } from '../errors/index.ts';
import type { KafkaRecord } from '../event/index.ts';
import { createCompiledConverter } from './compiled.ts';
import type { TimestampFormat } from './format.ts';
import { detectFraming, readContainer } from './framing.ts';
import type { DatumConverter } from './interpreted.ts';
import type { RegistryClient } from './registry.ts';
import { fingerprint, parseSchema } from './schema.ts';

/** avsc's long type with exact 64-bit BigInt values (schema resolution; test data). */
export const EXACT_LONG = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: (x: unknown) => BigInt(x as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});
const avscType = (schema: string): avro.Type =>
  avro.Type.forSchema(JSON.parse(schema) as avro.Schema, {
    wrapUnions: true,
    registry: { long: EXACT_LONG },
  });

export interface AvroConverterOptions {
  readonly timestampFormat: TimestampFormat;
  /** Reader schema text (value.converter.reader.schema), applied by Avro schema resolution. */
  readonly readerSchema?: string | undefined;
  /** Compiles a schema; injectable so tests can run the interpreted converter. */
  readonly compile?: (schema: string, ts: TimestampFormat) => DatumConverter;
}

const defaultCompile = (schema: string, ts: TimestampFormat): DatumConverter =>
  createCompiledConverter(parseSchema(schema), ts);

/** Makes converters per writer schema text, cached, resolving to the reader schema when one is set. */
function createSchemaCache(options: AvroConverterOptions): (writer: string) => DatumConverter {
  const compile = options.compile ?? defaultCompile;
  const cache = new Map<string, DatumConverter>();
  const reader = options.readerSchema;
  const readerConvert = reader === undefined ? undefined : compile(reader, options.timestampFormat);
  const readerType = reader === undefined ? undefined : avscType(reader);
  return (writer) => {
    let convert = cache.get(writer);
    if (convert) return convert;
    if (readerType === undefined || readerConvert === undefined)
      convert = compile(writer, options.timestampFormat);
    else {
      parseSchema(writer);
      let resolver: avro.Resolver;
      try {
        resolver = readerType.createResolver(avscType(writer));
      } catch (error) {
        throw new ConvertError(
          'CONVERT_SCHEMA_INCOMPATIBLE',
          `The writer schema cannot be read with value.converter.reader.schema: ${messageOf(error)}`,
        );
      }
      convert = (buf, start) => {
        let decoded: { value: unknown; offset: number };
        try {
          decoded = readerType.decode(buf, start, resolver);
        } catch (error) {
          throw new ConvertError(
            'CONVERT_AVRO_INVALID',
            `The Avro data does not match its writer schema: ${messageOf(error)}`,
          );
        }
        if (decoded.offset < 0)
          throw new ConvertError(
            'CONVERT_AVRO_TRUNCATED',
            'The Avro data ends before the schema says it should',
          );
        const resolved = readerType.toBuffer(decoded.value);
        return { value: readerConvert(resolved, 0).value, end: decoded.offset };
      };
    }
    cache.set(writer, convert);
    return convert;
  };
}

/** Converts every datum from `start` to the end (a raw value holds one; a block may hold many). */
function convertAll(convert: DatumConverter, buf: Buffer, start: number, count?: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = start;
  for (let i = 0; count === undefined ? i < 1 : i < count; i++) {
    const { value, end } = convert(buf, pos);
    if (value !== undefined) out.push(value);
    pos = end;
  }
  if (pos !== buf.length)
    throw new ConvertError(
      'CONVERT_AVRO_TRAILING_BYTES',
      `${buf.length - pos} byte(s) follow the Avro datum; the writer schema does not match the data`,
    );
  return out;
}

export type AvroValueConverter = (value: Buffer) => Promise<Buffer[]>;

/** TigerGraphAvroConverter: Confluent framing (0x00 + 4-byte schema id), schemas from the registry. */
export function createRegistryAvroConverter(
  registry: RegistryClient,
  options: AvroConverterOptions,
): AvroValueConverter {
  const forSchema = createSchemaCache(options);
  const byId = new Map<number, DatumConverter>();
  return async (value) => {
    const framing = detectFraming(value);
    if (framing.kind === 'glue')
      throw new ConvertError(
        'CONVERT_GLUE_FRAMING_UNSUPPORTED',
        `The value has AWS Glue Schema Registry framing (schema version ${framing.schemaVersionId}); TigerGraphAvroConverter reads Confluent framing. Use the Glue serializer's Confluent-compatible mode, or the ESM's schema registry integration`,
      );
    if (framing.kind !== 'confluent')
      throw new ConvertError(
        'CONVERT_FRAMING_UNKNOWN',
        `The value does not start with the Confluent magic byte 0x00 (found 0x${(value[0] ?? 0).toString(16).padStart(2, '0')}); TigerGraphAvroConverter expects Confluent wire format`,
      );
    let convert = byId.get(framing.schemaId);
    if (!convert) {
      convert = forSchema(await registry.schema(framing.schemaId));
      byId.set(framing.schemaId, convert);
    }
    return convertAll(convert, value, framing.offset);
  };
}

/** TigerGraphAvroConverterWithoutSchemaRegistry: container files, single-object encoding, or raw binary. */
export function createSchemaFreeAvroConverter(
  schemas: readonly string[],
  options: AvroConverterOptions,
): AvroValueConverter {
  const forSchema = createSchemaCache(options);
  const byFingerprint = new Map(schemas.map((s) => [fingerprint(s).toString('hex'), s]));
  const only = schemas.length === 1 ? schemas[0] : undefined;
  return (value) => {
    const framing = detectFraming(value);
    if (framing.kind === 'container') {
      const { schema, blocks } = readContainer(value);
      const convert = forSchema(schema);
      return Promise.resolve(
        blocks.flatMap((block) => convertAll(convert, block.data, 0, block.count)),
      );
    }
    if (framing.kind === 'single-object') {
      const schema = byFingerprint.get(framing.fingerprint.toString('hex'));
      if (schema === undefined)
        throw new ConvertError(
          'CONVERT_SCHEMA_UNKNOWN',
          `The value is single-object encoded with schema fingerprint ${framing.fingerprint.toString('hex')}, which matches none of value.converter.schemas`,
        );
      return Promise.resolve(convertAll(forSchema(schema), value, framing.offset));
    }
    if (only !== undefined) return Promise.resolve(convertAll(forSchema(only), value, 0));
    if (framing.kind === 'glue')
      throw new ConvertError(
        'CONVERT_GLUE_FRAMING_UNSUPPORTED',
        `The value has AWS Glue Schema Registry framing (schema version ${framing.schemaVersionId}); configure that schema in value.converter.schemas as the only schema, or use TigerGraphAvroConverter`,
      );
    throw new ConvertError(
      'CONVERT_SCHEMA_UNKNOWN',
      schemas.length === 0
        ? 'The value is raw Avro but value.converter.schemas names no schema; give one schema, or send container files or single-object encoding'
        : `The value is raw Avro and value.converter.schemas names ${schemas.length} schemas; raw values need exactly one (or use single-object encoding)`,
    );
  };
}

/** Adds the record's coordinates to a record-level error; other errors pass unchanged. */
export function withCoordinates(
  error: unknown,
  record: Pick<KafkaRecord, 'topic' | 'partition' | 'offset'>,
): unknown {
  if (error instanceof ConvertError)
    return new ConvertError(error.code, error.message, {
      retriable: error.retriable,
      cause: error.cause,
      details: {
        ...error.details,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      },
    });
  if (isTigerStreamError(error)) return error;
  return new ConvertError(
    'CONVERT_AVRO_INVALID',
    `The value cannot be converted: ${messageOf(error)}`,
    { details: { topic: record.topic, partition: record.partition, offset: record.offset } },
  );
}
