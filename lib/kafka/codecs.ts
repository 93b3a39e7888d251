/**
 * Kafka's compression codecs for kafkajs, which ships only gzip: Snappy, LZ4 and zstd are
 * registered in its `CompressionCodecs` table (kafkajs's documented extension point), all
 * pure JavaScript so the arm64 Lambda bundle needs no native build. Codec ids Kafka does not
 * define (5-7) fail with a coded error instead of being read as uncompressed bytes.
 */
// kafkajs is CommonJS and Node's ESM loader does not see these two among its named exports.
import kafkajs from 'kafkajs';
import { ConfigError, TigerStreamError, messageOf } from '../errors/index.ts';
import { compressLz4Frame, decompressLz4Frames } from './lz4.ts';
import { compressSnappy, decompressSnappy } from './snappy.ts';
import { compressZstd, decompressZstd } from './zstd.ts';

/** A record batch could not be compressed or decompressed. */
export class CodecError extends TigerStreamError {}

/** Values of Kafka's producer `compression.type`, in Kafka's codec-id order. */
export const COMPRESSION_TYPES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

/** The connector file key TigerStream's producer reads its codec from (MirrorMaker's name). */
export const COMPRESSION_TYPE_KEY = 'producer.compression.type';
export const COMPRESSION_TYPE_INVALID = 'CONFIG_COMPRESSION_TYPE_INVALID';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * The largest record batch a codec decompresses: far above what Kafka's default 1 MiB
 * `message.max.bytes` expands to at real compression ratios, and a bound on a batch that
 * claims more.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Checks a `compression.type` value: `undefined` when allowed, else the problem.
 * For the configuration validator; Kafka spells the values in lower case only.
 *
 * @example
 * checkCompressionType('lz4'); // undefined
 * checkCompressionType('LZ4'); // 'must be one of none, gzip, snappy, lz4, zstd; found "LZ4"'
 */
export function checkCompressionType(value: string): string | undefined {
  return (COMPRESSION_TYPES as readonly string[]).includes(value)
    ? undefined
    : `must be one of ${COMPRESSION_TYPES.join(', ')}; found "${value}"`;
}

/**
 * The producer codec a connector's settings ask for (`producer.compression.type`, default
 * `none` as in Kafka).
 *
 * @throws ConfigError `CONFIG_COMPRESSION_TYPE_INVALID` naming the allowed values.
 * @example
 * createKafkaDelivery({ ..., compression: compressionTypeOf(config.settings) });
 */
export function compressionTypeOf(settings: Readonly<Record<string, string>>): CompressionType {
  const raw = settings[COMPRESSION_TYPE_KEY];
  if (raw === undefined || raw.trim() === '') return 'none';
  const value = raw.trim();
  const problem = checkCompressionType(value);
  if (problem !== undefined)
    throw new ConfigError(COMPRESSION_TYPE_INVALID, `${COMPRESSION_TYPE_KEY} ${problem}`, {
      details: { key: COMPRESSION_TYPE_KEY },
    });
  return value as CompressionType;
}

const KAFKAJS_CODEC_IDS: Readonly<Record<CompressionType, kafkajs.CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** kafkajs's codec id of a compression type. */
export const kafkaCompression = (type: CompressionType): kafkajs.CompressionTypes =>
  KAFKAJS_CODEC_IDS[type];

interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const codecOf = (
  name: CompressionType,
  compress: (data: Buffer) => Buffer,
  decompress: (data: Buffer, maxBytes: number) => Buffer,
): KafkaJsCodec => ({
  compress: (encoder) => {
    try {
      return Promise.resolve(compress(encoder.buffer));
    } catch (error) {
      return Promise.reject(
        new CodecError(
          'KAFKA_CODEC_COMPRESS_FAILED',
          `Compressing a record batch with ${name} failed: ${messageOf(error)}`,
          { cause: error, details: { codec: name } },
        ),
      );
    }
  },
  decompress: (buffer) => {
    try {
      return Promise.resolve(decompress(buffer, MAX_DECOMPRESSED_BATCH_BYTES));
    } catch (error) {
      // No `cause`: kafkajs's retrier passes on `error.cause ?? error` alone, so a cause here
      // would replace this coded error; the cause's message is part of this one.
      return Promise.reject(
        new CodecError(
          'KAFKA_CODEC_CORRUPT',
          `A ${name}-compressed record batch could not be decompressed: ${messageOf(error)}`,
          { details: { codec: name } },
        ),
      );
    }
  },
});

const CODECS: Readonly<Record<number, KafkaJsCodec>> = {
  [CompressionTypes.Snappy]: codecOf('snappy', compressSnappy, decompressSnappy),
  [CompressionTypes.LZ4]: codecOf('lz4', compressLz4Frame, decompressLz4Frames),
  [CompressionTypes.ZSTD]: codecOf('zstd', compressZstd, decompressZstd),
};

/** The three attribute bits that hold a record batch's codec (kafkajs's `COMPRESSION_CODEC_MASK`). */
const CODEC_IDS = 8;

const unsupported = (id: number) => (): never => {
  throw new CodecError(
    'KAFKA_CODEC_UNSUPPORTED',
    `A record batch uses compression codec id ${id}, which Kafka does not define; TigerStream reads ${COMPRESSION_TYPES.map((t, i) => `${t} (${i})`).join(', ')}`,
    { details: { codecId: id } },
  );
};

/**
 * Registers Snappy, LZ4 and zstd with kafkajs. kafkajs keeps its codecs in one table per
 * process, so this writes that table; calling it again changes nothing.
 */
export function registerCodecs(): void {
  const table = CompressionCodecs as unknown as Record<number, () => KafkaJsCodec>;
  for (const [id, codec] of Object.entries(CODECS)) table[Number(id)] = () => codec;
  for (let id = COMPRESSION_TYPES.length; id < CODEC_IDS; id++) table[id] = unsupported(id);
}

/**
 * The codec lib/kafka/fast-produce.ts compresses a record batch's records with (kafkajs's
 * registered codecs: gzip its own, the others {@link registerCodecs}'s); undefined for none.
 */
export function recordsCodec(
  type: CompressionType,
): { id: number; compress(records: Buffer): Promise<Buffer> } | undefined {
  if (type === 'none') return undefined;
  registerCodecs();
  const id = KAFKAJS_CODEC_IDS[type] as number;
  // Looked up per batch, as kafkajs does: the table is the one registry of codecs.
  const table = CompressionCodecs as unknown as Record<number, (() => KafkaJsCodec) | undefined>;
  return {
    id,
    compress: (records) => {
      const codec = table[id];
      if (codec === undefined)
        return Promise.reject(new Error(`No ${type} codec is registered with kafkajs`));
      return codec().compress({ buffer: records });
    },
  };
}
