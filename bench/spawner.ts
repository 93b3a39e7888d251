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
   * @throws LocalError `BENCH_SPAWN_FAILED` when the program cannot start or exits other than 0
   * (its exit code and the end of its standard error in the message); `BENCH_SPAWNER_EXITED`
   * when the helper is gone.
   */
  run(file: string, args: readonly string[]): Promise<SpawnedRun>;
  /** Ends the helper; runs still waiting fail with `BENCH_SPAWNER_EXITED`. */
  close(): Promise<void>;
}

/** The helper's answer to request `id`. */
interface Answer {
  readonly id: number;
  readonly ms?: number;
  readonly stdout?: string;
  readonly error?: string;
}

/** The helper: bench/spawner-child.mjs, plain JavaScript (no compiler loaded into it). */
export const SPAWNER_CHILD = join(ROOT, 'bench', 'spawner-child.mjs');

/**
 * Starts the helper (`script`, bench/spawner-child.mjs by default) on this Node, with this
 * process's CPU affinity (start it after pinning, so the programs run where the measured process
 * would have started them).
 *
 * @throws LocalError `BENCH_SPAWNER_EXITED` when the helper cannot start.
 */
export async function startSpawner(script = SPAWNER_CHILD): Promise<Spawner> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [script], {
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const waiting = new Map<
    number,
    { resolve: (r: SpawnedRun) => void; reject: (e: Error) => void }
  >();
  let gone: LocalError | undefined;
  /** Fails every run waiting, and every later one, with `error`. */
  const end = (error: LocalError): void => {
    gone ??= error;
    for (const w of waiting.values()) w.reject(gone);
    waiting.clear();
  };
  const exitedMessage = (how: string): string =>
    `the bench's spawning helper ${how}${stderr === '' ? '' : `: ${stderr.trim()}`}`;
  // 'close': after its output has been read, so an answer written just before it ended counts.
  const closed = once(child, 'close').then(([code, signal]) => {
    end(
      new LocalError('BENCH_SPAWNER_EXITED', exitedMessage(`exited (${String(code ?? signal)})`)),
    );
  });
  // Writing to a helper that has just died (EPIPE) fails the runs, not this process.
  child.stdin.on('error', (error) =>
    end(
      new LocalError(
        'BENCH_SPAWNER_EXITED',
        exitedMessage(`cannot be written to (${error.message})`),
      ),
    ),
  );
  createInterface({ input: child.stdout }).on('line', (line) => {
    let answer: Answer;
    try {
      answer = JSON.parse(line) as Answer;
      if (typeof answer?.id !== 'number') throw new Error('no id');
    } catch {
      // A helper that says something else cannot be trusted with the runs: it is ended.
      end(
        new LocalError(
          'BENCH_SPAWNER_EXITED',
          `the bench's spawning helper answered ${JSON.stringify(line.slice(0, 200))}, not {id, ms, stdout} or {id, error}; it was stopped`,
        ),
      );
      child.kill();
      return;
    }
    const w = waiting.get(answer.id);
    if (w === undefined) return;
    waiting.delete(answer.id);
    if (answer.error !== undefined) w.reject(new LocalError('BENCH_SPAWN_FAILED', answer.error));
    else w.resolve({ ms: answer.ms as number, stdout: answer.stdout ?? '' });
  });
  try {
    await once(child, 'spawn');
  } catch (error) {
    throw new LocalError(
      'BENCH_SPAWNER_EXITED',
      `the bench's spawning helper could not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
  child.on('error', (error) =>
    end(new LocalError('BENCH_SPAWNER_EXITED', exitedMessage(`failed (${error.message})`))),
  );
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
      await closed;
    },
  };
}
