/**
 * End-to-end latency (MirrorMaker's replication-latency-ms, made visible): the time from a
 * record's produce to the source topic until its vertex can be read from the emulator, on the
 * local loop (kafkajs producing at a steady rate; the local ESM runner, `tgstream run`'s, calling
 * the stream handler; the broker and the emulator in a `tgstream dev` child), per mode.
 *
 * Every SAMPLE_EVERY-th record is timed. One partition keeps the order end to end, so the
 * poller asks only for the oldest sample still missing (one GET per vertex, by id).
 */
import { Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../lib/observability/index.ts';
import { createStreamHandler } from '../lib/pipeline/index.ts';
import { runLocal } from '../lib/local/index.ts';
import { MODES, startBenchStack, type BenchStack, type Mode } from './stack.ts';
import type { LatencyResult } from './harness.ts';

const RATE = 10_000;
const SECONDS = 10;
const SAMPLE_EVERY = 50;
/** Records per ESM batch on the loop, and the batching window (the trigger's default is 500 ms). */
const BATCH = 1000;
const WINDOW_MS = 100;
const DRAIN_MS = 30_000;
const POLL_MS = 5;

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

async function measure(stack: BenchStack, mode: Mode): Promise<LatencyResult> {
  const config = stack.connector(mode, BATCH, WINDOW_MS);
  const topic = stack.sourceTopic(mode);
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger: silentLogger(),
  });
  const producer = new Kafka({
    brokers: stack.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const prefix = `lat ${mode} `;
  // Creates the source topic and starts the loop (a streaming run, a connection) unmeasured.
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { partition: 0, value: JSON.stringify({ company: `${prefix}warm`, employee_num: 0 }) },
    ],
  });
  const stop = new AbortController();
  const loop = runLocal({
    config,
    handler,
    eof: false,
    logger: silentLogger(),
    signal: stop.signal,
  });
  while (!(await vertexExists(stack.tigergraphUrl, `${prefix}warm`))) await sleep(20);

  const pending: { id: string; at: number }[] = [];
  const latencies: number[] = [];
  let producing = true;
  const poller = (async () => {
    let deadline = Number.POSITIVE_INFINITY;
    while (producing || (pending.length > 0 && Date.now() < deadline)) {
      if (!producing && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + DRAIN_MS;
      const oldest = pending[0];
      if (oldest && (await vertexExists(stack.tigergraphUrl, oldest.id))) {
        latencies.push(performance.now() - oldest.at);
        pending.shift();
      } else await sleep(POLL_MS);
    }
  })();
  const total = RATE * SECONDS;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE)) - sent;
    if (due <= 0) {
      await sleep(1);
      continue;
    }
    const at = performance.now();
    const messages = Array.from({ length: due }, (_, i) => {
      const n = sent + i;
      const company = `${prefix}${n}`;
      if (n % SAMPLE_EVERY === 0) pending.push({ id: company, at });
      return { partition: 0, key: `c${n}`, value: JSON.stringify({ company, employee_num: n }) };
    });
    await producer.send({ topic, acks: -1, messages });
    sent += due;
  }
  const achieved = total / ((performance.now() - started) / 1000);
  producing = false;
  await poller;
  stop.abort();
  await loop.catch(() => undefined);
  await producer.disconnect();
  await handler.close();
  // A sample never seen counts with the time it was waited for: a lower bound, said below.
  const missing = pending.length;
  for (const p of pending) latencies.push(performance.now() - p.at);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `latency: ${mode.padEnd(22)} p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms (${sorted.length} samples of ${total} records produced at ${achieved.toFixed(0)}/s${missing ? `; ${missing} samples not readable ${DRAIN_MS / 1000} s after the last produce, counted as lower bounds` : ''})`,
  );
  return {
    name: `latency: ${mode}`,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
  };
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
