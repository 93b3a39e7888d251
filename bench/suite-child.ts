/**
 * A suite in a child process (bench/lambda-node.ts): runs it and prints its results, one JSON
 * line after the mark, last.
 */
import { RESULTS_MARK } from './lambda-node.ts';
import { benchPipeline } from './pipeline.ts';

const suites: Record<string, () => Promise<unknown>> = { pipeline: () => benchPipeline() };
const name = process.argv[2] ?? '';
const run = suites[name];
if (run === undefined) {
  console.error(
    `bench/suite-child.ts: no suite ${name}; allowed: ${Object.keys(suites).join(', ')}`,
  );
  process.exitCode = 2;
} else console.log(`${RESULTS_MARK}${JSON.stringify(await run())}`);
