/**
 * The latency bench's producer, run as a child process (`fork` of bin/run-ts.js) so that
 * producing does not take the event loop from the runner and the handler it measures: kafkajs
 * producing company records to one partition of the source topic at a steady rate, acks=all,
 * one send every TICK_MS of whatever has fallen due.
 *
 * Talks to the parent over the IPC channel: `ready` once connected, then waits for `go`;
 * after every acknowledged send, the sampled records in it (every `sampleEvery`-th record)
 * with the time their send was called and their offset; `done` at the end.
 *
 * Run as `node bin/run-ts.js bench/latency-feed.ts '<FeedArguments as JSON>'` with an IPC channel.
 */
import { logLevel } from 'kafkajs';
import { createKafkaClient } from '../lib/kafka/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FeedArguments {
  readonly bootstrapServers: string;
  readonly topic: string;
  readonly rate: number;
  /** Produced first at the same rate and not sampled: the loop reaches its steady state. */
  readonly warmUpSeconds: number;
  /** Produced after the warm-up, every `sampleEvery`-th record sampled. */
  readonly seconds: number;
  readonly sampleEvery: number;
  /** Every company id starts with it (one prefix per mode). */
  readonly prefix: string;
}

export interface FeedSample {
  readonly id: string;
  /** When the send holding the record was called: ms since the epoch, sub-ms precision. */
  readonly at: number;
  readonly offset: number;
}

export type FeedMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'samples'; readonly samples: readonly FeedSample[] }
  | {
      readonly type: 'done';
      readonly sent: number;
      readonly sends: number;
      /** The longest send, call to acknowledgement. */
      readonly maxSendMs: number;
      readonly seconds: number;
    };

/** Wall-clock ms since the epoch with performance.now()'s precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/**
 * Sends begin at most this often, each carrying what fell due since the one before: what a
 * producer lingering 5 ms does (librdkafka's default `linger.ms`), and so message sets of about
 * 50 records at 10,000 records/s rather than one per record.
 */
const TICK_MS = 5;
const MAX_PER_SEND = 1000;

async function feed(args: FeedArguments): Promise<void> {
  const send = (message: FeedMessage): void => {
    process.send?.(message);
  };
  const producer = createKafkaClient({
    clientId: 'tigerstream-latency-feed',
    brokers: args.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const go = new Promise<void>((resolve) => {
    process.once('message', () => resolve());
  });
  send({ type: 'ready' });
  await go;
  const warmUp = Math.round(args.rate * args.warmUpSeconds);
  const total = warmUp + Math.round(args.rate * args.seconds);
  const started = performance.now();
  let sent = 0;
  let sends = 0;
  let maxSendMs = 0;
  while (sent < total) {
    // A feeder that fell behind catches up in sends of at most MAX_PER_SEND: one request of
    // everything due could pass the 5 MiB the embedded broker keeps of a partition.
    const due = Math.min(
      MAX_PER_SEND,
      Math.min(total, Math.floor(((performance.now() - started) / 1000) * args.rate)) - sent,
    );
    if (due <= 0) {
      await sleep(1);
      continue;
    }
    const messages = Array.from({ length: due }, (_, i) => {
      const n = sent + i;
      const company = `${args.prefix}${n}`;
      return { partition: 0, key: `c${n}`, value: JSON.stringify({ company, employee_num: n }) };
    });
    const at = epochMs();
    const [answer] = await producer.send({ topic: args.topic, acks: -1, messages });
    maxSendMs = Math.max(maxSendMs, epochMs() - at);
    const base = Number(answer?.baseOffset ?? Number.NaN);
    const samples: FeedSample[] = [];
    for (
      let n = Math.max(
        warmUp,
        sent + ((args.sampleEvery - (sent % args.sampleEvery)) % args.sampleEvery),
      );
      n < sent + due;
      n += args.sampleEvery
    )
      samples.push({ id: `${args.prefix}${n}`, at, offset: base + (n - sent) });
    if (samples.length > 0) send({ type: 'samples', samples });
    sent += due;
    sends++;
    // The next send TICK_MS after this one began (librdkafka's default linger.ms is 5 ms).
    const wait = TICK_MS - (epochMs() - at);
    if (wait >= 1) await sleep(wait);
  }
  send({ type: 'done', sent, sends, maxSendMs, seconds: (performance.now() - started) / 1000 });
  await producer.disconnect();
  process.disconnect();
}

// bin/run-ts.js puts the entry point in argv[1]; imported by the bench, this module only exports.
if (process.argv[1]?.endsWith('latency-feed.ts') === true)
  await feed(JSON.parse(process.argv[2] ?? '{}') as FeedArguments);
