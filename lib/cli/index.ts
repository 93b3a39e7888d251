/**
 * The tgstream CLI: demo (npm start), run (the local ESM runner), and the connector verbs.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
import { resolve } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createSecretRegistry,
  loadConnectorFile,
  type ConnectorConfig,
  type SecretRegistry,
} from '../config/index.ts';
import type { ControlDeps } from '../control/index.ts';
import { createBrokerResolver } from '../kafka/index.ts';
import { isTigerStreamError, messageOf } from '../errors/index.ts';
import { runLocal, type RunTotals } from '../local/index.ts';
import { createLogger, parseLogLevel } from '../observability/index.ts';
import { createStreamHandler } from '../pipeline/index.ts';
import { DEMO_MODES, formatSummary, runDemo, type DemoMode } from './demo.ts';
import { EXIT, parseArgs, processIo, type CliIo, type ParsedArgs } from './io.ts';
import { UsageError, checkFlags, flag, intFlag } from './args.ts';
import {
  createCommand,
  deleteCommand,
  enableCommand,
  listCommand,
  statusCommand,
  validateCommand,
} from './connector.ts';
import type { Readable } from 'node:stream';
import { convertCommand } from './convert.ts';
import { devCommand } from './dev.ts';
import { EXAMPLE_CONNECTOR, EXAMPLE_GSQL } from './examples.ts';
import { invokeCommand, localRunRegistry } from './invoke.ts';

/** AWS clients; built lazily (with --region) unless injected, as tests do. */
export interface CliDeps {
  readonly ssm?: SSMClient;
  readonly lambda?: LambdaClient;
  readonly kafka?: KafkaClient;
  readonly secretsManager?: SecretsManagerClient;
  /** Input of `tgstream convert` (default: process.stdin). */
  readonly stdin?: Readable;
  /** Hears `tgstream run`'s totals after each successful invocation (the soak samples memory there). */
  readonly onRunProgress?: (totals: Readonly<RunTotals>) => void;
}

const USAGE = `tgstream: stream Kafka into TigerGraph (a replacement for TigerGraph's MirrorMaker-based connector)

Usage:
  tgstream demo [--mode kafka|direct|mirror-only | --mirror-only] [--records N] [--bad M] [--partitions N]
                [--avro] [--json] [--c FILE] [--gsql FILE]
      The reference example end to end on the embedded broker and TigerGraph emulator (npm start).
      --bad M seeds M records TigerGraph rejects or that do not decode; the summary accounts for
      every record. mirror-only: TigerStream only mirrors, your loading job (streaming) loads.
  tgstream dev [--gsql FILE] [--c FILE] [--partitions N] [--json]
      Start the embedded Kafka broker, the schema registry stand-in and the TigerGraph emulator
      (with the GSQL file's schema, data sources and jobs; default: the reference example) and
      the connector file's topics, print where each listens (--json: one JSON line), and keep
      them running until Ctrl-C. Any Kafka client (kcat, your producer) can use the broker.
  tgstream invoke --event FILE --c FILE [--connector NAME] [--embedded [--gsql FILE]] [--json]
      Run one Lambda Kafka event (the shape the trigger sends) through the stream handler, as
      \`serverless invoke local\` would; print the batch result. Exit 0, or 1 when the handler
      throws (with its error code). --embedded runs it against the stack \`tgstream dev\` starts.
  tgstream run --c FILE [--connector NAME] [--eof]
      Consume the source cluster with a consumer group and call the stream handler per batch,
      as the Lambda Kafka trigger does. --eof stops once every partition is caught up.
  tgstream convert --c FILE [--connector NAME] < records.jsonl
      Convert records (JSON lines as the Lambda event carries them: topic, partition, offset,
      timestamp, key, value (base64), headers) and print what TigerGraph will receive, one line
      per value; records that cannot be converted go to stderr as JSON. Exit 0, 3 when any
      record was not converted, 2 for a bad configuration.
  tgstream connector validate --c FILE [--json]
      Check a connector file (TigerGraph's format); exit 0 with a redacted summary, 2 with one
      line per problem: <file>:<line> <key>: <message> [<CODE>].
  tgstream connector create --c FILE [--stage S] [--json]
      Validate, then write the connectors' SSM parameters (configuration as a String, secrets
      as SecureStrings) and the source secrets the Lambda Kafka trigger reads (SASL username and
      password, mTLS certificate and key, private root CA) to AWS Secrets Manager; prints each
      name (created / updated / unchanged), never a value.
  tgstream connector list|status [NAME] [--stage S] [--json]
  tgstream connector pause|resume NAME [--stage S]
  tgstream connector delete NAME [--stage S] [--yes]
      Remove the SSM parameters; schedule the source secrets create made for deletion (Secrets
      Manager keeps them restorable for 30 days).
      Options: --stage (default $TGSTREAM_STAGE or dev), --service (default tigerstream), --region.
  tgstream help

Exit codes: 0 ok, 1 failed, 2 bad usage or configuration, 3 records not converted (convert).
`;

/** Records the demo seeds per partition at most (about 2 MiB of its JSON: well within 5 MiB). */
const DEMO_RECORDS_PER_PARTITION = 40_000;

const BOOLEANS = new Set(['json', 'eof', 'yes', 'help', 'avro', 'embedded', 'mirror-only']);

async function demo(args: ParsedArgs, io: CliIo): Promise<number> {
  checkFlags(args, [
    'records',
    'partitions',
    'json',
    'c',
    'gsql',
    'log-level',
    'avro',
    'mode',
    'bad',
    'mirror-only',
  ]);
  const mode = flag(args, 'mode') ?? (args.flags.has('mirror-only') ? 'mirror-only' : 'kafka');
  if (!(DEMO_MODES as readonly string[]).includes(mode))
    throw new UsageError(`--mode must be one of ${DEMO_MODES.join(', ')}, found "${mode}"`);
  const partitions = intFlag(args, 'partitions', 3, 1, 100);
  const records = intFlag(args, 'records', 5000, 1, 10_000_000);
  // The demo seeds every record before it streams, and librdkafka's mock cluster keeps at most
  // 5 MiB (or 100,000 message sets) per partition, silently dropping the oldest beyond that.
  if (records > partitions * DEMO_RECORDS_PER_PARTITION)
    throw new UsageError(
      `--records ${records} is more than the embedded broker holds for ${partitions} partition(s): librdkafka's mock cluster keeps at most 5 MiB per partition and drops the oldest beyond it; allowed: up to ${partitions * DEMO_RECORDS_PER_PARTITION} (${DEMO_RECORDS_PER_PARTITION} per partition), or more --partitions (npm run soak streams a million while it feeds)`,
    );
  const summary = await runDemo(
    {
      // The shipped examples, found from the package: the demo runs from any directory.
      connectorFile: flag(args, 'c') ?? EXAMPLE_CONNECTOR,
      gsqlFile: flag(args, 'gsql') ?? EXAMPLE_GSQL,
      records,
      partitions,
      mode: mode as DemoMode,
      bad: intFlag(args, 'bad', 0, 0, records),
      logLevel: parseLogLevel(flag(args, 'log-level') ?? io.env.TGSTREAM_LOG_LEVEL, 'error'),
      avro: args.flags.has('avro'),
    },
    io,
  );
  if (args.flags.has('json')) {
    const {
      mode: shownMode,
      records: read,
      produced,
      loaded,
      rejected,
      deadLettered,
      tombstones,
      objectsLoaded,
      objectsRejected,
      seconds,
      recordsPerSecond,
      vertices,
      bad,
      accounted,
    } = summary;
    io.stdout(
      `${JSON.stringify({ mode: shownMode, records: read, produced, loaded, rejected, deadLettered, seconds, tombstones, objectsLoaded, objectsRejected, recordsPerSecond, vertices, bad, accounted })}\n`,
    );
  } else io.stdout(formatSummary(summary));
  return summary.accounted ? EXIT.OK : EXIT.FAILED;
}

const pickConnector = (
  connectors: readonly ConnectorConfig[],
  name: string | undefined,
  file: string,
): ConnectorConfig => {
  if (name === undefined) {
    if (connectors.length === 1) return connectors[0] as ConnectorConfig;
    throw new UsageError(
      `${file} defines ${connectors.length} connectors (${connectors.map((c) => c.name).join(', ')}); choose one with --connector NAME`,
    );
  }
  const found = connectors.find((c) => c.name === name);
  if (!found)
    throw new UsageError(
      `${file} has no connector named "${name}"; it has ${connectors.map((c) => c.name).join(', ')}`,
    );
  return found;
};

async function run(
  args: ParsedArgs,
  io: CliIo,
  secrets: SecretRegistry,
  deps: CliDeps,
): Promise<number> {
  checkFlags(args, ['c', 'connector', 'eof', 'json', 'log-level', 'region', 'session-timeout-ms']);
  const file = flag(args, 'c');
  if (file === undefined) throw new UsageError('run needs --c FILE, the connector file');
  const result = await loadConnectorFile(resolve(io.cwd, file));
  const config = pickConnector(result.connectors, flag(args, 'connector'), file);
  secrets.add(config.settings);
  const logger = createLogger({
    level: parseLogLevel(flag(args, 'log-level') ?? io.env.TGSTREAM_LOG_LEVEL, 'info'),
    write: (l) => io.stderr(`${l}\n`),
    fields: { connector: config.name },
  });
  const region = flag(args, 'region');
  const resolveBrokers = createBrokerResolver(
    () => deps.kafka ?? new KafkaClient(region ? { region } : {}),
  );
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger,
    resolveBrokers,
    secrets,
    // Streaming runs outlive the command: the next `tgstream run` finds this one's run.
    runRegistry: localRunRegistry(io, config.tigergraph?.url),
  });
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const totals = await runLocal({
      config,
      handler,
      eof: args.flags.has('eof'),
      logger,
      signal: abort.signal,
      resolveBrokers,
      sessionTimeoutMs: intFlag(args, 'session-timeout-ms', 30_000, 6000, 300_000),
      ...(deps.onRunProgress ? { onProgress: deps.onRunProgress } : {}),
    });
    const seconds = (Date.now() - started) / 1000;
    const summary = { ...totals, seconds: Math.round(seconds * 100) / 100 };
    io.stdout(
      args.flags.has('json')
        ? `${JSON.stringify(summary)}\n`
        : `${Object.entries(summary)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n')}\n`,
    );
    return EXIT.OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await handler.close();
  }
}

async function convert(
  args: ParsedArgs,
  io: CliIo,
  secrets: SecretRegistry,
  deps: CliDeps,
): Promise<number> {
  checkFlags(args, ['c', 'connector']);
  const file = flag(args, 'c');
  if (file === undefined) throw new UsageError('convert needs --c FILE, the connector file');
  // convert never calls TigerGraph, so it never requires tigergraph.* keys.
  const result = await loadConnectorFile(resolve(io.cwd, file), { callsTigerGraph: false });
  const config = pickConnector(result.connectors, flag(args, 'connector'), file);
  secrets.add(config.settings);
  return convertCommand(config, deps.stdin ?? process.stdin, io);
}

async function connector(
  verb: string | undefined,
  name: string | undefined,
  args: ParsedArgs,
  io: CliIo,
  secrets: SecretRegistry,
  deps: CliDeps,
): Promise<number> {
  const json = args.flags.has('json');
  const region = flag(args, 'region');
  const control = (): ControlDeps => ({
    ssm: deps.ssm ?? new SSMClient(region ? { region } : {}),
    lambda: deps.lambda ?? new LambdaClient(region ? { region } : {}),
    secretsManager: deps.secretsManager ?? new SecretsManagerClient(region ? { region } : {}),
    stage: flag(args, 'stage') ?? io.env.TGSTREAM_STAGE ?? 'dev',
    service: flag(args, 'service') ?? 'tigerstream',
  });
  const file = (): string => {
    const f = flag(args, 'c');
    if (f === undefined)
      throw new UsageError(`connector ${verb ?? ''} needs --c FILE, the connector file`);
    return f;
  };
  const needName = (): string => {
    if (name === undefined)
      throw new UsageError(`connector ${verb ?? ''} needs the connector NAME`);
    return name;
  };
  const common = ['json', 'stage', 'service', 'region'];
  switch (verb) {
    case 'validate':
      checkFlags(args, ['c', 'json']);
      return validateCommand(file(), json, io, secrets);
    case 'create':
      checkFlags(args, ['c', ...common]);
      return createCommand(file(), json, control(), io, secrets);
    case 'list':
      checkFlags(args, common);
      return listCommand(json, control(), io, secrets);
    case 'status':
      checkFlags(args, common);
      return statusCommand(name, json, control(), io, secrets);
    case 'pause':
    case 'resume':
      checkFlags(args, common);
      return enableCommand(needName(), verb === 'resume', json, control(), io, secrets);
    case 'delete':
      checkFlags(args, ['yes', ...common]);
      return deleteCommand(needName(), args.flags.has('yes'), control(), io, secrets);
    default:
      throw new UsageError(
        `unknown connector verb "${verb ?? ''}"; allowed: validate, create, list, status, pause, resume, delete`,
      );
  }
}

/**
 * Runs the CLI; returns the exit code. Everything it prints passes through a redactor that
 * knows the secrets of every configuration loaded, so no secret reaches the terminal.
 */
export async function runCli(
  argv: readonly string[],
  rawIo: CliIo = processIo(),
  deps: CliDeps = {},
): Promise<number> {
  const secrets = createSecretRegistry();
  const io: CliIo = {
    ...rawIo,
    stdout: (t) => rawIo.stdout(secrets.redact(t)),
    stderr: (t) => rawIo.stderr(secrets.redact(t)),
  };
  const args = parseArgs(argv, BOOLEANS);
  const [command, ...rest] = args.positional;
  // `--help` or `-h` after any command prints the usage and succeeds, before the command checks
  // its own flags (which would otherwise call --help an unknown option).
  if (command !== undefined && (args.flags.has('help') || rest.includes('-h'))) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  try {
    switch (command) {
      case 'demo':
        return await demo(args, io);
      case 'run':
        return await run(args, io, secrets, deps);
      case 'dev':
        return await devCommand(args, io);
      case 'invoke':
        return await invokeCommand(args, io, secrets);
      case 'convert':
        return await convert(args, io, secrets, deps);
      case 'connector':
        return await connector(rest[0], rest[1], args, io, secrets, deps);
      case undefined:
      case 'help':
        io.stdout(USAGE);
        return command === undefined && !args.flags.has('help') ? EXIT.USAGE : EXIT.OK;
      default:
        throw new UsageError(`unknown command "${[command, ...rest].join(' ')}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`tgstream: ${error.message}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    const code = isTigerStreamError(error) ? error.code : 'UNEXPECTED';
    io.stderr(`tgstream: ${messageOf(error)} [${code}]\n`);
    return isTigerStreamError(error) && error.code.startsWith('CONFIG_') && !error.retriable
      ? EXIT.USAGE
      : EXIT.FAILED;
  }
}
