/**
 * `npm run bench`: measured hot paths, each against a baseline measured in the same run.
 * Prints the figures and writes them to bench/results.json (`npm run bench -- convert` runs one
 * suite and replaces only its entries).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { print, type BenchResult } from './harness.ts';
import { benchConvert } from './convert.ts';
import { benchPipeline } from './pipeline.ts';

const suites: Record<string, () => Promise<BenchResult[]>> = {
  convert: benchConvert,
  pipeline: benchPipeline,
};
const only = process.argv.slice(2);
const results: BenchResult[] = [];
console.log(
  `TigerStream benchmarks: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
);
for (const [name, run] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  for (const r of await run()) {
    print(r);
    results.push(r);
  }
}
const FILE = 'bench/results.json';
const kept = existsSync(FILE)
  ? (JSON.parse(readFileSync(FILE, 'utf8')) as BenchResult[]).filter(
      (old) => !results.some((r) => r.name === old.name),
    )
  : [];
writeFileSync(FILE, `${JSON.stringify([...results, ...kept], null, 2)}\n`);
console.log(`wrote ${FILE}`);
