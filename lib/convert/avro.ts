/**
 * The TigerGraph Avro converters: with a schema registry (Confluent framing; AWS Glue framing
 * read with the reader schema), and without one (object container files, single-object
 * encoding against the configured schemas, or Confluent-framed, Glue-framed or raw binary
 * with one configured schema). Writer schemas come from the message or the configuration; an
 * optional reader schema is applied with Avro schema resolution.
 */
import avro from 'avsc';
import { ConvertError, isTigerStreamError, messageOf, type ErrorDetails } from '../errors/index.ts';
import type { KafkaRecord } from '../event/index.ts';
import { createCompiledConverter } from './compiled.ts';
import { readContainer } from './container.ts';
import type { TimestampFormat } from './format.ts';
import {
  GLUE_COMPRESSION,
  GLUE_HEADER_BYTES,
  detectFraming,
  mayHoldDatum,
  readGlueDatum,
  readGlueHeader,
  type Framing,
} from './framing.ts';
import type { DatumConverter } from './interpreted.ts';
import { claimItems, createItemBudget, isEmptyType, type ItemBudget } from './limits.ts';
import type { RegistryClient } from './registry.ts';
import { fingerprint, parseSchema, type Node } from './schema.ts';

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
    // Writer and reader the same text: resolution is the identity, so skip its decode and encode.
    if (writer === reader && readerConvert !== undefined) convert = readerConvert;
    else if (readerType === undefined || readerConvert === undefined)
      convert = compile(writer, options.timestampFormat);
    else {
      // avsc's decoder believes every block count (an array of nulls claiming 10^11 items
      // loops until the Lambda times out), so the writer's own converter reads the datum
      // first: it applies the bounds of limits.ts and rejects what avsc would choke on.
      const check = compile(writer, options.timestampFormat);
      let resolver: avro.Resolver;
      try {
        resolver = readerType.createResolver(avscType(writer));
      } catch (error) {
        throw new ConvertError(
          'CONVERT_SCHEMA_INCOMPATIBLE',
          `The writer schema cannot be read with value.converter.reader.schema: ${messageOf(error)}`,
        );
      }
      convert = (buf, start, budget) => {
        check(buf, start, budget);
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
function convertAll(
  convert: DatumConverter,
  buf: Buffer,
  start: number,
  count?: number,
  budget?: ItemBudget,
): Buffer[] {
  const out: Buffer[] = [];
  let pos = start;
  for (let i = 0; count === undefined ? i < 1 : i < count; i++) {
    const { value, end } = convert(buf, pos, budget);
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
type FramedKind = Exclude<Framing, { kind: 'container' | 'raw' }>;

/** Adds details (which framing a value was read with) to a record-level error. */
const withDetails = (error: ConvertError, details: ErrorDetails): ConvertError =>
  new ConvertError(error.code, error.message, {
    retriable: error.retriable,
    cause: error.cause,
    details: { ...details, ...error.details },
  });

/** Runs `read`; a ConvertError it throws gets `details` added. */
function tagging<T>(details: ErrorDetails, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof ConvertError ? withDetails(error, details) : error;
  }
}

/**
 * TigerGraphAvroConverter: Confluent framing (0x00 + 4-byte schema id), schemas from the
 * registry. Glue framing cannot be looked up (there is no Glue client here): a Glue-framed
 * value is read with value.converter.reader.schema as its writer schema when one is set.
 */
export function createRegistryAvroConverter(
  registry: RegistryClient,
  options: AvroConverterOptions,
): AvroValueConverter {
  const forSchema = createSchemaCache(options);
  const byId = new Map<number, DatumConverter>();
  const reader = options.readerSchema;
  return async (value) => {
    const framing = detectFraming(value);
    if (framing.kind === 'glue') {
      const header = readGlueHeader(value);
      if (reader === undefined)
        throw new ConvertError(
          'CONVERT_GLUE_FRAMING_UNSUPPORTED',
          `The value has AWS Glue Schema Registry framing (schema version ${header.schemaVersionId}); TigerGraphAvroConverter cannot look up Glue schema versions (it asks a Confluent-compatible registry by schema id). Set value.converter.reader.schema to the schema the producer writes with, use TigerGraphAvroConverterWithoutSchemaRegistry with that one schema in value.converter.schemas, or have the producer write Confluent framing`,
          { details: { framing: 'glue', schemaVersionId: header.schemaVersionId } },
        );
      return tagging({ framing: 'glue', schemaVersionId: header.schemaVersionId }, () =>
        convertAll(forSchema(reader), readGlueDatum(value, header), 0),
      );
    }
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

/**
 * TigerGraphAvroConverterWithoutSchemaRegistry: container files, single-object encoding,
 * Confluent or Glue framing, or raw binary.
 *
 * Detection rule. A container file (`Obj\x01`) is always read as one. Every other framing is
 * told by its first byte(s) (0xC3 0x01 single-object, 0x03 Glue, 0x00 Confluent), and raw
 * Avro may legitimately start with any of them. So, with exactly one configured schema, a
 * value that looks framed is read framed first (the Confluent schema id and the Glue schema
 * version id cannot be resolved here and are not checked: the one schema is the writer
 * schema); only if the framing does not parse or its datum does not decode to the last byte
 * is the whole value read as raw Avro, and if that fails too the framed reading's error is
 * reported (tagged `framing`). A raw datum that also happens to decode as a framed one is
 * read framed: that is the price of recognising framing before decoding, as producers that
 * frame are the common case. With no or several schemas there is no raw reading and a
 * Confluent or Glue value has no schema to be read with: that is a coded error.
 */
export function createSchemaFreeAvroConverter(
  schemas: readonly string[],
  options: AvroConverterOptions,
): AvroValueConverter {
  const forSchema = createSchemaCache(options);
  const byFingerprint = new Map(schemas.map((s) => [fingerprint(s).toString('hex'), s]));
  const only = schemas.length === 1 ? schemas[0] : undefined;
  const configured = schemas.length === 0 ? 'names no schema' : `names ${schemas.length} schemas`;
  const onlyNode = only === undefined ? undefined : parseSchema(only);
  const onlyFingerprint = only === undefined ? undefined : fingerprint(only);
  /** Whether a container's records take no bytes, by writer schema text. */
  const emptyRecords = new Map<string, boolean>();

  /**
   * Every record of a container file. One budget of empty items for the whole file (its
   * records and whatever they hold), and each block's record count checked against its bytes
   * (limits.ts) before a record is read.
   */
  const readContainerValue = (value: Buffer): Buffer[] => {
    const { schema, blocks } = readContainer(value);
    const convert = forSchema(schema);
    let empty = emptyRecords.get(schema);
    if (empty === undefined) {
      empty = isEmptyType(parseSchema(schema));
      emptyRecords.set(schema, empty);
    }
    const budget = createItemBudget();
    const out: Buffer[] = [];
    for (const block of blocks) {
      claimItems(block.count, empty, block.data.length, budget, 'records');
      for (const line of convertAll(convert, block.data, 0, block.count, budget)) out.push(line);
    }
    return out;
  };

  /** False when the framed reading cannot decode (its datum cannot fit the one schema). */
  const framedMayDecode = (value: Buffer, framing: FramedKind, node: Node): boolean => {
    switch (framing.kind) {
      case 'single-object':
        return (
          onlyFingerprint !== undefined &&
          framing.fingerprint.equals(onlyFingerprint) &&
          mayHoldDatum(node, value, framing.offset)
        );
      case 'confluent':
        return mayHoldDatum(node, value, framing.offset);
      case 'glue':
        if (value.length < GLUE_HEADER_BYTES) return false;
        if (value[1] === GLUE_COMPRESSION.none) return mayHoldDatum(node, value, GLUE_HEADER_BYTES);
        return value[1] === GLUE_COMPRESSION.zlib;
    }
  };

  const readFramed = (value: Buffer, framing: FramedKind): Buffer[] => {
    switch (framing.kind) {
      case 'single-object': {
        const schema = byFingerprint.get(framing.fingerprint.toString('hex'));
        if (schema === undefined)
          throw new ConvertError(
            'CONVERT_SCHEMA_UNKNOWN',
            `The value is single-object encoded with schema fingerprint ${framing.fingerprint.toString('hex')}, which matches none of value.converter.schemas`,
          );
        return convertAll(forSchema(schema), value, framing.offset);
      }
      case 'glue': {
        const header = readGlueHeader(value);
        if (only === undefined)
          throw new ConvertError(
            'CONVERT_GLUE_FRAMING_UNSUPPORTED',
            `The value has AWS Glue Schema Registry framing (schema version ${header.schemaVersionId}), which cannot be looked up without Glue, and value.converter.schemas ${configured}; configure exactly one schema (the one the producer writes with) in value.converter.schemas, or have the producer write single-object encoding`,
            { details: { framing: 'glue', schemaVersionId: header.schemaVersionId } },
          );
        return tagging({ framing: 'glue', schemaVersionId: header.schemaVersionId }, () =>
          convertAll(forSchema(only), readGlueDatum(value, header), 0),
        );
      }
      case 'confluent':
        if (only === undefined)
          throw new ConvertError(
            'CONVERT_SCHEMA_UNKNOWN',
            `The value starts with 0x00: Confluent framing (schema id ${framing.schemaId}) or raw Avro, and value.converter.schemas ${configured}; either reading needs exactly one schema there without a registry. Configure one schema, or use TigerGraphAvroConverter with value.converter.schema.registry.url`,
            { details: { framing: 'confluent', schemaId: framing.schemaId } },
          );
        return convertAll(forSchema(only), value, framing.offset);
    }
  };

  return (value) => {
    const framing = detectFraming(value);
    if (framing.kind === 'container') return Promise.resolve(readContainerValue(value));
    if (framing.kind !== 'raw') {
      if (only === undefined || onlyNode === undefined)
        return Promise.resolve(readFramed(value, framing));
      // Raw values that start like a framing (a null first union branch is 0x00) would
      // otherwise pay a thrown framed decode each: skip the framed reading when a quick check
      // says it cannot decode and the raw one may. Same result as the general path below.
      if (!framedMayDecode(value, framing, onlyNode) && mayHoldDatum(onlyNode, value, 0))
        try {
          return Promise.resolve(convertAll(forSchema(only), value, 0));
        } catch {
          // The raw reading failed after all: the general path reports the framed reading's error.
        }
      try {
        return Promise.resolve(readFramed(value, framing));
      } catch (framedError) {
        if (!(framedError instanceof ConvertError)) throw framedError;
        try {
          return Promise.resolve(convertAll(forSchema(only), value, 0));
        } catch {
          throw withDetails(framedError, { framing: framing.kind });
        }
      }
    }
    if (only !== undefined) return Promise.resolve(convertAll(forSchema(only), value, 0));
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
