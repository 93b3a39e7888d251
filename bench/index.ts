/**
 * `npm run bench`: measured hot paths, each against a baseline measured in the same run.
 * Prints the figures and writes them to bench/results.json (`npm run bench -- convert` runs one
 * suite and replaces only its entries, every entry whose name starts with the suite's name).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { print, type BenchEntry } from './harness.ts';
import { benchConvert } from './convert.ts';
import { benchPipeline } from './pipeline.ts';
import { benchLatency } from './latency.ts';
import { benchColdStart } from './cold-start.ts';
import { benchProduce } from './produce.ts';
import { onLambdaNode } from './lambda-node.ts';
import { STREAM_MEMORY_MB, streamNodeOptions } from '../infra/connector-stack.ts';

const suites: Record<string, () => Promise<readonly BenchEntry[]>> = {
  convert: benchConvert,
  produce: benchProduce,
  // On Node 22 with the stream function's NODE_OPTIONS, as it runs (bench/lambda-node.ts).
  pipeline: () =>
    onLambdaNode('pipeline', () => benchPipeline(), {
      nodeOptions: streamNodeOptions(STREAM_MEMORY_MB),
    }),
  latency: benchLatency,
  'cold-start': benchColdStart,
};
const only = process.argv.slice(2);
const results: BenchEntry[] = [];
console.log(
  `TigerStream benchmarks: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const [name, run] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  for (const r of await run()) {
    print(r);
    results.push(r);
  }
}
const FILE = 'bench/results.json';
// A suite that ran replaces all its entries (their names start with the suite's name), also
// ones it no longer writes; the other suites' entries are kept.
const ran = Object.keys(suites).filter((name) => only.length === 0 || only.includes(name));
const kept = existsSync(FILE)
  ? (JSON.parse(readFileSync(FILE, 'utf8')) as BenchEntry[]).filter(
      (old) => !ran.some((suite) => old.name.startsWith(suite)),
    )
  : [];
writeFileSync(FILE, `${JSON.stringify([...results, ...kept], null, 2)}\n`);
console.log(`wrote ${FILE}`);
