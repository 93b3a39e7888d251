/**
 * `tgstream demo` (what `npm start` runs): the reference page's example end to end on the
 * embedded default. A source topic filled with company records, the connector file from
 * infra/connectors/, the target topic <alias>.<topic>, the TigerGraph emulator loading it in
 * EOF mode, and a summary of what was loaded.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  loadConnectorFile,
  requireTigerGraph,
  withSettings,
  type ConnectorConfig,
} from '../config/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import avro from 'avsc';
import {
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
import type { CliIo } from './io.ts';

export interface DemoOptions {
  readonly connectorFile: string;
  readonly gsqlFile: string;
  readonly records: number;
  readonly partitions: number;
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Seed Confluent-framed Avro and convert with TigerGraphAvroConverter via the registry stand-in. */
  readonly avro?: boolean;
}

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
  readonly vertices: number;
  readonly accounted: boolean;
}

/** Seeds `count` company records, keyed by company name, spread over the partitions. */
async function seed(
  bootstrapServers: string,
  topic: string,
  count: number,
  partitions: number,
  encode: (v: { company: string; employee_num: number }) => Buffer | string,
): Promise<void> {
  const kafka = new Kafka({ brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const chunk = 2000;
    for (let start = 0; start < count; start += chunk) {
      const messages = Array.from({ length: Math.min(chunk, count - start) }, (_, j) => {
        const n = start + j + 1;
        const company = `Company ${String(n).padStart(6, '0')}`;
        return {
          key: company,
          value: encode({ company, employee_num: 10 + ((n * 7919) % 400_000) }),
          partition: n % partitions,
          headers: { source: 'tgstream-demo' },
        };
      });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
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
    let encode: (v: { company: string; employee_num: number }) => Buffer | string = (v) =>
      JSON.stringify(v);
    let avroSettings: Record<string, string> = {};
    if (options.avro) {
      registry = await startSchemaRegistry();
      const schemaId = registry.register(`${sourceTopic}-value`, COMPANY_SCHEMA);
      const type = avro.Type.forSchema(COMPANY_SCHEMA as unknown as avro.Schema);
      const head = Buffer.from([0, 0, 0, 0, 0]);
      head.writeUInt32BE(schemaId, 1);
      encode = (v) => Buffer.concat([head, type.toBuffer(v)]);
      avroSettings = {
        'value.converter': 'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
        'value.converter.schema.registry.url': registry.url,
      };
      say(
        `  schema registry stand-in at ${registry.url} (schema id ${schemaId}); values are Confluent-framed Avro`,
      );
    }
    const config = withSettings(fileConfig, {
      'source.cluster.bootstrap.servers': kafka.bootstrapServers,
      'target.cluster.bootstrap.servers': kafka.bootstrapServers,
      'tigergraph.url': emulator.url,
      ...avroSettings,
    });
    // The demo reads the graph back, so its connector file must name TigerGraph's loader.
    const tg = requireTigerGraph(config, 'the demo');
    say(
      `  seeding ${options.records} company records into ${sourceTopic} (${options.partitions} partitions)`,
    );
    await seed(kafka.bootstrapServers, sourceTopic, options.records, options.partitions, encode);
    say(
      `  streaming ${sourceTopic} -> ${targetTopic} -> loading job ${tg.loadingJob} (EOF runs) -> ${tg.graph}`,
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
    const seconds = (Date.now() - started) / 1000;
    if (io.isTTY) io.stderr('\n');
    const client = createTigerGraphClient({
      url: emulator.url,
      version: tg.version,
    });
    const vertices = (await client.listVertices(tg.graph, 'Company')).length;
    const accounted =
      totals.records === options.records &&
      totals.records ===
        totals.loaded + totals.rejected + totals.deadLettered + totals.tombstones &&
      vertices === totals.loaded;
    return {
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
    ['graph', `${s.vertices} Company vertices in Company_Graph`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const verdict = s.accounted
    ? `OK: all ${s.seeded} records accounted for (loaded + rejected + dead-lettered + tombstones).`
    : `FAILED: records are unaccounted for (seeded ${s.seeded}, read ${s.records}, loaded ${s.loaded}, rejected ${s.rejected}, dead-lettered ${s.deadLettered}, tombstones ${s.tombstones}, vertices ${s.vertices}).`;
  return `\nSummary\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n${verdict}\n`;
}
