import avro from 'avsc';
import {
  EXACT_LONG,
  createCompiledConverter,
  createInterpretedConverter,
  parseSchema,
  type TimestampFormat,
} from '../../lib/convert/index.ts';

const PRIMITIVE = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
/** The same wire format without logical types on primitives (avsc's custom long applies to 'long' only). */
export const underlying = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(underlying);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Record<string, unknown>;
  if (typeof s.type === 'string' && PRIMITIVE.has(s.type)) return s.type;
  const out: Record<string, unknown> = { ...s };
  if (s.fields)
    out.fields = (s.fields as Record<string, unknown>[]).map((f) => ({
      ...f,
      type: underlying(f.type),
    }));
  if (s.items) out.items = underlying(s.items);
  if (s.values) out.values = underlying(s.values);
  if (typeof s.type === 'object') out.type = underlying(s.type);
  return out;
};

export const avroType = (schema: unknown): avro.Type =>
  avro.Type.forSchema(underlying(schema) as avro.Schema, {
    wrapUnions: true,
    registry: { long: EXACT_LONG },
  });
export const encode = (schema: unknown, value: unknown): Buffer => avroType(schema).toBuffer(value);

/** Converts with both converters, asserting they agree, and returns the text. */
export function convertBoth(
  schema: unknown,
  bytes: Buffer,
  ts: TimestampFormat = 'datetime',
): string | undefined {
  const node = parseSchema(schema as object);
  const compiled = createCompiledConverter(node, ts)(bytes, 0);
  const interpreted = createInterpretedConverter(node, ts)(bytes, 0);
  const text = compiled.value?.toString('utf8');
  if (text !== interpreted.value?.toString('utf8') || compiled.end !== interpreted.end)
    throw new Error(
      `compiled and interpreted differ:\n${String(text)}\n${String(interpreted.value?.toString('utf8'))}`,
    );
  if (compiled.end !== bytes.length)
    throw new Error(`consumed ${compiled.end} of ${bytes.length} bytes`);
  return text;
}

/** A record schema with one field of `type`, and its converted text for `value`. */
export const field = (
  type: unknown,
  value: unknown,
  ts: TimestampFormat = 'datetime',
): string | undefined => {
  const schema = { type: 'record', name: 'R', fields: [{ name: 'f', type }] };
  return convertBoth(schema, encode(schema, { f: value }), ts);
};
