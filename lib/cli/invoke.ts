/**
 * `tgstream invoke`: one Lambda Kafka event (a file in the shape the trigger sends) through the
 * stream handler, as `serverless invoke local` would, with the connector file's configuration;
 * with `--embedded`, against the local stack (`tgstream dev`'s) instead of the file's clusters.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  loadConnectorFile,
  withSettings,
  type ConnectorConfig,
  type SecretRegistry,
} from '../config/index.ts';
import { ConfigError, isTigerStreamError, messageOf } from '../errors/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import { lambdaContext, type LocalStack } from '../local/index.ts';
import { createLogger, parseLogLevel } from '../observability/index.ts';
import {
  createStreamHandler,
  fileRunRegistry,
  memoryRunRegistry,
  type BatchResult,
  type RunRegistry,
} from '../pipeline/index.ts';
import { UsageError, checkFlags, flag } from './args.ts';
import { startDevStack } from './dev.ts';
import { EXIT, type CliIo, type ParsedArgs } from './io.ts';

/** What `invoke` prints of the batch result. */
const SHOWN = [
  'records',
  'loaded',
  'rejected',
  'deadLettered',
  'tombstones',
  'objectsLoaded',
  'objectsRejected',
] as const satisfies readonly (keyof BatchResult)[];

/**
 * Where `tgstream run` and `tgstream invoke` record streaming runs (lib/pipeline/run-registry.ts):
 * files under `.tgstream/runs` of the working directory, or `$TGSTREAM_RUNS_DIR`, so that one
 * command after another shares one streaming run per loading job, as Lambda containers do
 * through SSM. Per TigerGraph (`tigerGraphUrl`, a directory named by a hash of it: a URL holds
 * characters a file name cannot): a restarted `tgstream dev` listens elsewhere and knows none of
 * the runs recorded for the one before, which would otherwise be asked for, not resumed, and
 * replaced with an error. Delete the directory to forget the runs.
 */
export const localRunRegistry = (
  io: Pick<CliIo, 'cwd' | 'env'>,
  tigerGraphUrl: string | undefined,
): RunRegistry =>
  fileRunRegistry(
    join(
      resolve(io.cwd, io.env.TGSTREAM_RUNS_DIR ?? '.tgstream/runs'),
      createHash('sha256')
        .update(tigerGraphUrl ?? '')
        .digest('hex')
        .slice(0, 16),
    ),
  );

/** Lambda's own limit on a Kafka function's timeout (14 minutes, the ESM maximum). */
const LAMBDA_TIMEOUT_MS = 840_000;

async function readEvent(io: CliIo, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new ConfigError(
      'CONFIG_EVENT_FILE_UNREADABLE',
      `--event: cannot read ${file}: ${messageOf(error)}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(
      'CONFIG_EVENT_FILE_INVALID',
      `--event: ${file} is not JSON (${messageOf(error)}); expected a Lambda Kafka event: {"eventSource": "aws:kafka", "records": {"<topic>-<partition>": [...]}}`,
    );
  }
}

/** Each topic of an event with the partition count its records need. */
function eventTopics(event: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const records = (event as { records?: unknown } | null)?.records;
  if (typeof records !== 'object' || records === null) return out;
  for (const list of Object.values(records as Record<string, unknown>))
    for (const r of Array.isArray(list)
      ? (list as { topic?: unknown; partition?: unknown }[])
      : []) {
      const partition = Number(r.partition);
      if (typeof r.topic === 'string' && Number.isInteger(partition) && partition >= 0)
        out.set(r.topic, Math.max(out.get(r.topic) ?? 1, partition + 1));
    }
  return out;
}

/** Points a connector at the local stack and creates the topics the event will need there. */
function onStack(config: ConnectorConfig, stack: LocalStack, event: unknown): ConnectorConfig {
  for (const [topic, partitions] of eventTopics(event)) {
    stack.ensureTopic(topic, partitions);
    stack.ensureTopic(targetTopicName(config, topic), partitions);
  }
  if (config.deadLetterTopic !== undefined) stack.ensureTopic(config.deadLetterTopic, 1);
  return withSettings(config, {
    'source.cluster.bootstrap.servers': stack.bootstrapServers,
    'target.cluster.bootstrap.servers': stack.bootstrapServers,
    // A mirror-only connector calls no loader; giving it a URL would make it a loading one.
    ...(config.settings['tigergraph.url'] === undefined
      ? {}
      : { 'tigergraph.url': stack.tigergraphUrl }),
  });
}

/**
 * Runs `tgstream invoke`: prints the batch result and exits 0, or prints the error and its code
 * and exits 1 when the handler throws (as the Lambda invocation would fail).
 */
export async function invokeCommand(
  args: ParsedArgs,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  checkFlags(args, [
    'event',
    'c',
    'connector',
    'embedded',
    'gsql',
    'json',
    'log-level',
    'partitions',
  ]);
  const eventFile = flag(args, 'event');
  const file = flag(args, 'c');
  if (eventFile === undefined || file === undefined)
    throw new UsageError(
      'invoke needs --event FILE (a Lambda Kafka event) and --c FILE (the connector file)',
    );
  const event = await readEvent(io, eventFile);
  const { connectors } = await loadConnectorFile(resolve(io.cwd, file));
  const name = flag(args, 'connector');
  const chosen = name === undefined ? connectors[0] : connectors.find((c) => c.name === name);
  if (chosen === undefined || (name === undefined && connectors.length > 1))
    throw new UsageError(
      `choose one connector of ${file} with --connector NAME: ${connectors.map((c) => c.name).join(', ')}`,
    );
  secrets.add(chosen.settings);
  const embedded = args.flags.has('embedded');
  const stack = embedded ? (await startDevStack(args, io)).stack : undefined;
  const config = stack ? onStack(chosen, stack, event) : chosen;
  const logger = createLogger({
    level: parseLogLevel(flag(args, 'log-level') ?? io.env.TGSTREAM_LOG_LEVEL, 'warn'),
    write: (l) => io.stderr(`${l}\n`),
    redact: (t) => secrets.redact(t),
  });
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger,
    secrets,
    // The embedded stack lives as long as this command: so do its runs.
    runRegistry: stack ? memoryRunRegistry() : localRunRegistry(io, config.tigergraph?.url),
  });
  try {
    const result = await handler(event, lambdaContext(LAMBDA_TIMEOUT_MS, Date.now()));
    const shown = Object.fromEntries(SHOWN.map((k) => [k, result[k]]));
    io.stdout(
      args.flags.has('json')
        ? `${JSON.stringify(shown)}\n`
        : `${SHOWN.map((k) => `${k}: ${result[k]}`).join('\n')}\n`,
    );
    return EXIT.OK;
  } catch (error) {
    const code = isTigerStreamError(error) ? error.code : 'UNEXPECTED';
    if (args.flags.has('json'))
      io.stdout(`${JSON.stringify({ error: { code, message: messageOf(error) } })}\n`);
    io.stderr(
      `tgstream invoke: the handler failed (the trigger would deliver the batch again): ${messageOf(error)} [${code}]\n`,
    );
    return EXIT.FAILED;
  } finally {
    await handler.close();
    await stack?.stop();
  }
}
