/** Recognizing how an Avro value is framed (container files are read in container.ts). */
import { inflateSync } from 'node:zlib';
import { ConvertError } from '../errors/index.ts';
import type { Node } from './schema.ts';

export { MAX_BLOCK_BYTES } from './codecs.ts';
// index.ts exports readContainer from here; it lives in container.ts.
export { readContainer } from './container.ts';
export const CONFLUENT_MAGIC = 0x00;
export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);

/*
 * AWS Glue Schema Registry wire format, as its Java serde writes and reads it (checked against
 * awslabs/aws-glue-schema-registry: the byte values in
 * common/src/main/java/com/amazonaws/services/schemaregistry/utils/AWSSchemaRegistryConstants.java,
 * the order in serializer-deserializer/src/main/java/com/amazonaws/services/schemaregistry/
 * serializers/SerializationDataEncoder.java, the checks in .../deserializers/
 * GlueSchemaRegistryDeserializerDataParser.java, the compression in common/src/main/java/com/
 * amazonaws/services/schemaregistry/common/GlueSchemaRegistryCompressionHandler.java):
 * header version 0x03, one compression byte (0x00 none, 0x05 zlib), the 16-byte schema version
 * UUID (most significant 64 bits first), then the Avro binary datum. A compressed datum is
 * java.util.zip.Deflater's default output: zlib-wrapped deflate (RFC 1950), not raw deflate.
 */
export const GLUE_HEADER_VERSION = 0x03;
export const GLUE_COMPRESSION = { none: 0x00, zlib: 0x05 } as const;
export type GlueCompression = keyof typeof GLUE_COMPRESSION;
export const GLUE_HEADER_BYTES = 18;

export type Framing =
  | { readonly kind: 'confluent'; readonly schemaId: number; readonly offset: 5 }
  /** The Glue header version byte; {@link readGlueHeader} checks the rest of the header. */
  | { readonly kind: 'glue' }
  | { readonly kind: 'container' }
  | { readonly kind: 'single-object'; readonly fingerprint: Buffer; readonly offset: 10 }
  | { readonly kind: 'raw' };

const uuid = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const hexByte = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/**
 * Tells the framing from the first bytes. Only the container magic is unambiguous: raw Avro
 * may start with 0x00, 0x03 or 0xC3 0x01 too, so the callers decide what a framing that then
 * does not decode means (see createSchemaFreeAvroConverter).
 */
export function detectFraming(value: Buffer): Framing {
  if (value.length >= 4 && value.subarray(0, 4).equals(CONTAINER_MAGIC))
    return { kind: 'container' };
  if (value.length >= 10 && value[0] === 0xc3 && value[1] === 0x01)
    return { kind: 'single-object', fingerprint: value.subarray(2, 10), offset: 10 };
  if (value[0] === GLUE_HEADER_VERSION) return { kind: 'glue' };
  if (value.length >= 5 && value[0] === CONFLUENT_MAGIC)
    return { kind: 'confluent', schemaId: value.readUInt32BE(1), offset: 5 };
  return { kind: 'raw' };
}

export interface GlueHeader {
  readonly schemaVersionId: string;
  readonly compression: GlueCompression;
}

/** Checks a Glue header: its length and its compression byte. */
export function readGlueHeader(value: Buffer): GlueHeader {
  if (value.length < GLUE_HEADER_BYTES)
    throw new ConvertError(
      'CONVERT_GLUE_HEADER_TRUNCATED',
      `The value starts with the AWS Glue Schema Registry header version byte 0x03 but is ${value.length} byte(s) long; a Glue header takes ${GLUE_HEADER_BYTES} (version, compression, 16-byte schema version id)`,
      { details: { framing: 'glue' } },
    );
  const schemaVersionId = uuid(value.subarray(2, GLUE_HEADER_BYTES));
  const byte = value[1] ?? -1;
  const compression = (Object.keys(GLUE_COMPRESSION) as GlueCompression[]).find(
    (name) => GLUE_COMPRESSION[name] === byte,
  );
  if (compression === undefined)
    throw new ConvertError(
      'CONVERT_GLUE_COMPRESSION_UNKNOWN',
      `The AWS Glue Schema Registry header (schema version ${schemaVersionId}) has compression byte ${hexByte(byte)}; allowed: 0x00 (none), 0x05 (zlib)`,
      { details: { framing: 'glue', schemaVersionId } },
    );
  return { schemaVersionId, compression };
}

/**
 * Bound on one inflated Glue value. One Kafka record becomes one JSON line for TigerGraph's
 * Kafka, whose messages are at most 10 MB by default (`Kafka.MessageMaxSizeMB`, reference
 * section 5.5), so a datum beyond this could not be delivered; it also keeps a batch of small
 * zlib bombs from running the function out of memory, record by record.
 */
export const MAX_GLUE_VALUE_BYTES = 8 * 1024 * 1024;

/** The Avro datum of a Glue-framed value (a view, or the inflated bytes when compressed). */
export function readGlueDatum(value: Buffer, header: GlueHeader): Buffer {
  const body = value.subarray(GLUE_HEADER_BYTES);
  if (header.compression === 'none') return body;
  const details = { framing: 'glue', schemaVersionId: header.schemaVersionId };
  try {
    return inflateSync(body, { maxOutputLength: MAX_GLUE_VALUE_BYTES });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new ConvertError(
        'CONVERT_GLUE_PAYLOAD_TOO_LARGE',
        `The zlib-compressed AWS Glue Schema Registry value (schema version ${header.schemaVersionId}) inflates to more than ${MAX_GLUE_VALUE_BYTES} bytes, the limit for one value (a JSON line must fit a Kafka message of TigerGraph's)`,
        { details },
      );
    throw new ConvertError(
      'CONVERT_GLUE_ZLIB_INVALID',
      `The AWS Glue Schema Registry value (schema version ${header.schemaVersionId}) has compression byte 0x05 (zlib) but does not inflate as a zlib stream`,
      { cause: error, details },
    );
  }
}

/** Node visits a {@link mayHoldDatum} check may make per byte before it gives up (says "maybe"). */
const MAY_HOLD_STEPS_PER_BYTE = 8;

/** The state of one {@link mayHoldDatum} pass; `p` is -1 once the bytes cannot hold the datum. */
interface Pass {
  readonly buf: Buffer;
  p: number;
  steps: number;
}

const varint = (s: Pass): number => {
  let n = 0;
  let f = 1;
  let c: number | undefined;
  do {
    c = s.buf[s.p++];
    if (c === undefined) {
      s.p = -1;
      return 0;
    }
    n += (c & 0x7f) * f;
    f *= 128;
  } while (c & 0x80);
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
};
const take = (s: Pass, n: number): void => {
  if (s.p < 0) return;
  if (n < 0 || s.p + n > s.buf.length) s.p = -1;
  else s.p += n;
};

/** Walks one datum of `node`: false when it gives up (out of steps); then `s.p` says nothing. */
function walk(s: Pass, node: Node): boolean {
  if (--s.steps < 0) return false;
  switch (node.kind) {
    case 'null':
      return true;
    case 'boolean':
      take(s, 1);
      return true;
    case 'int':
    case 'long':
    case 'enum':
      varint(s);
      return true;
    case 'float':
      take(s, 4);
      return true;
    case 'double':
      take(s, 8);
      return true;
    case 'bytes':
    case 'string':
      take(s, varint(s));
      return true;
    case 'fixed':
      take(s, node.size);
      return true;
    case 'union': {
      const branch = node.branches[varint(s)];
      if (s.p < 0) return true;
      if (branch === undefined) {
        s.p = -1;
        return true;
      }
      return walk(s, branch);
    }
    case 'record':
      for (const field of node.fields) {
        if (!walk(s, field.type)) return false;
        if (s.p < 0) return true;
      }
      return true;
    case 'array':
    case 'map':
      for (;;) {
        let count = varint(s);
        if (s.p < 0 || count === 0) return true;
        if (count < 0) {
          count = -count;
          varint(s);
        }
        for (let i = 0; i < count; i++) {
          if (node.kind === 'map') take(s, varint(s));
          if (s.p < 0) return true;
          if (!walk(s, node.kind === 'map' ? node.values : node.items)) return false;
          if (s.p < 0) return true;
        }
      }
  }
}

/**
 * Whether `buf` from `start` may hold one datum of `node` that ends at the last byte. A quick
 * pass that writes nothing and throws nothing, so that telling raw Avro from a framing costs
 * no exception per record. It answers false only for what every decoder rejects (running out
 * of bytes, a negative length, a union branch out of range, bytes left over): false means the
 * datum does not decode; true promises nothing (and is the answer when the check gives up on
 * deep nesting or long runs of empty items).
 */
export function mayHoldDatum(node: Node, buf: Buffer, start: number): boolean {
  const s: Pass = { buf, p: start, steps: MAY_HOLD_STEPS_PER_BYTE * (buf.length - start) + 1024 };
  try {
    if (!walk(s, node)) return true;
  } catch (error) {
    // Nesting too deep for the stack: the decoder decides.
    if (error instanceof RangeError) return true;
    throw error;
  }
  return s.p === buf.length;
}
