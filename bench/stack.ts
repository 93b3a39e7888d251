/**
 * The pipeline benches' surroundings: `tgstream dev` in a child process (the embedded broker
 * and the TigerGraph emulator, so their work is not counted in the measured process), with one
 * loading job per kafka mode, and the example connector file set up for each mode; on a
 * machine of 2 cores or more, the stack and the measured process each on cores of their own
 * (bench/cores.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  parseConnectorFile,
  validateConnectorFile,
  type ConnectorConfig,
} from '../lib/config/index.ts';
import { LocalError, messageOf } from '../lib/errors/index.ts';
import { SHARED, coreLayout, currentCores, pin, type CoreLayout } from './cores.ts';
import { ROOT } from './harness.ts';

/** The three ways the handler delivers: kafka with a streaming run, kafka with EOF runs, direct. */
export const MODES = ['kafka, streaming run', 'kafka, EOF runs', 'direct'] as const;
export type Mode = (typeof MODES)[number];

/**
 * Source alias and loading job of each mode. Each mode has its own source topic
 * (`companies-<alias>`, so target topic `<alias>.companies-<alias>`) and connector name (so
 * consumer group), and so never reads another mode's records.
 */
const MODE_SETTINGS: Record<Mode, { alias: string; job: string; extra: string }> = {
  'kafka, streaming run': {
    alias: 'stream',
    job: 'load_stream',
    extra: 'tigergraph.loading.eof=false',
  },
  'kafka, EOF runs': { alias: 'eof', job: 'load_eof', extra: 'tigergraph.loading.eof=true' },
  direct: { alias: 'direct', job: 'load_eof', extra: 'tigergraph.delivery=direct' },
};

const job = (name: string, topic: string): string =>
  `CREATE LOADING JOB ${name} FOR GRAPH Company_Graph {
  DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"${topic}\\",\\"default_start_offset\\":-2}";
  LOAD f1 TO VERTEX Company VALUES ($"company", $"employee_num") USING JSON_FILE="true";
}`;

/** The topic each loading job reads (the kafka modes' target topics). */
const LOADED_TOPIC: Readonly<Record<string, string>> = {
  load_eof: 'eof.companies-eof',
  load_stream: 'stream.companies-stream',
};

/** The loading job whose run streams (EOF runs end within the handler's step) and its topic. */
const STREAMING_JOB = MODE_SETTINGS['kafka, streaming run'].job;
const STREAMING_TOPIC = LOADED_TOPIC[STREAMING_JOB] as string;

/** The reference example's schema with a loading job per kafka mode, each on its own topic. */
const GSQL = [
  'CREATE VERTEX Company (primary_id name STRING, employee_num INT)',
  'CREATE GRAPH Company_Graph (Company)',
  'CREATE DATA_SOURCE KAFKA k1 = "{\\"broker\\":\\"localhost:30002\\"}" FOR GRAPH Company_Graph',
  ...Object.entries(LOADED_TOPIC).map(([name, topic]) => job(name, topic)),
].join('\n');

export interface BenchStack {
  readonly bootstrapServers: string;
  readonly tigergraphUrl: string;
  /** The example connector set up for a mode, batch size and batching window (default 0 ms). */
  connector(mode: Mode, batchSize: number, windowMs?: number): ConnectorConfig;
  /** The source topic the mode's connector reads. */
  sourceTopic(mode: Mode): string;
  /** The topic the loading job of a kafka mode reads. */
  loadedTopic(mode: Mode): string;
  /**
   * Records `lines` more lines produced into `topic`: a streaming run loading the topic has
   * caught up once it has counted as many ({@link settle}).
   */
  produced(topic: string, lines: number): void;
  /**
   * Waits until `tgstream dev` is idle (no tick of CPU time, 10 ms at Linux's USER_HZ of 100,
   * in a 100 ms window: under a tenth of a core) and the streaming run of each loading job has
   * loaded the lines {@link produced} into its topic since the last settle (its statistics'
   * validLine plus rejectLine, from the emulator's status endpoint; {@link caughtUpMark}), so a
   * bench step does not pay for the loading of the steps before it; at most 5 s. (Idle alone is
   * not enough: a run that has just started is idle while it connects, before it has read
   * anything.) Resolves false when it could not see both (the 5 s passed, or there is no /proc).
   *
   * @throws LocalError `BENCH_STACK_EXITED` when `tgstream dev` is no longer running.
   */
  settle(): Promise<boolean>;
  /** Where the stack and the measured process run (bench/cores.ts). */
  readonly layout: CoreLayout;
  /** Stops `tgstream dev` and gives the measured process every core again. */
  stop(): Promise<void>;
}

/** Clock ticks a second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (ms) a process has used, from /proc; undefined where there is no /proc. */
const cpuMs = (pid: number | undefined): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
};

const SETTLE_WINDOW_MS = 100;
const SETTLE_MAX_MS = 5000;

const EXAMPLE = join(ROOT, 'infra', 'connectors', 'company.properties');

const sourceTopicOf = (mode: Mode): string => `companies-${MODE_SETTINGS[mode].alias}`;

function connectorText(
  mode: Mode,
  batchSize: number,
  windowMs: number,
  where: StackAddresses,
): string {
  const m = MODE_SETTINGS[mode];
  return readFileSync(EXAMPLE, 'utf8')
    .replace(/^source\.cluster\.alias=.*$/m, `source.cluster.alias=${m.alias}`)
    .replace(/^topics=.*$/m, `topics=${sourceTopicOf(mode)}`)
    .replace(/^name=.*$/m, `name=bench-${m.alias}`)
    .replace(
      /^source\.cluster\.bootstrap\.servers=.*$/m,
      `source.cluster.bootstrap.servers=${where.bootstrapServers}`,
    )
    .replace(
      /^target\.cluster\.bootstrap\.servers=.*$/m,
      `target.cluster.bootstrap.servers=${where.bootstrapServers}`,
    )
    .replace(/^tigergraph\.url=.*$/m, `tigergraph.url=${where.tigergraphUrl}`)
    .replace(/^tigergraph\.loading\.job=.*$/m, `tigergraph.loading.job=${m.job}`)
    .replace(
      /^tigerstream\.esm\.batch\.size=.*$/m,
      `tigerstream.esm.batch.size=${batchSize}\ntigerstream.esm.batching.window.ms=${windowMs}\n${m.extra}`,
    );
}

interface StackAddresses {
  readonly bootstrapServers: string;
  readonly tigergraphUrl: string;
}

/** A loading run as the emulator's status endpoint lists it (section 2.2's shape). */
interface RunStatus {
  readonly overall?: {
    readonly id?: string;
    readonly jobName?: string;
    readonly status?: string;
    readonly startTime?: number;
    readonly statistics?: { readonly fileLevel?: { validLine?: number; rejectLine?: number } };
  };
}

/** A streaming run's count of lines (valid and rejected) when a settle last saw it caught up. */
export interface CaughtUpMark {
  readonly runId: string;
  readonly lines: number;
  /** Lines produced into its topic by then. */
  readonly produced: number;
}

/**
 * Whether the running run of `job` (the only one: two running are never caught up) has loaded
 * what was produced since the last mark: the lines it counted since then (validLine plus rejectLine) at least the lines
 * produced since then. A run not seen before (the first, or one that replaced it) must have
 * counted something when anything was produced: it reads the topic from the start, but the
 * embedded broker may have deleted the oldest records (lib/local/EMULATOR.md), so its total is
 * not known in advance. Returns the new mark when caught up, else undefined.
 */
export function caughtUpMark(
  answer: { results?: readonly RunStatus[] },
  job: string,
  produced: number,
  last: CaughtUpMark | undefined,
): CaughtUpMark | undefined {
  const running = (answer.results ?? [])
    .map((r) => r.overall)
    .filter((o) => o?.jobName === job && o.status === 'RUNNING');
  // The emulator lists a second run of a job as RUNNING while it waits for the first: which
  // one loads cannot be told, so two are never caught up.
  const run = running.length === 1 ? running[0] : undefined;
  if (run?.id === undefined) return produced === 0 && running.length === 0 ? last : undefined;
  const fileLevel = run.statistics?.fileLevel;
  const lines = (fileLevel?.validLine ?? 0) + (fileLevel?.rejectLine ?? 0);
  const mark = { runId: run.id, lines, produced };
  if (last?.runId === run.id)
    return lines - last.lines >= produced - last.produced ? mark : undefined;
  return produced === 0 || lines > 0 ? mark : undefined;
}

/**
 * Gives this process back the cores it had, warning instead of throwing: it runs where another
 * error may be on its way out, which must not be hidden.
 */
const restoreCores = (cores: string): void => {
  try {
    pin(process.pid, cores);
  } catch (error) {
    console.warn(`bench: ${messageOf(error)}`);
  }
};

/** Starts `tgstream dev` (one partition per topic) and waits for its addresses. */
export async function startBenchStack(
  options: { readonly splitCores?: boolean } = {},
): Promise<BenchStack> {
  // Worked out first: a setting it refuses leaves nothing behind.
  const layout =
    options.splitCores === true
      ? coreLayout(currentCores(process.pid), process.env.TGSTREAM_BENCH_CORES)
      : SHARED;
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-bench-'));
  const gsqlFile = join(dir, 'bench.gsql');
  writeFileSync(gsqlFile, `${GSQL}\n`);
  const command = [
    process.execPath,
    join(ROOT, 'bin', 'tgstream.js'),
    'dev',
    '--gsql',
    gsqlFile,
    '--partitions',
    '1',
    '--json',
  ];
  // taskset sets the affinity and execs the command: the child is `tgstream dev` itself, and
  // the threads it starts inherit the affinity.
  const child: ChildProcessWithoutNullStreams =
    layout.stack === undefined
      ? spawn(command[0] as string, command.slice(1), { cwd: ROOT, stdio: 'pipe' })
      : spawn('taskset', ['-c', layout.stack, ...command], { cwd: ROOT, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let where: StackAddresses;
  try {
    const first = await Promise.race([
      once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>,
      once(child, 'exit').then(() => {
        throw new LocalError('BENCH_STACK_START_FAILED', `tgstream dev exited: ${stderr}`);
      }),
    ]);
    where = JSON.parse(first[0]) as StackAddresses;
    if (layout.producer !== undefined) pin(process.pid, layout.producer);
  } catch (error) {
    // Nothing left running or pinned: the child, its files, and the cores this process had.
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (layout.restore !== undefined) restoreCores(layout.restore);
    throw error;
  }
  const produced = new Map<string, number>();
  let mark: CaughtUpMark | undefined;
  /**
   * Whether the streaming job's run has loaded what was produced into its topic since the last
   * settle ({@link caughtUpMark}); marks it when so.
   *
   * @throws LocalError `BENCH_STATUS_FAILED` when the emulator does not answer the status call.
   */
  const caughtUp = async (force = false): Promise<boolean> => {
    const answer = await fetch(
      `${where.tigergraphUrl}/gsql/v1/loading-jobs/status?graph=Company_Graph`,
    );
    if (!answer.ok)
      throw new LocalError(
        'BENCH_STATUS_FAILED',
        `the emulator answered ${answer.status} to the loading status call`,
      );
    const status = (await answer.json()) as { results?: RunStatus[] };
    const lines = produced.get(STREAMING_TOPIC) ?? 0;
    if (force) {
      // After a step that started unsettled, later steps are checked from where the run is now:
      // a shortfall (lines the broker deleted before the run read them) is counted once.
      const now = caughtUpMark(status, STREAMING_JOB, 0, undefined);
      if (now !== undefined) mark = { ...now, produced: lines };
      return false;
    }
    const next = caughtUpMark(status, STREAMING_JOB, lines, mark);
    if (lines > 0 && next === undefined) return false;
    mark = next;
    return true;
  };
  return {
    ...where,
    sourceTopic: sourceTopicOf,
    loadedTopic: (mode) => {
      const topic = LOADED_TOPIC[MODE_SETTINGS[mode].job];
      if (topic === undefined)
        throw new LocalError('BENCH_NO_LOADING_JOB', `no loading job reads the ${mode} topic`);
      return topic;
    },
    connector(mode, batchSize, windowMs = 0) {
      const { parsed, problems } = parseConnectorFile(
        connectorText(mode, batchSize, windowMs, where),
        'bench.properties',
      );
      return validateConnectorFile(parsed, problems).connectors[0] as ConnectorConfig;
    },
    produced(topic, lines) {
      produced.set(topic, (produced.get(topic) ?? 0) + lines);
    },
    async settle() {
      const until = Date.now() + SETTLE_MAX_MS;
      let before = cpuMs(child.pid);
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new LocalError('BENCH_STACK_EXITED', `tgstream dev exited: ${stderr}`);
        if (before === undefined) return false;
        if (Date.now() >= until) return await caughtUp(true);
        await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
        const now = cpuMs(child.pid);
        const idle = now !== undefined && now - before < 1000 / TICKS_PER_SECOND;
        before = now;
        if (idle && (await caughtUp())) return true;
      }
    },
    layout,
    async stop() {
      try {
        rmSync(dir, { recursive: true, force: true });
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      } finally {
        // The cores the bench process had before, once the stack is gone.
        if (layout.restore !== undefined) restoreCores(layout.restore);
      }
    },
  };
}
