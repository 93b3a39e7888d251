/** `serverless package` as a user runs it: offline, no AWS credentials, no telemetry. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './fixtures.ts';

/**
 * A fresh clone of the working tree in a temporary directory: every file git tracks or would
 * track (`git ls-files --cached --others --exclude-standard`, so the changes being tested are
 * in it), without what git ignores (no `dist/`, no `.serverless/`), and this project's
 * node_modules linked in as `npm ci` would have installed them. Packaging there builds its own
 * bundles and never touches the shared tree; `remove()` deletes it.
 */
export function freshClone(): { dir: string; remove: () => void } {
  const list = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (list.status !== 0) throw new Error(`git ls-files failed: ${list.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-clone-'));
  for (const file of list.stdout.split('\0').filter((f) => f !== '')) {
    const from = join(ROOT, file);
    // A tracked file deleted in the working tree is not in a clone of it either.
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Packages the project in `cwd` (a {@link freshClone}) for `stage` into `out`; `env` adds to
 * the offline environment.
 */
export function serverlessPackage(
  stage: string,
  out: string,
  env: Record<string, string> = {},
  cwd: string,
): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/serverless/bin/serverless.js'),
      'package',
      '--stage',
      stage,
      '--package',
      out,
    ],
    {
      cwd,
      encoding: 'utf8',
      timeout: 240_000,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        ...env,
      },
    },
  );
}
