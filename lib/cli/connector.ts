/** `tgstream connector validate|create|list|status|pause|resume|delete`. */
import { resolve } from 'node:path';
import {
  connectorPath,
  deliveryModeOf,
  formatProblem,
  readConnectorFile,
  readConnectorFromSsm,
  redactSettings,
  type ConnectorConfig,
  type Problem,
  type SecretRegistry,
  type ValidationResult,
} from '../config/index.ts';
import {
  connectorParameterNames,
  connectorStatus,
  createConnector,
  deleteConnector,
  formatLoadingJobStatus,
  inspectSecret,
  listConnectors,
  loadingJobStatus,
  readStoredSecrets,
  setConnectorEnabled,
  sourceSecretNames,
  type ControlDeps,
  type SecretChange,
  type SecretState,
} from '../control/index.ts';
import { targetTopicName } from '../kafka/index.ts';
import { ssmRunRegistry } from '../pipeline/index.ts';
import { EXIT, type CliIo } from './io.ts';
import { createdNote, secretDeletionLine, secretLine } from './source-secrets.ts';

const CONVERTER_NAMES = {
  bytes: 'ByteArrayConverter',
  avro: 'TigerGraphAvroConverterWithoutSchemaRegistry',
  'avro-registry': 'TigerGraphAvroConverter',
} as const;

/**
 * What a connector does with its records, in one line: mirror-only names the topics the user's
 * own loading job reads; otherwise where TigerStream loads them.
 */
export function deliveryLine(c: ConnectorConfig): string {
  const tg = c.tigergraph;
  if (tg === undefined)
    return `mirror-only: records go to ${c.topics.map((t) => targetTopicName(c, t)).join(', ')} on TigerGraph's Kafka; your loading job (RUN LOADING JOB ...) loads them`;
  return `${tg.url} v${tg.version} ${tg.delivery} mode, graph ${tg.graph}, job ${tg.loadingJob}, filename ${tg.loadingFilename}${tg.dataSource ? `, data source ${tg.dataSource}` : ''}, ${tg.eof ? 'EOF runs' : 'streaming run'}`;
}

/** A normalized, redacted view of one connector. */
export function describeConnector(c: ConnectorConfig): Record<string, unknown> {
  const tg = c.tigergraph;
  const security = (s: ConnectorConfig['source']) =>
    `${s.protocol}${s.mechanism ? ` ${s.mechanism}` : ''}${s.username ? ` as ${s.username}` : ''}`;
  return {
    name: c.name,
    section: c.section,
    tasksMax: c.tasksMax,
    source: {
      alias: c.sourceAlias,
      bootstrapServers: c.sourceBootstrapServers,
      topics: c.topics,
      topicsExclude: c.topicsExclude,
      security: security(c.source),
    },
    target: {
      alias: c.targetAlias,
      bootstrapServers: c.targetBootstrapServers,
      topics: c.topics.map((t) => targetTopicName(c, t)),
      security: security(c.target),
    },
    valueConverter: CONVERTER_NAMES[c.valueConverter],
    ...(c.schemaRegistryUrl ? { schemaRegistryUrl: c.schemaRegistryUrl } : {}),
    mode: deliveryModeOf(c),
    // null: mirror-only, TigerStream never calls TigerGraph.
    tigergraph:
      tg === undefined
        ? null
        : {
            url: tg.url,
            version: tg.version,
            delivery: tg.delivery,
            graph: tg.graph,
            loadingJob: tg.loadingJob,
            filename: tg.loadingFilename,
            dataSource: tg.dataSource,
            eof: tg.eof,
          },
    errors: { tolerance: c.errorsTolerance, deadLetterTopic: c.deadLetterTopic ?? null },
    trigger: {
      batchSize: c.esm.batchSize,
      batchingWindowMs: c.esm.batchingWindowMs,
      startingPosition: c.esm.startingPosition,
    },
    settings: redactSettings(c.settings),
  };
}

const summaryText = (c: ConnectorConfig): string => {
  const d = describeConnector(c) as { source: { topics: string[] }; target: { topics: string[] } };
  const rows: [string, string][] = [
    ['source', `${c.sourceAlias} ${c.sourceBootstrapServers} topics ${d.source.topics.join(', ')}`],
    ['target', `${c.targetAlias} ${c.targetBootstrapServers} topics ${d.target.topics.join(', ')}`],
    [
      'security',
      `source ${c.source.protocol}${c.source.mechanism ? `/${c.source.mechanism}` : ''}, target ${c.target.protocol}${c.target.mechanism ? `/${c.target.mechanism}` : ''}`,
    ],
    [
      'converter',
      CONVERTER_NAMES[c.valueConverter] +
        (c.schemaRegistryUrl ? ` (registry ${c.schemaRegistryUrl})` : ''),
    ],
    ['tigergraph', deliveryLine(c)],
    [
      'errors',
      `tolerance ${c.errorsTolerance}${c.deadLetterTopic ? `, dead-letter topic ${c.deadLetterTopic}` : ''}`,
    ],
    [
      'trigger',
      `batch ${c.esm.batchSize}, window ${c.esm.batchingWindowMs} ms, ${c.esm.startingPosition}, tasks.max ${c.tasksMax}`,
    ],
  ];
  const settings = Object.entries(redactSettings(c.settings)).map(([k, v]) => `    ${k}=${v}`);
  return `connector ${c.name} [${c.section}]\n${rows.map(([k, v]) => `  ${k.padEnd(11)}${v}`).join('\n')}\n  settings\n${settings.join('\n')}\n`;
};

const problemJson = (p: Problem) => ({
  file: p.file,
  line: p.line,
  key: p.key,
  message: p.message,
  code: p.code,
});

/** Reads a connector file and teaches the output filter its secrets before anything is printed. */
async function readLearning(
  file: string,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<ValidationResult> {
  const result = await readConnectorFile(resolve(io.cwd, file));
  for (const c of result.connectors) secrets.add(c.settings);
  return result;
}

export async function validateCommand(
  file: string,
  json: boolean,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  const result = await readLearning(file, io, secrets);
  const valid = result.errors.length === 0;
  if (json) {
    io.stdout(
      `${JSON.stringify({ file, valid, connectors: valid ? result.connectors.map(describeConnector) : [], errors: result.errors.map(problemJson), warnings: result.warnings.map(problemJson) }, null, 2)}\n`,
    );
    return valid ? EXIT.OK : EXIT.USAGE;
  }
  if (!valid) {
    for (const p of result.errors) io.stdout(`${formatProblem(p)}\n`);
    for (const p of result.warnings) io.stderr(`warning: ${formatProblem(p)}\n`);
    io.stderr(
      `${file}: ${result.errors.length} problem(s), ${result.warnings.length} warning(s)\n`,
    );
    return EXIT.USAGE;
  }
  io.stdout(
    `${file}: valid, ${result.connectors.length} connector(s), ${result.warnings.length} warning(s)\n\n`,
  );
  for (const c of result.connectors) io.stdout(`${summaryText(c)}\n`);
  for (const p of result.warnings) io.stdout(`warning: ${formatProblem(p)}\n`);
  return EXIT.OK;
}

export async function createCommand(
  file: string,
  json: boolean,
  deps: ControlDeps,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  const result = await readLearning(file, io, secrets);
  if (result.errors.length > 0) {
    for (const p of result.errors) io.stdout(`${formatProblem(p)}\n`);
    io.stderr(`${file}: not created: ${result.errors.length} problem(s)\n`);
    return EXIT.USAGE;
  }
  for (const p of result.warnings) io.stderr(`warning: ${formatProblem(p)}\n`);
  const all: { connector: string; name: string; action: string; secure: boolean }[] = [];
  const secretChanges: (SecretChange & { connector: string })[] = [];
  const notes: { connector: string; note: string }[] = [];
  for (const c of result.connectors) {
    const created = await createConnector(c, deps);
    for (const change of created.secrets) {
      secretChanges.push({ connector: c.name, ...change });
      if (!json) io.stdout(`${secretLine(change)}\n`);
    }
    for (const change of created.parameters) {
      all.push({ connector: c.name, ...change });
      if (!json)
        io.stdout(
          `${change.action.padEnd(9)} ${change.name}${change.secure ? ' (SecureString)' : ''}\n`,
        );
    }
    for (const note of created.notes) notes.push({ connector: c.name, note });
  }
  if (json)
    io.stdout(
      `${JSON.stringify({ stage: deps.stage, parameters: all, secrets: secretChanges, notes }, null, 2)}\n`,
    );
  else {
    for (const n of notes) io.stdout(`note: ${n.connector}: ${n.note}\n`);
    for (const c of secretChanges.filter((s) => s.action === 'created'))
      io.stdout(`${createdNote(c.connector, c.name)}\n`);
  }
  return EXIT.OK;
}

/** Teaches the output filter the stored secrets of these connectors before anything is printed. */
const learnSecrets = async (
  names: readonly string[],
  deps: ControlDeps,
  secrets: SecretRegistry,
): Promise<void> => {
  for (const n of names) secrets.add(await readStoredSecrets(n, deps));
};

export async function listCommand(
  json: boolean,
  deps: ControlDeps,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  const names = await listConnectors(deps);
  await learnSecrets(names, deps, secrets);
  const statuses = await Promise.all(names.map((n) => connectorStatus(n, deps)));
  if (json) io.stdout(`${JSON.stringify(statuses, null, 2)}\n`);
  else if (names.length === 0) io.stdout(`no connectors in stage ${deps.stage}\n`);
  else for (const s of statuses) io.stdout(`${s.name.padEnd(28)} ${s.state}\n`);
  return EXIT.OK;
}

export async function statusCommand(
  name: string | undefined,
  json: boolean,
  deps: ControlDeps,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  const names = name === undefined ? await listConnectors(deps) : [name];
  await learnSecrets(names, deps, secrets);
  const statuses = await Promise.all(
    names.map(async (n) => {
      const status = await connectorStatus(n, deps);
      // The loading job's run, when the stored configuration names one (not mirror-only).
      const config = await readConnectorFromSsm(deps.ssm, deps.stage, n).catch(() => undefined);
      const loading = config
        ? await loadingJobStatus(
            config,
            deps.tigergraph,
            ssmRunRegistry(deps.ssm, connectorPath(deps.stage, n)),
          )
        : undefined;
      return loading === undefined ? status : { ...status, loadingJob: loading };
    }),
  );
  if (json) io.stdout(`${JSON.stringify(name === undefined ? statuses : statuses[0], null, 2)}\n`);
  else
    for (const s of statuses)
      io.stdout(
        `${s.name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}${s.uuid ? ` mapping ${s.uuid}` : ''}\n${'loadingJob' in s ? `  ${formatLoadingJobStatus(s.loadingJob)}\n` : ''}`,
      );
  return statuses.some((s) => s.state === 'FAILED') ? EXIT.FAILED : EXIT.OK;
}

export async function enableCommand(
  name: string,
  enabled: boolean,
  json: boolean,
  deps: ControlDeps,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  await learnSecrets([name], deps, secrets);
  const status = await setConnectorEnabled(name, enabled, deps);
  io.stdout(
    json
      ? `${JSON.stringify(status, null, 2)}\n`
      : `${name}: ${status.state}${status.reason ? ` (${status.reason})` : ''}\n`,
  );
  return EXIT.OK;
}

export async function deleteCommand(
  name: string,
  yes: boolean,
  deps: ControlDeps,
  io: CliIo,
  secrets: SecretRegistry,
): Promise<number> {
  await learnSecrets([name], deps, secrets);
  const names = await connectorParameterNames(name, deps);
  // Every secret is looked at before anything is deleted: no access means nothing deleted.
  const states: SecretState[] = [];
  for (const n of await sourceSecretNames(name, deps))
    states.push(await inspectSecret(deps.secretsManager, n));
  const ours = states.filter((s) => s.state === 'ours');
  if (names.length === 0 && ours.length === 0) {
    io.stderr(
      `tgstream: no connector "${name}" in stage ${deps.stage} [CONTROL_CONNECTOR_NOT_FOUND]\n`,
    );
    return EXIT.FAILED;
  }
  if (!yes) {
    const what = `${names.length} parameter(s)${ours.length > 0 ? ` and ${ours.length} Secrets Manager secret(s)` : ''}`;
    if (io.ask === undefined) {
      io.stderr(
        `tgstream: deleting ${name} removes ${what}; there is no terminal to confirm, so pass --yes\n`,
      );
      return EXIT.USAGE;
    }
    const answer = await io.ask(
      `Delete connector ${name} in stage ${deps.stage} (${what})? [y/N] `,
    );
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.stderr('not deleted\n');
      return EXIT.FAILED;
    }
  }
  if (names.length > 0)
    for (const c of await deleteConnector(name, deps)) io.stdout(`deleted   ${c.name}\n`);
  for (const s of states) {
    const line = await secretDeletionLine(s, deps);
    if (line !== undefined) io.stdout(`${line}\n`);
  }
  io.stdout(
    `The event-source mapping stays until you remove ${name} from infra/connectors and run 'serverless deploy'; pause it meanwhile with 'tgstream connector pause ${name}'.\n`,
  );
  return EXIT.OK;
}
