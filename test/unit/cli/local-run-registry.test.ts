/**
 * The file run registry of `tgstream run` and `tgstream invoke` is kept per TigerGraph URL: a
 * restarted `tgstream dev` (another URL) does not inherit the runs of the one before.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localRunRegistry } from '../../../lib/cli/invoke.ts';

describe('localRunRegistry', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('shares runs per TigerGraph URL, and only per URL', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tgstream-cwd-'));
    dirs.push(cwd);
    const io = { cwd, env: {} };
    await localRunRegistry(io, 'http://127.0.0.1:14240').claim('G.j.t', 1, {
      kind: 'run',
      id: 'G_m1.1',
    });
    expect(await localRunRegistry(io, 'http://127.0.0.1:14240').current('G.j.t')).toEqual({
      generation: 1,
      record: { kind: 'run', id: 'G_m1.1' },
    });
    expect(await localRunRegistry(io, 'http://127.0.0.1:40001').current('G.j.t')).toBeUndefined();
    // $TGSTREAM_RUNS_DIR moves the whole registry.
    const elsewhere = { cwd, env: { TGSTREAM_RUNS_DIR: 'other' } };
    expect(await localRunRegistry(elsewhere, 'http://127.0.0.1:14240').current('G.j.t')).toBe(
      undefined,
    );
  });
});
