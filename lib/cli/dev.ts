/**
 * `tgstream dev`: the embedded broker, the schema registry stand-in and the TigerGraph emulator,
 * started with the topics and loading jobs of a connector file and a GSQL file, and left running
 * until interrupted, so any Kafka client (kcat, a producer of the user's own) can use them.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConnectorFile, type ConnectorConfig } from '../config/index.ts';
import { ConfigError, messageOf } from '../errors/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import { startLocalStack, type LocalStack } from '../local/index.ts';
import { EXAMPLE_GSQL } from './examples.ts';
import { checkFlags, flag, intFlag } from './args.ts';
import { EXIT, type CliIo, type ParsedArgs } from './io.ts';

/** Reads a GSQL file, or the reference example when none is named. */
export async function readGsql(io: CliIo, file: string | undefined): Promise<string> {
  const path = file === undefined ? EXAMPLE_GSQL : resolve(io.cwd, file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'CONFIG_GSQL_FILE_UNREADABLE',
      `--gsql: cannot read ${path}: ${messageOf(error)}`,
    );
  }
}

/** Source and target topics of every connector in a file. */
export const connectorTopics = (connectors: readonly ConnectorConfig[]): string[] =>
  connectors.flatMap((c) => c.topics.flatMap((t) => [t, targetTopicName(c, t)]));

/** Starts the stack a connector file and GSQL file describe. */
export async function startDevStack(
  args: ParsedArgs,
  io: CliIo,
): Promise<{ stack: LocalStack; connectors: readonly ConnectorConfig[] }> {
  const file = flag(args, 'c');
  const connectors =
    file === undefined ? [] : (await loadConnectorFile(resolve(io.cwd, file))).connectors;
  const gsql = await readGsql(io, flag(args, 'gsql'));
  const stack = await startLocalStack({
    gsql,
    topics: connectorTopics(connectors),
    partitions: intFlag(args, 'partitions', 3, 1, 100),
  });
  return { stack, connectors };
}

const untilInterrupted = (): Promise<void> =>
  new Promise((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/**
 * Runs `tgstream dev`: prints where each part listens (with `--json`, one JSON line as soon as
 * everything is ready) and keeps the stack up until `stopped` resolves (Ctrl-C by default).
 */
export async function devCommand(
  args: ParsedArgs,
  io: CliIo,
  stopped: () => Promise<void> = untilInterrupted,
): Promise<number> {
  checkFlags(args, ['c', 'gsql', 'json', 'partitions']);
  const { stack, connectors } = await startDevStack(args, io);
  try {
    const where = {
      bootstrapServers: stack.bootstrapServers,
      schemaRegistryUrl: stack.schemaRegistryUrl,
      tigergraphUrl: stack.tigergraphUrl,
    };
    if (args.flags.has('json')) io.stdout(`${JSON.stringify(where)}\n`);
    else {
      const topics = [...stack.topics].map(([t, n]) => `${t} (${n})`).join(', ');
      io.stdout(
        [
          'TigerStream dev stack (Ctrl-C stops it):',
          `  Kafka (embedded broker)    ${where.bootstrapServers}`,
          `  schema registry stand-in   ${where.schemaRegistryUrl}`,
          `  TigerGraph emulator        ${where.tigergraphUrl}   (a test double, not TigerGraph)`,
          `  topics                     ${topics || 'none yet (producers create them)'}`,
          '',
          'Point a connector file at it, then run `tgstream run --c FILE`:',
          `  source.cluster.bootstrap.servers=${where.bootstrapServers}`,
          `  target.cluster.bootstrap.servers=${where.bootstrapServers}`,
          `  tigergraph.url=${where.tigergraphUrl}`,
          `  value.converter.schema.registry.url=${where.schemaRegistryUrl}   (Avro with a registry)`,
          ...(connectors.length > 0
            ? ['', `Connectors of the file: ${connectors.map((c) => c.name).join(', ')}`]
            : []),
          '',
        ].join('\n'),
      );
    }
    await stopped();
    return EXIT.OK;
  } finally {
    await stack.stop();
  }
}
