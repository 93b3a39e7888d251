/**
 * Kafka event-source-mapping events (Amazon MSK `aws:kafka` and self-managed
 * `SelfManagedKafka`) decoded into records ordered by offset within each partition.
 *
 * The decoder accepts every shape that AWS's and Powertools' published sample events show
 * (see test/fixtures/events/SOURCES.md), not only the one Lambda sends today.
 */
import { EventError } from '../errors/index.ts';

/**
 * Lambda sends `aws:kafka` (MSK) and `SelfManagedKafka`. The Powertools self-managed sample
 * event (Python, and TypeScript until 2024-11) says `aws:SelfManagedKafka`; events built from
 * it must decode too.
 */
export const EVENT_SOURCES = ['aws:kafka', 'SelfManagedKafka', 'aws:SelfManagedKafka'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** One header as the event carries it: a single-key object whose value is signed Java bytes. */
export type RawHeader = Readonly<Record<string, readonly number[]>>;

/** A record exactly as the ESM delivers it (key and value base64). */
export interface RawKafkaRecord {
  readonly topic: string;
  /**
   * A number from Lambda; a string of decimal digits in the AWS .NET sample event before
   * 2022 (aws-lambda-dotnet 60c0d1d3), so events built from it must decode too.
   */
  readonly partition: number | string;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType?: string;
  /** Absent or `null` when the record has no key. */
  readonly key?: string | null;
  /** Absent or `null` for a tombstone. */
  readonly value?: string | null;
  /** Absent, `null` or `[]` when the record has no headers. */
  readonly headers?: readonly RawHeader[] | null;
}

/** The Lambda event of a Kafka event-source mapping. */
export interface KafkaEvent {
  readonly eventSource: EventSource;
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly RawKafkaRecord[]>>;
}

/** A header after decoding; duplicate keys are kept, in order. */
export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer;
}

/** A decoded record: bytes, never strings, so nothing is lost before conversion. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: string | undefined;
  /** `null` when the event carried no key. */
  readonly key: Buffer | null;
  /** `null` for a tombstone (the event carried no value). */
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface DecodedBatch {
  readonly eventSource: EventSource;
  readonly eventSourceArn: string | undefined;
  readonly bootstrapServers: string | undefined;
  /** Ordered by topic, then partition, then offset. */
  readonly records: readonly KafkaRecord[];
}

/** Upper bound on records in one event; the ESM's own maximum batch size is 10,000. */
export const MAX_EVENT_RECORDS = 100_000;

/**
 * Base64 text (a length that is a multiple of 4, checked apart): the standard alphabet, and also
 * the URL-safe one's `-` and `_`, which Node's decoder reads as `+` and `/`, so such text
 * decodes to the bytes its writer meant.
 */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DECIMAL_DIGITS = /^[0-9]+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value);

/** The partition as a number: a non-negative integer, or a string of decimal digits. */
function toPartition(value: unknown): number | undefined {
  const n = typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value;
  return isInteger(n) && n >= 0 ? n : undefined;
}

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : `"${value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value) ?? ''}`.trimEnd();
};

/** Returns the first problem found in a raw record, or undefined when it is well formed. */
function recordProblem(record: unknown): string | undefined {
  if (!isObject(record)) return `expected a record object, found ${describe(record)}`;
  if (typeof record.topic !== 'string' || record.topic === '')
    return `topic: expected a non-empty string, found ${describe(record.topic)}`;
  if (toPartition(record.partition) === undefined)
    return `partition: expected a non-negative integer or a string of decimal digits, found ${describe(record.partition)}`;
  if (!isInteger(record.offset) || record.offset < 0)
    return `offset: expected a non-negative integer, found ${describe(record.offset)}`;
  if (!isInteger(record.timestamp))
    return `timestamp: expected epoch milliseconds, found ${describe(record.timestamp)}`;
  for (const field of ['key', 'value'] as const) {
    const v = record[field];
    if (
      v !== undefined &&
      v !== null &&
      (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v))
    )
      return `${field}: expected base64 text, null or nothing, found ${typeof v === 'string' ? 'text that is not base64' : describe(v)}`;
  }
  if (record.headers !== undefined && record.headers !== null) {
    if (!Array.isArray(record.headers))
      return `headers: expected an array, found ${describe(record.headers)}`;
    for (const [i, header] of (record.headers as unknown[]).entries()) {
      if (!isObject(header)) return `headers[${i}]: expected an object, found ${describe(header)}`;
      for (const [name, bytes] of Object.entries(header)) {
        if (!Array.isArray(bytes) || !bytes.every((b) => isInteger(b) && b >= -128 && b <= 255))
          return `headers[${i}].${name}: expected an array of bytes (-128..255), found ${describe(bytes)}`;
      }
    }
  }
  return undefined;
}

/** Type guard: true when `event` has the shape of a Kafka ESM event. */
export function isKafkaEvent(event: unknown): event is KafkaEvent {
  return eventProblem(event) === undefined;
}

function eventProblem(event: unknown): string | undefined {
  if (!isObject(event)) return `the event is ${describe(event)}, not an object`;
  if (!EVENT_SOURCES.includes(event.eventSource as EventSource))
    return `eventSource: expected one of ${EVENT_SOURCES.map((s) => `"${s}"`).join(', ')}, found ${describe(event.eventSource)}`;
  if (!isObject(event.records))
    return `records: expected an object keyed "<topic>-<partition>", found ${describe(event.records)}`;
  let count = 0;
  for (const [group, list] of Object.entries(event.records)) {
    if (!Array.isArray(list))
      return `records["${group}"]: expected an array, found ${describe(list)}`;
    for (const [i, record] of (list as unknown[]).entries()) {
      const problem = recordProblem(record);
      if (problem !== undefined) return `records["${group}"][${i}].${problem}`;
    }
    count += list.length;
  }
  if (count > MAX_EVENT_RECORDS)
    return `records: ${count} records in one event, more than the ${MAX_EVENT_RECORDS} allowed`;
  return undefined;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

const decodeHeaders = (
  headers: readonly RawHeader[] | undefined | null,
): readonly RecordHeader[] =>
  headers === undefined || headers === null || headers.length === 0
    ? NO_HEADERS
    : // Header values are signed Java bytes; Buffer.from masks each with & 255, which restores them.
      headers.flatMap((header) =>
        Object.entries(header).map(([key, bytes]) => ({ key, value: Buffer.from(bytes) })),
      );

const decodeBytes = (text: string | null | undefined): Buffer | null =>
  text === undefined || text === null ? null : Buffer.from(text, 'base64');

/** A raw record's fields with its key and value decoded (by whichever decoder the caller uses). */
const recordOf = (raw: RawKafkaRecord, key: Buffer | null, value: Buffer | null): KafkaRecord => ({
  topic: raw.topic,
  partition: typeof raw.partition === 'string' ? Number(raw.partition) : raw.partition,
  offset: raw.offset,
  timestamp: raw.timestamp,
  timestampType: raw.timestampType,
  key,
  value,
  headers: decodeHeaders(raw.headers),
});

/** Decodes one raw record (no validation; use {@link decodeKafkaEvent} on untrusted input). */
export function decodeRecord(raw: RawKafkaRecord): KafkaRecord {
  return recordOf(raw, decodeBytes(raw.key), decodeBytes(raw.value));
}

const byCoordinates = (a: KafkaRecord, b: KafkaRecord): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.offset - b.offset;

/** The bytes base64 text of this length (a multiple of 4) ending in `text` decodes to. */
const decodedLength = (text: string): number =>
  (text.length / 4) * 3 -
  (text.charCodeAt(text.length - 1) === 0x3d
    ? text.charCodeAt(text.length - 2) === 0x3d
      ? 2
      : 1
    : 0);

/** A record's key or value: text of a length that can be base64, null or absent. */
const maybeBase64 = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.length % 4 === 0);

/**
 * Every check of {@link recordProblem} but the base64 alphabet (the decoder checks that as it
 * decodes): true when `r` may be a well-formed record.
 */
const fastRecordCheck = (r: unknown): boolean => {
  if (!isObject(r)) return false;
  const headers = r.headers;
  return (
    typeof r.topic === 'string' &&
    r.topic !== '' &&
    (typeof r.partition === 'number'
      ? Number.isSafeInteger(r.partition) && r.partition >= 0
      : toPartition(r.partition) !== undefined) &&
    isInteger(r.offset) &&
    r.offset >= 0 &&
    isInteger(r.timestamp) &&
    maybeBase64(r.key) &&
    maybeBase64(r.value) &&
    (headers === undefined ||
      headers === null ||
      (Array.isArray(headers) && (headers.length === 0 || recordProblem(r) === undefined)))
  );
};

/**
 * The text with its padding (`=` or `==` at the end) written as `A` (six zero bits): the same
 * leading bytes, then one more byte per padding character (holding whatever bits the text's
 * last character leaves over), so texts joined end to end are one base64 text in which each
 * starts at a multiple of 4 characters (Node's decoder stops at the first `=`).
 */
const unpadded = (text: string): string =>
  text.charCodeAt(text.length - 1) !== 0x3d
    ? text
    : text.charCodeAt(text.length - 2) === 0x3d
      ? `${text.slice(0, -2)}AA`
      : `${text.slice(0, -1)}A`;

/**
 * The most base64 characters {@link decodeJoined} joins into one string (far below V8's
 * longest string; a Lambda event is at most 6 MB): an event with more text than that (only a
 * local run can send one) is decoded text by text.
 */
export const MAX_JOINED_TEXT = 32 * 1024 * 1024;

/**
 * The records of `lists` with each key and value the bytes `bytesOf` gives for its text;
 * undefined as soon as it gives none.
 */
function recordsWith(
  lists: readonly (readonly RawKafkaRecord[])[],
  count: number,
  bytesOf: (text: string) => Buffer | undefined,
): KafkaRecord[] | undefined {
  const records = new Array<KafkaRecord>(count);
  let n = 0;
  for (const list of lists)
    for (let i = 0; i < list.length; i++) {
      const raw = list[i] as RawKafkaRecord;
      const key = typeof raw.key === 'string' ? bytesOf(raw.key) : null;
      const value = typeof raw.value === 'string' ? bytesOf(raw.value) : null;
      if (key === undefined || value === undefined) return undefined;
      records[n++] = recordOf(raw, key, value);
    }
  return records;
}

/**
 * Every key and value of well-formed records decoded with one call to Node's decoder, or
 * undefined when some text is not base64 (or there is more than {@link MAX_JOINED_TEXT} of
 * it): their texts ({@link unpadded}) joined, checked to be ASCII and to decode to 3 bytes for
 * every 4 characters (a character Node's decoder skips or stops at makes fewer). A text then
 * decodes to what it decodes to alone, followed by a byte per padding character, which its
 * view leaves out; every byte of the buffer is written. One native call for the event instead
 * of two for every key and value: in an ad-hoc run (200,000 records of the pipeline bench in
 * events of 1,000, each built just before it was decoded; script not kept) decoding took 210
 * instead of 360 ns a record on Node 20 and 250 instead of 625 on Node 22, of which part is
 * the views, taken with `subarray` (as `decodeApart` now does too) instead of
 * `Buffer.from(arrayBuffer, offset, length)`, which is slow on Node 22; the two were not
 * measured apart.
 */
function decodeJoined(
  lists: readonly (readonly RawKafkaRecord[])[],
  count: number,
  text: number,
): KafkaRecord[] | undefined {
  if (text > MAX_JOINED_TEXT) return undefined;
  const parts: string[] = [];
  for (const list of lists)
    for (let i = 0; i < list.length; i++) {
      const { key, value } = list[i] as RawKafkaRecord;
      if (typeof key === 'string') parts.push(unpadded(key));
      if (typeof value === 'string') parts.push(unpadded(value));
    }
  const joined = parts.join('');
  if (Buffer.byteLength(joined, 'utf8') !== text) return undefined;
  const arena = Buffer.allocUnsafeSlow((text / 4) * 3);
  if (arena.write(joined, 0, 'base64') !== arena.length) return undefined;
  let at = 0;
  return recordsWith(lists, count, (t) => {
    const start = at;
    at += (t.length / 4) * 3;
    return arena.subarray(start, start + decodedLength(t));
  });
}

/**
 * Every key and value decoded text by text into one buffer sized to what well-formed text
 * decodes to (so no byte of it is left unwritten), each checked.
 *
 * @throws EventError `EVENT_MALFORMED` naming the first problem of the event.
 */
function decodeApart(
  event: unknown,
  lists: readonly (readonly RawKafkaRecord[])[],
  count: number,
): KafkaRecord[] {
  let bytes = 0;
  for (const list of lists)
    for (const { key, value } of list) {
      if (typeof key === 'string') bytes += decodedLength(key);
      if (typeof value === 'string') bytes += decodedLength(value);
    }
  const arena = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  // Node's decoder keeps only the low byte of a character above U+00FF (`Ł` reads as `A`), so
  // text must be ASCII first.
  const records = recordsWith(lists, count, (text) => {
    if (Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
    const written = arena.write(text, at, 'base64');
    if (written !== decodedLength(text)) return undefined;
    const view = arena.subarray(at, at + written);
    at += written;
    return view;
  });
  if (records === undefined) throw malformed(event);
  return records;
}

/**
 * Validates and decodes a Kafka ESM event.
 *
 * One pass checks every record's fields but the base64 alphabet; a second decodes every key and
 * value with one call to Node's decoder ({@link decodeJoined}), each key and value a view of its
 * buffer. When that call finds a problem, each text is decoded apart, which checks the alphabet
 * text by text: the text is ASCII, and decodes to as many bytes as its length says (Node's
 * decoder skips or stops at an ASCII character that is not base64). Either pass finding a
 * problem hands the event to the full validation, which names the first one.
 *
 * @throws EventError `EVENT_MALFORMED` naming the first field that is wrong and what is allowed.
 * @example
 * const batch = decodeKafkaEvent(event);
 * for (const r of batch.records) console.log(r.topic, r.partition, r.offset);
 */
export function decodeKafkaEvent(event: unknown): DecodedBatch {
  let wellFormed = isObject(event) && isObject(event.records);
  const lists = wellFormed ? Object.values((event as KafkaEvent).records) : [];
  let count = 0;
  // Characters of base64 text in keys and values.
  let text = 0;
  check: for (const list of lists) {
    if (!Array.isArray(list)) {
      wellFormed = false;
      break;
    }
    for (let i = 0; i < list.length; i++) {
      const r: unknown = list[i];
      if (!fastRecordCheck(r)) {
        wellFormed = false;
        break check;
      }
      const { key, value } = r as RawKafkaRecord;
      if (typeof key === 'string') text += key.length;
      if (typeof value === 'string') text += value.length;
    }
    count += list.length;
  }
  if (
    !wellFormed ||
    count > MAX_EVENT_RECORDS ||
    !EVENT_SOURCES.includes((event as KafkaEvent).eventSource)
  )
    throw malformed(event);
  const valid = event as KafkaEvent;
  const records = decodeJoined(lists, count, text) ?? decodeApart(event, lists, count);
  return {
    eventSource: valid.eventSource,
    eventSourceArn: valid.eventSourceArn,
    bootstrapServers: valid.bootstrapServers,
    records: records.sort(byCoordinates),
  };
}

/** The error naming the event's first problem (the full validation's). */
function malformed(event: unknown): EventError {
  const problem =
    eventProblem(event) ??
    // Not reached: every event the fast checks refuse, the full validation refuses too (the
    // property test in test/unit/event/decode.test.ts compares the two).
    'a record the decoder could not read';
  return new EventError('EVENT_MALFORMED', `Not a Kafka event-source mapping event: ${problem}`);
}

/** Encodes decoded records back into an ESM event (used by the local runner and tests). */
export function encodeKafkaEvent(
  records: readonly KafkaRecord[],
  source: { eventSource: EventSource; bootstrapServers: string; eventSourceArn?: string },
): KafkaEvent {
  const grouped: Record<string, RawKafkaRecord[]> = {};
  for (const r of records) {
    const raw: RawKafkaRecord = {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: r.timestampType ?? 'CREATE_TIME',
      ...(r.key === null ? {} : { key: r.key.toString('base64') }),
      ...(r.value === null ? {} : { value: r.value.toString('base64') }),
      // The ESM sends signed bytes; mirror that so the decoder is exercised as in Lambda.
      headers: r.headers.map((h) => ({
        [h.key]: Array.from(h.value, (b) => (b > 127 ? b - 256 : b)),
      })),
    };
    (grouped[`${r.topic}-${r.partition}`] ??= []).push(raw);
  }
  return {
    eventSource: source.eventSource,
    ...(source.eventSourceArn === undefined ? {} : { eventSourceArn: source.eventSourceArn }),
    bootstrapServers: source.bootstrapServers,
    records: grouped,
  };
}

/**
 * Validates and decodes one record as the event carries it (`tgstream convert` input).
 *
 * @throws EventError `EVENT_RECORD_MALFORMED` naming the field and what is allowed.
 */
export function parseRawRecord(value: unknown): KafkaRecord {
  const problem = recordProblem(value);
  if (problem !== undefined)
    throw new EventError('EVENT_RECORD_MALFORMED', `Not a Kafka record: ${problem}`);
  return decodeRecord(value as RawKafkaRecord);
}
