/**
 * Formatting of Avro values as TigerGraph JSON text (DESIGN.md section 3), shared by the
 * compiled and the interpreted converters so both produce the same bytes.
 */

export type TimestampFormat = 'datetime' | 'iso8601' | 'epoch';
export const TIMESTAMP_FORMATS = ['datetime', 'iso8601', 'epoch'] as const;

/**
 * Shortest text that reads back as the same double; NaN and infinities as strings. Negative
 * zero keeps its sign (`-0`, which JSON parsers read back as -0), where String(-0) says "0".
 */
export const formatDouble = (x: number): string =>
  Number.isFinite(x)
    ? x === 0 && 1 / x < 0
      ? '-0'
      : String(x)
    : x > 0
      ? '"Infinity"'
      : x < 0
        ? '"-Infinity"'
        : '"NaN"';

/** Significant digits of a number's text (before any exponent, zeros at either end left out). */
function significantDigits(text: string): number {
  let first = -1;
  let last = -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x65) break; // e
    if (c < 0x30 || c > 0x39) continue; // the sign or the point
    if (c !== 0x30) {
      if (first < 0) first = n;
      last = n;
    }
    n++;
  }
  return first < 0 ? 0 : last - first + 1;
}

/** Smallest float32 magnitude the fast path of {@link formatFloat} takes (above FLT_MIN). */
const FLOAT_NORMAL_MIN = 1e-37;
/** Largest float32 magnitude the fast path takes (below FLT_MAX, 3.4e38). */
const FLOAT_FAST_MAX = 1e38;

/**
 * Shortest text that reads back (through float32) as the same float; -0 as `-0`.
 *
 * The answer is the first precision p at which `x.toPrecision(p)` reads back as x. Two fast
 * paths give that same text without the search: an integer below 2^24 is exact in a float
 * and no shorter rounding of it reads back as it; and when the double's own shortest text
 * (String(x)) has at most 6 significant digits, no shorter text can read back as x either,
 * because distinct decimals of at most 6 digits (FLT_DIG) always round to distinct normal
 * floats, and toPrecision at that length gives the double's text.
 */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x) || x === 0) return formatDouble(x);
  const abs = Math.abs(x);
  if (Number.isInteger(x) && abs < 16_777_216) return String(x);
  if (abs >= FLOAT_NORMAL_MIN && abs < FLOAT_FAST_MAX) {
    const text = String(x);
    if (significantDigits(text) <= 6) return text;
  }
  for (let p = 1; p < 10; p++) {
    const text = x.toPrecision(p);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(x);
}

import { ConvertError } from '../errors/index.ts';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Largest |ms| a JavaScript Date (and so an ISO timestamp) can hold. */
const MAX_DATE_MS = 8.64e15;

const outOfRange = (ms: number): ConvertError =>
  new ConvertError(
    'CONVERT_VALUE_OUT_OF_RANGE',
    `The date/timestamp value ${ms} ms from the epoch is outside the range a DATETIME can hold`,
  );

/**
 * "YYYY-MM-DDTHH:MM:SS.sssZ" of epoch milliseconds, by arithmetic (days to civil date), which
 * is several times faster than Date#toISOString and gives the same text for years 0-9999.
 */
/** Scratch for {@link civil}: year, month, day, hours, minutes, seconds, milliseconds. */
export const CIVIL = new Int32Array(7);

/**
 * Fills {@link CIVIL} with the UTC calendar fields of epoch milliseconds; false when the year
 * is outside 0-9999 (callers then use Date). Throws for values no Date can hold.
 */
export function civil(ms: number): boolean {
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw outOfRange(ms);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  // Howard Hinnant's civil_from_days.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return false;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  CIVIL[0] = year;
  CIVIL[1] = month;
  CIVIL[2] = day;
  CIVIL[3] = hours;
  CIVIL[4] = minutes;
  CIVIL[5] = seconds;
  CIVIL[6] = rest - seconds * 1000;
  return true;
}

const iso = (ms: number): string => {
  // Years outside 0-9999 have no "YYYY-MM-DD" text (Date writes "+010000-01-01"), and no
  // TigerGraph DATETIME holds them: the record is refused rather than sent malformed.
  if (!civil(ms)) throw outOfRange(ms);
  const [year, month, day, hours, minutes, seconds, millis] = CIVIL as unknown as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(millis, 3)}Z`;
};

/** Unscaled two's-complement big-endian bytes with a scale → the exact decimal digits. */
export function formatDecimal(bytes: Uint8Array, scale: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes.length > 0 && ((bytes[0] as number) & 0x80) !== 0) n -= 1n << BigInt(bytes.length * 8);
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

const MS_PER_DAY = 86_400_000;

/** Days since the epoch → "YYYY-MM-DD". */
export const formatDate = (days: number): string => `"${iso(days * MS_PER_DAY).slice(0, 10)}"`;

/** Milliseconds (or microseconds) after midnight → "HH:MM:SS.sss" (or .ssssss). */
export function formatTime(value: number, micros: boolean): string {
  const unit = micros ? 1_000_000 : 1000;
  const seconds = Math.floor(value / unit);
  const fraction = value - seconds * unit;
  return `"${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}.${pad(fraction, micros ? 6 : 3)}"`;
}

/** Epoch milliseconds (or microseconds) → TigerGraph DATETIME text, ISO 8601, or the number. */
export function formatTimestamp(
  value: number | bigint,
  micros: boolean,
  format: TimestampFormat,
): string {
  if (format === 'epoch') return String(value);
  const v = Number(value);
  const ms = micros ? Math.floor(v / 1000) : v;
  const text = iso(ms);
  if (format === 'datetime') return `"${text.slice(0, 10)} ${text.slice(11, 19)}"`;
  return micros
    ? `"${text.slice(0, 19)}.${pad(((v % 1_000_000) + 1_000_000) % 1_000_000, 6)}Z"`
    : `"${text}"`;
}

/** Avro duration (fixed 12: three little-endian uint32) → {"months","days","milliseconds"}. */
export const formatDuration = (b: Uint8Array): string => {
  const view = new DataView(b.buffer, b.byteOffset, 12);
  return `{"months":${view.getUint32(0, true)},"days":${view.getUint32(4, true)},"milliseconds":${view.getUint32(8, true)}}`;
};

export const formatBytes = (b: Uint8Array): string =>
  `"${Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64')}"`;
