/**
 * Programs run to completion by a helper process instead of the measured one. The pipeline bench's
 * process stands for the stream function's, which never forks; starting kcat from it did: each
 * fork write-protects every page of its heap, and the handler step that followed paid for taking
 * them back (in ad-hoc runs of the 1,000-record streaming group on Node 22, a `true` forked before
 * each handler step raised its minor page faults from about 5,500 to 10,000 and lowered its rate
 * from about 510,000 to 435,000 records/s; with kcat's two steps in front, 10,400 faults and
 * 395,000 against 540,000 without them). The helper is started once, before the measuring, and
 * times each program itself, so the baseline is timed as it was: around the program's run.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LocalError } from '../lib/errors/index.ts';
import { ROOT } from './harness.ts';

/** What the helper reports of one run. */
export interface SpawnedRun {
  /** The program's run time, measured in the helper from its start to its exit. */
  readonly ms: number;
  readonly stdout: string;
}

export interface Spawner {
  /** The helper's process id (the parent of every program it runs). */
  readonly pid: number;
  /**
   * Runs `file` with `args` in the helper and waits for it to exit.
   *
   * @throws LocalError `BENCH_SPAWN_FAILED` when the program cannot start, exits other than 0,
   * is killed by a signal or prints more than 64 MiB (the message says which, with the end of
   * its standard error); `BENCH_SPAWNER_EXITED` when the helper has exited or was closed;
   * `BENCH_SPAWNER_UNUSABLE` when it cannot be written to or answers something other than an
   * answer (it is then stopped).
   */
  run(file: string, args: readonly string[]): Promise<SpawnedRun>;
  /**
   * Ends the helper, which stops the programs it is running; runs still waiting fail with
   * `BENCH_SPAWNER_EXITED`. A helper not gone within {@link CLOSE_WAIT_MS} is killed.
   */
  close(): Promise<void>;
}

/** The helper's answer to request `id`: `ms` and `stdout`, or `error`. */
interface Answer {
  readonly id: number;
  readonly ms?: number;
  readonly stdout?: string;
  readonly error?: string;
}

/** Whether `value` is an answer the helper writes (anything else means it cannot be trusted). */
const isAnswer = (value: unknown): value is Answer => {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return (
    typeof a.id === 'number' &&
    (a.error === undefined
      ? typeof a.ms === 'number' && typeof a.stdout === 'string'
      : typeof a.error === 'string')
  );
};

/** The helper: bench/spawner-child.mjs, plain JavaScript (no compiler loaded into it). */
export const SPAWNER_CHILD = join(ROOT, 'bench', 'spawner-child.mjs');

/** How long {@link Spawner.close} waits for the helper to end before it kills it. */
export const CLOSE_WAIT_MS = 5000;

/**
 * Starts the helper (`script`, bench/spawner-child.mjs by default) on this Node, with this
 * process's CPU affinity (start it after pinning, so the programs run where the measured process
 * would have started them).
 *
 * @throws LocalError `BENCH_SPAWNER_UNUSABLE` when the helper cannot start.
 */
export async function startSpawner(script = SPAWNER_CHILD): Promise<Spawner> {
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(process.execPath, [script], { stdio: 'pipe' });
  } catch (error) {
    throw cannotStart(error);
  }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const waiting = new Map<
    number,
    { resolve: (r: SpawnedRun) => void; reject: (e: Error) => void }
  >();
  let gone: LocalError | undefined;
  /** Fails every run waiting, and every later one, with the first such error. */
  const end = (error: LocalError): void => {
    gone ??= error;
    for (const w of waiting.values()) w.reject(gone);
    waiting.clear();
  };
  const describeHelper = (what: string): string =>
    `the bench's spawning helper ${what}${stderr === '' ? '' : `: ${stderr.trim()}`}`;
  /**
   * Ends the runs with `BENCH_SPAWNER_UNUSABLE` (`message`, `cause`) and stops the helper, which
   * stops its programs on SIGTERM.
   */
  const stopUnusable = (message: string, cause?: unknown): void => {
    end(new LocalError('BENCH_SPAWNER_UNUSABLE', message, cause === undefined ? {} : { cause }));
    child.kill();
  };
  // A write to a helper that has just died fails (EPIPE): it is killed, if it is not dead yet, and
  // the runs end when it has, with the write's error as the cause.
  let writeError: Error | undefined;
  child.stdin.on('error', (error) => {
    writeError ??= error;
    child.kill('SIGKILL');
  });
  // 'close' comes after the helper's output has been read, so an answer written just before it
  // ended still counts; a listener, not events.once, which would reject on 'error' unheard.
  const closed = new Promise<void>((resolve) =>
    child.once('close', (code: number | null, signal: string | null) => {
      end(
        new LocalError(
          'BENCH_SPAWNER_EXITED',
          describeHelper(`exited (${String(code ?? signal)})`),
          writeError === undefined ? {} : { cause: writeError },
        ),
      );
      resolve();
    }),
  );
  child.stdout.on('error', (error) =>
    stopUnusable(describeHelper(`cannot be read (${error.message})`), error),
  );
  child.stderr.on('error', () => undefined);
  createInterface({ input: child.stdout }).on('line', (line) => {
    let answer: unknown;
    let cause: unknown;
    try {
      answer = JSON.parse(line);
    } catch (error) {
      cause = error;
    }
    const known = isAnswer(answer) ? waiting.get(answer.id) : undefined;
    if (!isAnswer(answer) || (known === undefined && gone === undefined)) {
      // A helper that says something else, or answers a run it was not given, cannot be trusted
      // with the runs: it is stopped. (Its line is not quoted: it may hold a program's output.)
      stopUnusable(
        `the bench's spawning helper answered a line of ${line.length} characters that is ${isAnswer(answer) ? 'an answer to no run it was given' : 'not {id, ms, stdout} or {id, error}'}; it was stopped`,
        cause,
      );
      return;
    }
    if (known === undefined) return;
    waiting.delete(answer.id);
    if (answer.error !== undefined)
      known.reject(new LocalError('BENCH_SPAWN_FAILED', answer.error));
    else known.resolve({ ms: answer.ms as number, stdout: answer.stdout as string });
  });
  try {
    await once(child, 'spawn');
  } catch (error) {
    throw cannotStart(error);
  }
  child.on('error', (error) => stopUnusable(describeHelper(`failed (${error.message})`), error));
  let next = 0;
  return {
    pid: child.pid as number,
    run(file, args) {
      if (gone !== undefined) return Promise.reject(gone);
      const id = next++;
      return new Promise<SpawnedRun>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, file, args })}\n`);
      });
    },
    async close() {
      end(new LocalError('BENCH_SPAWNER_EXITED', "the bench's spawning helper was closed"));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_WAIT_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** The error for a helper that could not be started. */
const cannotStart = (error: unknown): LocalError =>
  new LocalError(
    'BENCH_SPAWNER_UNUSABLE',
    `the bench's spawning helper could not start: ${(error as Error).message}`,
    { cause: error },
  );
