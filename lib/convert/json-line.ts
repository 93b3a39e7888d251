/**
 * One JSON value as one compact line. TigerGraph reads JSON lines: a pretty-printed value
 * (as producers and Powertools' sample events write them) would become several lines, each
 * rejected, and the counts would no longer map to records. Whitespace outside strings is
 * insignificant in JSON (RFC 8259 section 2), so removing it changes nothing a loader reads;
 * numbers and strings are copied byte for byte (no JSON.parse: longs beyond 2^53 keep their digits).
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWhitespace = (b: number): boolean => b === SPACE || b === LF || b === CR || b === TAB;

/** True when the bytes contain a line separator TigerGraph would split on (`\n` or `\r`). */
export const hasLineBreak = (value: Buffer): boolean =>
  value.indexOf(LF) !== -1 || value.indexOf(CR) !== -1;

/**
 * The value as one compact JSON line when it is a JSON object or array, or `undefined` when it
 * is not one (plain text, CSV, binary): strings must close, brackets must balance and nothing
 * but whitespace may follow the top-level value; a raw control character inside a string is
 * not JSON. Returns the same buffer when there is nothing to remove. Scalars and the grammar
 * inside tokens are left for TigerGraph to judge, as it judges any line.
 *
 * @example compactJsonLine(Buffer.from('{\n  "id": 1\n}\n')) // <Buffer '{"id":1}'>
 */
export function compactJsonLine(value: Buffer): Buffer | undefined {
  let start = 0;
  while (start < value.length && isWhitespace(value[start] as number)) start++;
  const first = value[start];
  if (first !== 0x7b && first !== 0x5b) return undefined; // { or [
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  let depth = 0;
  let inString = false;
  let removed = start > 0;
  let i = start;
  for (; i < value.length; i++) {
    const b = value[i] as number;
    if (inString) {
      if (b < 0x20) return undefined;
      out[n++] = b;
      if (b === BACKSLASH) {
        const next = value[++i];
        if (next === undefined) return undefined;
        out[n++] = next;
      } else if (b === QUOTE) inString = false;
      continue;
    }
    if (isWhitespace(b)) {
      removed = true;
      continue;
    }
    out[n++] = b;
    if (b === QUOTE) inString = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) break;
      if (depth < 0) return undefined;
    }
  }
  if (depth !== 0 || inString) return undefined;
  for (i++; i < value.length; i++) {
    if (!isWhitespace(value[i] as number)) return undefined;
    removed = true;
  }
  return removed ? Buffer.from(out.subarray(0, n)) : value;
}
