/**
 * The produce leg alone (issue 12 item 3): 200,000 JSON lines of about 45 bytes to 6
 * partitions of the embedded broker (in a child process), acks=all, through lib/kafka's
 * delivery port with each producer and send shape, against kcat producing the same lines to
 * the same broker in the same run. Rounds alternate baseline and candidate; medians of each
 * and of the paired ratios.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createKafkaDelivery, type KafkaDelivery, type OutRecord } from '../lib/kafka/index.ts';
import { median, result, type BenchResult } from './harness.ts';
import { companyLine } from './pipeline.ts';

const run = promisify(execFile);
const RECORDS = 200_000;
const PARTITIONS = 6;
const ROUNDS = 5;
const KCAT = 'kcat, acks=all, 6 partitions (librdkafka, a child process)';

interface Shape {
  readonly name: string;
  readonly producer: 'fast' | 'kafkajs';
  /** Records per send, spread over the partitions in turn. */
  readonly perSend: number;
  /** Sends in flight at once. */
  readonly parallel: number;
}

const SHAPES: readonly Shape[] = [
  {
    name: 'kafkajs producer, serial sends of 1,000',
    producer: 'kafkajs',
    perSend: 1000,
    parallel: 1,
  },
  {
    name: 'kafkajs producer, 6 × 5,000 in parallel',
    producer: 'kafkajs',
    perSend: 5000,
    parallel: 6,
  },
  {
    name: 'own record batches, serial sends of 1,000',
    producer: 'fast',
    perSend: 1000,
    parallel: 1,
  },
  {
    name: 'own record batches, serial sends of 10,000',
    producer: 'fast',
    perSend: 10_000,
    parallel: 1,
  },
  {
    name: 'own record batches, 6 × 5,000 in parallel',
    producer: 'fast',
    perSend: 5000,
    parallel: 6,
  },
];

const outRecords = (topic: string, first: number, count: number, partition?: number): OutRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    topic,
    partition: partition ?? (first + i) % PARTITIONS,
    key: Buffer.from(`c${first + i}`),
    value: Buffer.from(companyLine(first + i)),
    headers: [],
    timestamp: Date.now(),
  }));

/** The sends of one round, built before it is timed. */
const sendsOf = (topic: string, shape: Shape): OutRecord[][] => {
  const sends: OutRecord[][] = [];
  for (let at = 0; at < RECORDS; at += shape.perSend)
    sends.push(
      outRecords(
        topic,
        at,
        Math.min(shape.perSend, RECORDS - at),
        // Parallel sends: each its own partition, so per-partition order does not depend on
        // which request the broker takes first.
        shape.parallel > 1 ? (at / shape.perSend) % PARTITIONS : undefined,
      ),
    );
  return sends;
};

async function timed(
  delivery: KafkaDelivery,
  sends: OutRecord[][],
  parallel: number,
): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < sends.length; i += parallel)
    await Promise.all(sends.slice(i, i + parallel).map((s) => delivery.send(s)));
  return RECORDS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function kcat(bootstrapServers: string, file: string): Promise<number> {
  const started = process.hrtime.bigint();
  await run('kcat', [
    '-P',
    '-b',
    bootstrapServers,
    '-t',
    'kcat',
    '-K',
    '\t',
    '-X',
    'acks=all',
    '-l',
    file,
  ]);
  return RECORDS / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function benchProduce(): Promise<BenchResult[]> {
  const child = spawn(
    process.execPath,
    [
      'bin/run-ts.js',
      'bench/broker-child.ts',
      `kcat:${PARTITIONS}`,
      ...SHAPES.map((_, i) => `p${i}:${PARTITIONS}`),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  const { bootstrapServers } = JSON.parse(String(first.value)) as { bootstrapServers: string };
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-produce-'));
  const file = join(dir, 'lines.tsv');
  writeFileSync(
    file,
    Array.from({ length: RECORDS }, (_, n) => `c${n}\t${companyLine(n)}\n`).join(''),
  );
  const out: BenchResult[] = [];
  try {
    for (const [i, shape] of SHAPES.entries()) {
      const topic = `p${i}`;
      const delivery = createKafkaDelivery({
        brokers: bootstrapServers.split(','),
        security: { protocol: 'PLAINTEXT' } as Parameters<
          typeof createKafkaDelivery
        >[0]['security'],
        producer: shape.producer,
      });
      try {
        await timed(delivery, sendsOf(topic, { ...shape }).slice(0, 6), shape.parallel); // warm-up
        const b: number[] = [];
        const c: number[] = [];
        const ratios: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const sends = sendsOf(topic, shape);
          let bi: number;
          let ci: number;
          if (r % 2 === 0) {
            bi = await kcat(bootstrapServers, file);
            ci = await timed(delivery, sends, shape.parallel);
          } else {
            ci = await timed(delivery, sends, shape.parallel);
            bi = await kcat(bootstrapServers, file);
          }
          b.push(bi);
          c.push(ci);
          ratios.push(ci / bi);
        }
        out.push(result(`produce: ${shape.name}`, median(c), KCAT, median(b), median(ratios)));
      } finally {
        await delivery.disconnect();
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    child.stdin.end();
  }
}
