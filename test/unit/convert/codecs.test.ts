/**
 * Container codecs: snappy (with its CRC-32) and zstandard beside null and deflate, each
 * bounded (MAX_BLOCK_BYTES per value; zstd windows), each failure a coded record-level error.
 * The weather files are our own (test/fixtures/avro/generate.mjs), beside Apache Avro's own
 * data files (test/fixtures/avro/apache), with the readings Apache
 * Avro documents for its interoperability data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { createSchemaFreeAvroConverter } from '../../../lib/convert/avro.ts';
import {
  MAX_BLOCK_BYTES,
  MAX_ZSTD_WINDOW_BYTES,
  MAX_ZSTD_WINDOW_MOVES,
  crc32,
} from '../../../lib/convert/codecs.ts';
import { ConvertError } from '../../../lib/errors/index.ts';
import { ROOT } from '../../helpers/fixtures.ts';
import { containerFile } from './avro-bytes.ts';

const WEATHER = {
  type: 'record',
  name: 'test.Weather',
  fields: [
    { name: 'station', type: 'string' },
    { name: 'time', type: 'long' },
    { name: 'temp', type: 'int' },
  ],
};
const WEATHER_LINES = [
  '{"station":"011990-99999","time":-619524000000,"temp":0}',
  '{"station":"011990-99999","time":-619506000000,"temp":22}',
  '{"station":"011990-99999","time":-619484400000,"temp":-11}',
  '{"station":"012650-99999","time":-655531200000,"temp":111}',
  '{"station":"012650-99999","time":-655509600000,"temp":78}',
];
const weather = avro.Type.forSchema(WEATHER as avro.Schema);
const SCHEMA = JSON.stringify(WEATHER);
/** The five readings as one uncompressed block. */
const READINGS = Buffer.concat(
  WEATHER_LINES.map((l) => weather.toBuffer(JSON.parse(l) as Record<string, unknown>)),
);

const convert = (file: Buffer) =>
  createSchemaFreeAvroConverter([], { timestampFormat: 'datetime' })(file).then((lines) =>
    lines.map(String),
  );
async function failure(file: Buffer): Promise<ConvertError> {
  let caught: unknown;
  try {
    await convert(file);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConvertError);
  expect((caught as ConvertError).retriable).toBe(false);
  return caught as ConvertError;
}
const fixture = (name: string): Buffer => readFileSync(join(ROOT, 'test/fixtures/avro', name));

const crcBE = (data: Buffer): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out;
};
/** A block as the Avro snappy codec stores it: raw snappy, then the big-endian CRC-32. */
const snappyBlock = (data: Buffer, crc = crcBE(data)): Buffer =>
  Buffer.concat([snappy.compress(data), crc]);

describe('snappy', () => {
  it('reads a container file with the snappy codec, two blocks (fixture)', async () => {
    expect(await convert(fixture('weather-snappy.avro'))).toEqual(WEATHER_LINES);
  });

  it("reads many blocks written by avsc's BlockEncoder with a snappy codec", async () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'Company',
      fields: [
        { name: 'company', type: 'string' },
        { name: 'employee_num', type: 'int' },
      ],
    });
    const records = Array.from({ length: 3000 }, (_, i) => ({
      company: `Company ${i % 97} ${'x'.repeat(i % 13)}`,
      employee_num: i * 7919 - 10_000,
    }));
    const encoder = new avro.streams.BlockEncoder(type, {
      codec: 'snappy',
      codecs: {
        snappy: (buf: Buffer, cb: (error: Error | null, out?: Buffer) => void) => {
          cb(null, snappyBlock(buf));
        },
      },
      blockSize: 2048,
    });
    const chunks: Buffer[] = [];
    encoder.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => encoder.on('end', resolve));
    for (const r of records) encoder.write(r);
    encoder.end();
    await done;
    expect(await convert(Buffer.concat(chunks))).toEqual(records.map((r) => JSON.stringify(r)));
  });

  it('checks the CRC-32: a wrong one is CONVERT_CODEC_CHECKSUM_MISMATCH', async () => {
    const bad = Buffer.from(crcBE(READINGS));
    bad[3] = (bad[3] as number) ^ 1;
    const file = containerFile(SCHEMA, [{ count: 5, data: snappyBlock(READINGS, bad) }], 'snappy');
    const error = await failure(file);
    expect(error.code).toBe('CONVERT_CODEC_CHECKSUM_MISMATCH');
    expect(error.message).toContain('CRC-32');
  });

  it('truncated data: a cut snappy stream, a block too short, a cut file', async () => {
    // Text without repeats compresses to one literal run; cut, the run overruns the data.
    const text = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37) % 251));
    const compressed = snappy.compress(text);
    const cut = Buffer.concat([compressed.subarray(0, 100), crcBE(text)]);
    const invalid = await failure(containerFile(SCHEMA, [{ count: 1, data: cut }], 'snappy'));
    expect(invalid.code).toBe('CONVERT_CODEC_DATA_INVALID');
    expect(invalid.message).toContain('codec snappy');
    const short = containerFile(SCHEMA, [{ count: 1, data: Buffer.from([1, 2]) }], 'snappy');
    expect((await failure(short)).code).toBe('CONVERT_CODEC_DATA_INVALID');
    const whole = containerFile(SCHEMA, [{ count: 5, data: snappyBlock(READINGS) }], 'snappy');
    expect((await failure(whole.subarray(0, whole.length - 20))).code).toBe(
      'CONVERT_CONTAINER_INVALID',
    );
  });

  it('refuses a stream that says it inflates beyond MAX_BLOCK_BYTES, before allocating', async () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0]);
    const error = await failure(containerFile(SCHEMA, [{ count: 1, data: huge }], 'snappy'));
    expect(error.code).toBe('CONVERT_CODEC_OUTPUT_TOO_LARGE');
    expect(error.message).toContain(`more than ${MAX_BLOCK_BYTES} bytes`);
  });

  it('crc32 is CRC-32/ISO-HDLC', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

// zstd frames by hand (RFC 8878), for what no honest encoder writes.
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Frame header descriptor 0 (no content size, no checksum), window descriptor `w`. */
const header = (w: number, descriptor = 0): Buffer =>
  Buffer.concat([ZSTD_MAGIC, Buffer.from([descriptor, w])]);
/** Window descriptor for 2^log bytes. */
const windowLog = (log: number): number => (log - 10) << 3;
const block = (type: 0 | 1 | 2 | 3, size: number, body: Buffer, last: boolean): Buffer => {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.concat([Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), body]);
};
const rawFrame = (data: Buffer): Buffer =>
  Buffer.concat([header(windowLog(17)), block(0, data.length, data, true)]);
const zstdFile = (data: Buffer, count = 5): Buffer =>
  containerFile(SCHEMA, [{ count, data }], 'zstandard');

/** The blocks of a file written with generate.mjs's sync marker. */
function storedBlocks(file: Buffer): { count: number; data: Buffer }[] {
  const sync = Buffer.from('TigerStreamSync!', 'latin1');
  const blocks: { count: number; data: Buffer }[] = [];
  let p = file.indexOf(sync) + 16;
  const varint = (): number => {
    let n = 0;
    let f = 1;
    let c: number;
    do {
      c = file[p++] as number;
      n += (c & 0x7f) * f;
      f *= 128;
    } while (c & 0x80);
    return n / 2;
  };
  while (p < file.length) {
    const count = varint();
    const size = varint();
    blocks.push({ count, data: file.subarray(p, p + size) });
    p += size + 16;
  }
  return blocks;
}

describe('zstandard', () => {
  it('reads a container file with the zstandard codec, two blocks (fixture)', async () => {
    expect(await convert(fixture('weather-zstandard.avro'))).toEqual(WEATHER_LINES);
  });

  it('reads raw and RLE blocks, several frames, skippable frames and content checksums', async () => {
    expect(await convert(zstdFile(rawFrame(READINGS)))).toEqual(WEATHER_LINES);
    const [first, rest] = [READINGS.subarray(0, 10), READINGS.subarray(10)];
    // A skippable frame (magic 0x184D2A5A), 3 bytes of user data.
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    // Descriptor 0x04: a 4-byte content checksum follows the last block (not checked).
    const checksummed = Buffer.concat([
      header(windowLog(17), 0x04),
      block(0, rest.length, rest, true),
      Buffer.alloc(4),
    ]);
    expect(
      await convert(zstdFile(Buffer.concat([rawFrame(first), skippable, checksummed]))),
    ).toEqual(WEATHER_LINES);
    // An int schema: an RLE block of four 0x02 bytes is four records of 1.
    const rle = Buffer.concat([header(windowLog(17)), block(1, 4, Buffer.from([2]), true)]);
    expect(await convert(containerFile('"int"', [{ count: 4, data: rle }], 'zstandard'))).toEqual([
      '1',
      '1',
      '1',
      '1',
    ]);
  });

  it('truncated data is CONVERT_CODEC_DATA_INVALID', async () => {
    const [stored] = storedBlocks(fixture('weather-zstandard.avro'));
    for (const cut of [1, 5, stored!.data.length - 6]) {
      const error = await failure(zstdFile(stored!.data.subarray(0, cut), stored!.count));
      expect(error.code).toBe('CONVERT_CODEC_DATA_INVALID');
      expect(error.message).toContain('codec zstandard');
    }
    expect((await failure(zstdFile(rawFrame(READINGS).subarray(0, 20)))).code).toBe(
      'CONVERT_CODEC_DATA_INVALID',
    );
  });

  it('rejects what is not a zstd frame: no magic, a reserved block type, a dictionary', async () => {
    for (const data of [
      Buffer.from('not zstd at all'),
      Buffer.concat([header(windowLog(17)), block(3, 0, Buffer.alloc(0), true)]),
      // Descriptor 0x01: a one-byte dictionary id follows the window descriptor.
      Buffer.concat([
        header(windowLog(17), 0x01),
        Buffer.from([7]),
        block(0, 0, Buffer.alloc(0), true),
      ]),
    ])
      expect((await failure(zstdFile(data))).code).toBe('CONVERT_CODEC_DATA_INVALID');
  });

  it('refuses a window beyond MAX_ZSTD_WINDOW_BYTES before the decoder allocates it', async () => {
    const error = await failure(
      zstdFile(Buffer.concat([header(windowLog(31)), block(0, 0, Buffer.alloc(0), true)])),
    );
    expect(error.code).toBe('CONVERT_CODEC_WINDOW_TOO_LARGE');
    expect(error.message).toContain(
      `${2 ** 31}-byte window, more than the ${MAX_ZSTD_WINDOW_BYTES}`,
    );
  });

  it('refuses many tiny blocks under a large window (each moves the whole window)', async () => {
    const blocks = MAX_ZSTD_WINDOW_MOVES / MAX_ZSTD_WINDOW_BYTES + 1;
    const tiny = Array.from({ length: blocks }, (_, i) =>
      block(0, 1, Buffer.from([0]), i === blocks - 1),
    );
    const error = await failure(zstdFile(Buffer.concat([header(windowLog(23)), ...tiny])));
    expect(error.code).toBe('CONVERT_CODEC_WINDOW_TOO_LARGE');
    expect(error.message).toContain('MAX_ZSTD_WINDOW_MOVES');
  });

  it('bounds the output: a declared content size, RLE blocks that inflate past MAX_BLOCK_BYTES', async () => {
    // Descriptor 0xc0: an 8-byte content size, here 2^40.
    const declared = Buffer.concat([
      header(windowLog(17), 0xc0),
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]),
      block(0, 0, Buffer.alloc(0), true),
    ]);
    expect((await failure(zstdFile(declared))).code).toBe('CONVERT_CODEC_OUTPUT_TOO_LARGE');
    const max = 128 * 1024;
    const blocks = MAX_BLOCK_BYTES / max + 1;
    const rle = Array.from({ length: blocks }, (_, i) =>
      block(1, max, Buffer.from([0]), i === blocks - 1),
    );
    const error = await failure(zstdFile(Buffer.concat([header(windowLog(17)), ...rle])));
    expect(error.code).toBe('CONVERT_CODEC_OUTPUT_TOO_LARGE');
    expect(error.message).toContain('MAX_BLOCK_BYTES');
  });
});

describe('deflate and the codec list', () => {
  it('a corrupt deflate block is CONVERT_CODEC_DATA_INVALID', async () => {
    const file = containerFile(
      SCHEMA,
      [{ count: 5, data: Buffer.from([0xff, 0xff, 0xff]) }],
      'deflate',
    );
    expect((await failure(file)).code).toBe('CONVERT_CODEC_DATA_INVALID');
  });

  it('MAX_BLOCK_BYTES bounds all blocks of one value together, not each', async () => {
    const big = deflateRawSync(Buffer.alloc(MAX_BLOCK_BYTES / 2 + 1));
    const file = containerFile(
      '"null"',
      [
        { count: 0, data: big },
        { count: 0, data: big },
      ],
      'deflate',
    );
    expect((await failure(file)).code).toBe('CONVERT_CODEC_OUTPUT_TOO_LARGE');
  });

  it('names the supported codecs for any other', async () => {
    const error = await failure(containerFile(SCHEMA, [], 'bzip2'));
    expect(error.code).toBe('CONVERT_CODEC_UNSUPPORTED');
    expect(error.message).toBe(
      'The Avro container file uses codec bzip2; supported: null, deflate, snappy, zstandard',
    );
  });
});

describe("Apache Avro's own data files (test/fixtures/avro/apache, written by Java's Avro)", () => {
  const apache = (name: string): Buffer =>
    readFileSync(join(ROOT, 'test/fixtures/avro/apache', name));

  it.each(['weather.avro', 'weather-deflate.avro', 'weather-snappy.avro', 'weather-zstd.avro'])(
    '%s gives the five readings of Apache weather.json',
    async (name) => {
      expect(await convert(apache(name))).toEqual(WEATHER_LINES);
    },
  );

  it('weather-sorted.avro gives the same readings in its own order', async () => {
    const lines = await convert(apache('weather-sorted.avro'));
    expect(lines).toHaveLength(5);
    expect([...lines].sort()).toEqual([...WEATHER_LINES].sort());
    expect(lines[0]).toBe(WEATHER_LINES[3]);
  });

  it('syncInMeta.avro (a sync marker inside the metadata): 6,001 records, as avsc reads them', async () => {
    const file = apache('syncInMeta.avro');
    const expected: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const decoder = new avro.streams.BlockDecoder();
      decoder.on('data', (r: unknown) => expected.push(JSON.stringify(r)));
      decoder.on('end', resolve);
      decoder.on('error', reject);
      decoder.end(file);
    });
    const lines = await convert(file);
    expect(lines).toHaveLength(6001);
    expect(lines).toEqual(expected);
  });
});
