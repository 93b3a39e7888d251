/**
 * Which cores the pipeline bench runs the stack and the measured process on. In production the
 * function's CPU is not shared with the broker or with TigerGraph, which run on machines of
 * their own; on one machine the closest is a part of its cores for each side, so neither
 * producer under test (the handler, kcat) shares its cores with the broker's or the emulator's
 * threads, and the emulator's loading (TigerGraph's work) is not charged to the handler.
 * Affinity is read and set with `taskset` (util-linux), within the cores the bench was given.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { LocalError, messageOf } from '../lib/errors/index.ts';

export interface CoreLayout {
  /** The stack's cores (taskset's list syntax), or undefined when shared. */
  readonly stack: string | undefined;
  /** The measured process's cores (and so its children's, kcat's), or undefined when shared. */
  readonly producer: string | undefined;
  /** The cores the measured process had before, given back when the stack stops. */
  readonly restore: string | undefined;
  /** What a report says about it. */
  readonly description: string;
}

/** The layout of the benches that do not ask for a split (the latency bench). */
export const SHARED: CoreLayout = {
  stack: undefined,
  producer: undefined,
  restore: undefined,
  description: 'cores shared by the stack and the measured process',
};

/**
 * The CPU ids of a list in taskset's syntax (`0-3,6`).
 *
 * @throws LocalError `BENCH_CORES_UNREADABLE` for text that is not such a list.
 */
export function parseCpuList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (m === null || to < from)
      throw new LocalError(
        'BENCH_CORES_UNREADABLE',
        `taskset printed "${text.trim()}", not a CPU list such as 0-3,6`,
      );
    for (let id = from; id <= to; id++) ids.push(id);
  }
  return ids;
}

/** The cores process `pid` may run on, or undefined when taskset cannot tell. */
export function currentCores(pid: number): number[] | undefined {
  const run = spawnSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  // "pid 123's current affinity list: 0,1"
  return parseCpuList(run.stdout.slice(run.stdout.lastIndexOf(':') + 1));
}

/**
 * The layout within the cores `allowed` (undefined: taskset could not be run): the lower half
 * (at least one) for the measured process, the rest for the stack, when there are 2 or more
 * and `TGSTREAM_BENCH_CORES` is not `shared`; otherwise shared (saying why).
 *
 * @throws LocalError `BENCH_CORES_INVALID` for a setting other than split or shared.
 */
export function coreLayout(
  allowed: readonly number[] | undefined,
  setting: string | undefined,
): CoreLayout {
  const shared = (why: string): CoreLayout => ({
    ...SHARED,
    description: `${SHARED.description} (${why})`,
  });
  if (setting === 'shared') return shared('TGSTREAM_BENCH_CORES=shared');
  if (setting !== undefined && setting !== '' && setting !== 'split')
    throw new LocalError(
      'BENCH_CORES_INVALID',
      `TGSTREAM_BENCH_CORES=${setting}: allowed are split (the default: half the cores for the stack, half for the measured process) and shared`,
    );
  if (allowed === undefined) return shared('taskset, from util-linux, could not be run');
  if (allowed.length < 2) return shared(`${allowed.length} core`);
  const half = Math.floor(allowed.length / 2);
  const producer = allowed.slice(0, half).join(',');
  const stack = allowed.slice(half).join(',');
  const cores = (list: string): string => `core${list.includes(',') ? 's' : ''} ${list}`;
  return {
    stack,
    producer,
    restore: allowed.join(','),
    description: `the stack (broker, emulator) on ${cores(stack)}, the measured process and its children (the handler, kcat) on ${cores(producer)}`,
  };
}

/**
 * Sets the affinity of every thread of process `pid` (taskset -a -p) and reads it back (taskset
 * -a exits 0 for a process that is gone, having found no thread to set).
 *
 * @throws LocalError `BENCH_PIN_FAILED` when taskset fails or the process is not on `cores`
 * after it (the cores are not the process's to take, or it is gone).
 */
export function pin(pid: number, cores: string): void {
  const failed = (why: string, cause?: unknown): LocalError =>
    new LocalError(
      'BENCH_PIN_FAILED',
      `taskset could not put process ${pid} on cores ${cores}: ${why}`,
      {
        cause,
      },
    );
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'pipe' });
  } catch (error) {
    throw failed(messageOf(error), error);
  }
  const now = currentCores(pid);
  if (now?.join(',') !== parseCpuList(cores).join(','))
    throw failed(now === undefined ? 'it is gone' : `it is on cores ${now.join(',')}`);
}
