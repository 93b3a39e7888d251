/**
 * A resolved Avro schema model (names and namespaces resolved, logical types kept), shared by
 * the compiled and the interpreted converters, plus CRC-64-AVRO fingerprints.
 */
import avro from 'avsc';
import { ConvertError, messageOf } from '../errors/index.ts';

export type LogicalType =
  | 'decimal'
  | 'date'
  | 'time-millis'
  | 'time-micros'
  | 'timestamp-millis'
  | 'timestamp-micros'
  | 'local-timestamp-millis'
  | 'local-timestamp-micros'
  | 'uuid'
  | 'duration';

export type Node =
  | {
      readonly kind: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';
      readonly logical?: LogicalType;
      readonly scale?: number;
    }
  | {
      readonly kind: 'fixed';
      readonly name: string;
      readonly size: number;
      readonly logical?: LogicalType;
      readonly scale?: number;
    }
  | { readonly kind: 'enum'; readonly name: string; readonly symbols: readonly string[] }
  | { readonly kind: 'array'; readonly items: Node }
  | { readonly kind: 'map'; readonly values: Node }
  | { readonly kind: 'union'; readonly branches: readonly Node[] }
  | RecordNode;

export interface RecordNode {
  readonly kind: 'record';
  readonly name: string;
  /** Filled after construction so recursive records can refer to themselves. */
  readonly fields: { readonly name: string; readonly type: Node }[];
}

const PRIMITIVES = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);
const LOGICAL: Record<string, readonly string[]> = {
  decimal: ['bytes', 'fixed'],
  date: ['int'],
  'time-millis': ['int'],
  'time-micros': ['long'],
  'timestamp-millis': ['long'],
  'timestamp-micros': ['long'],
  'local-timestamp-millis': ['long'],
  'local-timestamp-micros': ['long'],
  uuid: ['string'],
  duration: ['fixed'],
};

type Json = string | Record<string, unknown> | unknown[];

/** Bound on schema text accepted from a registry, a file or a message. */
export const MAX_SCHEMA_BYTES = 1024 * 1024;

const logicalOf = (
  schema: Record<string, unknown>,
  base: string,
  size?: number,
): { logical?: LogicalType; scale?: number } => {
  const lt = schema.logicalType;
  // Per the Avro spec, an invalid logical type is ignored and the underlying type used.
  if (typeof lt !== 'string' || !LOGICAL[lt]?.includes(base)) return {};
  if (lt === 'duration' && size !== 12) return {};
  if (lt === 'decimal') {
    const scale = typeof schema.scale === 'number' ? schema.scale : 0;
    const precision = schema.precision;
    if (typeof precision !== 'number' || precision < 1 || scale < 0 || scale > precision) return {};
    return { logical: 'decimal', scale };
  }
  return { logical: lt as LogicalType };
};

/**
 * Parses schema JSON (text or object) into the model; avsc validates it first.
 *
 * @throws ConvertError `CONVERT_SCHEMA_INVALID` naming the problem.
 */
export function parseSchema(schema: string | object): Node {
  let json: Json;
  try {
    json =
      typeof schema === 'string' && /^\s*[[{"]/.test(schema)
        ? (JSON.parse(schema) as Json)
        : (schema as Json);
    avro.Type.forSchema(json as avro.Schema, { wrapUnions: true });
  } catch (error) {
    throw new ConvertError(
      'CONVERT_SCHEMA_INVALID',
      `The Avro schema does not parse: ${messageOf(error)}`,
    );
  }
  const named = new Map<string, Node>();
  const fullName = (name: string, namespace: string | undefined): string =>
    name.includes('.') || !namespace ? name : `${namespace}.${name}`;
  const build = (s: Json, namespace: string | undefined): Node => {
    if (typeof s === 'string') {
      if (PRIMITIVES.has(s)) return { kind: s as 'null' };
      const found = named.get(fullName(s, namespace)) ?? named.get(s);
      if (!found)
        throw new ConvertError(
          'CONVERT_SCHEMA_INVALID',
          `The Avro schema refers to an undefined type ${s}`,
        );
      return found;
    }
    if (Array.isArray(s))
      return { kind: 'union', branches: s.map((b) => build(b as Json, namespace)) };
    const type = s.type as Json;
    if (typeof type !== 'string') return build(type, namespace);
    const ns = typeof s.namespace === 'string' ? s.namespace : namespace;
    switch (type) {
      case 'record':
      case 'error': {
        const name = fullName(String(s.name), ns);
        const node: RecordNode = { kind: 'record', name, fields: [] };
        named.set(name, node);
        const inner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined;
        for (const f of s.fields as { name: string; type: Json }[])
          node.fields.push({ name: f.name, type: build(f.type, inner) });
        return node;
      }
      case 'enum': {
        const node: Node = {
          kind: 'enum',
          name: fullName(String(s.name), ns),
          symbols: s.symbols as string[],
        };
        named.set(node.name, node);
        return node;
      }
      case 'fixed': {
        const size = Number(s.size);
        const node: Node = {
          kind: 'fixed',
          name: fullName(String(s.name), ns),
          size,
          ...logicalOf(s, 'fixed', size),
        };
        named.set(node.name, node);
        return node;
      }
      case 'array':
        return { kind: 'array', items: build(s.items as Json, ns) };
      case 'map':
        return { kind: 'map', values: build(s.values as Json, ns) };
      default:
        if (PRIMITIVES.has(type)) return { kind: type as 'null', ...logicalOf(s, type) };
        return build(type, ns);
    }
  };
  return build(json, undefined);
}

// CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form, as single-object encoding uses.
const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    table.push(fp & 0xffffffffffffffffn);
  }
  return table;
})();

/** The schema's Parsing Canonical Form (avsc's canonical schema). */
export const canonicalForm = (schema: string | Json): string =>
  JSON.stringify(
    avro.Type.forSchema(
      (typeof schema === 'string' && /^\s*[[{"]/.test(schema)
        ? JSON.parse(schema)
        : schema) as avro.Schema,
    ).schema(),
  );

/** CRC-64-AVRO of the canonical form, as the 8 little-endian bytes single-object encoding carries. */
export function fingerprint(schema: string | Json): Buffer {
  let fp = EMPTY;
  for (const byte of Buffer.from(canonicalForm(schema), 'utf8'))
    fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp & 0xffffffffffffffffn);
  return out;
}
