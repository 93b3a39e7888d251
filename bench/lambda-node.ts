/**
 * A suite run on Lambda's Node: the stream function runs on nodejs22.x, so the pipeline bench
 * measures its handler on the pinned Node 22 (scripts/node22.ts), in a child process, when the
 * bench itself runs on another Node. `TGSTREAM_BENCH_NODE=current` runs it on the current Node
 * instead. The child prints what the suite prints and, last, its results after
 * {@link RESULTS_MARK}.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LocalError } from '../lib/errors/index.ts';
import { node22Path } from '../scripts/node22.ts';
import { ROOT, type BenchEntry } from './harness.ts';

/** What the child runs: bench/suite-child.ts, which knows the suites by name. */
export const SUITE_CHILD = join(ROOT, 'bench', 'suite-child.ts');

/** What precedes the child's results on its standard output. */
export const RESULTS_MARK = 'tgstream-bench-results ';

/** Whether `version` (process.version) is Node 22, Lambda's nodejs22.x. */
export const isLambdaNode = (version: string): boolean => /^v22\./.test(version);

/**
 * Runs `suite` (a name `script`, bench/suite-child.ts by default, knows) on Node 22 in a child
 * process, forwarding what it prints, or `here` when this is Node 22 already or
 * TGSTREAM_BENCH_NODE is `current`. With `nodeOptions` (a function's NODE_OPTIONS, flags
 * separated by spaces) the child runs with them as Node flags, also on the current Node when
 * this process was not started with every one of them (V8's heap flags act at start only).
 *
 * @throws LocalError `BENCH_NODE_INVALID` for a TGSTREAM_BENCH_NODE other than lambda or
 * current; `BENCH_SUITE_FAILED` when the child exits other than 0, or without results.
 */
export async function onLambdaNode(
  suite: string,
  here: () => Promise<readonly BenchEntry[]>,
  { script = SUITE_CHILD, nodeOptions = '' }: { script?: string; nodeOptions?: string } = {},
): Promise<readonly BenchEntry[]> {
  const setting = process.env.TGSTREAM_BENCH_NODE;
  if (setting !== undefined && setting !== '' && setting !== 'current' && setting !== 'lambda')
    throw new LocalError(
      'BENCH_NODE_INVALID',
      `TGSTREAM_BENCH_NODE=${setting}: allowed are lambda (the default: Node 22, as nodejs22.x) and current`,
    );
  const flags = nodeOptions.split(' ').filter((f) => f !== '');
  const current = setting === 'current' || isLambdaNode(process.version);
  if (current && flags.every((f) => process.execArgv.includes(f))) return here();
  const node = current ? process.execPath : node22Path();
  const child = spawn(node, [...flags, join(ROOT, 'bin', 'run-ts.js'), script, suite], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let results: readonly BenchEntry[] | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith(RESULTS_MARK))
      results = JSON.parse(line.slice(RESULTS_MARK.length)) as BenchEntry[];
    else console.log(line);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0 || results === undefined)
    throw new LocalError(
      'BENCH_SUITE_FAILED',
      `the ${suite} suite on ${current ? process.version : 'Node 22'} exited with ${String(code)}${results === undefined ? ' and no results' : ''}`,
    );
  return results;
}
