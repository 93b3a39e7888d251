/**
 * Value converters (DESIGN.md section 3). Keys and headers always pass through as bytes.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KafkaRecord } from '../event/index.ts';
import { readStoreAsPem, type ConnectorConfig } from '../config/index.ts';
import { ConfigError, ConvertError, messageOf } from '../errors/index.ts';
import { compactJsonLines, hasLineBreak } from './json-line.ts';
import {
  createRegistryAvroConverter,
  createSchemaFreeAvroConverter,
  withCoordinates,
  type AvroConverterOptions,
  type AvroValueConverter,
} from './avro.ts';
import { TIMESTAMP_FORMATS, type TimestampFormat } from './format.ts';
import { createRegistryClient, type RegistryClient } from './registry.ts';
import { parseSchema } from './schema.ts';

export { createCompiledConverter, generateSource, type CompileOptions } from './compiled.ts';
export { createInterpretedConverter, type DatumConverter } from './interpreted.ts';
export { createRegistryClient, RegistryError, type RegistryClient } from './registry.ts';
export { detectFraming, readContainer } from './framing.ts';
export { compactJsonLines, hasLineBreak } from './json-line.ts';
export { canonicalForm, fingerprint, parseSchema } from './schema.ts';
export { TIMESTAMP_FORMATS, type TimestampFormat } from './format.ts';
export { EXACT_LONG, createRegistryAvroConverter, createSchemaFreeAvroConverter } from './avro.ts';

/** What one record becomes: JSON lines (or raw bytes), or nothing for a tombstone. */
export type Converted =
  { readonly kind: 'values'; readonly values: readonly Buffer[] } | { readonly kind: 'tombstone' };

/** A converter turns one record's value into zero or more output values. */
export interface Converter {
  readonly name: string;
  /** Throws ConvertError (record-level) or a retriable error (the batch is retried). */
  convert(record: KafkaRecord): Promise<Converted> | Converted;
}

const TOMBSTONE: Converted = Object.freeze({ kind: 'tombstone' });

/** What the byte-array converter does with a value that is not JSON and spans lines. */
export type MultilinePolicy = 'keep' | 'reject';

/**
 * ByteArrayConverter. A value that is JSON (an object or array, or several as JSON Lines)
 * becomes one compact line per JSON value: TigerGraph reads one JSON object per line, so a
 * pretty-printed value would otherwise become several rejected lines. Any other value passes
 * unchanged. A non-JSON value with a line break (Protobuf bytes, multi-line text) is a
 * record-level error under `reject`, the policy whenever TigerStream calls the loader: the
 * loader would split it into lines that are no longer this record and take neighbours'
 * counts; one line ending after single-line text is dropped instead. Under `keep` (mirror-only:
 * the user's own job reads the topic) a non-JSON value is mirrored as it is, as MirrorMaker does.
 */
export const createByteArrayConverter = (
  options: { readonly multiline?: MultilinePolicy } = {},
): Converter => ({
  name: 'ByteArrayConverter',
  convert: (record) => {
    const value = record.value;
    if (value === null) return TOMBSTONE;
    const lines = compactJsonLines(value);
    if (lines !== undefined) return { kind: 'values', values: lines };
    if (options.multiline !== 'reject') return { kind: 'values', values: [value] };
    // One line ending after the text (as `echo` and many producers add) is not a second line.
    const end = value.length - (value.at(-1) === 0x0a ? (value.at(-2) === 0x0d ? 2 : 1) : 0);
    const line = end === value.length ? value : value.subarray(0, end);
    if (hasLineBreak(line))
      throw new ConvertError(
        'CONVERT_VALUE_MULTILINE',
        `The value of ${record.topic}/${record.partition}@${record.offset} is not JSON and contains a line break; TigerGraph's loader reads one record per line, so allowed values are JSON objects or arrays (pretty-printed or JSON Lines are fine) or text without line breaks`,
        {
          details: { topic: record.topic, partition: record.partition, offset: record.offset },
        },
      );
    return { kind: 'values', values: [line] };
  },
});

const avroConverter = (name: string, convert: AvroValueConverter): Converter => ({
  name,
  async convert(record) {
    if (record.value === null) return TOMBSTONE;
    try {
      const lines = await convert(record.value);
      // A null datum or an empty container file gives no line: counted like a tombstone.
      return lines.length === 0 ? TOMBSTONE : { kind: 'values', values: lines };
    } catch (error) {
      throw withCoordinates(error, record);
    }
  },
});

const readText = async (key: string, path: string, cwd: string): Promise<string> => {
  try {
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new ConfigError(
      'CONFIG_SCHEMA_FILE_UNREADABLE',
      `${key}: cannot read ${path}: ${messageOf(error)}`,
    );
  }
};

/**
 * Schemas from a setting: inline JSON (one schema, or a JSON array of schemas) or
 * comma-separated paths of .avsc files. Each is checked to parse.
 */
export async function loadSchemas(
  key: string,
  value: string | undefined,
  cwd = process.cwd(),
): Promise<string[]> {
  if (value === undefined || value.trim() === '') return [];
  const text = value.trim();
  let schemas: string[];
  if (/^[{"]/.test(text)) schemas = [text];
  else if (text.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(
        'CONFIG_SCHEMA_INVALID',
        `${key} is not valid JSON: ${messageOf(error)}`,
      );
    }
    schemas = (list as unknown[]).map((s) => JSON.stringify(s));
  } else schemas = await Promise.all(text.split(',').map((p) => readText(key, p.trim(), cwd)));
  for (const s of schemas) {
    try {
      parseSchema(s);
    } catch (error) {
      throw new ConfigError('CONFIG_SCHEMA_INVALID', `${key}: ${messageOf(error)}`);
    }
  }
  return schemas;
}

export interface ConverterDeps {
  readonly registry?: RegistryClient;
  readonly cwd?: string;
  readonly compile?: AvroConverterOptions['compile'];
}

/** The converter a connector names. */
export async function createConverter(
  config: Pick<ConnectorConfig, 'valueConverter' | 'schemaRegistryUrl' | 'settings'> & {
    /** Undefined: mirror-only, converted as kafka delivery is (bytes mirrored unchanged). */
    readonly tigergraph?: Pick<NonNullable<ConnectorConfig['tigergraph']>, 'delivery'> | undefined;
  },
  deps: ConverterDeps = {},
): Promise<Converter> {
  if (config.valueConverter === 'bytes')
    return createByteArrayConverter({
      // Mirror-only connectors (no loader call) mirror non-JSON bytes unchanged.
      multiline: config.tigergraph === undefined ? 'keep' : 'reject',
    });
  const s = config.settings;
  const cwd = deps.cwd ?? process.cwd();
  const timestampFormat = (s['value.converter.timestamp.format']?.trim() ||
    'datetime') as TimestampFormat;
  if (!TIMESTAMP_FORMATS.includes(timestampFormat))
    throw new ConfigError(
      'CONFIG_TIMESTAMP_FORMAT_INVALID',
      `value.converter.timestamp.format: found "${timestampFormat}"; allowed: ${TIMESTAMP_FORMATS.join(', ')}`,
    );
  const [readerSchema] = await loadSchemas(
    'value.converter.reader.schema',
    s['value.converter.reader.schema'],
    cwd,
  );
  const options: AvroConverterOptions = {
    timestampFormat,
    ...(readerSchema ? { readerSchema } : {}),
    ...(deps.compile ? { compile: deps.compile } : {}),
  };
  if (config.valueConverter === 'avro')
    return avroConverter(
      'TigerGraphAvroConverterWithoutSchemaRegistry',
      createSchemaFreeAvroConverter(
        await loadSchemas('value.converter.schemas', s['value.converter.schemas'], cwd),
        options,
      ),
    );
  const trustLocation = s['value.converter.schema.registry.ssl.truststore.location'];
  const ca =
    s['value.converter.schema.registry.ssl.truststore.certificates'] ??
    (trustLocation
      ? (
          await readStoreAsPem(
            'value.converter.schema.registry.ssl.truststore.location',
            resolve(cwd, trustLocation),
            s['value.converter.schema.registry.ssl.truststore.password'],
          )
        ).certificates
      : undefined);
  const registry =
    deps.registry ??
    createRegistryClient({
      url: config.schemaRegistryUrl ?? '',
      userInfo: s['value.converter.basic.auth.user.info'],
      bearerToken: s['value.converter.bearer.auth.token'],
      ca,
    });
  return avroConverter('TigerGraphAvroConverter', createRegistryAvroConverter(registry, options));
}

/** Schema files named by value.converter.schemas / reader.schema become inline JSON (the Lambda has no files). */
export async function inlineSchemaFiles(
  settings: Record<string, string>,
): Promise<Record<string, string>> {
  const out = { ...settings };
  for (const key of ['value.converter.schemas', 'value.converter.reader.schema']) {
    const value = settings[key];
    if (value === undefined || /^\s*[[{"]/.test(value)) continue;
    const schemas = await loadSchemas(key, value);
    out[key] = key.endsWith('reader.schema') ? (schemas[0] ?? '') : `[${schemas.join(',')}]`;
  }
  return out;
}
