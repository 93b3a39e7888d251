/**
 * `tgstream demo` (what `npm start` runs): the reference page's example end to end on the
 * embedded default. A source topic filled with company records, the connector file from
 * infra/connectors/, the target topic <alias>.<topic>, the TigerGraph emulator loading it in
 * EOF mode, and a summary of what was loaded.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConnectorFile, withSettings, type ConnectorConfig } from '../config/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import avro from 'avsc';
import {
  parseGsql,
  runLocal,
  startEmbeddedKafka,
  startSchemaRegistry,
  startTigerGraphEmulator,
  type RunTotals,
  type SchemaRegistryStandIn,
} from '../local/index.ts';
import { createLogger, type Logger } from '../observability/index.ts';
import { createStreamHandler, type BatchResult } from '../pipeline/index.ts';
import { createTigerGraphClient } from '../tigergraph/index.ts';
import { ConfigError, LocalError } from '../errors/index.ts';
import { sleep } from '../errors/retry.ts';
import { badPositions, seedRecords, type Company } from './demo-data.ts';
import type { CliIo } from './io.ts';

export interface DemoOptions {
  readonly connectorFile: string;
  readonly gsqlFile: string;
  readonly records: number;
  readonly partitions: number;
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Seed Confluent-framed Avro and convert with TigerGraphAvroConverter via the registry stand-in. */
  readonly avro?: boolean;
  /** How records reach TigerGraph (default kafka). */
  readonly mode?: DemoMode;
  /** Records TigerGraph will reject or that do not decode, spread among the good ones. */
  readonly bad?: number;
}

export const DEMO_MODES = ['kafka', 'direct', 'mirror-only'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

/** Where the demo's dead letters go when it seeds bad records. */
const DEMO_DLQ = 'tgstream-demo.dead-letters';
/** How long a mirror-only demo waits for the user's streaming run to load what was mirrored. */
const STREAMING_WAIT_MS = 60_000;

/** The company records' Avro schema for `--avro`. */
export const COMPANY_SCHEMA = {
  type: 'record',
  name: 'Company',
  namespace: 'tigerstream.demo',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'long' },
  ],
} as const;

/** The batches' outcome counts summed, plus what the demo measured and checked. */
export interface DemoSummary extends Pick<
  BatchResult,
  | 'records'
  | 'produced'
  | 'loaded'
  | 'rejected'
  | 'deadLettered'
  | 'tombstones'
  | 'objectsLoaded'
  | 'objectsRejected'
> {
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly seeded: number;
  /** Records seeded bad (TigerGraph rejects them or they do not decode). */
  readonly bad: number;
  readonly mode: DemoMode;
  readonly vertices: number;
  readonly accounted: boolean;
}

/** The loading job of a GSQL file that reads `topic`: graph, job, filename variable, data source. */
function jobReading(
  gsql: string,
  topic: string,
): { graph: string; job: string; filename: string; dataSource: string } | undefined {
  for (const st of parseGsql(gsql)) {
    if (st.kind !== 'loadingJob') continue;
    for (const [filename, value] of Object.entries(st.job.filenames)) {
      const colon = value.indexOf(':');
      if (!value.startsWith('$') || colon === -1) continue;
      let named: unknown;
      try {
        named = (JSON.parse(value.slice(colon + 1)) as { topic?: unknown }).topic;
      } catch {
        named = value.slice(colon + 1).trim();
      }
      if (named === topic)
        return {
          graph: st.job.graph,
          job: st.job.name,
          filename,
          dataSource: value.slice(1, colon),
        };
    }
  }
  return undefined;
}

/**
 * The reference page's flow after a mirror-only run: the user's own loading job, started in
 * GSQL in streaming mode (`RUN LOADING JOB -noprint <job> USING <f>="$<k>:{...}", EOF="false"`,
 * reference section 2.1, sent as a user's GSQL client sends text), reads the mirrored topic;
 * the demo waits until the graph has `expected` vertices (or the wait ends), then aborts the
 * run with `ABORT LOADING JOB <jobid>` as a user would.
 */
async function loadAsUser(
  url: string,
  job: { graph: string; job: string; filename: string; dataSource: string },
  topic: string,
  expected: number,
  count: () => Promise<number>,
  say: (text: string) => void,
): Promise<void> {
  const gsql = async (text: string): Promise<{ ok: boolean; text: string }> => {
    const answer = await fetch(`${url}/gsqlserver/gsql/file`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: encodeURIComponent(`USE GRAPH ${job.graph}\n${text}`),
    });
    return { ok: answer.ok, text: await answer.text() };
  };
  const config = JSON.stringify({ topic, default_start_offset: -2 }).replace(/"/g, '\\"');
  const run = `RUN LOADING JOB -noprint ${job.job} USING ${job.filename}="$${job.dataSource}:${config}", EOF="false"`;
  say(`  in GSQL: ${run}`);
  const started = await gsql(run);
  const jobId = /jobid:\s*(\S+)/.exec(started.text)?.[1];
  if (!started.ok || jobId === undefined)
    throw new LocalError(
      'LOCAL_DEMO_RUN_FAILED',
      `The streaming run of ${job.job} did not start: ${started.text.slice(0, 200)}`,
    );
  const until = Date.now() + STREAMING_WAIT_MS;
  while ((await count()) < expected && Date.now() < until) await sleep(100);
  say(`  in GSQL: ABORT LOADING JOB ${jobId}`);
  await gsql(`ABORT LOADING JOB ${jobId}`);
}

const progressLine = (t: Readonly<RunTotals>, total: number, seconds: number): string =>
  `  read ${t.records}/${total}  produced ${t.produced}  loaded ${t.loaded}  rejected ${t.rejected}  dead-lettered ${t.deadLettered}  ${seconds.toFixed(1)}s`;

/** Runs the demo; returns the summary (the caller prints and sets the exit code). */
export async function runDemo(options: DemoOptions, io: CliIo): Promise<DemoSummary> {
  const logger: Logger = createLogger({
    level: options.logLevel,
    write: (line) => io.stderr(`${line}\n`),
  });
  const base = await loadConnectorFile(resolve(io.cwd, options.connectorFile));
  const fileConfig = base.connectors[0] as ConnectorConfig;
  const gsql = await readFile(resolve(io.cwd, options.gsqlFile), 'utf8');
  const say = (text: string): void => io.stderr(`${text}\n`);

  say(`TigerStream demo: ${fileConfig.name} from ${options.connectorFile}`);
  say(
    '  starting the embedded Kafka broker (librdkafka mock cluster) and the TigerGraph emulator (a test double)',
  );
  const kafka = startEmbeddedKafka({ brokers: 1 });
  const sourceTopic = fileConfig.topics[0] as string;
  let emulator: Awaited<ReturnType<typeof startTigerGraphEmulator>> | undefined;
  let registry: SchemaRegistryStandIn | undefined;
  const handler: { close: () => Promise<void> } = { close: () => Promise.resolve() };
  try {
    kafka.createTopic(sourceTopic, options.partitions);
    const targetTopic = targetTopicName(fileConfig, sourceTopic);
    kafka.createTopic(targetTopic, options.partitions);
    emulator = await startTigerGraphEmulator({
      gsql,
      kafkaBootstrapOverride: kafka.bootstrapServers,
    });
    const mode = options.mode ?? 'kafka';
    const bad = badPositions(options.records, options.bad ?? 0);
    let encode: (v: Company) => Buffer | string = (v) => JSON.stringify(v);
    // Half the bad records are JSON without the job's id, half not JSON at all.
    let encodeBad: (n: number, rank: number) => Buffer | string = (n, rank) =>
      rank % 2 === 0 ? JSON.stringify({ employee_num: n }) : `not json ${n}`;
    let avroSettings: Record<string, string> = {};
    if (options.avro) {
      registry = await startSchemaRegistry();
      const schemaId = registry.register(`${sourceTopic}-value`, COMPANY_SCHEMA);
      const type = avro.Type.forSchema(COMPANY_SCHEMA as unknown as avro.Schema);
      const head = Buffer.from([0, 0, 0, 0, 0]);
      head.writeUInt32BE(schemaId, 1);
      encode = (v) => Buffer.concat([head, type.toBuffer(v)]);
      // Confluent framing naming a schema id the registry does not have: does not decode.
      encodeBad = () => Buffer.from([0, 0, 0x0f, 0x42, 0x3f, 2, 4]);
      avroSettings = {
        'value.converter': 'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
        'value.converter.schema.registry.url': registry.url,
      };
      say(
        `  schema registry stand-in at ${registry.url} (schema id ${schemaId}); values are Confluent-framed Avro`,
      );
    }
    // The demo sets bad records aside rather than stopping on them, so its summary can
    // account for every record: under errors.tolerance=none (the connector file's default) a
    // record TigerGraph rejects fails its batch, and the local runner, as the trigger would,
    // retries that batch until it gives up.
    kafka.createTopic(DEMO_DLQ, 1);
    const tigergraphKeys = Object.keys(fileConfig.settings).filter((k) =>
      k.startsWith('tigergraph.'),
    );
    const config = withSettings(fileConfig, {
      'source.cluster.bootstrap.servers': kafka.bootstrapServers,
      'target.cluster.bootstrap.servers': kafka.bootstrapServers,
      ...(mode === 'mirror-only'
        ? // No tigergraph.* key: the connector only mirrors (an empty value is no value).
          Object.fromEntries(tigergraphKeys.map((k) => [k, '']))
        : {
            'tigergraph.url': emulator.url,
            ...(mode === 'direct' ? { 'tigergraph.delivery': 'direct' } : {}),
          }),
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': DEMO_DLQ,
      ...avroSettings,
    });
    const job = jobReading(gsql, targetTopic);
    if (job === undefined)
      throw new ConfigError(
        'CONFIG_DEMO_JOB_MISSING',
        `${options.gsqlFile} has no loading job reading ${targetTopic}, the topic ${fileConfig.name} mirrors ${sourceTopic} to`,
      );
    say(
      `  seeding ${options.records} company records into ${sourceTopic} (${options.partitions} partitions)${bad.size > 0 ? `, ${bad.size} of them bad` : ''}`,
    );
    say(
      `  errors.tolerance=all: records that fail go to ${DEMO_DLQ}${mode === 'kafka' ? ' (those an EOF run rejects are counted: its statistics do not say which)' : ''}`,
    );
    await seedRecords(
      kafka.bootstrapServers,
      sourceTopic,
      { count: options.records, partitions: options.partitions, bad },
      encode,
      encodeBad,
    );
    say(
      mode === 'mirror-only'
        ? `  mirroring ${sourceTopic} -> ${targetTopic} (mirror-only), then your loading job ${job.job} in streaming mode -> ${job.graph}`
        : mode === 'direct'
          ? `  streaming ${sourceTopic} -> POST /ddl/${job.graph} (loading job ${job.job}, direct mode)`
          : `  streaming ${sourceTopic} -> ${targetTopic} -> loading job ${job.job} (EOF runs) -> ${job.graph}`,
    );

    const stream = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger,
    });
    handler.close = () => stream.close();
    const started = Date.now();
    let lastPrint = 0;
    const totals = await runLocal({
      config,
      handler: stream,
      eof: true,
      logger,
      onProgress: (t) => {
        const now = Date.now();
        if (io.isTTY) io.stderr(`\r${progressLine(t, options.records, (now - started) / 1000)}`);
        else if (now - lastPrint >= 1000 || t.records === options.records) {
          lastPrint = now;
          say(progressLine(t, options.records, (now - started) / 1000));
        }
      },
    });
    if (io.isTTY) io.stderr('\n');
    const client = createTigerGraphClient({ url: emulator.url, version: 3 });
    const countVertices = async (): Promise<number> =>
      (await client.listVertices(job.graph, 'Company')).length;
    const good = options.records - bad.size;
    if (mode === 'mirror-only') {
      say(`  your loading job ${job.job} runs in streaming mode over ${targetTopic}`);
      await loadAsUser(emulator.url, job, targetTopic, good, countVertices, say);
    }
    const seconds = (Date.now() - started) / 1000;
    const vertices = await countVertices();
    const accounted =
      totals.records === options.records &&
      totals.records ===
        totals.loaded + totals.rejected + totals.deadLettered + totals.tombstones &&
      // The graph holds exactly what TigerStream counted as loaded; mirror-only, where
      // TigerStream only mirrors, the user's job loaded every good record.
      vertices === (mode === 'mirror-only' ? good : totals.loaded);
    return {
      mode,
      records: totals.records,
      produced: totals.produced,
      loaded: totals.loaded,
      rejected: totals.rejected,
      deadLettered: totals.deadLettered,
      tombstones: totals.tombstones,
      objectsLoaded: totals.objectsLoaded,
      objectsRejected: totals.objectsRejected,
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSecond: seconds > 0 ? Math.round(totals.records / seconds) : 0,
      seeded: options.records,
      bad: bad.size,
      vertices,
      accounted,
    };
  } finally {
    await handler.close().catch(() => undefined);
    await emulator?.stop();
    await registry?.stop();
    kafka.stop();
  }
}

/** The summary a person reads at a glance. */
export function formatSummary(s: DemoSummary): string {
  const rows: [string, string][] = [
    ['mode', s.mode],
    ['records read', String(s.records)],
    ['produced', String(s.produced)],
    ['loaded', String(s.loaded)],
    ['rejected', String(s.rejected)],
    ['dead-lettered', String(s.deadLettered)],
    ['tombstones', String(s.tombstones)],
    ['objects loaded', String(s.objectsLoaded)],
    ['objects rejected', String(s.objectsRejected)],
    ['seconds', s.seconds.toFixed(2)],
    ['records/second', String(s.recordsPerSecond)],
    ['graph', `${s.vertices} Company vertices (${s.seeded - s.bad} good records seeded)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const verdict = s.accounted
    ? `OK: all ${s.seeded} records accounted for (loaded + rejected + dead-lettered + tombstones).`
    : `FAILED: records are unaccounted for (seeded ${s.seeded}, read ${s.records}, loaded ${s.loaded}, rejected ${s.rejected}, dead-lettered ${s.deadLettered}, tombstones ${s.tombstones}, vertices ${s.vertices}).`;
  return `\nSummary\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n${verdict}\n`;
}
