/**
 * The bytes of JSON's grammar (RFC 8259) and the few checks on them that both readers of JSON
 * values share: lib/convert/json-line.ts (the full scanner) and lib/convert/json-compact.ts
 * (the check for values already compact).
 */

export const SPACE = 0x20;
export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const MINUS = 0x2d;
export const PLUS = 0x2b;
export const DOT = 0x2e;
/** Nesting deeper than this is not taken for JSON (a bound on the scanner's recursion). */
export const MAX_JSON_DEPTH = 512;

export const TRUE = Buffer.from('true');
export const FALSE = Buffer.from('false');
export const NULL = Buffer.from('null');
export const LITERALS = [TRUE, FALSE, NULL];
export const ESCAPES = new Set(Array.from('"\\/bfnrtu', (c) => c.charCodeAt(0)));

export const isWhitespace = (b: number | undefined): boolean =>
  b === SPACE || b === LF || b === CR || b === TAB;
export const isDigit = (b: number | undefined): boolean =>
  b !== undefined && b >= 0x30 && b <= 0x39;
export const isHex = (b: number | undefined): boolean =>
  b !== undefined &&
  ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
