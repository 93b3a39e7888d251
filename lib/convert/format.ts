/**
 * Formatting of Avro values as TigerGraph JSON text (DESIGN.md section 3), shared by the
 * compiled and the interpreted converters so both produce the same bytes.
 */

export type TimestampFormat = 'datetime' | 'iso8601' | 'epoch';
export const TIMESTAMP_FORMATS = ['datetime', 'iso8601', 'epoch'] as const;

/** Shortest text that reads back as the same double; NaN and infinities as strings. */
export const formatDouble = (x: number): string =>
  Number.isFinite(x) ? String(x) : x > 0 ? '"Infinity"' : x < 0 ? '"-Infinity"' : '"NaN"';

/** Shortest text that reads back (through float32) as the same float. */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x)) return formatDouble(x);
  for (let p = 1; p < 10; p++) {
    const text = x.toPrecision(p);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(x);
}

import { ConvertError } from '../errors/index.ts';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** ISO text of epoch milliseconds; a date JavaScript cannot hold is a record-level error. */
const iso = (ms: number): string => {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new ConvertError('CONVERT_VALUE_OUT_OF_RANGE', `The date/timestamp value ${ms} ms from the epoch is outside the range a DATETIME can hold`);
  return date.toISOString();
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
export const formatDate = (days: number): string =>
  `"${iso(days * MS_PER_DAY).slice(0, 10)}"`;

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
