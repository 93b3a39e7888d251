/**
 * JSON values as compact lines. TigerGraph reads JSON lines: a pretty-printed value (as
 * producers and Powertools' sample events write them) would become several lines, each
 * rejected, and the counts would no longer map to records. Whitespace outside strings is
 * insignificant in JSON (RFC 8259 section 2), so removing it changes nothing a loader reads;
 * numbers and strings are copied byte for byte (no JSON.parse: longs beyond 2^53 keep their
 * digits). The grammar is checked in full, so text that merely looks like JSON (`{a b}`) is
 * never altered.
 *
 * One file, over the usual size: split into modules (4b74568, reverted in c352ae7), the
 * grammar's constants became imported bindings, which made isCompactJson about 40% slower where
 * tsx runs the sources (`tgstream`, the converter bench); the Lambda bundle inlines them.
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
/** Nesting deeper than this is not taken for JSON (a bound on the scanner's recursion). */
export const MAX_JSON_DEPTH = 512;

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const LITERALS = [TRUE, FALSE, NULL];
const ESCAPES = new Set(Array.from('"\\/bfnrtu', (c) => c.charCodeAt(0)));

const isWhitespace = (b: number | undefined): boolean =>
  b === SPACE || b === LF || b === CR || b === TAB;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
const isHex = (b: number | undefined): boolean =>
  b !== undefined &&
  ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));

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

/** The containers open at each depth while {@link isCompactJson} reads (one per level). */
const OPEN = new Uint8Array(MAX_JSON_DEPTH + 1);

/**
 * Whether `src` is one JSON object or array written without any insignificant whitespace, as
 * most producers write it: then {@link compactJsonLines} gives back the value itself. One loop
 * with no call per token, for the common case; `false` for anything else (whitespace outside a
 * string, several values, a grammar error, nesting past {@link MAX_JSON_DEPTH}), which the full
 * scanner then reads and decides on, so a `false` here is never a verdict on its own. It checks
 * the same grammar as the scanner: strings of bytes from 0x20 with the escapes RFC 8259 allows,
 * numbers without a leading zero or a bare dot, the three literals.
 */
export function isCompactJson(src: Buffer): boolean {
  const n = src.length;
  let i = 0;
  let depth = 0;
  let b = src[0];
  // What comes next: 0 a value, 1 a key or the end of an empty object, 2 a value or the end of
  // an empty array, 3 what follows a value (a comma, the end of a container, the end of the text).
  let want = 0;
  for (;;) {
    if (want === 3) {
      if (depth === 0) return i === n;
      const open = OPEN[depth];
      if (b === COMMA) {
        b = src[++i];
        if (open === OPEN_ARRAY) want = 0;
        else if (b !== QUOTE) return false;
        else want = 1;
        continue;
      }
      if (b !== (open === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return false;
      depth--;
      b = src[++i];
      continue;
    }
    if (want === 1 || want === 2) {
      if (b === (want === 1 ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--;
        b = src[++i];
        want = 3;
        continue;
      }
      if (want === 2) want = 0;
    }
    if (want === 1) {
      // A key: a string, then a colon, then a value.
      if (b !== QUOTE) return false;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (depth === MAX_JSON_DEPTH) return false;
      OPEN[++depth] = b;
      want = b === OPEN_OBJECT ? 1 : 2;
      b = src[++i];
      continue;
    } else if (depth === 0) return false;
    if (b === QUOTE) {
      for (;;) {
        b = src[++i];
        if (b === undefined || b < 0x20) return false;
        if (b === QUOTE) break;
        if (b === BACKSLASH) {
          b = src[++i];
          if (b === 0x75) {
            for (let k = 0; k < 4; k++) if (!isHex(src[++i])) return false;
          } else if (b === undefined || !ESCAPES.has(b)) return false;
        }
      }
      b = src[++i];
      if (want === 1) {
        if (b !== COLON) return false;
        b = src[++i];
        want = 0;
        continue;
      }
    } else if (b === MINUS || isDigit(b)) {
      if (b === MINUS) b = src[++i];
      if (b === 0x30) b = src[++i];
      else {
        if (!isDigit(b)) return false;
        do b = src[++i];
        while (isDigit(b));
      }
      if (b === DOT) {
        b = src[++i];
        if (!isDigit(b)) return false;
        do b = src[++i];
        while (isDigit(b));
      }
      if (b === 0x65 || b === 0x45) {
        b = src[++i];
        if (b === PLUS || b === MINUS) b = src[++i];
        if (!isDigit(b)) return false;
        do b = src[++i];
        while (isDigit(b));
      }
    } else {
      const word = b === 0x74 ? TRUE : b === 0x66 ? FALSE : b === 0x6e ? NULL : undefined;
      if (word === undefined) return false;
      for (let k = 1; k < word.length; k++) if (src[i + k] !== word[k]) return false;
      i += word.length;
      b = src[i];
    }
    want = 3;
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
