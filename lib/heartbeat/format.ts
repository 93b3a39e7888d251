/**
 * MirrorMaker 2's heartbeat records, as `org.apache.kafka.connect.mirror.Heartbeat`
 * (connect/mirror-client) writes and reads them: MirrorHeartbeatTask produces one to partition 0
 * of the `heartbeats` topic on the target cluster, record timestamp = heartbeat timestamp.
 * Our own encoder and decoder of that wire format, pure (no I/O).
 *
 * Both parts are Kafka protocol `Struct`s (org.apache.kafka.common.protocol.types.Schema), which
 * write their fields one after the other with no field names, no tags and no length prefix;
 * INT16 and INT64 big-endian, STRING as an INT16 byte length then that many UTF-8 bytes (never
 * negative: STRING is not NULLABLE_STRING):
 *
 *   key   = KEY_SCHEMA    sourceClusterAlias: STRING, targetClusterAlias: STRING
 *           (no version header)
 *   value = HEADER_SCHEMA version: INT16 (= 0)
 *           VALUE_SCHEMA_V0 timestamp: INT64 (epoch milliseconds)
 *
 * e.g. key of ("us", "eu") = 00 02 75 73 00 02 65 75; value at 1000 ms =
 * 00 00 | 00 00 00 00 00 00 03 e8. Kafka's reader refuses a value version other than 0
 * (UnsupportedVersionException); so does {@link decodeHeartbeat}.
 */
import { TigerStreamError } from '../errors/index.ts';

/** A heartbeat or its wire format is not what MirrorMaker 2 writes. */
export class HeartbeatError extends TigerStreamError {}

/** Where MirrorMaker 2 writes heartbeats on the target cluster (ReplicationPolicy.heartbeatsTopic). */
export const HEARTBEATS_TOPIC = 'heartbeats';
/** MirrorHeartbeatTask always writes to partition 0. */
export const HEARTBEATS_PARTITION = 0;
/** `Heartbeat.VERSION`: the only value layout there is. */
export const HEARTBEAT_VERSION = 0;
/** A Kafka protocol STRING's length is an INT16: at most 32767 UTF-8 bytes. */
export const MAX_ALIAS_BYTES = 0x7fff;

/** One heartbeat: who sends (source cluster alias) to whom (target alias), and when (epoch ms). */
export interface Heartbeat {
  readonly sourceClusterAlias: string;
  readonly targetClusterAlias: string;
  readonly timestamp: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const aliasBytes = (field: string, alias: string): Buffer => {
  const bytes = Buffer.from(alias, 'utf8');
  if (bytes.length > MAX_ALIAS_BYTES)
    throw new HeartbeatError(
      'HEARTBEAT_ALIAS_TOO_LONG',
      `The ${field} has ${bytes.length} UTF-8 bytes; a heartbeat key allows at most ${MAX_ALIAS_BYTES} (a Kafka protocol STRING)`,
      { details: { field, bytes: bytes.length } },
    );
  return bytes;
};

/** The record key: both aliases, each as a Kafka protocol STRING. */
export function encodeHeartbeatKey(
  heartbeat: Pick<Heartbeat, 'sourceClusterAlias' | 'targetClusterAlias'>,
): Buffer {
  const source = aliasBytes('sourceClusterAlias', heartbeat.sourceClusterAlias);
  const target = aliasBytes('targetClusterAlias', heartbeat.targetClusterAlias);
  const out = Buffer.alloc(2 + source.length + 2 + target.length);
  out.writeInt16BE(source.length, 0);
  source.copy(out, 2);
  out.writeInt16BE(target.length, 2 + source.length);
  target.copy(out, 4 + source.length);
  return out;
}

/** The record value: version 0 (INT16), then the timestamp (INT64). */
export function encodeHeartbeatValue(heartbeat: Pick<Heartbeat, 'timestamp'>): Buffer {
  if (!Number.isSafeInteger(heartbeat.timestamp))
    throw new HeartbeatError(
      'HEARTBEAT_TIMESTAMP_INVALID',
      `A heartbeat timestamp must be a whole number of epoch milliseconds; found ${heartbeat.timestamp}`,
    );
  const out = Buffer.alloc(2 + 8);
  out.writeInt16BE(HEARTBEAT_VERSION, 0);
  out.writeBigInt64BE(BigInt(heartbeat.timestamp), 2);
  return out;
}

/**
 * Encodes a heartbeat as MirrorMaker 2's record key and value.
 *
 * @throws HeartbeatError `HEARTBEAT_ALIAS_TOO_LONG`, `HEARTBEAT_TIMESTAMP_INVALID`.
 * @example
 * const { key, value } = encodeHeartbeat({ sourceClusterAlias: 'hello', targetClusterAlias: 'world', timestamp: Date.now() });
 */
export function encodeHeartbeat(heartbeat: Heartbeat): { key: Buffer; value: Buffer } {
  return { key: encodeHeartbeatKey(heartbeat), value: encodeHeartbeatValue(heartbeat) };
}

const invalid = (part: 'key' | 'value', why: string): HeartbeatError =>
  new HeartbeatError(
    part === 'key' ? 'HEARTBEAT_KEY_INVALID' : 'HEARTBEAT_VALUE_INVALID',
    `Not a MirrorMaker 2 heartbeat ${part}: ${why}`,
  );

/** Reads one STRING at `offset`; returns it and the offset after it. */
const readString = (bytes: Uint8Array, offset: number, field: string): [string, number] => {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (offset + 2 > view.length)
    throw invalid('key', `${field} ends after ${view.length - offset} of its 2 length bytes`);
  const length = view.readInt16BE(offset);
  if (length < 0) throw invalid('key', `${field} has a negative length (${length})`);
  const end = offset + 2 + length;
  if (end > view.length)
    throw invalid('key', `${field} needs ${length} bytes; ${view.length - offset - 2} are left`);
  try {
    return [utf8.decode(view.subarray(offset + 2, end)), end];
  } catch (error) {
    throw new HeartbeatError('HEARTBEAT_KEY_INVALID', `${field} is not valid UTF-8`, {
      cause: error,
    });
  }
};

/**
 * Decodes a record of the `heartbeats` topic, as `Heartbeat.deserializeRecord` does. Stricter
 * than Kafka's reader in two ways that only matter for malformed input: bytes after the last
 * field and invalid UTF-8 are refused rather than ignored or replaced.
 *
 * @throws HeartbeatError `HEARTBEAT_KEY_INVALID`, `HEARTBEAT_VALUE_INVALID`,
 *   `HEARTBEAT_VERSION_UNSUPPORTED`.
 */
export function decodeHeartbeat(record: {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}): Heartbeat {
  const { key, value } = record;
  if (key === null) throw invalid('key', 'the record has no key');
  if (value === null) throw invalid('value', 'the record has no value (a tombstone)');
  const [sourceClusterAlias, afterSource] = readString(key, 0, 'sourceClusterAlias');
  const [targetClusterAlias, afterTarget] = readString(key, afterSource, 'targetClusterAlias');
  if (afterTarget !== key.byteLength)
    throw invalid('key', `${key.byteLength - afterTarget} byte(s) follow targetClusterAlias`);

  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (v.length < 2) throw invalid('value', `it has ${v.length} byte(s), fewer than its version`);
  const version = v.readInt16BE(0);
  if (version !== HEARTBEAT_VERSION)
    throw new HeartbeatError(
      'HEARTBEAT_VERSION_UNSUPPORTED',
      `The heartbeat value has version ${version}; this reader knows version ${HEARTBEAT_VERSION}`,
      { details: { version } },
    );
  if (v.length !== 10)
    throw invalid('value', `version 0 has 10 bytes (version, timestamp); found ${v.length}`);
  const timestamp = v.readBigInt64BE(2);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER) || timestamp < BigInt(Number.MIN_SAFE_INTEGER))
    throw invalid('value', `timestamp ${timestamp} is beyond the range of epoch milliseconds`);
  return { sourceClusterAlias, targetClusterAlias, timestamp: Number(timestamp) };
}
