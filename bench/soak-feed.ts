/**
 * The soak's producer: kcat (librdkafka's command-line client) writing company records into
 * the source topic, kept a bounded number of records ahead of what the runner has consumed.
 *
 * Why paced: the embedded broker (librdkafka's mock cluster) keeps at most 5 MiB or 100,000
 * message sets per partition and drops the oldest beyond that (rdkafka_mock.c, not settable in
 * librdkafka 2.0), so a million ~80-byte records written up front into 3 partitions would
 * lose all but the last ~65,000 of each before the runner read them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalError } from '../lib/errors/index.ts';

/** Records the feeder may be ahead of the runner, per partition: about 1.6 MB of the 5 MiB kept. */
export const WINDOW_PER_PARTITION = 20_000;
/** Lines handed to kcat at a time. */
const CHUNK = 2000;

/** The company whose record number is `n`: one distinct vertex id per record. */
export const companyId = (n: number): string => `Company ${String(n).padStart(7, '0')}`;

/** The record line kcat reads: key, a tab, the JSON value. */
const line = (n: number): string => {
  const company = companyId(n);
  return `${company}\t{"company":"${company}","employee_num":${10 + ((n * 7919) % 400_000)}}\n`;
};

export interface FeederOptions {
  readonly bootstrapServers: string;
  readonly topic: string;
  readonly count: number;
  /** Records the feeder may be ahead of `consumed()`. */
  readonly window: number;
  readonly consumed: () => number;
}

export interface Feeder {
  /** Resolves when kcat has delivered every record and exited; rejects when it failed. */
  readonly finished: Promise<void>;
  readonly produced: () => number;
  /** Ends kcat early (the run stopped before everything was fed). */
  readonly stop: () => void;
}

/** Throws a coded error when kcat is not installed. */
export function requireKcat(): void {
  if (spawnSync('kcat', ['-V']).status !== 0)
    throw new LocalError(
      'SOAK_KCAT_MISSING',
      'kcat is not installed (Debian/Ubuntu: apt-get install kcat, or bash scripts/ensure-kcat.sh)',
    );
}

/** Starts kcat and feeds it records 1..count, never more than `window` ahead of the runner. */
export function startKcatFeeder(options: FeederOptions): Feeder {
  const kcat = spawn(
    'kcat',
    ['-P', '-b', options.bootstrapServers, '-t', options.topic, '-K', '\t', '-X', 'linger.ms=20'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  // Writing to a kcat that exited fails with EPIPE; its exit code tells why.
  kcat.stdin.on('error', () => undefined);
  kcat.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = once(kcat, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let produced = 0;
  let stopped = false;
  const feed = async (): Promise<void> => {
    for (let start = 1; start <= options.count && !stopped; start += CHUNK) {
      while (start - 1 - options.consumed() >= options.window && !stopped) await sleep(20);
      const end = Math.min(start + CHUNK - 1, options.count);
      let text = '';
      for (let n = start; n <= end; n++) text += line(n);
      // A kcat that died answers no drain: its exit ends the wait (and the feed, below).
      if (!kcat.stdin.write(text)) await Promise.race([once(kcat.stdin, 'drain'), exited]);
      if (kcat.exitCode !== null || kcat.signalCode !== null) break;
      produced = end;
    }
    kcat.stdin.end();
    const [code, signal] = await exited;
    if (!stopped && (code !== 0 || produced < options.count))
      throw new LocalError(
        'SOAK_FEED_FAILED',
        `kcat exited with ${code ?? signal ?? '?'} after ${produced} records: ${stderr.trim()}`,
      );
  };
  const finished = feed();
  // Whoever awaits `finished` sees the failure; this only keeps it from being unhandled first.
  finished.catch(() => undefined);
  return {
    finished,
    produced: () => produced,
    stop: () => {
      stopped = true;
      kcat.kill('SIGTERM');
    },
  };
}
