/**
 * JSON values as compact lines. TigerGraph reads JSON lines: a pretty-printed value (as
 * producers and Powertools' sample events write them) would become several lines, each
 * rejected, and the counts would no longer map to records. Whitespace outside strings is
 * insignificant in JSON (RFC 8259 section 2), so removing it changes nothing a loader reads;
 * numbers and strings are copied byte for byte (no JSON.parse: longs beyond 2^53 keep their
 * digits). The grammar is checked in full, so text that merely looks like JSON (`{a b}`) is
 * never altered.
 */

import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  CR,
  DOT,
  ESCAPES,
  LF,
  LITERALS,
  MAX_JSON_DEPTH,
  MINUS,
  OPEN_ARRAY,
  OPEN_OBJECT,
  PLUS,
  QUOTE,
  isDigit,
  isHex,
  isWhitespace,
} from './json-bytes.ts';
import { isCompactJson } from './json-compact.ts';

export { MAX_JSON_DEPTH } from './json-bytes.ts';

/** True when the bytes contain a line separator TigerGraph would split on (`\n` or `\r`). */
export const hasLineBreak = (value: Buffer): boolean =>
  value.indexOf(LF) !== -1 || value.indexOf(CR) !== -1;

const EMPTY = Buffer.alloc(0);

/**
 * A scanner that checks JSON and writes it without insignificant whitespace. Until it meets
 * whitespace to leave out, what it would write is the source itself (`n` equals `i`), so it
 * writes nothing: `out` is made, with the bytes so far, at the first whitespace skipped. One
 * scanner serves every call ({@link compactJsonLines} is synchronous and not re-entered).
 */
class Compactor {
  src: Buffer = EMPTY;
  out: Buffer | undefined;
  n = 0;
  i = 0;
  reset(src: Buffer): void {
    this.src = src;
    this.out = undefined;
    this.n = 0;
    this.i = 0;
  }
  skipWhitespace(): void {
    if (!isWhitespace(this.src[this.i])) return;
    if (this.out === undefined) {
      this.out = Buffer.allocUnsafe(this.src.length);
      this.src.copy(this.out, 0, 0, this.n);
    }
    do this.i++;
    while (isWhitespace(this.src[this.i]));
  }
  copy(b: number): void {
    if (this.out !== undefined) this.out[this.n] = b;
    this.n++;
    this.i++;
  }
  /** Copies the source from `i` to `end` (bytes already checked) and moves past them. */
  copyTo(end: number): void {
    const out = this.out;
    if (out !== undefined) for (let k = this.i; k < end; k++) out[this.n++] = this.src[k] as number;
    else this.n += end - this.i;
    this.i = end;
  }
  /** One value at `i` (whitespace already skipped); false when it is not JSON. */
  value(depth: number): boolean {
    const b = this.src[this.i];
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) return this.container(b, depth + 1);
    if (b === QUOTE) return this.string();
    if (b === MINUS || isDigit(b)) return this.number();
    return this.literal();
  }
  container(open: number, depth: number): boolean {
    if (depth > MAX_JSON_DEPTH) return false;
    const close = open === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
    this.copy(open);
    this.skipWhitespace();
    if (this.src[this.i] === close) {
      this.copy(close);
      return true;
    }
    for (;;) {
      if (open === OPEN_OBJECT) {
        if (this.src[this.i] !== QUOTE || !this.string()) return false;
        this.skipWhitespace();
        if (this.src[this.i] !== COLON) return false;
        this.copy(COLON);
        this.skipWhitespace();
      }
      if (!this.value(depth)) return false;
      this.skipWhitespace();
      const next = this.src[this.i];
      if (next === close) {
        this.copy(close);
        return true;
      }
      if (next !== COMMA) return false;
      this.copy(COMMA);
      this.skipWhitespace();
    }
  }
  string(): boolean {
    this.copy(QUOTE);
    const src = this.src;
    for (;;) {
      // A run of bytes that need no look (neither a control byte, quote nor backslash) at once.
      let end = this.i;
      let b = src[end];
      while (b !== undefined && b >= 0x20 && b !== QUOTE && b !== BACKSLASH) b = src[++end];
      this.copyTo(end);
      if (b === undefined || b < 0x20) return false;
      if (b === QUOTE) {
        this.copy(QUOTE);
        return true;
      }
      if (b === BACKSLASH) {
        const e = this.src[this.i + 1];
        if (e === undefined || !ESCAPES.has(e)) return false;
        this.copy(b);
        this.copy(e);
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            if (!isHex(this.src[this.i])) return false;
            this.copy(this.src[this.i] as number);
          }
        }
        continue;
      }
      this.copy(b);
    }
  }
  digits(): boolean {
    let end = this.i;
    while (isDigit(this.src[end])) end++;
    if (end === this.i) return false;
    this.copyTo(end);
    return true;
  }
  number(): boolean {
    if (this.src[this.i] === MINUS) this.copy(MINUS);
    if (this.src[this.i] === 0x30) this.copy(0x30);
    else if (!this.digits()) return false;
    if (this.src[this.i] === DOT) {
      this.copy(DOT);
      if (!this.digits()) return false;
    }
    const e = this.src[this.i];
    if (e === 0x65 || e === 0x45) {
      this.copy(e);
      const sign = this.src[this.i];
      if (sign === PLUS || sign === MINUS) this.copy(sign);
      if (!this.digits()) return false;
    }
    return true;
  }
  literal(): boolean {
    for (const word of LITERALS) {
      if (this.src.subarray(this.i, this.i + word.length).equals(word)) {
        for (const b of word) this.copy(b);
        return true;
      }
    }
    return false;
  }
}

/**
 * The value as compact JSON lines, one per top-level JSON object or array it holds (a single
 * value, pretty-printed or not, or several as JSON Lines), or `undefined` when it is not such
 * JSON (plain text, CSV, binary, a bare scalar, anything the JSON grammar refuses). A value
 * that is already one compact line comes back as the same buffer.
 *
 * @example compactJsonLines(Buffer.from('{\n  "id": 1\n}\n')) // [<Buffer '{"id":1}'>]
 */
export function compactJsonLines(value: Buffer): Buffer[] | undefined {
  return isCompactJson(value) ? [value] : scanJsonLines(value);
}

/**
 * {@link compactJsonLines} by the full scanner alone, for any text (exported for the tests
 * that hold {@link isCompactJson} to it).
 */
export function scanJsonLines(value: Buffer): Buffer[] | undefined {
  const c = scanner;
  c.reset(value);
  try {
    // Where each value starts in the output: the first alone, the others (JSON Lines) listed.
    let first = -1;
    let more: number[] | undefined;
    c.skipWhitespace();
    while (c.i < value.length) {
      const b = value[c.i];
      if (b !== OPEN_OBJECT && b !== OPEN_ARRAY) return undefined;
      if (first === -1) first = c.n;
      else (more ??= []).push(c.n);
      if (!c.value(0)) return undefined;
      c.skipWhitespace();
    }
    if (first === -1) return undefined;
    if (c.out === undefined && more === undefined) return [value];
    // Several values with no whitespace between them are cut from the source itself.
    const out = c.out ?? value;
    const starts = [first, ...(more ?? [])];
    return starts.map((start, k) => Buffer.from(out.subarray(start, starts[k + 1] ?? c.n)));
  } finally {
    c.reset(EMPTY);
  }
}

const scanner = new Compactor();
