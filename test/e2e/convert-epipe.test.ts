/**
 * `tgstream convert ... | head -n 1`: the reader closes the pipe after its first line, and the
 * CLI must end quietly (no EPIPE stack trace), also when its input never ends.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.ts';

/** Enough JSON records that the converted lines overflow a pipe's buffer many times. */
const input = Array.from(
  { length: 20_000 },
  (_, i) =>
    `${JSON.stringify({
      topic: 'companies',
      partition: 0,
      offset: i,
      timestamp: 1_700_000_000_000,
      key: null,
      value: Buffer.from(JSON.stringify({ company: `C${i}`, employee_num: i })).toString('base64'),
      headers: [],
    })}\n`,
).join('');

/** Runs convert, closes its stdout after the first chunk, and waits for it to exit. */
function convertThenCloseStdout(
  endInput: boolean,
): Promise<{ first: string; stderr: string; code: number | null; signal: string | null }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/tgstream.js'),
      'convert',
      '--c',
      join(ROOT, 'infra/connectors/company.properties'),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let first = '';
  let stderr = '';
  child.stdout.once('data', (chunk: Buffer) => {
    first = chunk.toString('utf8');
    child.stdout.destroy(); // as `head -n 1` exits after its line
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // Our own writes may meet the child's exit: that is not what this test is about.
  child.stdin.on('error', () => undefined);
  if (endInput) child.stdin.end(input);
  else child.stdin.write(input);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      child.stdin.destroy();
      resolve({ first, stderr, code, signal });
    }),
  );
}

describe('tgstream convert into a pipe the reader closes early', () => {
  it('exits 0 without a stack trace (input ended, as `< file | head -n 1`)', async () => {
    const r = await convertThenCloseStdout(true);
    expect(r.first.split('\n')[0]).toBe('{"company":"C0","employee_num":0}');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('exits too when its input never ends (a topic being tailed into it)', async () => {
    const r = await convertThenCloseStdout(false);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
