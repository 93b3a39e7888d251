/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches (magic 2), computed eight bytes
 * at a time ("slicing-by-8") from eight 256-entry tables built once.
 */
const POLY = 0x82f63b78;

const TABLES: readonly Int32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = tables[0] as Int32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t0[c & 0xff] as number) ^ (c >>> 8);
      (tables[k] as Int32Array)[n] = c;
    }
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/**
 * The CRC-32C register after `buf[i, fast)`, `fast - i` a multiple of 8, from register `crc`.
 *
 * The loop alone, apart from {@link crc32c}'s tail and its final conversion: the batch's one
 * call a request makes runs this loop long enough for V8 to compile it on the stack while it
 * runs (on-stack replacement), before anything after the loop has ever run. With the tail and
 * the conversion in the same function, that compiled code met them without type feedback and
 * deoptimized at the end of every later call (on Node 22, once per invocation of the stream
 * handler, --trace-deopt: "Insufficient type feedback for compare operation", then "lost
 * precision"), leaving each call to finish in the interpreter. Here nothing follows the loop but
 * the return.
 */
function crc8(crc: number, buf: Uint8Array, i: number, fast: number): number {
  while (i < fast) {
    const a =
      crc ^
      ((buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24));
    crc =
      (T7[a & 0xff] as number) ^
      (T6[(a >>> 8) & 0xff] as number) ^
      (T5[(a >>> 16) & 0xff] as number) ^
      (T4[a >>> 24] as number) ^
      (T3[buf[i + 4] as number] as number) ^
      (T2[buf[i + 5] as number] as number) ^
      (T1[buf[i + 6] as number] as number) ^
      (T0[buf[i + 7] as number] as number);
    i += 8;
  }
  return crc;
}

/**
 * The CRC-32C of `buf[start, end)`, as an unsigned 32-bit number (0, that of no bytes, when
 * `end` is not after `start`).
 *
 * @example
 * crc32c(Buffer.from('123456789')); // 0xe3069283
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end <= start) return 0;
  const fast = end - ((end - start) & 7);
  let crc = crc8(-1, buf, start, fast);
  for (let i = fast; i < end; i++)
    crc = (T0[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
