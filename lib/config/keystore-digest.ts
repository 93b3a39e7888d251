/**
 * Iterated MD5 and SHA-1 (RFC 1321, FIPS 180-4) for the password-based key derivations of old
 * store formats, which hash a few dozen bytes tens of thousands of times: Sun's
 * PBEWithMD5AndTripleDES (JCEKS keys, 200,000 rounds per salt half in Java 17) and the
 * PKCS#12 KDF with SHA-1 (legacy PKCS12: 50,000 rounds per key, IV and 100,000 for the MAC).
 * `crypto.createHash` costs several microseconds a call in object set-up, seconds for one
 * store; these loops over preallocated buffers take a fraction of that. Tested against
 * `crypto.createHash`. Internal to lib/config.
 */

const rotate = (x: number, s: number): number => (x << s) | (x >>> (32 - s));

// ---- MD5 ------------------------------------------------------------------------------------

/** Per-step left rotations, four per round. */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21] as const;
/** RFC 1321's table: the integer part of 2^32 × |sin(i + 1)|. */
const SINES = Int32Array.from({ length: 64 }, (_, i) =>
  Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32),
);

/** MD5 of `message[0, length)`, where `message` has room for the padding (a multiple of 64). */
function digestInto(
  message: Uint8Array,
  view: DataView,
  length: number,
  out: Uint8Array,
  words: Int32Array,
): void {
  const padded = Math.ceil((length + 9) / 64) * 64;
  message[length] = 0x80;
  message.fill(0, length + 1, padded - 8);
  view.setUint32(padded - 8, (length * 8) >>> 0, true);
  view.setUint32(padded - 4, Math.floor(length / 2 ** 29), true);
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let block = 0; block < padded; block += 64) {
    for (let i = 0; i < 16; i++) words[i] = view.getInt32(block + i * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    // One loop per round, so each step has no branch on the round.
    for (let i = 0; i < 16; i++) {
      const sum = (a + ((b & c) | (~b & d)) + (SINES[i] ?? 0) + (words[i] ?? 0)) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + rotate(sum, SHIFTS[i & 3] ?? 0)) | 0;
    }
    for (let i = 16; i < 32; i++) {
      const g = (5 * i + 1) & 15;
      const sum = (a + ((d & b) | (~d & c)) + (SINES[i] ?? 0) + (words[g] ?? 0)) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + rotate(sum, SHIFTS[4 + (i & 3)] ?? 0)) | 0;
    }
    for (let i = 32; i < 48; i++) {
      const g = (3 * i + 5) & 15;
      const sum = (a + (b ^ c ^ d) + (SINES[i] ?? 0) + (words[g] ?? 0)) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + rotate(sum, SHIFTS[8 + (i & 3)] ?? 0)) | 0;
    }
    for (let i = 48; i < 64; i++) {
      const g = (7 * i) & 15;
      const sum = (a + (c ^ (b | ~d)) + (SINES[i] ?? 0) + (words[g] ?? 0)) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + rotate(sum, SHIFTS[12 + (i & 3)] ?? 0)) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const outView = new DataView(out.buffer, out.byteOffset, 16);
  outView.setInt32(0, a0, true);
  outView.setInt32(4, b0, true);
  outView.setInt32(8, c0, true);
  outView.setInt32(12, d0, true);
}

/** MD5(first ‖ suffix), then `iterations − 1` times MD5(previous ‖ suffix). */
export function md5Iterated(first: Uint8Array, suffix: Uint8Array, iterations: number): Buffer {
  const longest = Math.max(first.length, 16) + suffix.length;
  const message = new Uint8Array(Math.ceil((longest + 9) / 64) * 64);
  const view = new DataView(message.buffer);
  const words = new Int32Array(16);
  const digest = new Uint8Array(16);
  message.set(first, 0);
  message.set(suffix, first.length);
  digestInto(message, view, first.length + suffix.length, digest, words);
  for (let i = 1; i < iterations; i++) {
    message.set(digest, 0);
    message.set(suffix, 16);
    digestInto(message, view, 16 + suffix.length, digest, words);
  }
  return Buffer.from(digest);
}

// ---- SHA-1 ----------------------------------------------------------------------------------

const SHA1_ROUND_CONSTANTS = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc | 0, 0xca62c1d6 | 0] as const;

/**
 * SHA-1 applied `rounds` more times to a 20-byte digest (each input is one padded block,
 * whose last eleven words never change).
 */
export function sha1Iterated(digest: Uint8Array, rounds: number): Buffer {
  if (digest.length !== 20) throw new RangeError('sha1Iterated takes a 20-byte SHA-1 digest');
  const w = new Int32Array(80);
  const view = new DataView(digest.buffer, digest.byteOffset, 20);
  let h0 = view.getInt32(0);
  let h1 = view.getInt32(4);
  let h2 = view.getInt32(8);
  let h3 = view.getInt32(12);
  let h4 = view.getInt32(16);
  for (let round = 0; round < rounds; round++) {
    w[0] = h0;
    w[1] = h1;
    w[2] = h2;
    w[3] = h3;
    w[4] = h4;
    w[5] = 0x80000000 | 0;
    w.fill(0, 6, 15);
    w[15] = 160; // the message length in bits
    for (let i = 16; i < 80; i++)
      w[i] = rotate((w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0), 1);
    let a = 0x67452301;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476;
    let e = 0xc3d2e1f0 | 0;
    for (let i = 0; i < 80; i++) {
      const f =
        i < 20 ? (b & c) | (~b & d) : i < 40 || i >= 60 ? b ^ c ^ d : (b & c) | (b & d) | (c & d);
      const t =
        (rotate(a, 5) + f + e + (SHA1_ROUND_CONSTANTS[(i / 20) | 0] ?? 0) + (w[i] ?? 0)) | 0;
      e = d;
      d = c;
      c = rotate(b, 30);
      b = a;
      a = t;
    }
    h0 = (0x67452301 + a) | 0;
    h1 = ((0xefcdab89 | 0) + b) | 0;
    h2 = ((0x98badcfe | 0) + c) | 0;
    h3 = (0x10325476 + d) | 0;
    h4 = ((0xc3d2e1f0 | 0) + e) | 0;
  }
  const out = Buffer.alloc(20);
  out.writeInt32BE(h0, 0);
  out.writeInt32BE(h1, 4);
  out.writeInt32BE(h2, 8);
  out.writeInt32BE(h3, 12);
  out.writeInt32BE(h4, 16);
  return out;
}
