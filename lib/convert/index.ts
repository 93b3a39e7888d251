/**
 * Value converters (DESIGN.md section 3). Keys and headers always pass through as bytes.
 */
import type { KafkaRecord } from '../event/index.ts';
import type { ConnectorConfig } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';

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

/** ByteArrayConverter: the value unchanged (plaintext or JSON lines). */
export const createByteArrayConverter = (): Converter => ({
  name: 'ByteArrayConverter',
  convert: (record) =>
    record.value === null ? TOMBSTONE : { kind: 'values', values: [record.value] },
});

/** The converter a connector names. */
export function createConverter(config: Pick<ConnectorConfig, 'valueConverter'>): Converter {
  switch (config.valueConverter) {
    case 'bytes':
      return createByteArrayConverter();
    case 'avro':
    case 'avro-registry':
      throw new ConfigError(
        'CONFIG_VALUE_CONVERTER_NOT_AVAILABLE',
        `value.converter ${config.valueConverter === 'avro' ? 'TigerGraphAvroConverterWithoutSchemaRegistry' : 'TigerGraphAvroConverter'} is not available in this build yet; use org.apache.kafka.connect.converters.ByteArrayConverter`,
      );
  }
}
