/**
 * A produce-bench candidate in a child process of its own (bench/produce.ts): one that needs
 * another node (@platformatic/kafka, Node 22) or native threads (librdkafka) runs apart from
 * the bench and answers for itself, over one line of JSON each way.
 *
 * The child connects and warms up, then prints `{"warmUpRecords": n}`; for each `round` line
 * on its standard input it produces the lines once and prints `{"seconds": s}`, the time from
 * its first send to its last acknowledgement; it closes its producer when its input ends.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One line of the file kcat produces from: `key<TAB>value`. */
export interface Line {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** The child's side: its producer, connected and warmed up. */
export interface RoundProducer {
  /** Records the warm-up wrote, which the bench's count of the topic includes. */
  readonly warmUpRecords: number;
  /** Produces every line once; seconds from the first send to the last acknowledgement. */
  round(): Promise<number>;
  close(): Promise<void>;
}

/** The bench's side of one child. */
export interface ProduceChild {
  readonly warmUpRecords: number;
  /** Seconds the child took to produce every line once. */
  round(): Promise<number>;
  stop(): Promise<void>;
}

/** The lines of kcat's input file, as the bytes kcat sends. */
export const readLines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const tab = l.indexOf('\t');
      return { key: Buffer.from(l.slice(0, tab)), value: Buffer.from(l.slice(tab + 1)) };
    });

/** Runs in the child: answers the bench's rounds until its input ends. */
export async function serveRounds(open: () => Promise<RoundProducer>): Promise<void> {
  const producer = await open();
  process.stdout.write(`${JSON.stringify({ warmUpRecords: producer.warmUpRecords })}\n`);
  try {
    for await (const line of createInterface({ input: process.stdin }))
      if (line === 'round')
        process.stdout.write(`${JSON.stringify({ seconds: await producer.round() })}\n`);
  } finally {
    await producer.close();
  }
}

/**
 * Starts a child and waits until it is connected and warmed up.
 *
 * @throws Error with the child's standard error when it exits before answering.
 */
export async function startProduceChild(
  command: string,
  args: readonly string[],
): Promise<ProduceChild> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A child that died has its error in stderr and its exit code; a write to its closed input
  // (EPIPE) says nothing more.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const answer = await answers.next();
    if (answer.done === true) {
      await exited;
      throw new Error(
        `${args.find((a) => a.endsWith('.ts')) ?? command} exited (${String(child.exitCode ?? child.signalCode)}) without answering: ${stderr.trim()}`,
      );
    }
    return JSON.parse(answer.value) as T;
  };
  const { warmUpRecords } = await next<{ warmUpRecords: number }>();
  return {
    warmUpRecords,
    round: async () => {
      child.stdin.write('round\n');
      return (await next<{ seconds: number }>()).seconds;
    },
    stop: async () => {
      child.stdin.end();
      await exited;
      if (child.exitCode !== 0)
        throw new Error(`a produce child failed closing (${String(child.exitCode)}): ${stderr}`);
    },
  };
}
