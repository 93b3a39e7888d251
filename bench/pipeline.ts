/**
 * The stream handler end to end (decode, convert, deliver, acknowledge) in each mode and at two
 * batch sizes, and direct mode over 6 source partitions in batches of several chunks at
 * tigergraph.direct.concurrency 1 and at its default, against kcat (librdkafka) producing the same JSON lines to the same embedded
 * broker with acks=all, measured in the same run: rounds alternate baseline and candidate (and
 * which goes first), and the medians of each and of the paired per-round ratios are reported.
 * With a streaming run, kcat writes into the topic that run loads as well ({@link KCAT_LOADED}).
 * The broker and the emulator run in a `tgstream dev` child process (bench/stack.ts); kcat is
 * started by a helper process (bench/spawner.ts), so the process that stands for the function's
 * never forks while it measures.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Context } from 'aws-lambda';
import { DEFAULTS, withSettings } from '../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../lib/event/index.ts';
import { silentLogger } from '../lib/observability/index.ts';
import { LocalError } from '../lib/errors/index.ts';
import { targetTopicName } from '../lib/kafka/index.ts';
import type { RunRegistry } from '../lib/pipeline/index.ts';
import { shippedPipeline, type ShippedPipeline } from './shipped.ts';
import { median, result, type BenchResult } from './harness.ts';
import { MODES, startBenchStack, type BenchStack, type Mode } from './stack.ts';
import { startSpawner, type Spawner } from './spawner.ts';

const run = promisify(execFile);

/** Records per round, for both sides: kcat's process start is spread over as many. */
export const ROUND_RECORDS = 100_000;
const BATCHES = [1000, 10_000] as const;
/** Rounds per group: a multiple of 2 and 3, the steps a group's order rotates through. */
const ROUNDS = 12;
/** Records each scenario's handler takes before the rounds (see the warm-up in `scenario`). */
const WARM_UP_RECORDS = ROUND_RECORDS;
export const KCAT = 'kcat, acks=all (librdkafka, a child process)';
/**
 * The streaming scenarios' second baseline: kcat writing into the topic the streaming run loads,
 * so the emulator loads kcat's lines as it loads the handler's and both producers share the 2
 * cores with that loading. Against {@link KCAT}, which writes to a topic no run reads, the
 * emulator loads only during the handler's steps (in production TigerGraph loads on its own
 * machines, not the Lambda's).
 */
export const KCAT_LOADED =
  'kcat, acks=all, into the topic the streaming run loads (librdkafka, a child process)';

export const companyLine = (n: number): string =>
  JSON.stringify({ company: `Company ${n}`, employee_num: n });

/** Line n of the file kcat produces (`-K '\t'`): the key `c<n>`, a tab, {@link companyLine}(n). */
export const kcatLine = (n: number): string => `c${n}\t${companyLine(n)}\n`;

/** A Lambda context with plenty of time left (the bench is not about deadlines). */
export const benchContext = (): Context =>
  ({ awsRequestId: 'bench', getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

/**
 * The Kafka events of `count` records starting at `first`, in batches of `batch`, each built
 * when its function is called. Record n is in partition n mod `partitions` at offset n div
 * `partitions` (one partition: offset n). Its key and value are line n mod
 * {@link ROUND_RECORDS} of kcat's file (`c<k>` and {@link companyLine}(k)): the handler and
 * kcat send the same JSON lines, so a streaming run loads the same vertices from either (the
 * same 100,000, upserted; lines of ever new vertices would cost the emulator more to load,
 * its table growing, than kcat's). The lines are {@link kcatLine}'s.
 */
export function lazyEvents(
  topic: string,
  first: number,
  count: number,
  batch: number,
  partitions = 1,
): (() => unknown)[] {
  const out: (() => unknown)[] = [];
  for (let start = first; start < first + count; start += batch)
    out.push(() => {
      const records: KafkaRecord[] = Array.from({ length: batch }, (_, i) => ({
        topic,
        partition: (start + i) % partitions,
        offset: Math.floor((start + i) / partitions),
        timestamp: Date.now(),
        timestampType: 'CREATE_TIME',
        key: Buffer.from(`c${(start + i) % ROUND_RECORDS}`),
        value: Buffer.from(companyLine((start + i) % ROUND_RECORDS)),
        headers: [],
      }));
      return encodeKafkaEvent(records, {
        eventSource: 'SelfManagedKafka',
        bootstrapServers: 'bench:1',
      });
    });
  return out;
}

/** A step's events as JSON in a file ({@link writeEventFile}). */
export interface EventFile {
  readonly count: number;
  /**
   * Event `i`'s JSON text, read from the file through one buffer kept from the first read to
   * {@link EventFile.close}.
   *
   * @throws LocalError `BENCH_EVENT_OUT_OF_RANGE` for an `i` not below {@link EventFile.count}, or
   * once closed;
   * `BENCH_EVENT_FILE_SHORT` when the file holds fewer bytes than the event had.
   */
  text(i: number): string;
  /** Closes the file and deletes it, its buffer with it; again, does nothing. */
  close(): void;
}

/**
 * Each event of `list` built and written as JSON into `file`, to be read back one at a time as
 * text, as Lambda's runtime receives an event: the Node.js runtime interface client takes the
 * body from its native client as a string (aws/aws-lambda-nodejs-runtime-interface-client:
 * `src/native/rapid-client.cc` makes it, `src/client/rapid-client.ts` hands it on; the managed
 * nodejs22.x runtime is taken to do the same, not verified), so an invocation's only garbage
 * before the parse is that string. The bytes pass through one buffer, kept while the file is
 * read: held in memory instead (a 1,000-record step's 20 MB of buffers), the events left V8
 * with external memory Lambda does not have to account for. The building itself makes garbage
 * (records, base64, JSON text): the pipeline bench writes a group's files before its warm-up.
 *
 * @throws what building an event or writing the file throws, after closing and deleting it.
 */
export function writeEventFile(file: string, list: readonly (() => unknown)[]): EventFile {
  const fd = openSync(file, 'w+');
  const spans: { offset: number; length: number }[] = [];
  let longest = 0;
  try {
    let at = 0;
    for (const build of list) {
      const bytes = Buffer.from(JSON.stringify(build()));
      const length = bytes.length;
      for (let written = 0; written < length;)
        written += writeSync(fd, bytes, written, length - written, at + written);
      spans.push({ offset: at, length });
      at += length;
      longest = Math.max(longest, length);
    }
  } catch (error) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw error;
  }
  let through: Buffer | undefined;
  let closed = false;
  return {
    count: spans.length,
    text(i) {
      const span = spans[i];
      if (span === undefined || closed)
        throw new LocalError(
          'BENCH_EVENT_OUT_OF_RANGE',
          `${file} ${closed ? 'is closed' : `holds ${spans.length} event(s)`}: no event ${i}`,
        );
      const { offset, length } = span;
      through ??= Buffer.allocUnsafeSlow(longest);
      for (let got = 0; got < length;) {
        const n = readSync(fd, through, got, length - got, offset + got);
        if (n === 0)
          throw new LocalError(
            'BENCH_EVENT_FILE_SHORT',
            `${file} ends at byte ${offset + got}, inside event ${i} (bytes ${offset} to ${offset + length})`,
          );
        got += n;
      }
      return through.toString('utf8', 0, length);
    },
    close: () => {
      if (closed) return;
      closed = true;
      through = undefined;
      closeSync(fd);
      rmSync(file, { force: true });
    },
  };
}

/**
 * kcat producing a file of key<TAB>value lines (to partition 0 of kcat.companies unless told
 * otherwise; `partition` undefined: kcat's partitioner spreads them); returns records/s. Started
 * by `spawner` when given (bench/spawner.ts: the measured process does not fork), else here.
 */
export async function kcatProduce(
  bootstrapServers: string,
  file: string,
  records: number,
  to: { topic: string; partition?: number } = { topic: 'kcat.companies', partition: 0 },
  spawner?: Spawner,
): Promise<number> {
  const args = [
    '-P',
    '-b',
    bootstrapServers,
    '-t',
    to.topic,
    ...(to.partition === undefined ? [] : ['-p', String(to.partition)]),
    '-K',
    '\t',
    '-X',
    'acks=all',
    '-l',
    file,
  ];
  if (spawner !== undefined) return records / ((await spawner.run('kcat', args)).ms / 1000);
  const started = process.hrtime.bigint();
  await run('kcat', args);
  return records / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** One measured configuration of the handler. */
export interface Scenario {
  readonly mode: Mode;
  readonly batch: number;
  /** Source partitions the records are spread over (default 1). */
  readonly partitions?: number;
  /** tigergraph.direct.concurrency (direct mode); none: the key is left at its default. */
  readonly concurrency?: number;
  /** tigergraph.batch.max.bytes (direct mode); none: its default. */
  readonly chunkBytes?: number;
}

/** The default of tigergraph.direct.concurrency, measured beside 1. */
const DEFAULT_CONCURRENCY = Number(DEFAULTS['tigergraph.direct.concurrency']);

/**
 * Every group of scenarios, in the order they run. A group is measured in the same rounds
 * (each against kcat, and each after the first against the first as well). The last group is
 * direct mode over 6 partitions at concurrency 1 and at the default, so its gain is a paired
 * ratio too. Its chunks are 64 KiB so that a 10,000-record batch of these records of about 54
 * bytes (about half a megabyte) needs 8 or 9 of them: concurrency only acts on a batch of
 * several chunks (one that fits one chunk is one post at any concurrency), and with the
 * default 4 MiB that takes batches of over 4 MiB.
 */
export const SCENARIOS: readonly (readonly Scenario[])[] = [
  ...BATCHES.flatMap((batch) => MODES.map((mode) => [{ mode, batch }])),
  [1, DEFAULT_CONCURRENCY].map((concurrency) => ({
    mode: 'direct' as const,
    batch: 10_000,
    partitions: 6,
    chunkBytes: 64 * 1024,
    concurrency,
  })),
];

const nameOf = ({ mode, batch, partitions = 1, concurrency, chunkBytes }: Scenario): string =>
  `pipeline: handler, ${mode}${partitions > 1 ? `, ${partitions} partitions` : ''}${
    chunkBytes === undefined ? '' : `, ${chunkBytes / 1024} KiB chunks`
  }${concurrency === undefined ? '' : `, concurrency ${concurrency}`}, ${batch.toLocaleString(
    'en-US',
  )}-record batches`;

/**
 * Where the scenarios' handlers come from: the stream handler's code as the Lambda bundle ships
 * it (bench/shipped.ts), and the one run registry they share.
 */
interface Handlers {
  readonly pipeline: ShippedPipeline;
  readonly runRegistry: RunRegistry;
  /** A directory for the groups' event files. */
  readonly scratch: string;
}

/**
 * A handler for one scenario and how fast it takes a file of events. The handlers of a run share
 * one run registry, as the deployed function's containers share theirs (SSM, functions/stream.ts):
 * a later scenario's handler finds the streaming run an earlier one started instead of starting
 * a second run of the job.
 */
function candidate(stack: BenchStack, s: Scenario, { pipeline, runRegistry }: Handlers) {
  const base = stack.connector(s.mode, s.batch);
  const overrides: Record<string, string> = {
    ...(s.concurrency === undefined
      ? {}
      : { 'tigergraph.direct.concurrency': String(s.concurrency) }),
    ...(s.chunkBytes === undefined ? {} : { 'tigergraph.batch.max.bytes': String(s.chunkBytes) }),
  };
  const config = Object.keys(overrides).length === 0 ? base : withSettings(base, overrides);
  const handler = pipeline.createStreamHandler({
    runRegistry,
    loadConfig: () => Promise.resolve(config),
    logger: silentLogger(),
  });
  /**
   * Records per second of the handler's invocations over the events of `events`, and of the
   * handler together with the parse of each event. Lambda's runtime receives an invocation's
   * event as JSON text and parses it before it calls the handler (billed, but not the handler's
   * work): each invocation's text is read from its file ({@link writeEventFile}) outside both
   * timed spans, then parsed (timed apart) and handed to the handler (timed).
   */
  const invoke = async (events: EventFile): Promise<{ handler: number; withParse: number }> => {
    let elapsed = 0n;
    let parsing = 0n;
    for (let i = 0; i < events.count; i++) {
      const text = events.text(i);
      const parseStarted = process.hrtime.bigint();
      const event: unknown = JSON.parse(text);
      const started = process.hrtime.bigint();
      parsing += started - parseStarted;
      const r = await handler(event, benchContext());
      elapsed += process.hrtime.bigint() - started;
      if (r.records !== s.batch || r.loaded !== s.batch)
        throw new LocalError(
          'BENCH_BATCH_NOT_LOADED',
          `${nameOf(s)}: a batch of ${s.batch} loaded ${r.loaded} of ${r.records}`,
        );
    }
    const records = events.count * s.batch;
    return {
      handler: records / (Number(elapsed) / 1e9),
      withParse: records / (Number(elapsed + parsing) / 1e9),
    };
  };
  return { handler, invoke };
}

/**
 * The topic the handler of `s` writes and its streaming run loads.
 *
 * @throws LocalError `BENCH_TOPIC_MISMATCH` when the loading job reads another topic (kcat's
 * lines would be loaded by nobody).
 */
function loadedTarget(stack: BenchStack, s: Scenario): string {
  const target = targetTopicName(stack.connector(s.mode, s.batch), stack.sourceTopic(s.mode));
  const loaded = stack.loadedTopic(s.mode);
  if (target !== loaded)
    throw new LocalError(
      'BENCH_TOPIC_MISMATCH',
      `the ${s.mode} handler writes ${target} but its loading job reads ${loaded}`,
    );
  return target;
}

/** A baseline: kcat writing the round's lines to a topic. */
interface Baseline {
  readonly name: string;
  readonly topic: string;
  /** What the name of a result against it adds to the scenario's name. */
  readonly suffix: string;
  /** Records per second, one per round. */
  readonly b: number[];
}

/**
 * Measures a group: per round each baseline (kcat) and each scenario once, in an order that
 * rotates by round so none always runs on a warmer machine, each step after the emulator has
 * loaded what the steps before produced ({@link BenchStack.settle}). A streaming group has a
 * second baseline, {@link KCAT_LOADED}.
 */
async function scenario(
  stack: BenchStack,
  group: readonly Scenario[],
  kcatFile: string,
  next: { offset: number },
  handlers: Handlers,
  spawner: Spawner,
): Promise<BenchResult[]> {
  const runs = group.map((s) => ({
    s,
    ...candidate(stack, s, handlers),
    c: [] as number[],
    /** With the runtime's parse of each event (streaming scenarios report it). */
    p: [] as number[],
    // Where its lines go when a streaming run loads them (settle waits for that run).
    streamedTo: s.mode === 'kafka, streaming run' ? loadedTarget(stack, s) : undefined,
  }));
  const lead = group[0] as Scenario;
  const baselines: Baseline[] = [
    { name: KCAT, topic: 'kcat.companies', suffix: '', b: [] },
    ...(lead.mode === 'kafka, streaming run'
      ? [
          {
            name: KCAT_LOADED,
            topic: loadedTarget(stack, lead),
            suffix: ', against kcat into the topic the run loads',
            b: [],
          },
        ]
      : []),
  ];
  const invoked = async (
    run: (typeof runs)[number],
    events: EventFile,
  ): Promise<{ handler: number; withParse: number }> => {
    try {
      const rates = await run.invoke(events);
      if (run.streamedTo !== undefined) stack.produced(run.streamedTo, events.count * run.s.batch);
      return rates;
    } finally {
      // Read once: its buffer and file go now, not when the group ends.
      events.close();
    }
  };
  const files: EventFile[] = [];
  /** The events of the next `count` records of `s`, written to a file of their own. */
  const take = (s: Scenario, count: number): EventFile => {
    const list = lazyEvents(stack.sourceTopic(s.mode), next.offset, count, s.batch, s.partitions);
    next.offset += count;
    const file = writeEventFile(join(handlers.scratch, `events-${files.length}.json`), list);
    files.push(file);
    return file;
  };
  try {
    // Every event of the group written before its warm-up, so the garbage of building them
    // (records, base64, JSON text) is made, and mostly collected, before anything is timed.
    const warmUps = runs.map((r) => {
      const count = Math.max(r.s.batch, WARM_UP_RECORDS);
      return { first: take(r.s, r.s.batch), rest: take(r.s, count - r.s.batch) };
    });
    const rounds = Array.from({ length: ROUNDS }, () => runs.map((r) => take(r.s, ROUND_RECORDS)));
    // Warm-up, one round's worth of records: connects the producer, in streaming mode starts
    // the run the rounds use, and lets V8 optimize the handler's code as a warm Lambda
    // instance has (in ad-hoc runs, not kept, the first rounds of 1,000-record batches were
    // the slowest; the cold start is measured apart, bench/cold-start.ts).
    // The first batch alone, then a wait until the streaming run has loaded it: a run still
    // connecting while 100,000 records (about 6 MB) go by would find the oldest already deleted,
    // since librdkafka's mock broker keeps 5 MiB a partition (lib/local/EMULATOR.md).
    let unsettled = 0;
    for (const [k, r] of runs.entries()) {
      const warmUp = warmUps[k] as { first: EventFile; rest: EventFile };
      await invoked(r, warmUp.first);
      if (!(await stack.settle())) {
        // Sending the rest would let the broker delete what the run has not read.
        if (r.streamedTo !== undefined)
          throw new LocalError(
            'BENCH_RUN_NOT_LOADING',
            `${nameOf(r.s)}: the streaming run did not load the warm-up's first batch within 5 s`,
          );
        unsettled++;
      }
      await invoked(r, warmUp.rest);
    }
    for (let i = 0; i < ROUNDS; i++) {
      const lists = rounds[i] as EventFile[];
      const steps: (() => Promise<void>)[] = [
        ...baselines.map((base) => async () => {
          base.b.push(
            await kcatProduce(
              stack.bootstrapServers,
              kcatFile,
              ROUND_RECORDS,
              { topic: base.topic, partition: 0 },
              spawner,
            ),
          );
          stack.produced(base.topic, ROUND_RECORDS);
        }),
        ...runs.map((run, k) => async () => {
          const rates = await invoked(run, lists[k] as EventFile);
          run.c.push(rates.handler);
          run.p.push(rates.withParse);
        }),
      ];
      const shift = i % steps.length;
      for (const step of [...steps.slice(shift), ...steps.slice(0, shift)]) {
        if (!(await stack.settle())) unsettled++;
        await step();
      }
    }
    // Said for every group, none included, so a run's output shows each step's start was checked.
    console.log(
      `${nameOf(lead)}: ${unsettled} step(s) started before tgstream dev was seen idle${lead.mode === 'kafka, streaming run' ? ' with its streaming run caught up' : ''} (5 s passed, or no /proc)`,
    );
    const paired = (x: readonly number[], y: readonly number[]): number =>
      median(x.map((xi, i) => xi / (y[i] as number)));
    const first = runs[0];
    const plain = baselines[0] as Baseline;
    return runs.flatMap((r, k) => [
      ...baselines.map((base) =>
        result(
          `${nameOf(r.s)}${base.suffix}`,
          median(r.c),
          base.name,
          median(base.b),
          paired(r.c, base.b),
        ),
      ),
      // The streaming target's scenario, with what Lambda bills besides: the parse of each
      // event by its runtime, against the plain baseline.
      ...(r.streamedTo === undefined
        ? []
        : [
            result(
              `${nameOf(r.s)}, with the runtime's JSON.parse of each event`,
              median(r.p),
              KCAT,
              median(plain.b),
              paired(r.p, plain.b),
            ),
          ]),
      ...(k > 0 && first !== undefined
        ? [
            result(
              `${nameOf(r.s)}, against concurrency ${first.s.concurrency ?? 'default'}`,
              median(r.c),
              `the handler, ${nameOf(first.s).replace('pipeline: handler, ', '')}`,
              median(first.c),
              paired(r.c, first.c),
            ),
          ]
        : []),
    ]);
  } finally {
    for (const file of files) file.close();
    for (const r of runs) await r.handler.close();
  }
}

/**
 * kcat's input, {@link kcatLine} for each of `records` records (a round's by default), written a
 * thousand lines at a time, so that the bench process, which stands for the function's, never
 * holds the 100,000 lines at once. Built as one array and joined, they left V8 promoting to the old generation
 * about nine times as much of every later scavenge's survivors (the handler's batches among
 * them) for the rest of the run: in ad-hoc runs of the 1,000-record streaming group on Node 22
 * (`--trace-gc-nvp`, no kcat steps), 1.44 MB a scavenge against 0.17 MB; scripts not kept.
 */
export function writeKcatFile(file: string, records = ROUND_RECORDS): void {
  const fd = openSync(file, 'w');
  try {
    for (let from = 0; from < records; from += 1000) {
      const chunk = Buffer.from(
        Array.from({ length: Math.min(1000, records - from) }, (_, i) => kcatLine(from + i)).join(
          '',
        ),
      );
      for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs the groups of scenarios `only` keeps (all by default). */
export async function benchPipeline(
  only: (group: readonly Scenario[]) => boolean = () => true,
): Promise<BenchResult[]> {
  // What can fail before the stack starts does: nothing is left running when it throws.
  const pipeline = await shippedPipeline();
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-pipeline-'));
  const handlers: Handlers = {
    pipeline,
    runRegistry: pipeline.memoryRunRegistry(),
    scratch: dir,
  };
  const kcatFile = join(dir, 'lines.tsv');
  const next = { offset: 0 };
  const out: BenchResult[] = [];
  let stack: BenchStack | undefined;
  let spawner: Spawner | undefined;
  try {
    writeKcatFile(kcatFile);
    stack = await startBenchStack({ splitCores: true });
    // After the pin, so kcat runs on the measured process's cores; before any measuring, so its
    // one fork is paid for in the warm-up.
    spawner = await startSpawner();
    console.log(
      `pipeline: node ${process.version}, flags ${process.execArgv.filter((f) => f.startsWith('--')).join(' ') || '(none)'}; ${stack.layout.description}`,
    );
    for (const group of SCENARIOS.filter(only))
      out.push(...(await scenario(stack, group, kcatFile, next, handlers, spawner)));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await spawner?.close();
    await stack?.stop();
  }
}
