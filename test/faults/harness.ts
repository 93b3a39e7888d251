/**
 * The fault suite's harness: per scenario a fresh embedded broker (librdkafka's mock cluster)
 * and TigerGraph emulator, Lambda containers (stream handlers) over them, source records that
 * carry their own coordinates. The event-source mapping that delivers them is esm.ts.
 */
import { requireTigerGraph, withSettings, type ConnectorConfig } from '../../lib/config/index.ts';
import type { RetryPolicy } from '../../lib/errors/retry.ts';
import type { KafkaRecord } from '../../lib/event/index.ts';
import {
  compressionTypeOf,
  createKafkaDelivery,
  maxRequestSizeOf,
  type KafkaDelivery,
  type OutRecord,
  type ProducedRange,
} from '../../lib/kafka/index.ts';
import {
  startEmbeddedKafka,
  startSchemaRegistry,
  startTigerGraphEmulator,
  type EmbeddedKafka,
  type EmulatorOptions,
  type SchemaRegistryStandIn,
  type TigerGraphEmulator,
} from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import {
  createStreamHandler,
  memoryRunRegistry,
  type StreamHandler,
} from '../../lib/pipeline/index.ts';
import { createTigerGraphClient, type TigerGraphClient } from '../../lib/tigergraph/index.ts';
import { edit, VALID } from '../helpers/config.ts';
import { COMPANY_GSQL, uniqueTopic } from '../helpers/embedded.ts';
import { testConfig } from '../helpers/fakes.ts';

export const GRAPH = 'Company_Graph';
export const VERTEX = 'Company';

/**
 * Retries inside one invocation: the default policy's shape, shorter (4 attempts, 50-400 ms)
 * so that a fault outlasting them fails the invocation within a second or two.
 */
export const FAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 50,
  maxDelayMs: 400,
  factor: 2,
};

/** The vertex id (and record key) of the source record at `offset` of `partition`. */
export const idOf = (partition: number, offset: number): string => `p${partition}-${offset}`;

export interface FaultEnvOptions {
  readonly partitions?: number;
  readonly brokers?: number;
  readonly settings?: Readonly<Record<string, string>>;
  readonly emulator?: Pick<EmulatorOptions, 'secret' | 'tokenLifetimeSeconds'>;
  /** Starts a schema registry stand-in (Avro with registry). */
  readonly registry?: boolean;
}

/** Wraps a container's real clients, to trigger a fault at an exact point of a batch. */
export interface Wrappers {
  readonly delivery?: (inner: KafkaDelivery) => KafkaDelivery;
  readonly tigergraph?: (inner: TigerGraphClient) => TigerGraphClient;
}

/** The Lambda containers of one event-source mapping poller: the live one, started on demand. */
export interface Containers {
  current(): StreamHandler;
  /** Its runtime died (crash, function timeout): abandoned, never shut down. */
  kill(): void;
  /** Lambda shut it down between invocations; the next invocation starts a new one. */
  recycle(): Promise<void>;
  /** Containers started so far. */
  started(): number;
}

export interface FaultEnv {
  readonly kafka: EmbeddedKafka;
  readonly tg: TigerGraphEmulator;
  readonly registry: SchemaRegistryStandIn | undefined;
  readonly source: string;
  readonly target: string;
  readonly dlq: string;
  readonly partitions: number;
  readonly config: ConnectorConfig;
  /** Lines handed to the emulator's loader per vertex id: loads of one record beyond the first show here. */
  readonly loads: Map<string, number>;
  containers(wrappers?: Wrappers): Containers;
  stop(): Promise<void>;
}

/** Counts every line the emulator's loader is given, by its `company` (the vertex id). */
function countLoads(tg: TigerGraphEmulator, loads: Map<string, number>): void {
  const store = tg.store;
  const load = store.loadLines.bind(store);
  store.loadLines = (job, filename, lines, ...rest) => {
    const list = [...lines];
    for (const line of list) {
      try {
        const company = (JSON.parse(line) as { company?: unknown }).company;
        if (typeof company === 'string') loads.set(company, (loads.get(company) ?? 0) + 1);
      } catch {
        // Not JSON: no vertex id to count.
      }
    }
    return load(job, filename, list, ...rest);
  };
}

/**
 * A delivery wrapper: `around` runs around each send of the container's real producer and
 * calls `send` to make it (or does not, or throws).
 */
export const aroundSend =
  (
    around: (
      send: (records?: readonly OutRecord[]) => Promise<void>,
      records: readonly OutRecord[],
    ) => Promise<void>,
  ) =>
  (inner: KafkaDelivery): KafkaDelivery => ({
    ...inner,
    send: async (records, options) => {
      let ranges: ProducedRange[] = [];
      await around(async (part = records) => {
        ranges = await inner.send(part, options);
      }, records);
      return ranges;
    },
  });

/** The real clients a container builds, as createStreamHandler's defaults build them. */
const realDelivery = (config: ConnectorConfig, brokers: string): KafkaDelivery =>
  createKafkaDelivery({
    brokers: brokers.split(','),
    security: config.target,
    logger: silentLogger(),
    clientId: `tigerstream-${config.name}`,
    compression: compressionTypeOf(config.settings),
    maxRequestSize: maxRequestSizeOf(config.settings),
  });
const realTigerGraph = (config: ConnectorConfig): TigerGraphClient => {
  const tg = requireTigerGraph(config, 'the fault suite');
  return createTigerGraphClient({
    url: tg.url,
    version: tg.version,
    auth: tg.auth,
    timeoutMs: tg.requestTimeoutMs,
  });
};

/**
 * A broker, an emulator (and a registry) with a fresh source topic, its target `hello.<source>`
 * and a dead-letter topic; the connector runs with errors.tolerance=all into that topic.
 */
export async function startFaultEnv(options: FaultEnvOptions = {}): Promise<FaultEnv> {
  const partitions = options.partitions ?? 3;
  const kafka = startEmbeddedKafka({ brokers: options.brokers ?? 1 });
  const source = uniqueTopic('src');
  const target = `hello.${source}`;
  const dlq = `${source}.dlq`;
  kafka.createTopic(source, partitions);
  kafka.createTopic(target, partitions);
  kafka.createTopic(dlq, 1);
  const tg = await startTigerGraphEmulator({
    gsql: COMPANY_GSQL(target),
    kafkaBootstrapOverride: kafka.bootstrapServers,
    ...options.emulator,
  });
  const registry = options.registry ? await startSchemaRegistry() : undefined;
  const loads = new Map<string, number>();
  countLoads(tg, loads);
  const config = withSettings(testConfig(edit('topics', source, VALID)), {
    'source.cluster.bootstrap.servers': kafka.bootstrapServers,
    'target.cluster.bootstrap.servers': kafka.bootstrapServers,
    'tigergraph.url': tg.url,
    'errors.tolerance': 'all',
    'errors.deadletterqueue.topic.name': dlq,
    ...(registry
      ? {
          'value.converter': 'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
          'value.converter.schema.registry.url': registry.url,
        }
      : {}),
    ...options.settings,
  });
  // Shared by every container, as the connector's SSM path is in Lambda.
  const runRegistry = memoryRunRegistry();
  const all: StreamHandler[] = [];
  const container = (wrappers: Wrappers): StreamHandler => {
    const handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: silentLogger(),
      retryPolicy: FAULT_RETRY_POLICY,
      runRegistry,
      ...(wrappers.delivery
        ? {
            createDelivery: (c: ConnectorConfig, _logger: unknown, brokers: string) =>
              (wrappers.delivery as NonNullable<Wrappers['delivery']>)(realDelivery(c, brokers)),
          }
        : {}),
      ...(wrappers.tigergraph
        ? {
            createTigerGraph: (c: ConnectorConfig) =>
              (wrappers.tigergraph as NonNullable<Wrappers['tigergraph']>)(realTigerGraph(c)),
          }
        : {}),
    });
    all.push(handler);
    return handler;
  };
  return {
    kafka,
    tg,
    registry,
    source,
    target,
    dlq,
    partitions,
    config,
    loads,
    containers(wrappers = {}) {
      let live: StreamHandler | undefined;
      let count = 0;
      return {
        current: () => {
          if (live === undefined) {
            live = container(wrappers);
            count++;
          }
          return live;
        },
        kill: () => {
          live = undefined;
        },
        recycle: async () => {
          const closing = live;
          live = undefined;
          await closing?.close();
        },
        started: () => count,
      };
    },
    stop: async () => {
      for (const handler of all) await handler.close().catch(() => undefined);
      await registry?.stop();
      await tg.stop();
      kafka.stop();
    },
  };
}

/** A JSON value carrying the record's own coordinates: its vertex id and sequence. */
export const jsonValue = (partition: number, offset: number): Buffer =>
  Buffer.from(
    JSON.stringify({
      company: idOf(partition, offset),
      employee_num: offset,
      src: partition,
      seq: offset,
    }),
  );

/** `perPartition` records in each partition of the source topic, offsets from 0. */
export function sourceRecords(
  env: FaultEnv,
  perPartition: number,
  value: (partition: number, offset: number) => Buffer = jsonValue,
): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  for (let offset = 0; offset < perPartition; offset++)
    for (let partition = 0; partition < env.partitions; partition++)
      records.push({
        topic: env.source,
        partition,
        offset,
        timestamp: Date.now(),
        timestampType: 'CREATE_TIME',
        key: Buffer.from(idOf(partition, offset)),
        value: value(partition, offset),
        headers: [{ key: 'scenario-seq', value: Buffer.from(String(offset)) }],
      });
  return records;
}
