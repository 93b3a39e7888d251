/**
 * The produce leg alone (issue 12 item 3): 200,000 JSON lines of about 45 bytes to 6
 * partitions of the embedded broker (in a child process), acks=all, by each candidate: lib/kafka's
 * delivery port with each producer and send shape, @platformatic/kafka under Node 22 and the
 * system librdkafka through koffi (each in a child process, bench/produce-child.ts); against kcat
 * producing the same lines to the same broker in the same run. Rounds alternate baseline and
 * candidate; medians of each and of the paired ratios. Each candidate's topic must then hold
 * exactly what it was given (kcat -Q), or the bench fails.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createKafkaDelivery, type KafkaDelivery, type OutRecord } from '../lib/kafka/index.ts';
import { node22Path } from '../scripts/node22.ts';
import { median, result, type BenchResult } from './harness.ts';
import { companyLine, kcatProduce, writeKcatFile } from './pipeline.ts';
import { startProduceChild } from './produce-child.ts';

const run = promisify(execFile);
const RECORDS = 200_000;
const PARTITIONS = 6;
const ROUNDS = 5;
const KCAT = 'kcat, acks=all, 6 partitions (librdkafka, a child process)';

/** A candidate's producer, connected and warmed up. */
interface OpenCandidate {
  /** Records the warm-up wrote to the candidate's topic. */
  readonly warmUpRecords: number;
  /** Produces the 200,000 lines once; records per second. */
  round(): Promise<number>;
  close(): Promise<void>;
}

interface Candidate {
  readonly name: string;
  open(bootstrapServers: string, topic: string, linesFile: string): Promise<OpenCandidate>;
}

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

/** lib/kafka's delivery port in this process. */
const throughPort = (shape: Shape): Candidate => ({
  name: shape.name,
  open: async (bootstrapServers, topic) => {
    const delivery = createKafkaDelivery({
      brokers: bootstrapServers.split(','),
      security: { protocol: 'PLAINTEXT' } as Parameters<typeof createKafkaDelivery>[0]['security'],
      producer: shape.producer,
    });
    const warmUp = sendsOf(topic, shape).slice(0, 6);
    await timed(delivery, warmUp, shape.parallel);
    return {
      warmUpRecords: warmUp.reduce((n, s) => n + s.length, 0),
      round: () => timed(delivery, sendsOf(topic, shape), shape.parallel),
      close: () => delivery.disconnect(),
    };
  },
});

/** A candidate answering from a child process (bench/produce-child.ts) that times itself. */
const inChild = (
  name: string,
  node: () => string,
  script: string,
  args: readonly string[] = [],
): Candidate => ({
  name,
  open: async (bootstrapServers, topic, linesFile) => {
    const child = await startProduceChild(node(), [
      'bin/run-ts.js',
      script,
      bootstrapServers,
      topic,
      String(PARTITIONS),
      linesFile,
      ...args,
    ]);
    return {
      warmUpRecords: child.warmUpRecords,
      round: async () => RECORDS / (await child.round()),
      close: () => child.stop(),
    };
  },
});

const CANDIDATES: readonly Candidate[] = [
  ...SHAPES.map(throughPort),
  // Needs Node >= 22.22, so it runs under the Lambda runtime's Node 22 (scripts/node22.ts).
  inChild(
    '@platformatic/kafka (Node 22), serial sends of 1,000',
    node22Path,
    'bench/produce-platformatic.ts',
    ['1000', '1'],
  ),
  inChild(
    '@platformatic/kafka (Node 22), 6 × 5,000 in parallel',
    node22Path,
    'bench/produce-platformatic.ts',
    ['5000', '6'],
  ),
  inChild(
    'librdkafka through koffi, rd_kafka_produce each record, then flush',
    () => process.execPath,
    'bench/produce-rdkafka.ts',
  ),
];

const kcat = (bootstrapServers: string, file: string): Promise<number> =>
  kcatProduce(bootstrapServers, file, RECORDS, { topic: 'kcat' });

/** The records a topic holds: the sum of its partitions' high watermarks, as kcat reads them. */
async function recordsIn(bootstrapServers: string, topic: string): Promise<number> {
  const partitions = Array.from({ length: PARTITIONS }, (_, p) => ['-t', `${topic}:${p}:-1`]);
  const { stdout } = await run('kcat', ['-Q', '-b', bootstrapServers, ...partitions.flat()]);
  return [...stdout.matchAll(/ offset (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** Rounds alternating kcat and the candidate; then checks the candidate's topic. */
async function paired(
  candidate: Candidate,
  bootstrapServers: string,
  topic: string,
  file: string,
): Promise<BenchResult> {
  const open = await candidate.open(bootstrapServers, topic, file);
  try {
    const b: number[] = [];
    const c: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let bi: number;
      let ci: number;
      if (r % 2 === 0) {
        bi = await kcat(bootstrapServers, file);
        ci = await open.round();
      } else {
        ci = await open.round();
        bi = await kcat(bootstrapServers, file);
      }
      b.push(bi);
      c.push(ci);
      ratios.push(ci / bi);
    }
    const expected = open.warmUpRecords + ROUNDS * RECORDS;
    const held = await recordsIn(bootstrapServers, topic);
    if (held !== expected)
      throw new Error(
        `produce: ${candidate.name}: ${topic} holds ${held} records, not ${expected}`,
      );
    return result(`produce: ${candidate.name}`, median(c), KCAT, median(b), median(ratios));
  } finally {
    await open.close();
  }
}

export async function benchProduce(): Promise<BenchResult[]> {
  const child = spawn(
    process.execPath,
    [
      'bin/run-ts.js',
      'bench/broker-child.ts',
      `kcat:${PARTITIONS}`,
      ...CANDIDATES.map((_, i) => `p${i}:${PARTITIONS}`),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  const { bootstrapServers } = JSON.parse(String(first.value)) as { bootstrapServers: string };
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-produce-'));
  const file = join(dir, 'lines.tsv');
  writeKcatFile(file, RECORDS);
  const out: BenchResult[] = [];
  try {
    for (const [i, candidate] of CANDIDATES.entries())
      out.push(await paired(candidate, bootstrapServers, `p${i}`, file));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    child.stdin.end();
  }
}
