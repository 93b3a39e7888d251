/**
 * xxHash32 (https://github.com/Cyan4973/xxHash, XXH32), the checksum of the LZ4 frame format:
 * its header checksum, and its optional block and content checksums.
 */
const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const round = (acc: number, input: number): number =>
  Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);

/** XXH32 of `buf[start, end)` with `seed`, as an unsigned 32-bit number. */
export function xxh32(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (i: number): number => view.getUint32(i, true);
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; i + 16 <= end; i += 16) {
      v1 = round(v1, u32(i));
      v2 = round(v2, u32(i + 4));
      v3 = round(v3, u32(i + 8));
      v4 = round(v4, u32(i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else h = (seed + P5) | 0;
  h = (h + (end - start)) | 0;
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(u32(i), P3)) | 0, 17), P4);
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(buf[i] as number, P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}
