/**
 * Validation of a parsed connector file into frozen, typed connector configurations.
 * Pure: no I/O. Reports every problem at once, each with file, line, key, what was found,
 * what is allowed, and a code.
 */
import type { Entry, ParsedFile, ParseProblem } from './parse.ts';
import { REDACTED, isSecretKey } from './secrets.ts';
import {
  AVRO_REGISTRY_CONVERTER,
  BYTE_ARRAY_CONVERTER,
  CLIENT_KEYS,
  CLIENT_PREFIXES,
  DEFAULTS,
  KNOWN_KEYS,
  MIRRORMAKER_KEYS,
  MIRROR_SOURCE_CONNECTOR,
  SASL_MECHANISMS,
  SECURITY_PROTOCOLS,
  VALUE_CONVERTERS,
  type ClientSecurity,
  type OAuthSettings,
  type ConnectorConfig,
  type SaslMechanism,
  type SecurityProtocol,
} from './schema.ts';

export type Severity = 'error' | 'warning';
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
  readonly code: string;
  readonly severity: Severity;
}
export interface ValidationResult {
  readonly connectors: readonly ConnectorConfig[];
  readonly errors: readonly Problem[];
  readonly warnings: readonly Problem[];
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;
const MSK_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[0-9a-f-]+(-\d+)?$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const CONNECTOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ARROWS = ['->', '→'];

/** Reads values of one connector's scope (global keys overridden by its section). */
class Scope {
  readonly map = new Map<string, Entry>();
  readonly used = new Set<string>();
  constructor(
    readonly file: string,
    readonly sectionLine: number,
    readonly problems: Problem[],
  ) {}

  entry(key: string): Entry | undefined {
    this.used.add(key);
    return this.map.get(key);
  }
  get(key: string): string | undefined {
    return this.entry(key)?.value;
  }
  line(key: string): number {
    return this.map.get(key)?.line ?? this.sectionLine;
  }
  report(key: string, code: string, message: string, severity: Severity = 'error'): void {
    this.problems.push({ file: this.file, line: this.line(key), key, message, code, severity });
  }
  /** What the user wrote, safe to print. */
  found(key: string): string {
    const v = this.map.get(key)?.value;
    if (v === undefined) return 'nothing';
    if (isSecretKey(key) && v !== '') return REDACTED;
    return v === '' ? 'an empty value' : `"${v}"`;
  }
  required(key: string, code: string, what: string): string | undefined {
    const v = this.get(key)?.trim();
    if (v === undefined || v === '') {
      this.report(key, code, `is required: ${what}`);
      return undefined;
    }
    return v;
  }
  withDefault(key: keyof typeof DEFAULTS): string {
    return this.get(key)?.trim() || DEFAULTS[key];
  }
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T, code: string): T {
    const v = this.get(key)?.trim();
    if (v === undefined || v === '') return fallback;
    const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (match === undefined)
      this.report(key, code, `found ${this.found(key)}; allowed: ${allowed.join(', ')}`);
    return match ?? fallback;
  }
  bool(key: keyof typeof DEFAULTS): boolean {
    return (
      this.oneOf(
        key,
        ['true', 'false'],
        DEFAULTS[key] as 'true' | 'false',
        'CONFIG_BOOLEAN_INVALID',
      ) === 'true'
    );
  }
  int(key: keyof typeof DEFAULTS, min: number, max: number, code: string): number {
    const raw = this.withDefault(key);
    const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.report(key, code, `found ${this.found(key)}; allowed: an integer from ${min} to ${max}`);
      return Number(DEFAULTS[key]);
    }
    return n;
  }
}

const checkServers = (scope: Scope, key: string, allowArn: boolean): string => {
  const v = scope.required(
    key,
    'CONFIG_BOOTSTRAP_SERVERS_MISSING',
    allowArn ? 'host:port[,host:port] or an MSK cluster ARN' : 'host:port[,host:port]',
  );
  if (v === undefined) return '';
  if (allowArn && MSK_ARN.test(v)) return v;
  const bad = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => !HOST_PORT.test(s) || Number(s.split(':').pop()) > 65535);
  if (bad.length > 0)
    scope.report(
      key,
      'CONFIG_BOOTSTRAP_SERVERS_INVALID',
      `found ${scope.found(key)}; allowed: host:port[,host:port]${allowArn ? ' or an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)' : ''}`,
    );
  return v
    .split(',')
    .map((s) => s.trim())
    .join(',');
};

const JAAS_MODULES: Partial<Record<SaslMechanism, RegExp>> = {
  PLAIN: /PlainLoginModule/,
  'SCRAM-SHA-256': /ScramLoginModule/,
  'SCRAM-SHA-512': /ScramLoginModule/,
  AWS_MSK_IAM: /IAMLoginModule/,
  OAUTHBEARER: /OAuthBearerLoginModule/,
};

/** Reads `username`, `password` (and OAuth's `clientId`, `clientSecret`, `scope`) out of a JAAS line. */
export function parseJaas(jaas: string): {
  module: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  unsecured?: boolean;
} {
  const module = /^\s*([\w.$]+)/.exec(jaas)?.[1] ?? '';
  const option = (name: string): string | undefined => {
    const m = new RegExp(`\\b${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`).exec(jaas);
    return m ? (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1') : undefined;
  };
  const found = Object.fromEntries(
    (['username', 'password', 'clientId', 'clientSecret', 'scope'] as const)
      .map((name) => [name, option(name)] as const)
      .filter(([, value]) => value !== undefined),
  );
  return {
    module,
    ...found,
    ...(/\bunsecuredLoginStringClaim_/.test(jaas) ? { unsecured: true } : {}),
  };
}

function clientSecurity(
  scope: Scope,
  prefixes: readonly string[],
  side: 'source' | 'target',
  sourceIsMsk: boolean,
  esmCheck = true,
): ClientSecurity {
  const pick = (suffix: string): string =>
    prefixes.map((p) => `${p}.${suffix}`).find((k) => scope.map.has(k)) ??
    `${prefixes[0] as string}.${suffix}`;
  const protocolKey = pick('security.protocol');
  const protocol = scope.oneOf<SecurityProtocol>(
    protocolKey,
    SECURITY_PROTOCOLS,
    'PLAINTEXT',
    'CONFIG_SECURITY_PROTOCOL_INVALID',
  );
  const mechanismKey = pick('sasl.mechanism');
  const jaasKey = pick('sasl.jaas.config');
  const isSasl = protocol.startsWith('SASL_');
  let mechanism: SaslMechanism | undefined;
  let username: string | undefined;
  let password: string | undefined;
  let oauth: OAuthSettings | undefined;
  if (scope.map.has(mechanismKey) || isSasl) {
    const written = scope.get(mechanismKey);
    mechanism = scope.oneOf<SaslMechanism>(
      mechanismKey,
      SASL_MECHANISMS,
      'GSSAPI',
      'CONFIG_SASL_MECHANISM_INVALID',
    );
    if (!isSasl) {
      scope.report(
        mechanismKey,
        'CONFIG_SASL_IGNORED',
        `is ignored because ${protocolKey} is ${protocol}; use SASL_SSL or SASL_PLAINTEXT to authenticate with SASL`,
        'warning',
      );
      mechanism = undefined;
    } else if (mechanism === 'GSSAPI') {
      scope.report(
        mechanismKey,
        'CONFIG_SASL_GSSAPI_UNSUPPORTED',
        `${written === undefined ? 'is not set, so Kafka would use GSSAPI (Kerberos)' : 'GSSAPI (Kerberos)'}, which is not supported yet; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512${side === 'target' ? ', OAUTHBEARER, AWS_MSK_IAM' : ' (self-managed) or SCRAM-SHA-512, AWS_MSK_IAM (MSK)'}`,
      );
    } else {
      const jaas = scope.get(jaasKey);
      const module = JAAS_MODULES[mechanism];
      if (
        (mechanism === 'PLAIN' || mechanism.startsWith('SCRAM')) &&
        (jaas === undefined || jaas.trim() === '')
      ) {
        scope.report(
          jaasKey,
          'CONFIG_SASL_JAAS_MISSING',
          `is required with ${mechanismKey}=${mechanism}: a ${mechanism === 'PLAIN' ? 'PlainLoginModule' : 'ScramLoginModule'} line with username="..." password="..."`,
        );
      } else if (jaas !== undefined && jaas.trim() !== '') {
        const parsed = parseJaas(jaas);
        if (module && !module.test(parsed.module))
          scope.report(
            jaasKey,
            'CONFIG_SASL_JAAS_MISMATCH',
            `names login module "${parsed.module || 'none'}", which does not match ${mechanismKey}=${mechanism}; expected ${module.source}`,
          );
        else if (
          (mechanism === 'PLAIN' || mechanism.startsWith('SCRAM')) &&
          (parsed.username === undefined || parsed.password === undefined)
        )
          scope.report(
            jaasKey,
            'CONFIG_SASL_JAAS_INVALID',
            'must give both username="..." and password="..."',
          );
        else if (mechanism === 'OAUTHBEARER') oauth = oauthSettings(scope, parsed, pick, jaasKey);
        username = parsed.username;
        password = parsed.password;
      }
      if (mechanism === 'OAUTHBEARER' && (jaas === undefined || jaas.trim() === ''))
        scope.report(
          jaasKey,
          'CONFIG_SASL_JAAS_MISSING',
          `is required with ${mechanismKey}=OAUTHBEARER: software.amazon.msk.auth.iam.IAMOAuthBearerLoginModule required; (MSK IAM) or org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="..." clientSecret="..." [scope="..."];`,
        );
      if (side === 'source' && esmCheck) {
        const esmAllowed: readonly SaslMechanism[] = sourceIsMsk
          ? ['SCRAM-SHA-512', 'AWS_MSK_IAM']
          : ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
        const iam = mechanism === 'OAUTHBEARER' && oauth?.kind === 'msk-iam';
        if (!esmAllowed.includes(iam ? 'AWS_MSK_IAM' : mechanism))
          scope.report(
            mechanismKey,
            'CONFIG_SOURCE_AUTH_UNSUPPORTED_BY_ESM',
            `${mechanism} works with 'tgstream run' but not with a Lambda Kafka trigger on ${sourceIsMsk ? 'MSK' : 'a self-managed cluster'}, which supports ${esmAllowed.join(', ')} and mTLS`,
            'warning',
          );
      }
    }
  }
  scope.entry(pick('sasl.kerberos.service.name'));
  const endpointKey = pick('ssl.endpoint.identification.algorithm');
  return Object.freeze({
    protocol,
    mechanism,
    username,
    password,
    skipHostnameCheck: scope.map.has(endpointKey) && scope.get(endpointKey)?.trim() === '',
    keystoreLocation: scope.get(pick('ssl.keystore.location')),
    truststoreLocation: scope.get(pick('ssl.truststore.location')),
    keyPem: scope.get(pick('ssl.keystore.key')),
    certificateChainPem: scope.get(pick('ssl.keystore.certificate.chain')),
    caPem: scope.get(pick('ssl.truststore.certificates')),
    oauth,
  });
}

/**
 * OAUTHBEARER settings: MSK's IAMOAuthBearerLoginModule means IAM tokens; Kafka's
 * OAuthBearerLoginModule with clientId and clientSecret means the client-credentials grant
 * against `sasl.oauthbearer.token.endpoint.url` (KIP-768).
 */
function oauthSettings(
  scope: Scope,
  parsed: ReturnType<typeof parseJaas>,
  pick: (suffix: string) => string,
  jaasKey: string,
): OAuthSettings | undefined {
  if (/IAMOAuthBearerLoginModule$/.test(parsed.module)) return { kind: 'msk-iam' };
  if (parsed.unsecured === true) {
    scope.report(
      jaasKey,
      'CONFIG_SASL_OAUTHBEARER_UNSECURED',
      'uses unsecured OAUTHBEARER tokens (unsecuredLoginStringClaim_*), which are for tests only and not supported; give clientId="..." clientSecret="..." and sasl.oauthbearer.token.endpoint.url',
    );
    return undefined;
  }
  if (parsed.clientId === undefined || parsed.clientSecret === undefined) {
    scope.report(
      jaasKey,
      'CONFIG_SASL_JAAS_INVALID',
      'must give clientId="..." and clientSecret="..." (and optionally scope="...") for OAUTHBEARER',
    );
    return undefined;
  }
  const endpointKey = pick('sasl.oauthbearer.token.endpoint.url');
  const endpoint = scope.get(endpointKey);
  if (endpoint === undefined || !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    scope.report(
      endpointKey,
      'CONFIG_SASL_OAUTHBEARER_ENDPOINT_INVALID',
      `${endpoint === undefined ? 'is not set' : `is "${endpoint}"`}; allowed: the http(s) URL of the OAuth token endpoint the client credentials are sent to`,
    );
    return undefined;
  }
  return {
    kind: 'client-credentials',
    tokenEndpointUrl: endpoint,
    clientId: parsed.clientId,
    clientSecret: parsed.clientSecret,
    scope: parsed.scope,
  };
}

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

function validateConnector(scope: Scope, name: string, section: string): ConnectorConfig {
  const cls = scope.required(
    'connector.class',
    'CONFIG_CONNECTOR_CLASS_MISSING',
    MIRROR_SOURCE_CONNECTOR,
  );
  if (cls !== undefined && cls !== MIRROR_SOURCE_CONNECTOR)
    scope.report(
      'connector.class',
      'CONFIG_CONNECTOR_CLASS_INVALID',
      `found ${scope.found('connector.class')}; allowed: ${MIRROR_SOURCE_CONNECTOR}`,
    );
  const sourceAlias =
    scope.required(
      'source.cluster.alias',
      'CONFIG_CLUSTER_ALIAS_MISSING',
      'a name for the source cluster, e.g. source.cluster.alias=hello',
    ) ?? '';
  const targetAlias =
    scope.required(
      'target.cluster.alias',
      'CONFIG_CLUSTER_ALIAS_MISSING',
      'a name for the target cluster, e.g. target.cluster.alias=world',
    ) ?? '';
  const sourceBootstrapServers = checkServers(scope, 'source.cluster.bootstrap.servers', true);
  const targetBootstrapServers = checkServers(scope, 'target.cluster.bootstrap.servers', true);
  flowEnabled(scope, sourceAlias, targetAlias);
  const topicsRaw =
    scope.required(
      'topics',
      'CONFIG_TOPICS_MISSING',
      'comma-separated topic names, e.g. topics=orders,customers',
    ) ?? '';
  const topics = topicsRaw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of topics) {
    if (!TOPIC.test(t))
      scope.report(
        'topics',
        /[*+?^$()[\]{}|\\]/.test(t)
          ? 'CONFIG_TOPICS_REGEX_UNSUPPORTED'
          : 'CONFIG_TOPIC_NAME_INVALID',
        /[*+?^$()[\]{}|\\]/.test(t)
          ? `"${t}" is a pattern; a Lambda Kafka trigger needs topic names, so list them (allowed: names of 1-249 characters [A-Za-z0-9._-])`
          : `"${t}" is not a valid topic name; allowed: 1-249 characters [A-Za-z0-9._-]`,
      );
  }
  const topicsExclude = scope
    .withDefault('topics.exclude')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const key of ['key.converter', 'header.converter'] as const) {
    const v = scope.required(
      key,
      key === 'key.converter' ? 'CONFIG_KEY_CONVERTER_MISSING' : 'CONFIG_HEADER_CONVERTER_MISSING',
      BYTE_ARRAY_CONVERTER,
    );
    if (v !== undefined && v !== BYTE_ARRAY_CONVERTER)
      scope.report(
        key,
        key === 'key.converter'
          ? 'CONFIG_KEY_CONVERTER_INVALID'
          : 'CONFIG_HEADER_CONVERTER_INVALID',
        `found ${scope.found(key)}; allowed: ${BYTE_ARRAY_CONVERTER}`,
      );
  }
  const converterName = scope.required(
    'value.converter',
    'CONFIG_VALUE_CONVERTER_MISSING',
    Object.keys(VALUE_CONVERTERS).join(', '),
  );
  const valueConverter =
    converterName === undefined
      ? 'bytes'
      : VALUE_CONVERTERS[converterName as keyof typeof VALUE_CONVERTERS];
  if (converterName !== undefined && valueConverter === undefined)
    scope.report(
      'value.converter',
      'CONFIG_VALUE_CONVERTER_UNKNOWN',
      `found ${scope.found('value.converter')}; allowed: ${Object.keys(VALUE_CONVERTERS).join(', ')}`,
    );
  const registry = scope.get('value.converter.schema.registry.url')?.trim();
  if (converterName === AVRO_REGISTRY_CONVERTER && !registry)
    scope.report(
      'value.converter.schema.registry.url',
      'CONFIG_SCHEMA_REGISTRY_URL_MISSING',
      `is required with value.converter=${AVRO_REGISTRY_CONVERTER}: the registry's http(s) URL`,
    );
  else if (registry && !registry.split(',').every((u) => /^https?:\/\/[^\s/]+/.test(u.trim())))
    scope.report(
      'value.converter.schema.registry.url',
      'CONFIG_SCHEMA_REGISTRY_URL_INVALID',
      `found ${scope.found('value.converter.schema.registry.url')}; allowed: http(s)://host[:port][/path]`,
    );
  scope.oneOf(
    'value.converter.timestamp.format',
    ['datetime', 'iso8601', 'epoch'] as const,
    'datetime',
    'CONFIG_TIMESTAMP_FORMAT_INVALID',
  );
  if (scope.get('sync.topic.configs.enabled')?.trim().toLowerCase() === 'true')
    scope.report(
      'sync.topic.configs.enabled',
      'CONFIG_SYNC_TOPIC_CONFIGS_ENABLED',
      'is true; TigerGraph advises false (true is only for cross-region replication) and TigerStream does not copy topic configs',
      'warning',
    );

  const policyRaw = scope.withDefault('replication.policy.class');
  const policy = /(^|\.)IdentityReplicationPolicy$/.test(policyRaw)
    ? 'identity'
    : /(^|\.)DefaultReplicationPolicy$/.test(policyRaw)
      ? 'default'
      : undefined;
  if (policy === undefined)
    scope.report(
      'replication.policy.class',
      'CONFIG_REPLICATION_POLICY_UNKNOWN',
      `found ${scope.found('replication.policy.class')}; allowed: DefaultReplicationPolicy or IdentityReplicationPolicy`,
    );

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

  const delivery = scope.oneOf(
    'tigergraph.delivery',
    ['kafka', 'direct'] as const,
    'kafka',
    'CONFIG_TIGERGRAPH_DELIVERY_INVALID',
  );
  const url =
    scope.required(
      'tigergraph.url',
      'CONFIG_TIGERGRAPH_URL_MISSING',
      "TigerGraph's base URL, e.g. https://tg.example.com:14240",
    ) ?? '';
  if (url !== '' && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url))
    scope.report(
      'tigergraph.url',
      'CONFIG_TIGERGRAPH_URL_INVALID',
      `found ${scope.found('tigergraph.url')}; allowed: http(s)://host[:port]`,
    );
  const version = scope.oneOf(
    'tigergraph.version',
    ['3', '4'] as const,
    '3',
    'CONFIG_TIGERGRAPH_VERSION_INVALID',
  );
  const graph =
    scope.required(
      'tigergraph.graph',
      'CONFIG_TIGERGRAPH_GRAPH_MISSING',
      'the graph the loading job belongs to',
    ) ?? '';
  const loadingJob =
    scope.required(
      'tigergraph.loading.job',
      'CONFIG_TIGERGRAPH_LOADING_JOB_MISSING',
      'the loading job name',
    ) ?? '';
  const loadingFilename =
    scope.required(
      'tigergraph.loading.filename',
      'CONFIG_TIGERGRAPH_LOADING_FILENAME_MISSING',
      'the DEFINE FILENAME variable of the loading job, e.g. f1',
    ) ?? '';
  const dataSource =
    delivery === 'kafka'
      ? (scope.required(
          'tigergraph.loading.data.source',
          'CONFIG_TIGERGRAPH_DATA_SOURCE_MISSING',
          'the KAFKA data source name the loading job reads (kafka delivery)',
        ) ?? '')
      : (scope.get('tigergraph.loading.data.source') ?? '');
  const errorsTolerance = scope.oneOf(
    'errors.tolerance',
    ['none', 'all'] as const,
    'none',
    'CONFIG_ERRORS_TOLERANCE_INVALID',
  );
  const deadLetterTopic = scope.get('errors.deadletterqueue.topic.name')?.trim() || undefined;
  if (deadLetterTopic !== undefined && !TOPIC.test(deadLetterTopic))
    scope.report(
      'errors.deadletterqueue.topic.name',
      'CONFIG_TOPIC_NAME_INVALID',
      `found ${scope.found('errors.deadletterqueue.topic.name')}; allowed: 1-249 characters [A-Za-z0-9._-]`,
    );
  const tasksMax = scope.int('tasks.max', 1, 2000, 'CONFIG_TASKS_MAX_INVALID');

  return Object.freeze({
    name,
    tasksMax,
    file: scope.file,
    section,
    sourceAlias,
    targetAlias,
    sourceBootstrapServers,
    targetBootstrapServers,
    topics: Object.freeze(topics),
    topicsExclude: Object.freeze(topicsExclude),
    replicationPolicy: policy ?? 'default',
    replicationSeparator: scope.withDefault('replication.policy.separator'),
    valueConverter: valueConverter ?? 'bytes',
    schemaRegistryUrl: registry || undefined,
    source,
    target,
    tigergraph: Object.freeze({
      delivery,
      url: url.replace(/\/+$/, ''),
      version: Number(version) as 3 | 4,
      graph,
      loadingJob,
      loadingFilename,
      dataSource,
      eof: scope.bool('tigergraph.loading.eof'),
      waitForLoad: scope.bool('tigergraph.loading.wait'),
      batchMaxBytes: scope.int(
        'tigergraph.batch.max.bytes',
        1024,
        256 * 1024 * 1024,
        'CONFIG_TIGERGRAPH_BATCH_MAX_BYTES_INVALID',
      ),
      requestTimeoutMs: scope.int(
        'tigergraph.request.timeout.ms',
        100,
        900_000,
        'CONFIG_TIGERGRAPH_REQUEST_TIMEOUT_INVALID',
      ),
      auth: Object.freeze({
        username: scope.get('tigergraph.auth.username'),
        password: scope.get('tigergraph.auth.password'),
        secret: scope.get('tigergraph.auth.secret'),
        token: scope.get('tigergraph.auth.token'),
      }),
    }),
    errorsTolerance,
    deadLetterTopic,
    esm: Object.freeze({
      batchSize: scope.int(
        'tigerstream.esm.batch.size',
        1,
        10_000,
        'CONFIG_ESM_BATCH_SIZE_INVALID',
      ),
      batchingWindowMs: scope.int(
        'tigerstream.esm.batching.window.ms',
        0,
        300_000,
        'CONFIG_ESM_BATCHING_WINDOW_INVALID',
      ),
      startingPosition: scope.oneOf(
        'tigerstream.esm.starting.position',
        ['TRIM_HORIZON', 'LATEST'] as const,
        'TRIM_HORIZON',
        'CONFIG_ESM_STARTING_POSITION_INVALID',
      ),
    }),
    configMaxAgeMs: scope.int(
      'tigerstream.config.max.age.ms',
      0,
      86_400_000,
      'CONFIG_MAX_AGE_INVALID',
    ),
    alarms: Object.freeze({
      offsetLag: scope.int(
        'tigerstream.alarm.offset.lag',
        1,
        1_000_000_000_000,
        'CONFIG_ALARM_OFFSET_LAG_INVALID',
      ),
    }),
    settings: Object.freeze(Object.fromEntries([...scope.map].map(([k, e]) => [k, e.value]))),
  });
}

/**
 * Validates a parsed connector file. Pure and total: never throws on bad input.
 *
 * @example
 * const { parsed, problems } = parseConnectorFile(text, 'company.properties');
 * const result = validateConnectorFile(parsed, problems);
 * if (result.errors.length) for (const p of result.errors) console.error(formatProblem(p));
 */
export function validateConnectorFile(
  parsed: ParsedFile,
  parseProblems: readonly ParseProblem[] = [],
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
    const connector = validateConnector(scope, name, section.title);
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
