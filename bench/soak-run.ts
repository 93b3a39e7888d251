/**
 * The soak: a sustained run of `tgstream run` on the embedded default, measuring throughput
 * and memory across many handler invocations and checking that nothing was lost.
 *
 * Two processes, as a user runs it: `tgstream dev` in a child process, and `tgstream run` (the
 * CLI's own code path, `runCli`) in this one, so the heap measured is the runner's and the
 * handler's. kcat feeds the source topic while the runner consumes it (see soak-feed.ts for
 * why it cannot be filled first), and the run is stopped as Ctrl-C stops it once every record
 * has been handed to the handler.
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString, getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runCli } from '../lib/cli/index.ts';
import type { RunTotals } from '../lib/local/index.ts';
import { heapVerdict, type HeapSample, type HeapVerdict } from './soak-figures.ts';
import { WINDOW_PER_PARTITION, requireKcat, startKcatFeeder } from './soak-feed.ts';
import {
  connectorFor,
  peakRssOf,
  startStack,
  stopStack,
  topicSize,
  verifyGraph,
  type Verified,
} from './soak-stack.ts';

export interface SoakOptions {
  readonly records: number;
  /** Records per invocation at most (`tigerstream.esm.batch.size`). */
  readonly batchSize: number;
  readonly partitions: number;
  /** Invocations between heap samples (each after a full garbage collection). */
  readonly sampleEvery: number;
  /** The heap may grow this much (MB) between the start and the end of the run. */
  readonly maxHeapGrowthMb: number;
  readonly say: (line: string) => void;
}

export interface SoakReport {
  readonly records: number;
  readonly batchSize: number;
  readonly partitions: number;
  /** Records kcat was allowed to be ahead of the runner. */
  readonly feedWindow: number;
  readonly run: {
    readonly exitCode: number;
    /** Why the run was stopped: every record consumed, or no progress for a minute. */
    readonly stoppedBecause: string;
    /** From the start of `tgstream run` (joining the group included) until it returned. */
    readonly seconds: number;
    readonly recordsPerSecond: number;
    /** Between the first and the last heap sample (joining and stopping left out). */
    readonly steadyRecordsPerSecond: number;
    readonly records: number;
    readonly invocations: number;
    readonly failedAttempts: number;
    readonly loaded: number;
    readonly rejected: number;
    readonly deadLettered: number;
    /** Time spent in the forced collections, included in `seconds`. */
    readonly forcedGcSeconds: number;
  };
  readonly memory: {
    /** The kernel's high-water mark of this process's resident set, read when the run ended. */
    readonly peakRssMb: number;
    /** The largest resident set seen after an invocation. */
    readonly peakRssSampledMb: number;
    readonly heap: HeapVerdict;
    /** The stack process (broker, emulator with the whole graph): its resident high-water mark. */
    readonly stackPeakRssMb: number | undefined;
  };
  /** Records the source topic's partitions hold in all (their high watermarks summed). */
  readonly sourceTopicRecords: number;
  readonly verified: Verified;
  readonly logFile: string;
  readonly samples: readonly HeapSample[];
}

const MB = 1024 * 1024;
/** No record consumed for this long after the feed ended: the run is stopped and reported. */
const STALL_MS = 60_000;
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** `global.gc`, or the same function obtained at run time when node ran without --expose-gc. */
function fullGc(): () => void {
  const exposed = globalThis.gc;
  if (exposed) return () => exposed();
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Runs the soak: starts `tgstream dev`, runs `tgstream run` in this process while kcat feeds
 * the source topic, samples memory every `sampleEvery` invocations, stops the run once every
 * record was consumed, then checks the graph holds every record's vertex.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { say, records } = options;
  requireKcat();
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-soak-'));
  say(
    `starting tgstream dev (embedded broker, TigerGraph emulator), ${options.partitions} partitions`,
  );
  const stack = await startStack('infra/connectors/company.properties', options.partitions);
  try {
    const connectorFile = connectorFor(dir, stack, options.batchSize);
    const window = WINDOW_PER_PARTITION * options.partitions;
    const logFile = join(dir, 'run.log');
    say(`tgstream run, kcat feeding ${records} records at most ${window} ahead (log: ${logFile})`);

    const gc = fullGc();
    const samples: HeapSample[] = [];
    let consumed = 0;
    let lastProgress = Date.now();
    let peakRss = 0;
    let gcMs = 0;
    const started = Date.now();
    const feeder = startKcatFeeder({
      bootstrapServers: stack.bootstrapServers,
      topic: 'companies',
      count: records,
      window,
      consumed: () => consumed,
    });
    let fed = false;
    let feedError: Error | undefined;
    feeder.finished.then(
      () => (fed = true),
      (error: unknown) => (feedError = error instanceof Error ? error : new Error(String(error))),
    );

    // Stopping is Ctrl-C: `tgstream run` listens for SIGINT while it runs. A stop asked for
    // before the first invocation waits for it, so the CLI is surely listening.
    let stoppedBecause = '';
    let signalled = false;
    const stop = (why: string): void => {
      stoppedBecause ||= why;
      if (signalled || (consumed === 0 && Date.now() - started < STALL_MS)) return;
      signalled = true;
      process.kill(process.pid, 'SIGINT');
    };
    const watchdog = setInterval(() => {
      if (feedError !== undefined) stop('the feed failed');
      else if (fed && Date.now() - lastProgress > STALL_MS) stop('no progress for a minute');
      else if (stoppedBecause !== '') stop(stoppedBecause);
    }, 500);

    const onRunProgress = (t: Readonly<RunTotals>): void => {
      consumed = t.records;
      lastProgress = Date.now();
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (t.batches % options.sampleEvery === 0) {
        const g = performance.now();
        gc();
        gcMs += performance.now() - g;
        const m = process.memoryUsage();
        samples.push({
          invocation: t.batches,
          records: t.records,
          seconds: round((Date.now() - started) / 1000, 2),
          heapUsedMb: round(getHeapStatistics().used_heap_size / MB, 2),
          externalMb: round(m.external / MB, 2),
          rssMb: round(m.rss / MB),
          load1: round(loadavg()[0] ?? 0, 2),
        });
        if (samples.length % 20 === 0)
          say(
            `  ${t.records}/${records} records, ${t.batches} invocations, heap ${samples.at(-1)?.heapUsedMb} MB`,
          );
      }
      if (t.records >= records) stop('every record consumed');
    };

    const log = createWriteStream(logFile);
    let stdout = '';
    let exitCode: number;
    try {
      exitCode = await runCli(
        ['run', '--c', connectorFile, '--json', '--session-timeout-ms', '6000'],
        {
          stdout: (t) => (stdout += t),
          stderr: (t) => log.write(t),
          isTTY: false,
          env: { ...process.env, TGSTREAM_RUNS_DIR: join(dir, 'runs') },
          cwd: dir,
        },
        { onRunProgress },
      );
    } finally {
      clearInterval(watchdog);
      log.end();
    }
    const seconds = (Date.now() - started) / 1000;
    const peakRssMb = round(process.resourceUsage().maxRSS / 1024);
    if (!fed) feeder.stop();
    await feeder.finished.catch(() => undefined);
    if (feedError !== undefined) throw feedError;
    const totals = (exitCode === 0 ? JSON.parse(stdout) : {}) as Partial<RunTotals>;
    say(`run ended (exit ${exitCode}, ${stoppedBecause}) in ${seconds.toFixed(1)} s; counting`);
    const stackPeakRssMb = peakRssOf(stack.child.pid);
    const sourceTopicRecords = await topicSize(stack.bootstrapServers, 'companies');
    const verified = await verifyGraph(stack.tigergraphUrl, records);
    const first = samples[0];
    const last = samples.at(-1);
    return {
      records,
      batchSize: options.batchSize,
      partitions: options.partitions,
      feedWindow: window,
      run: {
        exitCode,
        stoppedBecause,
        seconds: round(seconds, 2),
        recordsPerSecond: Math.round((totals.records ?? 0) / seconds),
        steadyRecordsPerSecond:
          first && last && last.seconds > first.seconds
            ? Math.round((last.records - first.records) / (last.seconds - first.seconds))
            : 0,
        records: totals.records ?? 0,
        invocations: totals.batches ?? 0,
        failedAttempts: totals.failedAttempts ?? 0,
        loaded: totals.loaded ?? 0,
        rejected: totals.rejected ?? 0,
        deadLettered: totals.deadLettered ?? 0,
        forcedGcSeconds: round(gcMs / 1000, 2),
      },
      memory: {
        peakRssMb,
        peakRssSampledMb: round(peakRss / MB),
        heap: heapVerdict(samples, options.maxHeapGrowthMb),
        stackPeakRssMb,
      },
      sourceTopicRecords,
      verified,
      logFile,
      samples,
    };
  } finally {
    await stopStack(stack.child);
  }
}
