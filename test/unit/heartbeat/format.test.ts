import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEARTBEATS_PARTITION,
  HEARTBEATS_TOPIC,
  MAX_ALIAS_BYTES,
  decodeHeartbeat,
  encodeHeartbeat,
  encodeHeartbeatKey,
  encodeHeartbeatValue,
} from '../../../lib/heartbeat/index.ts';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe("MirrorMaker 2's heartbeat record format", () => {
  it('writes the bytes of org.apache.kafka.connect.mirror.Heartbeat (key: two STRINGs; value: version 0, INT64)', () => {
    const { key, value } = encodeHeartbeat({
      sourceClusterAlias: 'hello',
      targetClusterAlias: 'world',
      timestamp: 1_700_000_000_123,
    });
    // INT16 length 5, "hello", INT16 length 5, "world"; no version header on the key.
    expect(key).toEqual(hex('0005 68656c6c6f 0005 776f726c64'));
    // INT16 version 0, then 1700000000123 = 0x0000018bcfe5687b big-endian.
    expect(value).toEqual(hex('0000 0000018bcfe5687b'));
    expect(HEARTBEATS_TOPIC).toBe('heartbeats');
    expect(HEARTBEATS_PARTITION).toBe(0);
  });

  it('counts a STRING length in UTF-8 bytes, and allows empty aliases', () => {
    // "zürich" is 6 characters and 7 UTF-8 bytes (ü = c3 bc).
    expect(encodeHeartbeatKey({ sourceClusterAlias: 'zürich', targetClusterAlias: '' })).toEqual(
      hex('0007 7ac3bc72696368 0000'),
    );
    expect(encodeHeartbeatValue({ timestamp: 0 })).toEqual(hex('0000 0000000000000000'));
    // Before the epoch: two's complement, as Java's long.
    expect(encodeHeartbeatValue({ timestamp: -1 })).toEqual(hex('0000 ffffffffffffffff'));
  });

  it('decodes what it encodes, for any aliases and timestamp', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.maxSafeInteger(),
        (sourceClusterAlias, targetClusterAlias, timestamp) => {
          const heartbeat = { sourceClusterAlias, targetClusterAlias, timestamp };
          expect(decodeHeartbeat(encodeHeartbeat(heartbeat))).toEqual(heartbeat);
        },
      ),
    );
  });

  it('decodes hand-written MirrorMaker 2 bytes', () => {
    expect(
      decodeHeartbeat({
        key: hex('0002 7573 0002 6575'),
        value: hex('0000 00000000000003e8'),
      }),
    ).toEqual({ sourceClusterAlias: 'us', targetClusterAlias: 'eu', timestamp: 1000 });
  });

  it('refuses aliases longer than a Kafka STRING and timestamps that are not whole milliseconds', () => {
    const long = 'a'.repeat(MAX_ALIAS_BYTES + 1);
    expect(() => encodeHeartbeatKey({ sourceClusterAlias: long, targetClusterAlias: 'b' })).toThrow(
      expect.objectContaining({ code: 'HEARTBEAT_ALIAS_TOO_LONG' }),
    );
    expect(
      encodeHeartbeatKey({
        sourceClusterAlias: 'a'.repeat(MAX_ALIAS_BYTES),
        targetClusterAlias: '',
      }).length,
    ).toBe(2 + MAX_ALIAS_BYTES + 2);
    for (const timestamp of [1.5, Number.NaN, 2 ** 60])
      expect(() => encodeHeartbeatValue({ timestamp })).toThrow(
        expect.objectContaining({ code: 'HEARTBEAT_TIMESTAMP_INVALID' }),
      );
  });

  it.each([
    ['no key', null, '0000 00000000000003e8', 'HEARTBEAT_KEY_INVALID'],
    ['a tombstone', '0000 0000', null, 'HEARTBEAT_VALUE_INVALID'],
    ['a key cut inside a length', '0002 7573 00', '0000 00000000000003e8', 'HEARTBEAT_KEY_INVALID'],
    [
      'a key cut inside an alias',
      '0002 7573 0003 65',
      '0000 00000000000003e8',
      'HEARTBEAT_KEY_INVALID',
    ],
    ['a negative length', 'ffff 0000', '0000 00000000000003e8', 'HEARTBEAT_KEY_INVALID'],
    ['bytes after the key', '0000 0000 00', '0000 00000000000003e8', 'HEARTBEAT_KEY_INVALID'],
    ['invalid UTF-8', '0001 ff 0000', '0000 00000000000003e8', 'HEARTBEAT_KEY_INVALID'],
    ['a value version 1', '0000 0000', '0001 00000000000003e8', 'HEARTBEAT_VERSION_UNSUPPORTED'],
    ['a short value', '0000 0000', '0000 000003e8', 'HEARTBEAT_VALUE_INVALID'],
    ['a one-byte value', '0000 0000', '00', 'HEARTBEAT_VALUE_INVALID'],
    ['bytes after the value', '0000 0000', '0000 00000000000003e8 00', 'HEARTBEAT_VALUE_INVALID'],
    ['a timestamp beyond 2^53', '0000 0000', '0000 7fffffffffffffff', 'HEARTBEAT_VALUE_INVALID'],
  ])('refuses %s', (_what, key, value, code) => {
    expect(() =>
      decodeHeartbeat({
        key: key === null ? null : hex(key),
        value: value === null ? null : hex(value),
      }),
    ).toThrow(expect.objectContaining({ code }));
  });

  it('reads a record key and value held in a larger buffer (a consumer slice)', () => {
    const pool = Buffer.concat([hex('ffff'), hex('0001 61 0001 62'), hex('0000 0000000000000007')]);
    expect(decodeHeartbeat({ key: pool.subarray(2, 8), value: pool.subarray(8) })).toEqual({
      sourceClusterAlias: 'a',
      targetClusterAlias: 'b',
      timestamp: 7,
    });
  });
});
