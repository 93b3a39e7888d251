/**
 * CRC-32C stays compiled on Lambda's Node. The record batch's checksum is one long call per
 * Produce request; on Node 22, when V8 compiled its 8-byte loop on the stack before the loop's
 * tail had ever run, that compiled code deoptimized at the tail on every later call (in the
 * pipeline bench, 400 deoptimizations in 400 invocations, each call finishing in the
 * interpreter: about 120 us a 62 KB batch in the handler, against 85 after the change; ad hoc,
 * script not kept). `--no-concurrent-osr` makes that
 * order certain. A control with the old shape (loop, tail and conversion in one function) shows
 * the trace catches the pattern.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { node22Path } from '../../scripts/node22.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'crc-deopt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CALLS = 100;

/** Runs `body` (which defines `check(buf, start, end)`) CALLS times on 60 KB buffers with a tail, under --trace-deopt. */
function bailouts(name: string, prelude: string): { count: number; sum: string } {
  const file = join(dir, `${name}.mts`);
  writeFileSync(
    file,
    `${prelude}
let sum = 0;
for (let k = 0; k < ${CALLS}; k++) {
  const b = Buffer.allocUnsafe(60_000 + k);
  // Filled natively: a filling loop here would have V8 compile this loop and inline the check.
  b.fill(k);
  b.writeUInt32LE((k * 2654435761) >>> 0, 100);
  sum = (sum + check(b, 21, b.length)) % 4294967296;
}
console.log('sum ' + sum);
`,
  );
  const run = spawnSync(
    node22Path(),
    ['--trace-deopt', '--no-concurrent-osr', join(ROOT, 'bin', 'run-ts.js'), file],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.split('\n');
  return {
    count: lines.filter((l) => /bailout .*<JSFunction (crc32c|crc8|check) /.test(l)).length,
    sum: lines.find((l) => l.startsWith('sum ')) ?? '',
  };
}

// The shape lib/kafka/crc32c.ts had (tables built the same way), as the control.
const OLD_SHAPE = `
const T = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; T[0][n] = c; }
for (let n = 0; n < 256; n++) { let c = T[0][n]; for (let k = 1; k < 8; k++) { c = T[0][c & 0xff] ^ (c >>> 8); T[k][n] = c; } }
const [T0, T1, T2, T3, T4, T5, T6, T7] = T;
function check(buf: Uint8Array, start: number, end: number): number {
  let crc = -1;
  let i = start;
  const fast = end - ((end - start) & 7);
  while (i < fast) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc = T7[a & 0xff] ^ T6[(a >>> 8) & 0xff] ^ T5[(a >>> 16) & 0xff] ^ T4[a >>> 24] ^
      T3[buf[i + 4]] ^ T2[buf[i + 5]] ^ T1[buf[i + 6]] ^ T0[buf[i + 7]];
    i += 8;
  }
  while (i < end) crc = T0[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
`;

describe('crc32c on Node 22 (nodejs22.x)', () => {
  it('is not deoptimized call after call, where the old shape was', () => {
    const control = bailouts('old-shape', OLD_SHAPE);
    const current = bailouts(
      'current',
      `import { crc32c as check } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'kafka', 'crc32c.ts')).href)};`,
    );
    // Same checksums: the control is the same function, only shaped differently.
    expect(current.sum).toMatch(/^sum \d+$/);
    expect(current.sum).toBe(control.sum);
    expect(control.count).toBeGreaterThanOrEqual(CALLS / 2);
    // A first deoptimization or two while V8 learns is fine; one per call is the defect.
    expect(current.count).toBeLessThan(3);
  }, 120_000);
});
