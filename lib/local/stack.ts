/**
 * The local stack: the embedded Kafka broker, the schema registry stand-in and the TigerGraph
 * emulator, started together with the topics a connector file and a GSQL file need. Used by
 * `tgstream dev` (left running for any Kafka client), `tgstream invoke --embedded` and the demo.
 */
import { parseGsql } from './gsql.ts';
import { startEmbeddedKafka, type EmbeddedKafka } from './mock-cluster.ts';
import { startSchemaRegistry, type SchemaRegistryStandIn } from './schema-registry.ts';
import { startTigerGraphEmulator, type TigerGraphEmulator } from './emulator.ts';

/** Where each part of the stack listens (the `--json` line of `tgstream dev`). */
export interface StackAddresses {
  readonly bootstrapServers: string;
  readonly schemaRegistryUrl: string;
  readonly tigergraphUrl: string;
}

export interface LocalStack extends StackAddresses {
  readonly kafka: EmbeddedKafka;
  readonly registry: SchemaRegistryStandIn;
  readonly emulator: TigerGraphEmulator;
  /** Topics created at start, with their partition counts. */
  readonly topics: ReadonlyMap<string, number>;
  /** Creates a topic unless it exists (the broker is the one place that knows). */
  ensureTopic(name: string, partitions: number): void;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** GSQL run by the emulator: schema, data sources, loading jobs. */
  readonly gsql?: string;
  /** Topics to create (a connector's source and target topics). */
  readonly topics?: readonly string[];
  /** Partitions of each topic created (default 3). */
  readonly partitions?: number;
}

/**
 * The Kafka topics a GSQL file's loading jobs read: the `"topic"` of every DEFINE FILENAME
 * that names a Kafka data source (`$k1:{"topic": ...}`), so a dev stack has them from the start.
 */
export function gsqlTopics(gsql: string): string[] {
  const topics = new Set<string>();
  for (const s of parseGsql(gsql)) {
    if (s.kind !== 'loadingJob') continue;
    for (const value of Object.values(s.job.filenames)) {
      const colon = value.indexOf(':');
      if (!value.startsWith('$') || colon === -1) continue;
      const spec = value.slice(colon + 1).trim();
      try {
        const parsed = JSON.parse(spec) as { topic?: unknown };
        if (typeof parsed.topic === 'string') topics.add(parsed.topic);
      } catch {
        // A bare topic name (`$k1:orders`) is TigerGraph's short form.
        if (spec !== '') topics.add(spec);
      }
    }
  }
  return [...topics];
}

/**
 * Starts the stack. Loading jobs' Kafka data sources point at the embedded broker, whatever
 * broker the GSQL names (the reference page's `localhost:30002` among them).
 *
 * @example
 * const stack = await startLocalStack({ gsql, topics: ['companies', 'hello.companies'] });
 * try { ... stack.bootstrapServers ... } finally { await stack.stop(); }
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const partitions = options.partitions ?? 3;
  const kafka = startEmbeddedKafka({ brokers: 1 });
  const topics = new Map<string, number>();
  const ensureTopic = (name: string, count: number): void => {
    if (topics.has(name)) return;
    kafka.createTopic(name, count);
    topics.set(name, count);
  };
  let registry: SchemaRegistryStandIn | undefined;
  try {
    for (const t of [...(options.topics ?? []), ...gsqlTopics(options.gsql ?? '')])
      ensureTopic(t, partitions);
    registry = await startSchemaRegistry();
    const emulator = await startTigerGraphEmulator({
      ...(options.gsql === undefined ? {} : { gsql: options.gsql }),
      kafkaBootstrapOverride: kafka.bootstrapServers,
    });
    const reg = registry;
    return {
      kafka,
      registry: reg,
      emulator,
      topics,
      ensureTopic,
      bootstrapServers: kafka.bootstrapServers,
      schemaRegistryUrl: reg.url,
      tigergraphUrl: emulator.url,
      stop: async () => {
        await emulator.stop();
        await reg.stop();
        kafka.stop();
      },
    };
  } catch (error) {
    await registry?.stop();
    kafka.stop();
    throw error;
  }
}
