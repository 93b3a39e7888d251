/**
 * Where the produce leg's time goes (issue 12 item 3): serial sends of 1,000-record batches
 * through lib/kafka's delivery port (kafkajs, acks=all) to the embedded broker, under V8's CPU
 * profiler (node:inspector, as `node --cpu-prof` records it). Prints the main thread's time by
 * kind of work and writes the profile to reports/produce.cpuprofile (open it in Chrome DevTools).
 *
 * `node bin/run-ts.js bench/produce-profile.ts [batches] [fast|kafkajs]` (default 200 sends, the
 * default producer: our own record batches, lib/kafka/fast-produce.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { ClientSecurity } from '../lib/config/index.ts';
import { createKafkaDelivery, type OutRecord } from '../lib/kafka/index.ts';
import { startEmbeddedKafka } from '../lib/local/index.ts';
import { median } from './harness.ts';
import { companyLine } from './pipeline.ts';

const BATCH = 1000;
const BATCHES = Number(process.argv[2] ?? 200);
const PRODUCER = process.argv[3] === 'kafkajs' ? 'kafkajs' : 'fast';

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Kinds of work, first match wins, checked against `url function` of the frame a sample is
 * charged to: its own, or for Node's internals and natives (Buffer allocation and copies,
 * promise jobs) the nearest caller outside them, so a Buffer.concat inside the encoder counts
 * as encoding.
 */
const KINDS: readonly (readonly [string, RegExp])[] = [
  ['idle: waiting for the broker (round trips, acks)', /^ \(idle\)$/],
  ['garbage collection', /^ \(garbage collector\)$/],
  ['(program): V8 and native code outside JavaScript', /^ \(program\)$/],
  ['CRC-32C of record batches', /crc32/i],
  ['encoding record batches and the produce request (ours)', /\/lib\/kafka\/produce-request\.ts/],
  ['grouping per partition and leader (ours)', /\/lib\/kafka\/fast-produce\.ts/],
  ['compression', /compression|snappy|lz4|zstd|gzip/i],
  [
    'grouping messages per partition (kafkajs copies the array per message)',
    /groupMessagesPerPartition/,
  ],
  [
    'encoding records and the produce request (kafkajs)',
    /kafkajs\/src\/protocol\/(recordBatch|encoder|requests\/produce\/v\d+\/request)/,
  ],
  ['decoding responses (kafkajs)', /kafkajs\/src\/protocol\//],
  ['socket and connection (kafkajs network)', /kafkajs\/src\/network/],
  ['kafkajs producer (partitioning, batching, retry, locks)', /kafkajs\/src\//],
  ["TigerStream's lib/kafka port (records to kafkajs messages)", /\/lib\/kafka\//],
  ['building the records (the bench, not the produce leg)', /\/bench\//],
];

const internal = (url: string): boolean => url === '' || url.startsWith('node:');

function breakdown(profile: Profile): { kind: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chargedTo = (id: number): ProfileNode | undefined => {
    const own = byId.get(id);
    if (own === undefined || own.callFrame.functionName.startsWith('(')) return own;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (n && !internal(n.callFrame.url)) return n;
    }
    return own;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = chargedTo(id)?.callFrame;
    const key = `${frame?.url ?? ''} ${frame?.functionName ?? ''}`;
    const kind = KINDS.find(([, re]) => re.test(key))?.[0] ?? 'other (Node internals, microtasks)';
    totals.set(kind, (totals.get(kind) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([kind, ms]) => ({ kind, ms })).sort((a, b) => b.ms - a.ms);
}

const records = (first: number): OutRecord[] =>
  Array.from({ length: BATCH }, (_, i) => ({
    topic: 'profile',
    partition: 0,
    key: Buffer.from(`c${first + i}`),
    value: Buffer.from(companyLine(first + i)),
    headers: [],
    timestamp: Date.now(),
  }));

const kafka = startEmbeddedKafka({ topics: [{ name: 'profile', partitions: 1 }] });
const delivery = createKafkaDelivery({
  brokers: kafka.bootstrapServers.split(','),
  // PLAINTEXT needs none of the other security fields.
  security: { protocol: 'PLAINTEXT' } as ClientSecurity,
  producer: PRODUCER,
});
const session = new Session();
try {
  for (let i = 0; i < 20; i++) await delivery.send(records(i * BATCH)); // warm-up
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const sendMs: number[] = [];
  const buildMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < BATCHES; i++) {
    const t0 = performance.now();
    const batch = records(i * BATCH);
    const t1 = performance.now();
    await delivery.send(batch);
    buildMs.push(t1 - t0);
    sendMs.push(performance.now() - t1);
  }
  const wallMs = performance.now() - started;
  const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/produce.cpuprofile', JSON.stringify(profile));
  const sampled = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  console.log(
    `produce leg (${PRODUCER} producer): ${BATCHES} serial sends of ${BATCH} records (about ${companyLine(1).length} bytes each), acks=all, ${((BATCHES * BATCH) / (wallMs / 1000)).toFixed(0)} records/s; per send median ${median(sendMs).toFixed(2)} ms (building the records ${median(buildMs).toFixed(2)} ms)`,
  );
  console.log(`main thread, ${sampled.toFixed(0)} ms sampled:`);
  for (const { kind, ms } of breakdown(profile))
    console.log(
      `  ${kind.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms  ${((ms / sampled) * 100).toFixed(1).padStart(5)} %  ${((ms / BATCHES) * 1000).toFixed(0).padStart(5)} µs/send`,
    );
  console.log('wrote reports/produce.cpuprofile');
} finally {
  session.disconnect();
  await delivery.disconnect();
  kafka.stop();
}
