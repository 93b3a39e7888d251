/** The soak's heap samples, the verdict on whether the heap stayed flat, and its printout. */
/** Memory after a full garbage collection, taken after an invocation. */
export interface HeapSample {
  readonly invocation: number;
  readonly records: number;
  /** Since the run started. */
  readonly seconds: number;
  /** V8's used heap after the collection. */
  readonly heapUsedMb: number;
  /** Memory of Buffers and other objects outside V8's heap. */
  readonly externalMb: number;
  readonly rssMb: number;
  /** The machine's one-minute load average when the sample was taken. */
  readonly load1: number;
}

export interface HeapVerdict {
  readonly samples: number;
  /** The first 10% of the samples, left out as warm-up (connections, compiled code, caches). */
  readonly warmUpSamples: number;
  /** Median of the first 10% of the samples after the warm-up. */
  readonly firstMedianMb: number;
  /** Median of the last 10% of the samples. */
  readonly lastMedianMb: number;
  readonly growthMb: number;
  /** Least-squares slope of the samples after the warm-up. */
  readonly slopeMbPer1000Invocations: number;
  /** The same over the last half of the samples: near zero once caches and compiled code are full. */
  readonly lastHalfSlopeMbPer1000Invocations: number;
  readonly minMb: number;
  readonly maxMb: number;
  readonly boundMb: number;
  readonly flat: boolean;
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const round = (x: number): number => Math.round(x * 100) / 100;

/** Least-squares slope of heap against invocations, in MB per 1000 invocations. */
const slope = (samples: readonly HeapSample[]): number => {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.invocation, 0) / n;
  const my = samples.reduce((a, s) => a + s.heapUsedMb, 0) / n;
  const sxy = samples.reduce((a, s) => a + (s.invocation - mx) * (s.heapUsedMb - my), 0);
  const sxx = samples.reduce((a, s) => a + (s.invocation - mx) ** 2, 0);
  return sxx > 0 ? (sxy / sxx) * 1000 : 0;
};

/**
 * Whether the heap stayed flat: after a warm-up of the first 10% of the samples, the median of
 * the last 10% exceeds the median of the first 10% by less than `boundMb`.
 */
export function heapVerdict(samples: readonly HeapSample[], boundMb: number): HeapVerdict {
  const warmUpSamples = Math.floor(samples.length / 10);
  const steady = samples.slice(warmUpSamples);
  const tenth = Math.max(1, Math.floor(steady.length / 10));
  const heap = steady.map((s) => s.heapUsedMb);
  const firstMedianMb = heap.length > 0 ? median(heap.slice(0, tenth)) : 0;
  const lastMedianMb = heap.length > 0 ? median(heap.slice(-tenth)) : 0;
  const growthMb = lastMedianMb - firstMedianMb;
  return {
    samples: samples.length,
    warmUpSamples,
    firstMedianMb: round(firstMedianMb),
    lastMedianMb: round(lastMedianMb),
    growthMb: round(growthMb),
    slopeMbPer1000Invocations: round(slope(steady)),
    lastHalfSlopeMbPer1000Invocations: round(slope(samples.slice(Math.floor(samples.length / 2)))),
    minMb: round(Math.min(...heap)),
    maxMb: round(Math.max(...heap)),
    boundMb,
    flat: steady.length >= 2 && growthMb < boundMb,
  };
}

/** The heap samples as a short table: every `step`-th one, and the last. */
export function formatSamples(samples: readonly HeapSample[], rows = 12): string {
  const step = Math.max(1, Math.ceil(samples.length / rows));
  const picked = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
  const head = 'invocation |   records | seconds | heap MB | external MB | rss MB | load1';
  const line = (s: HeapSample): string =>
    [
      String(s.invocation).padStart(10),
      String(s.records).padStart(9),
      s.seconds.toFixed(1).padStart(7),
      s.heapUsedMb.toFixed(2).padStart(7),
      s.externalMb.toFixed(2).padStart(11),
      s.rssMb.toFixed(0).padStart(6),
      s.load1.toFixed(2).padStart(5),
    ].join(' | ');
  return [head, '-'.repeat(head.length), ...picked.map(line)].join('\n');
}
