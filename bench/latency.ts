/**
 * End-to-end latency (MirrorMaker's replication-latency-ms, made visible): the time from a
 * record's produce to the source topic until its vertex can be read from the emulator, on the
 * local loop, per mode. Three processes, as a user runs them: a producer (bench/latency-feed.ts,
 * kafkajs at a steady rate), this one (the local ESM runner of `tgstream run` calling the stream
 * handler) and `tgstream dev` (the embedded broker and the TigerGraph emulator).
 *
 * The producer runs WARM_UP_SECONDS at the rate untimed, then SECONDS timed. Every
 * SAMPLE_EVERY-th record of those is timed: from the moment its send was called in the producer
 * until a `GET /restpp/graph/Company_Graph/vertices/Company/<id>` answers that it exists (the
 * answer's arrival, so the poll interval can only add to the figure). A sample is asked for only
 * once the runner has handed its offset to the handler (nothing can be readable before), the
 * oldest and the newest such sample every POLL_MS; when either is found, every such sample is
 * asked for at once, each timed by its own answer. So a lost record never holds up the others,
 * and the polling adds a few requests per POLL_MS, not one per sample.
 *
 * A sample that is never readable is a failure, counted with the time waited (a lower bound)
 * and reported by why: the runner skipped its offset (the embedded broker deleted it before it
 * was read: it keeps about 5 MiB per partition), it was handed to the handler but never became
 * readable, or it was still queued in the source topic when the bench stopped waiting.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { logLevel } from 'kafkajs';
import { createKafkaClient } from '../lib/kafka/index.ts';
import type { Context } from 'aws-lambda';
import type { KafkaEvent } from '../lib/event/index.ts';
import { LocalError } from '../lib/errors/index.ts';
import { silentLogger } from '../lib/observability/index.ts';
import { createStreamHandler } from '../lib/pipeline/index.ts';
import { runLocal } from '../lib/local/index.ts';
import { MODES, startBenchStack, type BenchStack, type Mode } from './stack.ts';
import type { LatencyResult } from './harness.ts';
import { epochMs, type FeedArguments, type FeedMessage, type FeedSample } from './latency-feed.ts';

const RATE = 10_000;
/** At the rate, untimed first: the loop's code is compiled and its steady state reached. */
const WARM_UP_SECONDS = 3;
const SECONDS = 10;
const SAMPLE_EVERY = 50;
/** Records per ESM batch on the loop, and the batching window (the trigger's default is 500 ms). */
const BATCH = 1000;
const WINDOW_MS = 100;
const DRAIN_MS = 30_000;
const POLL_MS = 5;
/** At most this many vertex reads in flight at once. */
const SWEEP_CONCURRENCY = 32;

/** A latency entry of bench/results.json, with what the percentiles rest on. */
export interface LatencyEntry extends LatencyResult {
  readonly samples: number;
  /** Samples never readable, counted in the percentiles with the time waited. */
  readonly unread: number;
  readonly recordsPerSecond: number;
  readonly batches: number;
  readonly medianBatch: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function vertexExists(tigergraphUrl: string, id: string): Promise<boolean> {
  const answer = await fetch(
    `${tigergraphUrl}/restpp/graph/Company_Graph/vertices/Company/${encodeURIComponent(id)}`,
  );
  await answer.arrayBuffer();
  return answer.ok;
}

/** The offsets handed to the handler so far, as merged ranges (one partition). */
class HandedOffsets {
  private readonly ranges: [number, number][] = [];
  add(first: number, last: number): void {
    const at = this.ranges.findIndex(([, l]) => l + 1 >= first);
    if (at < 0) this.ranges.push([first, last]);
    else {
      const r = this.ranges[at] as [number, number];
      if (r[0] > last + 1) this.ranges.splice(at, 0, [first, last]);
      else {
        r[0] = Math.min(r[0], first);
        r[1] = Math.max(r[1], last);
        while ((this.ranges[at + 1]?.[0] ?? Number.POSITIVE_INFINITY) <= r[1] + 1) {
          const next = this.ranges.splice(at + 1, 1)[0] as [number, number];
          r[1] = Math.max(r[1], next[1]);
        }
      }
    }
  }
  has(offset: number): boolean {
    return this.ranges.some(([f, l]) => f <= offset && offset <= l);
  }
  /** Whether the runner has gone past `offset` without handing it over. */
  skipped(offset: number): boolean {
    return !this.has(offset) && this.ranges.some(([f]) => f > offset);
  }
  count(): number {
    return this.ranges.reduce((n, [f, l]) => n + l - f + 1, 0);
  }
}

/** Starts the producer child and waits until it is connected. */
async function startFeed(args: FeedArguments, onMessage: (m: FeedMessage) => void) {
  const child = fork('bin/run-ts.js', ['bench/latency-feed.ts', JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: FeedMessage) => (m.type === 'ready' ? resolve() : onMessage(m)));
    void exited.then(([code]) =>
      reject(new LocalError('BENCH_FEED_FAILED', `the latency feed exited with ${String(code)}`)),
    );
  });
  await ready;
  return {
    go: () => child.send('go'),
    exited,
    kill: () => child.exitCode === null && child.kill('SIGKILL'),
  };
}

async function measure(stack: BenchStack, mode: Mode): Promise<LatencyEntry> {
  const config = stack.connector(mode, BATCH, WINDOW_MS);
  const topic = stack.sourceTopic(mode);
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger: silentLogger(),
  });
  const kafka = createKafkaClient({
    brokers: stack.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const prefix = `lat ${mode} `;
  // Creates the source topic and starts the loop (a streaming run, a connection) unmeasured.
  const warm = kafka.producer();
  await warm.connect();
  await warm.send({
    topic,
    acks: -1,
    messages: [
      { partition: 0, value: JSON.stringify({ company: `${prefix}warm`, employee_num: 0 }) },
    ],
  });
  await warm.disconnect();

  const handed = new HandedOffsets();
  const batchSizes: number[] = [];
  const stop = new AbortController();
  const loop = runLocal({
    config,
    handler: (event: unknown, context: Context) => {
      for (const records of Object.values((event as KafkaEvent).records)) {
        const offsets = records.map((r) => r.offset);
        if (offsets.length > 0) handed.add(Math.min(...offsets), Math.max(...offsets));
        batchSizes.push(records.length);
      }
      return handler(event, context);
    },
    eof: false,
    logger: silentLogger(),
    signal: stop.signal,
  });
  let loopFailure: Error | undefined;
  const looping = loop.catch((error: unknown) => {
    loopFailure =
      error instanceof Error
        ? error
        : new LocalError('BENCH_RUNNER_FAILED', `the runner stopped: ${String(error)}`);
  });
  while (!(await vertexExists(stack.tigergraphUrl, `${prefix}warm`))) {
    if (loopFailure !== undefined) throw loopFailure;
    await sleep(20);
  }
  batchSizes.length = 0;

  const queued: FeedSample[] = []; // produced, not yet handed to the handler
  const eligible: FeedSample[] = []; // handed, not yet readable
  const latencies: number[] = [];
  const skipped: FeedSample[] = []; // the runner went past them: deleted before read
  let samples = 0;
  let done: Extract<FeedMessage, { type: 'done' }> | undefined;
  const feed = await startFeed(
    {
      bootstrapServers: stack.bootstrapServers,
      topic,
      rate: RATE,
      warmUpSeconds: WARM_UP_SECONDS,
      seconds: SECONDS,
      sampleEvery: SAMPLE_EVERY,
      prefix,
    },
    (m) => {
      if (m.type === 'samples') {
        queued.push(...m.samples);
        samples += m.samples.length;
      } else if (m.type === 'done') done = m;
    },
  );
  let feedExit: number | null | undefined;
  void feed.exited.then(([code]) => {
    feedExit = code;
  });
  const load = [loadavg()[0] ?? 0];
  feed.go();
  const probe = async (s: FeedSample): Promise<boolean> => {
    if (!(await vertexExists(stack.tigergraphUrl, s.id))) return false;
    latencies.push(epochMs() - s.at);
    return true;
  };
  let deadline = Number.POSITIVE_INFINITY;
  while (
    done === undefined ||
    ((queued.length > 0 || eligible.length > 0) && epochMs() < deadline)
  ) {
    if (loopFailure !== undefined || (done === undefined && feedExit !== undefined)) break;
    if (done !== undefined && deadline === Number.POSITIVE_INFINITY) {
      deadline = epochMs() + DRAIN_MS;
      load.push(loadavg()[0] ?? 0);
    }
    while (queued[0] && (handed.has(queued[0].offset) || handed.skipped(queued[0].offset))) {
      const s = queued.shift() as FeedSample;
      if (handed.has(s.offset)) eligible.push(s);
      else skipped.push(s);
    }
    const ends = [...new Set([eligible[0], eligible.at(-1)])].filter((s) => s !== undefined);
    const found = new Set<FeedSample>();
    for (const [i, ok] of (await Promise.all(ends.map(probe))).entries())
      if (ok) found.add(ends[i] as FeedSample);
    if (found.size > 0) {
      const rest = eligible.filter((s) => !found.has(s));
      for (let i = 0; i < rest.length; i += SWEEP_CONCURRENCY) {
        const chunk = rest.slice(i, i + SWEEP_CONCURRENCY);
        for (const [j, ok] of (await Promise.all(chunk.map(probe))).entries())
          if (ok) found.add(chunk[j] as FeedSample);
      }
      const left = eligible.filter((s) => !found.has(s));
      eligible.length = 0;
      eligible.push(...left);
    } else await sleep(POLL_MS);
  }
  const end = epochMs();
  stop.abort();
  await looping;
  await handler.close();
  if (loopFailure !== undefined) {
    feed.kill();
    throw loopFailure;
  }
  const [exitCode] = await feed.exited;
  if (exitCode !== 0 || done === undefined)
    throw new LocalError('BENCH_FEED_FAILED', `the latency feed exited with ${String(exitCode)}`);
  const admin = kafka.admin();
  await admin.connect();
  const [partition] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();

  // A sample never read counts with the time it was waited for: a lower bound, said below.
  const failed = [...skipped, ...eligible, ...queued];
  const unread = failed.length;
  const sorted = [...latencies, ...failed.map((s) => end - s.at)].sort((a, b) => a - b);
  const sortedBatches = [...batchSizes].sort((a, b) => a - b);
  const entry: LatencyEntry = {
    name: `latency: ${mode}`,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    samples,
    unread,
    recordsPerSecond: Math.round(done.sent / done.seconds),
    batches: batchSizes.length,
    medianBatch: sortedBatches[Math.floor(sortedBatches.length / 2)] ?? 0,
  };
  console.log(
    [
      `latency: ${mode.padEnd(22)} p50 ${entry.p50Ms} ms, p99 ${entry.p99Ms} ms, max ${Math.round(sorted.at(-1) ?? Number.NaN)} ms`,
      `  ${samples} samples of ${done.sent} records (the first ${WARM_UP_SECONDS} s untimed) produced at ${entry.recordsPerSecond}/s in ${done.sends} sends (the longest ${Math.round(done.maxSendMs)} ms); load average ${load.map((l) => l.toFixed(2)).join(' -> ')}`,
      `  runner: ${handed.count()} records handed to the handler (by the time the bench stopped) in ${entry.batches} batches (median ${entry.medianBatch}, ${sortedBatches[0] ?? 0} to ${sortedBatches.at(-1) ?? 0}); source topic offsets ${partition?.low ?? '?'} to ${partition?.high ?? '?'} kept by the broker at the end`,
      `  never readable: ${unread} samples (${skipped.length} deleted by the broker before the runner read them, ${eligible.length} handed to the handler but not readable, ${queued.length} still queued ${DRAIN_MS / 1000} s after the last produce); counted with the time waited`,
    ].join('\n'),
  );
  return entry;
}

export async function benchLatency(): Promise<LatencyResult[]> {
  const stack = await startBenchStack();
  try {
    const out: LatencyResult[] = [];
    for (const mode of MODES) out.push(await measure(stack, mode));
    return out;
  } finally {
    await stack.stop();
  }
}
