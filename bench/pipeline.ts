/**
 * The stream handler end to end (decode, convert, deliver, acknowledge) in each mode and at two
 * batch sizes, against kcat (librdkafka) producing the same JSON lines to the same embedded
 * broker with acks=all, measured in the same run: rounds alternate baseline and candidate (and
 * which goes first), and the medians of each and of the paired per-round ratios are reported.
 * The broker and the emulator run in a `tgstream dev` child process (bench/stack.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Context } from 'aws-lambda';
import { encodeKafkaEvent, type KafkaRecord } from '../lib/event/index.ts';
import { silentLogger } from '../lib/observability/index.ts';
import { createStreamHandler } from '../lib/pipeline/index.ts';
import { median, result, type BenchResult } from './harness.ts';
import { MODES, startBenchStack, type BenchStack, type Mode } from './stack.ts';

const run = promisify(execFile);

/** Records per round, for both sides: kcat's process start is spread over as many. */
export const ROUND_RECORDS = 100_000;
const BATCHES = [1000, 10_000] as const;
const ROUNDS = 5;
export const KCAT = 'kcat, acks=all (librdkafka, a child process)';

export const companyLine = (n: number): string =>
  JSON.stringify({ company: `Company ${n}`, employee_num: n });

/** A Lambda context with plenty of time left (the bench is not about deadlines). */
export const benchContext = (): Context =>
  ({ awsRequestId: 'bench', getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

/** The Kafka events of `count` records starting at `first`, in batches of `batch`. */
export function events(topic: string, first: number, count: number, batch: number): unknown[] {
  const out: unknown[] = [];
  for (let start = first; start < first + count; start += batch) {
    const records: KafkaRecord[] = Array.from({ length: batch }, (_, i) => ({
      topic,
      partition: 0,
      offset: start + i,
      timestamp: Date.now(),
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`c${start + i}`),
      value: Buffer.from(companyLine(start + i)),
      headers: [],
    }));
    out.push(
      encodeKafkaEvent(records, { eventSource: 'SelfManagedKafka', bootstrapServers: 'bench:1' }),
    );
  }
  return out;
}

/** kcat producing a file of key<TAB>value lines to one partition; returns records/s. */
export async function kcatProduce(
  bootstrapServers: string,
  file: string,
  records: number,
): Promise<number> {
  const started = process.hrtime.bigint();
  await run('kcat', [
    '-P',
    '-b',
    bootstrapServers,
    '-t',
    'kcat.companies',
    '-p',
    '0',
    '-K',
    '\t',
    '-X',
    'acks=all',
    '-l',
    file,
  ]);
  return records / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function scenario(
  stack: BenchStack,
  mode: Mode,
  batch: number,
  kcatFile: string,
  next: { offset: number },
): Promise<BenchResult> {
  const config = stack.connector(mode, batch);
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger: silentLogger(),
  });
  const invoke = async (list: unknown[]): Promise<number> => {
    const started = process.hrtime.bigint();
    for (const event of list) {
      const r = await handler(event, benchContext());
      if (r.records !== batch || r.loaded !== batch)
        throw new Error(`${mode}: a batch of ${batch} loaded ${r.loaded} of ${r.records}`);
    }
    return (list.length * batch) / (Number(process.hrtime.bigint() - started) / 1e9);
  };
  try {
    // Warm-up: connects the producer and, in streaming mode, starts the run the rounds use.
    await invoke(events(stack.sourceTopic(mode), next.offset, batch, batch));
    next.offset += batch;
    const b: number[] = [];
    const c: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const list = events(stack.sourceTopic(mode), next.offset, ROUND_RECORDS, batch);
      next.offset += ROUND_RECORDS;
      let bi: number;
      let ci: number;
      if (i % 2 === 0) {
        bi = await kcatProduce(stack.bootstrapServers, kcatFile, ROUND_RECORDS);
        ci = await invoke(list);
      } else {
        ci = await invoke(list);
        bi = await kcatProduce(stack.bootstrapServers, kcatFile, ROUND_RECORDS);
      }
      b.push(bi);
      c.push(ci);
      ratios.push(ci / bi);
    }
    return result(
      `pipeline: handler, ${mode}, ${batch.toLocaleString('en-US')}-record batches`,
      median(c),
      KCAT,
      median(b),
      median(ratios),
    );
  } finally {
    await handler.close();
  }
}

export async function benchPipeline(): Promise<BenchResult[]> {
  const stack = await startBenchStack();
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-kcat-'));
  const kcatFile = join(dir, 'lines.tsv');
  writeFileSync(
    kcatFile,
    Array.from({ length: ROUND_RECORDS }, (_, n) => `c${n}\t${companyLine(n)}\n`).join(''),
  );
  const next = { offset: 0 };
  const out: BenchResult[] = [];
  try {
    for (const batch of BATCHES)
      for (const mode of MODES) out.push(await scenario(stack, mode, batch, kcatFile, next));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}
