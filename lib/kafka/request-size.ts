/**
 * The producer's request size (`producer.max.request.size`, Kafka's producer key): how large a
 * record may be, and how a send is cut into requests within it, as Kafka's Java producer does.
 */
import { ConfigError } from '../errors/index.ts';
import type { OutRecord } from './index.ts';

/** The connector file key of the producer's request size limit (Kafka's name). */
export const MAX_REQUEST_SIZE_KEY = 'producer.max.request.size';
/** Kafka's own upper bound of a request a broker reads (socket.request.max.bytes default). */
export const MAX_REQUEST_SIZE_LIMIT = 104_857_600;

/**
 * The producer's request size limit a connector asks for (`producer.max.request.size`), or
 * undefined when it sets none.
 *
 * @throws ConfigError `CONFIG_MAX_REQUEST_SIZE_INVALID` for anything but an integer of 1 to
 * {@link MAX_REQUEST_SIZE_LIMIT}.
 */
export function maxRequestSizeOf(settings: Readonly<Record<string, string>>): number | undefined {
  const raw = settings[MAX_REQUEST_SIZE_KEY]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REQUEST_SIZE_LIMIT)
    throw new ConfigError(
      'CONFIG_MAX_REQUEST_SIZE_INVALID',
      `${MAX_REQUEST_SIZE_KEY} must be an integer from 1 to ${MAX_REQUEST_SIZE_LIMIT}; found "${raw}"`,
      { details: { key: MAX_REQUEST_SIZE_KEY } },
    );
  return n;
}

/**
 * An upper bound of a record's size in a Kafka v2 record batch: its key, value and headers
 * plus the most their length prefixes and the record's own fields (varints) can take.
 */
export const recordSizeBound = (r: OutRecord): number =>
  36 +
  (r.key?.length ?? 0) +
  (r.value?.length ?? 0) +
  r.headers.reduce((n, h) => n + 10 + Buffer.byteLength(h.key) + h.value.length, 0);
/** A record batch's header, and a produce request's own fields per topic-partition. */
const BATCH_OVERHEAD = 61 + 16;
/** The most a request holding only `r` can take. */
export const requestSizeBound = (r: OutRecord): number =>
  recordSizeBound(r) + BATCH_OVERHEAD + Buffer.byteLength(r.topic);

/**
 * Cuts records, in order, into requests whose size bound stays within `max` (a record alone
 * in its request when it needs one).
 */
export function requestsWithin(records: readonly OutRecord[], max: number): OutRecord[][] {
  const out: OutRecord[][] = [];
  let current: OutRecord[] = [];
  let size = 0;
  let batches = new Set<string>();
  const cost = (r: OutRecord, where: string): number =>
    recordSizeBound(r) + (batches.has(where) ? 0 : BATCH_OVERHEAD + Buffer.byteLength(r.topic));
  for (const r of records) {
    const where = `${r.topic}\u0000${r.partition ?? -1}`;
    if (current.length > 0 && size + cost(r, where) > max) {
      out.push(current);
      current = [];
      size = 0;
      batches = new Set();
    }
    size += cost(r, where);
    batches.add(where);
    current.push(r);
  }
  if (current.length > 0) out.push(current);
  return out;
}
