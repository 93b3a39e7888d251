/** Benchmark helpers: measure a function's throughput, print figures, collect results. */
export interface BenchResult {
  readonly name: string;
  readonly recordsPerSecond: number;
  readonly baselineName: string;
  readonly baselineRecordsPerSecond: number;
  readonly ratio: number;
}

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
 * state) and returns the median throughput of each.
 */
export async function compare(
  records: number,
  baseline: () => unknown,
  candidate: () => unknown,
  rounds = 7,
  msPerRound = 400,
): Promise<{ baseline: number; candidate: number }> {
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await throughput(records, baseline, msPerRound));
    c.push(await throughput(records, candidate, msPerRound));
  }
  const median = (xs: number[]): number =>
    [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  return { baseline: median(b), candidate: median(c) };
}

export const result = (
  name: string,
  rps: number,
  baselineName: string,
  baselineRps: number,
): BenchResult => ({
  name,
  recordsPerSecond: Math.round(rps),
  baselineName,
  baselineRecordsPerSecond: Math.round(baselineRps),
  ratio: Math.round((rps / baselineRps) * 100) / 100,
});

export const print = (r: BenchResult): void => {
  console.log(
    `${r.name.padEnd(34)} ${String(r.recordsPerSecond).padStart(10)} rec/s   ${r.baselineName.padEnd(34)} ${String(r.baselineRecordsPerSecond).padStart(10)} rec/s   ratio ${r.ratio.toFixed(2)}`,
  );
};
