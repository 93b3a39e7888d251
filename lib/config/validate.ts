/**
 * Validation of a parsed connector file into frozen, typed connector configurations.
 * Pure: no I/O. Reports every problem at once, each with file, line, key, what was found,
 * what is allowed, and a code. Key rules are rows of the table in rules.ts; what needs code
 * (the replication flow, topic names, client security, cross-field rules) is here, in
 * security.ts, and beside the rows.
 */
import type { Entry, ParsedFile, ParseProblem } from './parse.ts';
import {
  TOPIC,
  MSK_ARN,
  bool,
  checkKeys,
  checkTigerGraphKeysTogether,
  checkUrlCredentials,
  checkVpcKeysTogether,
  warnBatchingWindowRounded,
  choice,
  int,
  text,
} from './rules.ts';
import { warnHeartbeatIntervalRounded } from './heartbeat.ts';
import { Scope, type Problem } from './scope.ts';
import { clientSecurity } from './security.ts';
import {
  AVRO_REGISTRY_CONVERTER,
  CLIENT_KEYS,
  CLIENT_PREFIXES,
  KNOWN_KEYS,
  MIRRORMAKER_KEYS,
  VALUE_CONVERTERS,
  type ConnectorConfig,
  type TigerGraphSettings,
} from './schema.ts';

export type { Problem, Severity } from './scope.ts';
export { parseJaas } from './security.ts';

export interface ValidationResult {
  readonly connectors: readonly ConnectorConfig[];
  readonly errors: readonly Problem[];
  readonly warnings: readonly Problem[];
}

export interface ValidateOptions {
  /**
   * Whether the caller may call TigerGraph with these connectors (default true: the Lambda,
   * `run`, `connector create`). `false` (`tgstream convert`, which never does): an incomplete
   * set of tigergraph.* keys is a warning, not an error, and the connector converts as a
   * mirror-only one.
   */
  readonly callsTigerGraph?: boolean;
}

const CONNECTOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ARROWS = ['->', '→'];

/** Topic names: a Lambda Kafka trigger needs names, not MirrorMaker's patterns. */
function checkTopicNames(scope: Scope, topics: readonly string[]): void {
  for (const t of topics) {
    if (TOPIC.test(t)) continue;
    const pattern = /[*+?^$()[\]{}|\\]/.test(t);
    scope.report(
      'topics',
      pattern ? 'CONFIG_TOPICS_REGEX_UNSUPPORTED' : 'CONFIG_TOPIC_NAME_INVALID',
      pattern
        ? `"${t}" is a pattern; a Lambda Kafka trigger needs topic names, so list them (allowed: names of 1-249 characters [A-Za-z0-9._-])`
        : `"${t}" is not a valid topic name; allowed: 1-249 characters [A-Za-z0-9._-]`,
    );
  }
}

/**
 * Cross-field: streaming mode keeps one run per loading job, and a job reads one topic. TigerGraph
 * lists a job's runs without saying which topic each reads (reference section 2.2), so with
 * several topics a run of one could be taken for the other's and records never loaded.
 */
function checkStreamingOneTopic(scope: Scope, targets: readonly string[], eof: boolean): void {
  if (eof || targets.length <= 1) return;
  scope.report(
    'tigergraph.loading.eof',
    'CONFIG_STREAMING_TOPICS_MANY',
    `found false with ${targets.length} topics (${targets.join(', ')}), but the one streaming run of loading job ${text(scope, 'tigergraph.loading.job') ?? ''} reads one topic; allowed: one topic per connector in streaming mode (a connector per topic, each with its own loading job: their streaming runs never end, and TigerGraph runs one loading job at a time by default, so raise its loading concurrency, KafkaLoader.ReplicaNumber, or the others' runs stay queued), or tigergraph.loading.eof=true`,
  );
}

/**
 * Cross-field: in kafka delivery on 3.x the handler starts and follows loading jobs through the
 * GSQL server, which takes a user name and password (reference section 4.2); a RESTPP secret
 * or token alone gets no answer there once authentication is on.
 */
function checkGsqlCredentials(scope: Scope, tg: TigerGraphSettings): void {
  if (tg.delivery !== 'kafka' || tg.version !== 3) return;
  const { username, password, secret, token } = tg.auth;
  if (
    (secret === undefined && token === undefined) ||
    (username !== undefined && password !== undefined)
  )
    return;
  scope.report(
    secret !== undefined ? 'tigergraph.auth.secret' : 'tigergraph.auth.token',
    'CONFIG_TIGERGRAPH_GSQL_AUTH_MISSING',
    `is set but tigergraph.auth.username and tigergraph.auth.password are not; kafka delivery on TigerGraph 3.x starts loading jobs through the GSQL server, which takes a user name and password; allowed: set both (the secret or token is used for RESTPP), or tigergraph.delivery=direct (RESTPP only)`,
  );
}

/** Cross-field: the registry converter needs the registry's URL. */
function checkRegistryUrlRequired(scope: Scope): void {
  if (
    scope.value('value.converter') === AVRO_REGISTRY_CONVERTER &&
    scope.value('value.converter.schema.registry.url') === undefined
  )
    scope.report(
      'value.converter.schema.registry.url',
      'CONFIG_SCHEMA_REGISTRY_URL_MISSING',
      `is required with value.converter=${AVRO_REGISTRY_CONVERTER}: the registry's http(s) URL`,
    );
}

function warnSyncTopicConfigs(scope: Scope): void {
  if (bool(scope, 'sync.topic.configs.enabled'))
    scope.report(
      'sync.topic.configs.enabled',
      'CONFIG_SYNC_TOPIC_CONFIGS_ENABLED',
      'is true; TigerGraph advises false (true is only for cross-region replication) and TigerStream does not copy topic configs',
      'warning',
    );
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');

/** The loader settings, read only when every key they need is set. */
const tigergraphSettings = (scope: Scope): TigerGraphSettings => {
  const delivery = choice(scope, 'tigergraph.delivery');
  return Object.freeze({
    delivery,
    url: (text(scope, 'tigergraph.url') ?? '').replace(/\/+$/, ''),
    version: Number(choice(scope, 'tigergraph.version')) as 3 | 4,
    graph: text(scope, 'tigergraph.graph') ?? '',
    loadingJob: text(scope, 'tigergraph.loading.job') ?? '',
    loadingFilename: text(scope, 'tigergraph.loading.filename') ?? '',
    dataSource: text(scope, 'tigergraph.loading.data.source') ?? '',
    eof: bool(scope, 'tigergraph.loading.eof'),
    waitForLoad: bool(scope, 'tigergraph.loading.wait'),
    batchMaxBytes: int(scope, 'tigergraph.batch.max.bytes'),
    directConcurrency: int(scope, 'tigergraph.direct.concurrency'),
    requestTimeoutMs: int(scope, 'tigergraph.request.timeout.ms'),
    auth: Object.freeze({
      username: scope.get('tigergraph.auth.username'),
      password: scope.get('tigergraph.auth.password'),
      secret: scope.get('tigergraph.auth.secret'),
      token: scope.get('tigergraph.auth.token'),
    }),
  });
};

function flowEnabled(scope: Scope, source: string, target: string): void {
  const candidates = ARROWS.flatMap((arrow) => [
    `source${arrow}target.enabled`,
    `${source}${arrow}${target}.enabled`,
  ]);
  const key = candidates.find((k) => scope.map.has(k));
  for (const k of candidates) scope.used.add(k);
  if (key === undefined) {
    scope.report(
      'source->target.enabled',
      'CONFIG_REPLICATION_FLOW_MISSING',
      'is required and must be true (source->target.enabled=true, or <sourceAlias>-><targetAlias>.enabled=true)',
    );
  } else if (scope.get(key)?.trim().toLowerCase() !== 'true') {
    scope.report(
      key,
      'CONFIG_REPLICATION_FLOW_DISABLED',
      `found ${scope.found(key)}; allowed: true (the connector only mirrors source to target)`,
    );
  }
}

function checkUnknownKeys(scope: Scope, aliases: readonly string[]): void {
  for (const [key] of scope.map) {
    if (scope.used.has(key) || KNOWN_KEYS.has(key) || MIRRORMAKER_KEYS.has(key)) continue;
    if (/(->|→)/.test(key) && key.endsWith('.enabled')) continue;
    if (aliases.some((a) => a !== '' && key.startsWith(`${a}.`))) continue;
    if (key.startsWith('transforms.') || key.startsWith('value.converter.schema.registry.ssl.'))
      continue;
    const prefix = CLIENT_PREFIXES.find((p) => key.startsWith(`${p}.`));
    if (prefix && CLIENT_KEYS.has(key.slice(prefix.length + 1))) continue;
    scope.report(
      key,
      'CONFIG_KEY_UNKNOWN',
      'is not a key TigerStream or MirrorMaker 2 knows; it is kept but has no effect (check the spelling)',
      'warning',
    );
  }
}

function validateConnector(
  scope: Scope,
  name: string,
  section: string,
  options: ValidateOptions,
): ConnectorConfig {
  checkKeys(scope);
  checkUrlCredentials(scope);
  const sourceAlias = text(scope, 'source.cluster.alias') ?? '';
  const targetAlias = text(scope, 'target.cluster.alias') ?? '';
  const servers = (key: 'source.cluster.bootstrap.servers' | 'target.cluster.bootstrap.servers') =>
    list(text(scope, key)).join(',');
  const sourceBootstrapServers = servers('source.cluster.bootstrap.servers');
  const targetBootstrapServers = servers('target.cluster.bootstrap.servers');
  flowEnabled(scope, sourceAlias, targetAlias);
  const topics = list(text(scope, 'topics'));
  checkTopicNames(scope, topics);
  checkRegistryUrlRequired(scope);
  warnSyncTopicConfigs(scope);
  checkVpcKeysTogether(scope);
  warnHeartbeatIntervalRounded(scope);
  warnBatchingWindowRounded(scope);
  const policyClass = text(scope, 'replication.policy.class') ?? '';
  const replicationPolicy = /(^|\.)IdentityReplicationPolicy$/.test(policyClass)
    ? 'identity'
    : 'default';
  const replicationSeparator = text(scope, 'replication.policy.separator') ?? '.';

  const sourceIsMsk = MSK_ARN.test(sourceBootstrapServers);
  const source = clientSecurity(
    scope,
    ['consumer', 'source.cluster', 'source.admin'],
    'source',
    sourceIsMsk,
  );
  // MirrorMaker's admin client settings: checked like the others, used only when no consumer.* is set.
  if (
    [...scope.map.keys()].some((k) => k.startsWith('source.admin.')) &&
    [...scope.map.keys()].some((k) => k.startsWith('consumer.'))
  )
    clientSecurity(scope, ['source.admin'], 'source', sourceIsMsk, false);
  const target = clientSecurity(scope, ['producer', 'target.cluster'], 'target', false);

  const targets = topics.map((t) =>
    replicationPolicy === 'identity' ? t : `${sourceAlias}${replicationSeparator}${t}`,
  );
  const loader = checkTigerGraphKeysTogether(
    scope,
    targets,
    options.callsTigerGraph === false ? 'warning' : 'error',
  );
  const converter = text(scope, 'value.converter');
  const registry = text(scope, 'value.converter.schema.registry.url');
  const tigergraph = loader.kind === 'complete' ? tigergraphSettings(scope) : undefined;
  if (tigergraph?.delivery === 'kafka') checkStreamingOneTopic(scope, targets, tigergraph.eof);
  if (tigergraph !== undefined) checkGsqlCredentials(scope, tigergraph);

  return Object.freeze({
    name,
    tasksMax: int(scope, 'tasks.max'),
    file: scope.file,
    section,
    sourceAlias,
    targetAlias,
    sourceBootstrapServers,
    targetBootstrapServers,
    topics: Object.freeze(topics),
    topicsExclude: Object.freeze(list(text(scope, 'topics.exclude'))),
    replicationPolicy,
    replicationSeparator,
    valueConverter:
      (converter === undefined
        ? undefined
        : VALUE_CONVERTERS[converter as keyof typeof VALUE_CONVERTERS]) ?? 'bytes',
    schemaRegistryUrl: registry,
    source,
    target,
    tigergraph,
    errorsTolerance: choice(scope, 'errors.tolerance'),
    deadLetterTopic: text(scope, 'errors.deadletterqueue.topic.name'),
    esm: Object.freeze({
      batchSize: int(scope, 'tigerstream.esm.batch.size'),
      batchingWindowMs: int(scope, 'tigerstream.esm.batching.window.ms'),
      startingPosition: choice(scope, 'tigerstream.esm.starting.position'),
    }),
    configMaxAgeMs: int(scope, 'tigerstream.config.max.age.ms'),
    alarms: Object.freeze({ offsetLag: int(scope, 'tigerstream.alarm.offset.lag') }),
    settings: Object.freeze(Object.fromEntries([...scope.map].map(([k, e]) => [k, e.value]))),
  });
}

/**
 * Validates a parsed connector file. Pure and total: never throws on bad input. A connector
 * with no tigergraph.* key is mirror-only (`tigergraph` undefined); see
 * {@link checkTigerGraphKeysTogether} for when the loader's keys are required together.
 *
 * @example
 * const { parsed, problems } = parseConnectorFile(text, 'company.properties');
 * const result = validateConnectorFile(parsed, problems);
 * if (result.errors.length) for (const p of result.errors) console.error(formatProblem(p));
 */
export function validateConnectorFile(
  parsed: ParsedFile,
  parseProblems: readonly ParseProblem[] = [],
  options: ValidateOptions = {},
): ValidationResult {
  const problems: Problem[] = parseProblems.map((p) => ({
    file: parsed.file,
    line: p.line,
    key: '',
    message: p.message,
    code: p.code,
    severity: 'error' as const,
  }));
  const duplicateKeys = (entries: readonly Entry[]): void => {
    const seen = new Map<string, Entry>();
    for (const e of entries) {
      const first = seen.get(e.key);
      if (first)
        problems.push({
          file: parsed.file,
          line: e.line,
          key: e.key,
          code: 'CONFIG_KEY_DUPLICATE',
          severity: 'warning',
          message: `is set again (first on line ${first.line}); the last value wins`,
        });
      seen.set(e.key, e);
    }
  };
  duplicateKeys(parsed.entries);
  if (parsed.sections.length === 0) {
    problems.push({
      file: parsed.file,
      line: Math.max(1, ...parsed.entries.map((e) => e.line)),
      key: '',
      code: 'CONFIG_SECTION_MISSING',
      severity: 'error',
      message:
        'the file names no connector; add a section such as [connector_1] with name=<connector name> and tasks.max=<n>',
    });
  }
  const connectors: ConnectorConfig[] = [];
  const titles = new Map<string, number>();
  const names = new Map<string, number>();
  for (const section of parsed.sections) {
    duplicateKeys(section.entries);
    const scope = new Scope(parsed.file, section.line, problems);
    for (const e of [...parsed.entries, ...section.entries]) scope.map.set(e.key, e);
    const titleLine = titles.get(section.title);
    if (titleLine !== undefined)
      problems.push({
        file: parsed.file,
        line: section.line,
        key: `[${section.title}]`,
        code: 'CONFIG_SECTION_DUPLICATE',
        severity: 'error',
        message: `section title is used again (first on line ${titleLine}); section titles must be unique`,
      });
    titles.set(section.title, section.line);
    const name =
      scope.required(
        'name',
        'CONFIG_CONNECTOR_NAME_MISSING',
        `each section needs name=<connector name> (section [${section.title}])`,
      ) ?? '';
    if (name !== '' && !CONNECTOR_NAME.test(name))
      scope.report(
        'name',
        'CONFIG_CONNECTOR_NAME_INVALID',
        `found ${scope.found('name')}; allowed: 1-64 characters [A-Za-z0-9._-] (it names SSM parameters and the consumer group)`,
      );
    const nameLine = names.get(name);
    if (name !== '' && nameLine !== undefined)
      scope.report(
        'name',
        'CONFIG_CONNECTOR_NAME_DUPLICATE',
        `connector name "${name}" is used again (first on line ${nameLine}); names must be unique`,
      );
    names.set(name, scope.line('name'));
    const connector = validateConnector(scope, name, section.title, options);
    checkUnknownKeys(scope, [connector.sourceAlias, connector.targetAlias]);
    connectors.push(connector);
  }
  // A key problem reported once per section would repeat for global keys; keep one of each.
  const unique = [
    ...new Map(problems.map((p) => [`${p.line}|${p.key}|${p.code}`, p])).values(),
  ].sort((a, b) => a.line - b.line);
  return {
    connectors,
    errors: unique.filter((p) => p.severity === 'error'),
    warnings: unique.filter((p) => p.severity === 'warning'),
  };
}

/** `<file>:<line> <key>: <message> [<CODE>]` */
export const formatProblem = (p: Problem): string =>
  `${p.file}:${p.line} ${p.key === '' ? '' : `${p.key}: `}${p.message} [${p.code}]`;
