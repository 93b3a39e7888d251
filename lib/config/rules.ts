/**
 * The connector file's key rules as data. Each row of {@link KEY_RULES} is one key's rule:
 * what it must hold (allowed values, pattern, range), the code of each violation and what to
 * write instead. The validator walks the table once per connector ({@link checkKeys}) and
 * then reads typed values from it ({@link choice}, {@link int}, {@link bool}, {@link text}),
 * as kafkajs keeps its error codes in one table. Rules that need code (cross-field) are small
 * named functions beside the rows they join: {@link checkTigerGraphKeysTogether}.
 */
import {
  allowedText,
  matchChoice,
  parseInteger,
  passes,
  type Check,
  type Scope,
  type Severity,
} from './scope.ts';
import { parseHeartbeatInterval } from './heartbeat.ts';
import {
  BYTE_ARRAY_CONVERTER,
  CLIENT_PREFIXES,
  DEFAULTS,
  MIRROR_SOURCE_CONNECTOR,
  VALUE_CONVERTERS,
} from './schema.ts';

/** One key's rule. */
export interface KeyRule {
  /** Absent: any value (or none) is fine. */
  readonly check?: Check;
  /** The key must have a non-empty value: the code when it has none, and what to write. */
  readonly required?: { readonly code: string; readonly hint: string };
  /**
   * Rows of TigerGraph's loader: setting any of them (non-empty) means TigerStream is to call
   * TigerGraph, so `required` ones (and `required-kafka` ones in kafka delivery) must then all
   * be set; see {@link checkTigerGraphKeysTogether}.
   */
  readonly loader?: 'required' | 'required-kafka' | 'optional';
  /** What the key holds, for messages that ask for it. */
  readonly about?: string;
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;
/**
 * An MSK cluster ARN: `.../cluster/<name>/<uuid>-<n>` for provisioned clusters, and
 * `.../cluster/<name>/<uuid>-s<n>` for MSK Serverless (e.g. `...-aa36e7addd80-s1`).
 */
export const MSK_ARN =
  /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[0-9a-f-]+?(-s?\d+)?$/;
export const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;

const servers = (value: string): boolean =>
  MSK_ARN.test(value) ||
  value
    .split(',')
    .map((s) => s.trim())
    .every((s) => HOST_PORT.test(s) && Number(s.split(':').pop()) <= 65535);

const SERVERS_RULE = {
  check: {
    kind: 'pattern',
    test: servers,
    allowed:
      'host:port[,host:port] or an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)',
    code: 'CONFIG_BOOTSTRAP_SERVERS_INVALID',
  },
  required: {
    code: 'CONFIG_BOOTSTRAP_SERVERS_MISSING',
    hint: 'host:port[,host:port] or an MSK cluster ARN',
  },
} as const satisfies KeyRule;

const BYTE_ARRAY_ONLY = (code: string) =>
  ({ kind: 'oneOf', allowed: [BYTE_ARRAY_CONVERTER], exact: true, code }) as const;

const BOOL = { kind: 'bool', code: 'CONFIG_BOOLEAN_INVALID' } as const;

/** A comma-separated list of 1..max ids, each matching `id`. */
const idList =
  (id: RegExp, max: number) =>
  (value: string): boolean => {
    const ids = value.split(',').map((s) => s.trim());
    return ids.length <= max && ids.every((s) => id.test(s));
  };
/** Lambda takes at most 16 subnets and 5 security groups for a function (VpcConfig). */
export const isSubnetIdList = idList(/^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 16);
export const isSecurityGroupIdList = idList(/^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 5);
export const SUBNET_IDS_ALLOWED =
  'comma-separated subnet ids (subnet-0123456789abcdef0), at most 16';
export const SECURITY_GROUP_IDS_ALLOWED =
  'comma-separated security group ids (sg-0123456789abcdef0), at most 5';
const SUBNETS_RULE = {
  check: {
    kind: 'pattern',
    test: isSubnetIdList,
    allowed: SUBNET_IDS_ALLOWED,
    code: 'CONFIG_SUBNET_IDS_INVALID',
  },
} as const satisfies KeyRule;
const SECURITY_GROUPS_RULE = {
  check: {
    kind: 'pattern',
    test: isSecurityGroupIdList,
    allowed: SECURITY_GROUP_IDS_ALLOWED,
    code: 'CONFIG_SECURITY_GROUP_IDS_INVALID',
  },
} as const satisfies KeyRule;
/**
 * A complete Secrets Manager secret ARN: the name, then the `-` and six characters Secrets
 * Manager appends. IAM matches the Resource against the complete ARN, so a role granted a
 * partial one (without the suffix) cannot read the secret.
 */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/**
 * Every key rule of a connector file. Keys whose rule needs other keys (the replication flow,
 * client security under several prefixes) are checked by functions in validate.ts and
 * security.ts; cross-field rules between rows are the named functions below.
 */
export const KEY_RULES = {
  'connector.class': {
    check: {
      kind: 'oneOf',
      allowed: [MIRROR_SOURCE_CONNECTOR],
      exact: true,
      code: 'CONFIG_CONNECTOR_CLASS_INVALID',
    },
    required: { code: 'CONFIG_CONNECTOR_CLASS_MISSING', hint: MIRROR_SOURCE_CONNECTOR },
  },
  'source.cluster.alias': {
    required: {
      code: 'CONFIG_CLUSTER_ALIAS_MISSING',
      hint: 'a name for the source cluster, e.g. source.cluster.alias=hello',
    },
  },
  'target.cluster.alias': {
    required: {
      code: 'CONFIG_CLUSTER_ALIAS_MISSING',
      hint: 'a name for the target cluster, e.g. target.cluster.alias=world',
    },
  },
  'source.cluster.bootstrap.servers': SERVERS_RULE,
  'target.cluster.bootstrap.servers': SERVERS_RULE,
  topics: {
    required: {
      code: 'CONFIG_TOPICS_MISSING',
      hint: 'comma-separated topic names, e.g. topics=orders,customers',
    },
  },
  'topics.exclude': {},
  'key.converter': {
    check: BYTE_ARRAY_ONLY('CONFIG_KEY_CONVERTER_INVALID'),
    required: { code: 'CONFIG_KEY_CONVERTER_MISSING', hint: BYTE_ARRAY_CONVERTER },
  },
  'header.converter': {
    check: BYTE_ARRAY_ONLY('CONFIG_HEADER_CONVERTER_INVALID'),
    required: { code: 'CONFIG_HEADER_CONVERTER_MISSING', hint: BYTE_ARRAY_CONVERTER },
  },
  'value.converter': {
    check: {
      kind: 'oneOf',
      allowed: Object.keys(VALUE_CONVERTERS),
      exact: true,
      code: 'CONFIG_VALUE_CONVERTER_UNKNOWN',
    },
    required: {
      code: 'CONFIG_VALUE_CONVERTER_MISSING',
      hint: Object.keys(VALUE_CONVERTERS).join(', '),
    },
  },
  'value.converter.schema.registry.url': {
    check: {
      kind: 'pattern',
      test: (v) => v.split(',').every((u) => /^https?:\/\/[^\s/]+/.test(u.trim())),
      allowed: 'http(s)://host[:port][/path]',
      code: 'CONFIG_SCHEMA_REGISTRY_URL_INVALID',
    },
  },
  'value.converter.timestamp.format': {
    check: {
      kind: 'oneOf',
      allowed: ['datetime', 'iso8601', 'epoch'],
      code: 'CONFIG_TIMESTAMP_FORMAT_INVALID',
    },
  },
  'sync.topic.configs.enabled': { check: BOOL },
  'replication.policy.class': {
    check: {
      kind: 'pattern',
      test: (v) => /(^|\.)(Identity|Default)ReplicationPolicy$/.test(v),
      allowed: 'DefaultReplicationPolicy or IdentityReplicationPolicy',
      code: 'CONFIG_REPLICATION_POLICY_UNKNOWN',
    },
  },
  'replication.policy.separator': {},
  // The codecs lib/kafka produces with (COMPRESSION_TYPES there); Kafka spells them lowercase.
  'producer.compression.type': {
    check: {
      kind: 'oneOf',
      allowed: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
      exact: true,
      code: 'CONFIG_COMPRESSION_TYPE_INVALID',
    },
  },
  // Kafka's producer key: the largest request lib/kafka sends; a larger record is refused
  // before it is sent (MAX_REQUEST_SIZE_LIMIT there: a broker reads no larger request).
  'producer.max.request.size': {
    check: { kind: 'int', min: 1, max: 104_857_600, code: 'CONFIG_MAX_REQUEST_SIZE_INVALID' },
  },
  'errors.tolerance': {
    check: { kind: 'oneOf', allowed: ['none', 'all'], code: 'CONFIG_ERRORS_TOLERANCE_INVALID' },
  },
  'errors.deadletterqueue.topic.name': {
    check: {
      kind: 'pattern',
      test: (v) => TOPIC.test(v),
      allowed: '1-249 characters [A-Za-z0-9._-]',
      code: 'CONFIG_TOPIC_NAME_INVALID',
    },
  },
  'tasks.max': { check: { kind: 'int', min: 1, max: 2000, code: 'CONFIG_TASKS_MAX_INVALID' } },
  // MirrorMaker 2's heartbeats; the schedule and its one-minute floor are in heartbeat.ts.
  'emit.heartbeats.enabled': { check: BOOL },
  'emit.heartbeats.interval.seconds': {
    check: {
      kind: 'pattern',
      test: (v) => parseHeartbeatInterval(v) !== undefined,
      allowed:
        'a positive whole number of seconds, or a negative one (-1) for no heartbeats, as in MirrorMaker 2',
      code: 'CONFIG_HEARTBEAT_INTERVAL_INVALID',
    },
  },

  // TigerGraph's loader. Every tigergraph.* key only has an effect when TigerStream calls
  // TigerGraph, so setting any one of them (non-empty) asks it to: none is silently ignored.
  'tigergraph.delivery': {
    check: {
      kind: 'oneOf',
      allowed: ['kafka', 'direct'],
      code: 'CONFIG_TIGERGRAPH_DELIVERY_INVALID',
    },
    loader: 'optional',
  },
  'tigergraph.url': {
    check: {
      kind: 'pattern',
      test: (v) => HTTP_URL.test(v),
      allowed: 'http(s)://host[:port]',
      code: 'CONFIG_TIGERGRAPH_URL_INVALID',
    },
    loader: 'required',
    about: "TigerGraph's base URL, e.g. https://tg.example.com:14240",
  },
  'tigergraph.version': {
    check: { kind: 'oneOf', allowed: ['3', '4'], code: 'CONFIG_TIGERGRAPH_VERSION_INVALID' },
    loader: 'optional',
  },
  'tigergraph.graph': { loader: 'required', about: 'the graph the loading job belongs to' },
  'tigergraph.loading.job': { loader: 'required', about: 'the loading job name' },
  'tigergraph.loading.filename': {
    loader: 'required',
    about: 'the DEFINE FILENAME variable of the loading job, e.g. f1',
  },
  'tigergraph.loading.data.source': {
    loader: 'required-kafka',
    about: 'the KAFKA data source the loading job reads',
  },
  'tigergraph.loading.eof': { check: BOOL, loader: 'optional' },
  'tigergraph.loading.wait': { check: BOOL, loader: 'optional' },
  'tigergraph.auth.username': { loader: 'optional' },
  'tigergraph.auth.password': { loader: 'optional' },
  'tigergraph.auth.secret': { loader: 'optional' },
  'tigergraph.auth.token': { loader: 'optional' },
  'tigergraph.batch.max.bytes': {
    check: {
      kind: 'int',
      min: 1024,
      max: 256 * 1024 * 1024,
      code: 'CONFIG_TIGERGRAPH_BATCH_MAX_BYTES_INVALID',
    },
    loader: 'optional',
  },
  // /ddl posts in flight at once for one batch (lib/pipeline/direct.ts lanes). 16 bounds what
  // one invocation asks of RESTPP; TigerGraph documents no limit on concurrent /ddl posts.
  'tigergraph.direct.concurrency': {
    check: {
      kind: 'int',
      min: 1,
      max: 16,
      code: 'CONFIG_TIGERGRAPH_DIRECT_CONCURRENCY_INVALID',
    },
    loader: 'optional',
  },
  'tigergraph.request.timeout.ms': {
    check: {
      kind: 'int',
      min: 100,
      max: 900_000,
      code: 'CONFIG_TIGERGRAPH_REQUEST_TIMEOUT_INVALID',
    },
    loader: 'optional',
  },

  'tigerstream.esm.batch.size': {
    check: { kind: 'int', min: 1, max: 10_000, code: 'CONFIG_ESM_BATCH_SIZE_INVALID' },
  },
  'tigerstream.esm.batching.window.ms': {
    check: { kind: 'int', min: 0, max: 300_000, code: 'CONFIG_ESM_BATCHING_WINDOW_INVALID' },
  },
  'tigerstream.esm.starting.position': {
    check: {
      kind: 'oneOf',
      allowed: ['TRIM_HORIZON', 'LATEST'],
      code: 'CONFIG_ESM_STARTING_POSITION_INVALID',
    },
  },
  'tigerstream.config.max.age.ms': {
    check: { kind: 'int', min: 0, max: 86_400_000, code: 'CONFIG_MAX_AGE_INVALID' },
  },
  'tigerstream.alarm.offset.lag': {
    check: { kind: 'int', min: 1, max: 1_000_000_000_000, code: 'CONFIG_ALARM_OFFSET_LAG_INVALID' },
  },

  // Deploy-only keys: the IaC (infra/) reads them; the handler never does.
  'tigerstream.esm.secret.arn': {
    check: {
      kind: 'pattern',
      test: (v) => SECRET_ARN.test(v),
      allowed:
        "the complete ARN of a Secrets Manager secret, with the six characters Secrets Manager appends to its name (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf, as 'aws secretsmanager describe-secret' prints it)",
      code: 'CONFIG_ESM_SECRET_ARN_INVALID',
    },
  },
  // The trigger's own network (self-managed clusters in a VPC; MSK uses the cluster's).
  'tigerstream.esm.vpc.subnet.ids': SUBNETS_RULE,
  'tigerstream.esm.vpc.security.group.ids': SECURITY_GROUPS_RULE,
  // The function's network (a private TigerGraph Kafka or RESTPP).
  'tigerstream.vpc.subnet.ids': SUBNETS_RULE,
  'tigerstream.vpc.security.group.ids': SECURITY_GROUPS_RULE,
} as const satisfies Record<string, KeyRule>;

export type RuleKey = keyof typeof KEY_RULES;
type Rules = typeof KEY_RULES;
type Defaulted = keyof typeof DEFAULTS;
type KeysWith<K extends Check['kind']> = {
  [P in RuleKey]: Rules[P] extends { readonly check: { readonly kind: K } } ? P : never;
}[RuleKey];
type ChoiceOf<P extends RuleKey> = Rules[P] extends {
  readonly check: { readonly allowed: readonly (infer T)[] };
}
  ? T
  : never;

/**
 * Walks the table: reports every key that is required and has no value, and every value that
 * breaks its row's check (`found <what>; allowed: <what is allowed>`).
 */
export function checkKeys(
  scope: Scope,
  rules: Readonly<Record<string, KeyRule>> = KEY_RULES,
): void {
  for (const [key, rule] of Object.entries(rules)) {
    const value = scope.value(key);
    if (value === undefined) {
      if (rule.required)
        scope.report(key, rule.required.code, `is required: ${rule.required.hint}`);
    } else if (rule.check && !passes(rule.check, value)) {
      scope.report(
        key,
        rule.check.code,
        `found ${scope.found(key)}; allowed: ${allowedText(rule.check)}`,
      );
    }
  }
}

const defaultOf = (key: Defaulted): string => DEFAULTS[key];

/** A key's value, else its default; `undefined` when it has neither. */
export function text(scope: Scope, key: RuleKey): string | undefined {
  return scope.value(key) ?? (key in DEFAULTS ? defaultOf(key as Defaulted) : undefined);
}

/** A choice row's value (the allowed spelling), else its default (also when invalid: reported by checkKeys). */
export function choice<P extends KeysWith<'oneOf'> & Defaulted>(scope: Scope, key: P): ChoiceOf<P> {
  const check = KEY_RULES[key].check as Extract<Check, { kind: 'oneOf' }>;
  const v = scope.value(key);
  const match = v === undefined ? undefined : matchChoice(check.allowed, v, check.exact === true);
  return (match ?? defaultOf(key)) as ChoiceOf<P>;
}

/** An integer row's value, else its default (also when invalid: reported by checkKeys). */
export function int(scope: Scope, key: KeysWith<'int'> & Defaulted): number {
  const v = scope.value(key);
  const check = KEY_RULES[key].check;
  return v !== undefined && passes(check, v) ? parseInteger(v) : Number(defaultOf(key));
}

/** A boolean row's value, else its default (also when invalid: reported by checkKeys). */
export function bool(scope: Scope, key: KeysWith<'bool'> & Defaulted): boolean {
  const v = scope.value(key)?.toLowerCase();
  return (v === 'true' || v === 'false' ? v : defaultOf(key)) === 'true';
}

/** The tigergraph.* rows, in table order. */
export const TIGERGRAPH_RULES: readonly (readonly [RuleKey, KeyRule])[] = (
  Object.entries(KEY_RULES) as [RuleKey, KeyRule][]
).filter(([, rule]) => rule.loader !== undefined);

/** Whether a connector calls TigerGraph's loader, as its tigergraph.* keys say. */
export type LoaderKeys =
  | { readonly kind: 'none' }
  | { readonly kind: 'complete' }
  | {
      readonly kind: 'incomplete';
      readonly trigger: string;
      readonly missing: readonly string[];
    };

/**
 * Cross-field rule `CONFIG_TIGERGRAPH_INCOMPLETE`, beside the tigergraph.* rows. No
 * tigergraph.* key (or only empty ones): a mirror-only connector, nothing required. Any one set:
 * TigerStream is to call the loader, so tigergraph.url, .graph, .loading.job,
 * .loading.filename (and .loading.data.source in kafka delivery) are required together; one
 * problem names the key that asked for the loader (the first set), every missing key and what
 * is allowed. `severity` is `warning` for callers that never call TigerGraph (`convert`).
 *
 * @param targets the target topics, for the message's mirror-only alternative.
 */
export function checkTigerGraphKeysTogether(
  scope: Scope,
  targets: readonly string[],
  severity: Severity = 'error',
): LoaderKeys {
  const set = TIGERGRAPH_RULES.filter(([key]) => scope.value(key) !== undefined).sort(
    ([a], [b]) => scope.line(a) - scope.line(b),
  );
  const first = set[0];
  if (first === undefined) return { kind: 'none' };
  const kafka = choice(scope, 'tigergraph.delivery') === 'kafka';
  const together = TIGERGRAPH_RULES.filter(
    ([, rule]) => rule.loader === 'required' || (kafka && rule.loader === 'required-kafka'),
  );
  const missing = together.filter(([key]) => scope.value(key) === undefined);
  if (missing.length === 0) return { kind: 'complete' };
  const [trigger] = first;
  const keys = together.map(([key]) => key);
  const needs = missing.map(([key, rule]) => `${key} (${rule.about ?? 'required'})`).join(', ');
  const all = `${keys.slice(0, -1).join(', ')} and ${keys.at(-1) ?? ''} all set${kafka ? ' (kafka delivery)' : ''}`;
  const mirrorOnly = `no tigergraph.* key (mirror-only: records go to ${targets.join(', ')} on TigerGraph's Kafka and your own loading job loads them)`;
  scope.report(
    trigger,
    'CONFIG_TIGERGRAPH_INCOMPLETE',
    `is set, so TigerStream is to call TigerGraph's loader, which also needs ${needs}; allowed: ${all}, or ${mirrorOnly}`,
    severity,
  );
  return { kind: 'incomplete', trigger, missing: missing.map(([key]) => key) };
}

/** Pairs of keys that only work together: a VPC needs subnets and security groups. */
const VPC_PAIRS = [
  ['tigerstream.vpc.subnet.ids', 'tigerstream.vpc.security.group.ids', 'the function'],
  ['tigerstream.esm.vpc.subnet.ids', 'tigerstream.esm.vpc.security.group.ids', 'the trigger'],
] as const;

/**
 * Cross-field rule `CONFIG_VPC_INCOMPLETE`, beside the VPC rows: subnets without security
 * groups (or the reverse) put nothing in a VPC, so one of a pair alone is an error naming the
 * other.
 */
export function checkVpcKeysTogether(scope: Scope): void {
  for (const [subnets, groups, what] of VPC_PAIRS) {
    const hasSubnets = scope.value(subnets) !== undefined;
    if (hasSubnets === (scope.value(groups) !== undefined)) continue;
    const [set, missing] = hasSubnets ? [subnets, groups] : [groups, subnets];
    scope.report(
      set,
      'CONFIG_VPC_INCOMPLETE',
      `is set but ${missing} is not; ${what} joins a VPC only with both; allowed: both set, or neither`,
    );
  }
}

/**
 * The keys that hold URLs, each with where its login goes instead. A `user:password@` in a URL
 * is not a secret key's value, so it would be stored, deployed and printed as plain text.
 */
const URL_LOGINS: readonly (readonly [key: string, instead: string])[] = [
  [
    'tigergraph.url',
    'tigergraph.auth.username and tigergraph.auth.password (or tigergraph.auth.secret, tigergraph.auth.token)',
  ],
  [
    'value.converter.schema.registry.url',
    'value.converter.basic.auth.user.info (user:password) with value.converter.basic.auth.credentials.source=USER_INFO, or value.converter.bearer.auth.token',
  ],
  ...CLIENT_PREFIXES.map(
    (p) =>
      [
        `${p}.sasl.oauthbearer.token.endpoint.url`,
        `clientId="..." clientSecret="..." in ${p}.sasl.jaas.config`,
      ] as const,
  ),
];

/** `scheme://userinfo@` at the start of a URL (in a comma-separated list, any of them). */
const URL_USERINFO = /(?:^|,)\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/@,]*@/;

/**
 * Rule `CONFIG_URL_CREDENTIALS`, beside the URL rows: no URL key may carry a login
 * (`https://user:password@host`); the message names the key and the keys the login belongs
 * in, and never the value.
 */
export function checkUrlCredentials(scope: Scope): void {
  for (const [key, instead] of URL_LOGINS) {
    const value = scope.value(key);
    if (value === undefined || !URL_USERINFO.test(value)) continue;
    scope.report(
      key,
      'CONFIG_URL_CREDENTIALS',
      `holds a login (user:password@) in its URL, which would be stored and deployed as plain text; allowed: the URL without it, and the login in ${instead}`,
    );
  }
}

/** AWS's batching window for a Kafka trigger when none is set: 500 ms. */
export const TRIGGER_DEFAULT_WINDOW_MS = 500;

/**
 * The `MaximumBatchingWindowInSeconds` a trigger gets for `tigerstream.esm.batching.window.ms`:
 * whole seconds (0 to 300), or `undefined` to leave AWS's default of 500 ms. Values between 1
 * and 999 ms cannot be written, so they get that default; larger ones round to a whole second.
 */
export const triggerBatchingWindowSeconds = (ms: number): number | undefined =>
  ms === 0 ? 0 : ms < 1000 ? undefined : Math.round(ms / 1000);

/**
 * Warning `CONFIG_ESM_BATCHING_WINDOW_ROUNDED`, beside the row: a window the deployed trigger
 * cannot take as written ({@link triggerBatchingWindowSeconds}); `tgstream run` uses it exactly.
 */
export function warnBatchingWindowRounded(scope: Scope): void {
  const key = 'tigerstream.esm.batching.window.ms';
  const v = scope.value(key);
  const check = KEY_RULES[key].check;
  if (v === undefined || !passes(check, v)) return;
  const ms = parseInteger(v);
  if (ms === 0 || ms === TRIGGER_DEFAULT_WINDOW_MS || ms % 1000 === 0) return;
  const seconds = triggerBatchingWindowSeconds(ms);
  scope.report(
    key,
    'CONFIG_ESM_BATCHING_WINDOW_ROUNDED',
    `is ${ms} ms, but a Lambda Kafka trigger's batching window is whole seconds (0 to 300) or AWS's default of ${TRIGGER_DEFAULT_WINDOW_MS} ms, so the deployed trigger waits ${seconds === undefined ? `${TRIGGER_DEFAULT_WINDOW_MS} ms` : `${seconds} s`} ('tgstream run' waits ${ms} ms); allowed without this warning: 0, ${TRIGGER_DEFAULT_WINDOW_MS}, or a multiple of 1000`,
    'warning',
  );
}
