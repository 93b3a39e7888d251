import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors/index.ts';
import {
  CodecError,
  COMPRESSION_TYPES,
  checkCompressionType,
  compressionTypeOf,
  registerCodecs,
} from '../../../lib/kafka/index.ts';
import { kafkaCompression } from '../../../lib/kafka/codecs.ts';
import { fixtureInput } from './codec-fixtures.ts';

const { CompressionCodecs, CompressionTypes } = kafkajs;

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
const lookup = (id: number): Codec =>
  (CompressionCodecs as unknown as Record<number, () => Codec>)[id]!();

describe('producer.compression.type', () => {
  it("defaults to none, as Kafka's producer does", () => {
    expect(compressionTypeOf({})).toBe('none');
    expect(compressionTypeOf({ 'producer.compression.type': ' ' })).toBe('none');
  });

  it.each(COMPRESSION_TYPES)('accepts %s', (type) => {
    expect(compressionTypeOf({ 'producer.compression.type': type })).toBe(type);
    expect(checkCompressionType(type)).toBeUndefined();
  });

  it.each(['LZ4', 'brotli', 'producer'])(
    'refuses %s with a coded error naming the allowed values',
    (value) => {
      const read = () => compressionTypeOf({ 'producer.compression.type': value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(
        `producer.compression.type must be one of none, gzip, snappy, lz4, zstd; found "${value}"`,
      );
      expect(() => read()).toThrow(
        expect.objectContaining({ code: 'CONFIG_COMPRESSION_TYPE_INVALID' }) as Error,
      );
    },
  );

  it("maps each type to kafkajs's codec id", () => {
    expect(COMPRESSION_TYPES.map(kafkaCompression)).toEqual([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ]);
  });
});

describe('registerCodecs', () => {
  registerCodecs();

  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ])('gives kafkajs a %s codec that round-trips a record batch', async (_, id) => {
    const codec = lookup(id);
    const compressed = await codec.compress({ buffer: fixtureInput() });
    expect((await codec.decompress(compressed)).equals(fixtureInput())).toBe(true);
  });

  it('is idempotent', () => {
    const before = lookup(CompressionTypes.LZ4);
    registerCodecs();
    expect(lookup(CompressionTypes.LZ4)).toBe(before);
  });

  it.each([5, 6, 7])(
    'refuses codec id %i, which Kafka does not define, with a coded error',
    (id) => {
      expect(() => lookup(id)).toThrow(CodecError);
      expect(() => lookup(id)).toThrow(`compression codec id ${id}, which Kafka does not define`);
      expect(() => lookup(id)).toThrow(
        expect.objectContaining({ code: 'KAFKA_CODEC_UNSUPPORTED' }) as Error,
      );
    },
  );

  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ])('names the codec when a %s batch cannot be decompressed', async (name, id) => {
    const failure = lookup(id).decompress(Buffer.from('definitely not compressed'));
    await expect(failure).rejects.toThrow(CodecError);
    await expect(failure).rejects.toMatchObject({
      code: 'KAFKA_CODEC_CORRUPT',
      details: { codec: name },
      message: expect.stringContaining(
        `A ${name}-compressed record batch could not be decompressed`,
      ) as string,
    });
  });
});
