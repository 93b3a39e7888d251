/** Benchmark helpers: measure a function's throughput, print figures, collect results. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root: the benches find its files and start its CLI from it. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchResult {
  readonly name: string;
  readonly recordsPerSecond: number;
  readonly baselineName: string;
  readonly baselineRecordsPerSecond: number;
  readonly ratio: number;
}

/** Cold start: importing the Lambda bundle in a fresh process. */
export interface ColdStartResult {
  readonly name: string;
  /** The import of the handler module (Lambda's init). */
  readonly milliseconds: number;
  /** What the first invocation loads that the import no longer does (bench/cold-start.ts). */
  readonly firstInvocationMs?: number;
  /** The handler's bundle: its file and every chunk it can load. */
  readonly bundleBytes: number;
  /** The part of it the import reads. */
  readonly initBytes?: number;
}

/** End-to-end latency percentiles of one mode. */
export interface LatencyResult {
  readonly name: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** One entry of bench/results.json. */
export type BenchEntry = BenchResult | ColdStartResult | LatencyResult;

/** Runs `fn` (which handles `records` records per call) for at least `minMs`, after a warm-up. */
export async function throughput(
  records: number,
  fn: () => unknown,
  minMs = 1500,
): Promise<number> {
  const warmUntil = Date.now() + Math.min(500, minMs / 3);
  while (Date.now() < warmUntil) await fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    await fn();
    calls++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (calls * records) / (elapsed / 1000);
}

/**
 * Measures a candidate against a baseline in alternating rounds (so both see the same machine
 * state) and returns the median throughput of each and the median of the per-round ratios:
 * on a shared machine the load drifts, and pairing each candidate round with the baseline
 * round next to it cancels the drift.
 */
export async function compare(
  records: number,
  baseline: () => unknown,
  candidate: () => unknown,
  rounds = 15,
  msPerRound = 300,
): Promise<{ baseline: number; candidate: number; ratio: number }> {
  const b: number[] = [];
  const c: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which one goes first so neither always runs on a warmer machine.
    const first = i % 2 === 0;
    const x = await throughput(records, first ? baseline : candidate, msPerRound);
    const y = await throughput(records, first ? candidate : baseline, msPerRound);
    const [bi, ci] = first ? [x, y] : [y, x];
    b.push(bi);
    c.push(ci);
    ratios.push(ci / bi);
  }
  return { baseline: median(b), candidate: median(c), ratio: median(ratios) };
}

/** The median (the upper one of an even count). */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

export const result = (
  name: string,
  rps: number,
  baselineName: string,
  baselineRps: number,
  ratio = rps / baselineRps,
): BenchResult => ({
  name,
  recordsPerSecond: Math.round(rps),
  baselineName,
  baselineRecordsPerSecond: Math.round(baselineRps),
  ratio: Math.round(ratio * 100) / 100,
});

export const print = (r: BenchEntry): void => {
  if ('milliseconds' in r) {
    const first =
      r.firstInvocationMs === undefined
        ? ''
        : `, ${r.firstInvocationMs} ms first invocation's lazy loads`;
    const init = r.initBytes === undefined ? '' : ` (${r.initBytes} read by the import)`;
    console.log(
      `${r.name.padEnd(34)} ${r.milliseconds} ms import${first}, bundle ${r.bundleBytes} bytes${init}`,
    );
    return;
  }
  if ('p50Ms' in r) {
    console.log(`${r.name.padEnd(34)} p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
    return;
  }
  console.log(
    `${r.name.padEnd(34)} ${String(r.recordsPerSecond).padStart(10)} rec/s   ${r.baselineName.padEnd(34)} ${String(r.baselineRecordsPerSecond).padStart(10)} rec/s   ratio ${r.ratio.toFixed(2)}`,
  );
};
