/**
 * Kafka's Produce request (versions 3 to 7: the same body) with record batches of magic 2,
 * encoded straight into one buffer: the records' sizes are summed first, then every field is
 * written once, with no object per record. Pure: no I/O, no client.
 *
 * Formats: https://kafka.apache.org/documentation/#recordbatch and the Produce request in
 * https://kafka.apache.org/protocol#The_Messages_Produce.
 */
import { crc32c } from './crc32c.ts';

/** What a record batch holds of one record. */
export interface BatchRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
  readonly timestamp: number;
}

/** The records of one partition of one topic, as one record batch. */
export interface PartitionBatch {
  readonly partition: number;
  /** A whole record batch, from {@link prepareRecordBatch}. */
  readonly batch: PreparedBatch;
}

export interface TopicBatches {
  readonly topic: string;
  readonly partitions: readonly PartitionBatch[];
}

/** Compresses a batch's records section (attributes bits 0-2 say with which codec). */
export interface RecordsCodec {
  /** Kafka's codec number: 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  readonly id: number;
  compress(records: Buffer): Promise<Buffer>;
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** Bytes of an unsigned varint (up to 2^53). */
const uvarintSize = (u: number): number => {
  let size = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    size++;
  }
  return size;
};

/** Bytes of a signed (zigzag) varint or varlong. */
export const varintSize = (n: number): number => uvarintSize(zigzag(n));

/** Writes `n` zigzag-encoded at `at`; returns the position after it. */
const writeVarint = (buf: Buffer, at: number, n: number): number => {
  let u = zigzag(n);
  while (u >= 128) {
    buf[at++] = (u % 128) | 128;
    u = Math.floor(u / 128);
  }
  buf[at++] = u;
  return at;
};

/** Writes a signed 64-bit integer given as a safe JavaScript number. */
const writeInt64 = (buf: Buffer, at: number, n: number): number => {
  const high = Math.floor(n / 0x1_0000_0000);
  buf.writeInt32BE(high, at);
  buf.writeUInt32BE(n - high * 0x1_0000_0000, at + 4);
  return at + 8;
};

/** Size of one record's body (after its length varint). */
const recordBodySize = (r: BatchRecord, timestampDelta: number, offsetDelta: number): number => {
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta);
  size += r.key === null ? 1 : varintSize(r.key.length) + r.key.length;
  size += r.value === null ? 1 : varintSize(r.value.length) + r.value.length;
  const headers = r.headers;
  size += varintSize(headers.length);
  for (let j = 0; j < headers.length; j++) {
    const h = headers[j] as BatchRecord['headers'][number];
    const k = Buffer.byteLength(h.key);
    size += varintSize(k) + k;
    size += h.value === null ? 1 : varintSize(h.value.length) + h.value.length;
  }
  return size;
};

/** Bytes before the records: baseOffset through the records count. */
export const RECORD_BATCH_OVERHEAD = 61;
/** Where the CRC-32C's span (attributes to the end) starts. */
const CRC_FROM = 21;

const writeRecords = (
  buf: Buffer,
  at: number,
  records: readonly BatchRecord[],
  sizes: Int32Array,
  firstTimestamp: number,
): number => {
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as BatchRecord;
    at = writeVarint(buf, at, sizes[i] as number);
    buf[at++] = 0; // record attributes: unused
    at = writeVarint(buf, at, r.timestamp - firstTimestamp);
    at = writeVarint(buf, at, i);
    if (r.key === null) at = writeVarint(buf, at, -1);
    else {
      at = writeVarint(buf, at, r.key.length);
      buf.set(r.key, at);
      at += r.key.length;
    }
    if (r.value === null) at = writeVarint(buf, at, -1);
    else {
      at = writeVarint(buf, at, r.value.length);
      buf.set(r.value, at);
      at += r.value.length;
    }
    const headers = r.headers;
    at = writeVarint(buf, at, headers.length);
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j] as BatchRecord['headers'][number];
      at = writeVarint(buf, at, Buffer.byteLength(h.key));
      at += buf.write(h.key, at);
      if (h.value === null) at = writeVarint(buf, at, -1);
      else {
        at = writeVarint(buf, at, h.value.length);
        at += h.value.copy(buf, at);
      }
    }
  }
  return at;
};

/** Writes the header of the batch at `buf[at, at + size)` (its records already written). */
const writeHeader = (
  buf: Buffer,
  at: number,
  size: number,
  records: number,
  firstTimestamp: number,
  maxTimestamp: number,
  codec: number,
): void => {
  writeInt64(buf, at, 0); // baseOffset: the broker assigns offsets
  buf.writeInt32BE(size - 12, at + 8); // batchLength: the bytes after this field
  buf.writeInt32BE(-1, at + 12); // partitionLeaderEpoch: set by the broker
  buf[at + 16] = 2; // magic
  buf.writeInt16BE(codec, at + 21); // attributes: codec; CREATE_TIME; not transactional, not control
  buf.writeInt32BE(records - 1, at + 23); // lastOffsetDelta
  writeInt64(buf, at + 27, firstTimestamp);
  writeInt64(buf, at + 35, maxTimestamp);
  writeInt64(buf, at + 43, -1); // producerId: none (not idempotent)
  buf.writeInt16BE(-1, at + 51); // producerEpoch
  buf.writeInt32BE(-1, at + 53); // baseSequence
  buf.writeInt32BE(records, at + 57);
  buf.writeUInt32BE(crc32c(buf, at + CRC_FROM, at + size), at + 17);
};

/**
 * A record batch whose size is known and which is written where its request wants it, so a
 * request's batches are written once, straight into the request's buffer.
 */
export interface PreparedBatch {
  /** Bytes of the whole record batch. */
  readonly size: number;
  /** Writes the batch at `buf[at, at + size)`. */
  write(buf: Buffer, at: number): void;
}

/**
 * One record batch (magic 2) of `records`, in their order, offsets deltas 0..n-1, timestamps
 * as deltas from the smallest; the records section compressed when `codec` is given (then
 * compressed here; an uncompressed batch is sized here and written by `write`).
 *
 * @example
 * const batch = await prepareRecordBatch(records);
 * const buf = Buffer.allocUnsafe(batch.size);
 * batch.write(buf, 0);
 */
export async function prepareRecordBatch(
  records: readonly BatchRecord[],
  codec?: RecordsCodec,
): Promise<PreparedBatch> {
  if (records.length === 0) throw new RangeError('A record batch needs at least one record');
  let first = Infinity;
  let max = -Infinity;
  for (let i = 0; i < records.length; i++) {
    const t = (records[i] as BatchRecord).timestamp;
    if (t < first) first = t;
    if (t > max) max = t;
  }
  const sizes = new Int32Array(records.length);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const size = recordBodySize(
      records[i] as BatchRecord,
      (records[i] as BatchRecord).timestamp - first,
      i,
    );
    sizes[i] = size;
    total += varintSize(size) + size;
  }
  if (codec === undefined) {
    const size = RECORD_BATCH_OVERHEAD + total;
    return {
      size,
      write(buf, at) {
        const end = writeRecords(buf, at + RECORD_BATCH_OVERHEAD, records, sizes, first);
        if (end !== at + size)
          throw new Error(`Record batch size mismatch: ${end - at} != ${size}`);
        writeHeader(buf, at, size, records.length, first, max, 0);
      },
    };
  }
  const plain = Buffer.allocUnsafe(total);
  writeRecords(plain, 0, records, sizes, first);
  const compressed = await codec.compress(plain);
  const size = RECORD_BATCH_OVERHEAD + compressed.length;
  return {
    size,
    write(buf, at) {
      compressed.copy(buf, at + RECORD_BATCH_OVERHEAD);
      writeHeader(buf, at, size, records.length, first, max, codec.id);
    },
  };
}

/** {@link prepareRecordBatch}'s batch in a buffer of its own. */
export async function encodeRecordBatch(
  records: readonly BatchRecord[],
  codec?: RecordsCodec,
): Promise<Buffer> {
  const batch = await prepareRecordBatch(records, codec);
  const buf = Buffer.allocUnsafe(batch.size);
  batch.write(buf, 0);
  return buf;
}

/**
 * The body of a Produce request, versions 3 to 7 (no transactional id), after the request
 * header the client writes, at `headroom` in the buffer returned: the bytes before it are left
 * for that header (lib/kafka/request-frame.ts), so the request needs no second buffer.
 */
export function encodeProduceBody(
  acks: number,
  timeoutMs: number,
  topics: readonly TopicBatches[],
  headroom = 0,
): Buffer {
  let size = headroom + 2 + 2 + 4 + 4;
  for (const t of topics) {
    size += 2 + Buffer.byteLength(t.topic) + 4;
    for (const p of t.partitions) size += 4 + 4 + p.batch.size;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeInt16BE(-1, headroom); // transactional_id: null
  at = buf.writeInt16BE(acks, at);
  at = buf.writeInt32BE(timeoutMs, at);
  at = buf.writeInt32BE(topics.length, at);
  for (const t of topics) {
    at = buf.writeInt16BE(Buffer.byteLength(t.topic), at);
    at += buf.write(t.topic, at);
    at = buf.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      at = buf.writeInt32BE(p.partition, at);
      at = buf.writeInt32BE(p.batch.size, at);
      p.batch.write(buf, at);
      at += p.batch.size;
    }
  }
  return buf;
}
