/**
 * The check that a JSON value is already one compact line, which lets
 * {@link compactJsonLines} (lib/convert/json-line.ts) skip its scanner for most values.
 */
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  DOT,
  ESCAPES,
  FALSE,
  MAX_JSON_DEPTH,
  MINUS,
  NULL,
  OPEN_ARRAY,
  OPEN_OBJECT,
  PLUS,
  QUOTE,
  TRUE,
  isDigit,
  isHex,
} from './json-bytes.ts';

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
