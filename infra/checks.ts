/**
 * Settings a connector file may hold (`tgstream run` works with them) but a deployed connector
 * cannot use: each is a problem in the validator's shape (`file:line key: message [CODE]`),
 * naming the setting and what is allowed instead. The validator's own errors (GSSAPI, say) and
 * its warning for mechanisms the trigger lacks come first (connectors.ts).
 */
import { isIP } from 'node:net';
import type { ConnectorConfig, Problem } from '../lib/config/index.ts';
import { problemAt, type DeployedConnector } from './connectors.ts';
import type { Vpc } from './network.ts';
import { parseMskArn, usesMskIam, type Mapping, type TriggerPlan } from './source.ts';

/** Lambda's limit on a function name. */
const MAX_FUNCTION_NAME = 64;
/** An event-source mapping's ConsumerGroupId holds at most 200 characters. */
const MAX_CONSUMER_GROUP = 200;
/** The prefixes validate.ts reads the source's client settings from, in its order. */
const SOURCE_PREFIXES = ['consumer', 'source.cluster', 'source.admin'] as const;
const TARGET_PREFIXES = ['producer', 'target.cluster'] as const;

/** The key that set `suffix` for a cluster (the first prefix that has it), else the first prefix's. */
const keyOf = (c: ConnectorConfig, prefixes: readonly string[], suffix: string): string =>
  prefixes.map((p) => `${p}.${suffix}`).find((k) => c.settings[k] !== undefined) ??
  `${prefixes[0] ?? ''}.${suffix}`;

/** A value Kafka's config providers fill in when the client starts (`${file:...}`, `${env:...}`). */
const isProviderReference = (value: string | undefined): boolean =>
  value !== undefined && /\$\{[^}]*\}/.test(value);

/** Where a host is, as far as its name says: a hostname could be anywhere. */
type Reach = 'loopback' | 'private' | 'elsewhere';

const IPV4_PRIVATE = [
  [10, 0, 8],
  [172, 16, 12],
  [192, 168, 16],
  [100, 64, 10], // carrier-grade NAT, private in a VPC
  [169, 254, 16], // link-local
] as const;

/** The reach of `host` (a name, an IPv4 address, or an IPv6 one with or without brackets). */
export function reachOf(host: string): Reach {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  if (isIP(h) === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    if (a === 127 || a === 0) return 'loopback';
    const n = (a << 8) | b;
    return IPV4_PRIVATE.some(([x, y, bits]) => n >>> (16 - bits) === ((x << 8) | y) >>> (16 - bits))
      ? 'private'
      : 'elsewhere';
  }
  if (isIP(h) === 6) {
    if (h === '::1' || h === '::') return 'loopback';
    return /^f[cd]|^fe[89ab]/.test(h) ? 'private' : 'elsewhere';
  }
  return 'elsewhere';
}

/** The hosts of `host:port[,host:port]` (an MSK ARN has none). */
const hostsOf = (servers: string): string[] =>
  parseMskArn(servers) === undefined
    ? servers
        .split(',')
        .map((s) => s.trim().replace(/:\d+$/, ''))
        .filter((s) => s !== '')
    : [];

/** The host of an http(s) URL, if it parses. */
const urlHost = (url: string | undefined): string[] => {
  try {
    return url === undefined ? [] : [new URL(url).hostname];
  } catch {
    return [];
  }
};

/**
 * Warnings for addresses a deployed connector cannot reach as configured. Lambda polls the
 * source and runs the function on AWS, so a loopback address there reaches nothing: the shipped
 * example (localhost, for `npm start`) deploys a provisioned poller that reads nothing and a
 * heartbeat function that fails every minute. A private address is reached only from inside its
 * VPC (tigerstream.esm.vpc.* for the trigger, tigerstream.vpc.* or the stage's params for the
 * function). And brokers reached over the internet need a login: AWS's Kafka documentation asks
 * for an authentication secret for them.
 */
function reachProblems(dc: DeployedConnector, plan: TriggerPlan, vpc: Vpc | undefined): Problem[] {
  const c = dc.config;
  const out: Problem[] = [];
  const warn = (key: string, code: string, message: string) =>
    out.push(problemAt(dc, key, code, message, 'warning'));
  const sourceKey = 'source.cluster.bootstrap.servers';
  const sourceReach = hostsOf(c.sourceBootstrapServers).map(reachOf);
  if (sourceReach.includes('loopback'))
    warn(
      sourceKey,
      'CONFIG_TRIGGER_SOURCE_LOOPBACK',
      `is ${c.sourceBootstrapServers}, a loopback address the Lambda trigger cannot reach (it polls from AWS), so the deployed connector reads nothing and still pays for its provisioned poller; allowed: the addresses of the source brokers (the shipped example's localhost is for 'npm start' only)`,
    );
  else if (sourceReach.includes('private') && plan.vpc === undefined)
    warn(
      sourceKey,
      'CONFIG_TRIGGER_SOURCE_PRIVATE',
      `is ${c.sourceBootstrapServers}, a private address, which the Lambda trigger reaches only from inside its VPC; allowed: tigerstream.esm.vpc.subnet.ids and tigerstream.esm.vpc.security.group.ids naming subnets and a security group that reach the brokers`,
    );
  else if (
    plan.msk === undefined &&
    plan.vpc === undefined &&
    plan.secret === undefined &&
    sourceReach.length > 0
  )
    warn(
      sourceKey,
      'CONFIG_TRIGGER_SOURCE_NO_LOGIN',
      `is reached by the Lambda trigger over the internet (no tigerstream.esm.vpc.* keys), without a login; AWS's Kafka documentation asks for an authentication secret for such brokers; allowed: a SASL_SSL login or mTLS on the source (consumer.* keys), or tigerstream.esm.vpc.* when the brokers are in a VPC`,
    );
  const targets: [string, string[]][] = [
    ['target.cluster.bootstrap.servers', hostsOf(c.targetBootstrapServers)],
    ['tigergraph.url', urlHost(c.tigergraph?.url)],
  ];
  for (const [key, hosts] of targets) {
    const reach = hosts.map(reachOf);
    if (reach.includes('loopback'))
      warn(
        key,
        'CONFIG_FUNCTION_TARGET_LOOPBACK',
        `is ${c.settings[key] ?? hosts.join(',')}, a loopback address the Lambda function cannot reach (it runs on AWS), so every batch fails; allowed: the address of TigerGraph's Kafka or RESTPP as the function reaches it (the shipped example's localhost is for 'npm start' only)`,
      );
    else if (reach.includes('private') && vpc === undefined)
      warn(
        key,
        'CONFIG_FUNCTION_VPC_MISSING',
        `is ${c.settings[key] ?? hosts.join(',')}, a private address, which the Lambda function reaches only from inside a VPC; allowed: tigerstream.vpc.subnet.ids and tigerstream.vpc.security.group.ids, or the stage's params vpcSubnetIds and vpcSecurityGroupIds`,
      );
  }
  return out;
}

/**
 * Problems that stop packaging connector `dc` (and warnings), given its trigger, mappings,
 * function names and the VPC its functions run in.
 */
export function deployProblems(
  dc: DeployedConnector,
  plan: TriggerPlan,
  mappings: readonly Mapping[],
  functionNames: readonly string[],
  vpc: Vpc | undefined,
): Problem[] {
  const c = dc.config;
  const out: Problem[] = reachProblems(dc, plan, vpc);
  const explicitSecret = c.settings['tigerstream.esm.secret.arn']?.trim();
  const sasl = c.source.mechanism !== undefined && c.source.protocol === 'SASL_PLAINTEXT';
  if (sasl)
    out.push(
      problemAt(
        dc,
        keyOf(c, SOURCE_PREFIXES, 'security.protocol'),
        'CONFIG_TRIGGER_SASL_PLAINTEXT',
        `is SASL_PLAINTEXT; a Lambda Kafka trigger sends SASL credentials only over TLS (it has no SASL/SCRAM or PLAIN over plaintext); allowed: SASL_SSL`,
      ),
    );
  if (
    plan.auth.kind === 'sasl' &&
    explicitSecret === undefined &&
    (isProviderReference(c.source.username) || isProviderReference(c.source.password))
  )
    out.push(
      problemAt(
        dc,
        keyOf(c, SOURCE_PREFIXES, 'sasl.jaas.config'),
        'CONFIG_TRIGGER_SECRET_UNAVAILABLE',
        `takes its username or password from a Kafka config provider (\${...}), which 'tgstream connector create' cannot resolve into the trigger's secret; allowed: the username and password written in the JAAS line, or tigerstream.esm.secret.arn naming a Secrets Manager secret {"username","password"} you keep`,
      ),
    );
  if (explicitSecret !== undefined && plan.secret === undefined)
    out.push(
      problemAt(
        dc,
        'tigerstream.esm.secret.arn',
        'CONFIG_TRIGGER_SECRET_UNUSED',
        `is set, but the source logs in with ${plan.auth.kind === 'iam' ? 'IAM' : 'no SASL mechanism and no client certificate'}, so the trigger reads no secret; it is ignored`,
        'warning',
      ),
    );
  if (plan.msk !== undefined)
    for (const key of ['tigerstream.esm.vpc.subnet.ids', 'tigerstream.esm.vpc.security.group.ids'])
      if (c.settings[key]?.trim())
        out.push(
          problemAt(
            dc,
            key,
            'CONFIG_TRIGGER_VPC_MSK',
            `is set, but the source is an MSK cluster, whose trigger always uses the cluster's own subnets and security groups; allowed: no tigerstream.esm.vpc.* key for MSK (tigerstream.vpc.* places the function)`,
          ),
        );
  if (usesMskIam(c.target) && parseMskArn(c.targetBootstrapServers) === undefined)
    out.push(
      problemAt(
        dc,
        'target.cluster.bootstrap.servers',
        'CONFIG_TARGET_IAM_CLUSTER_ARN_MISSING',
        `is ${c.targetBootstrapServers}, but ${keyOf(c, TARGET_PREFIXES, 'sasl.mechanism')} logs in with MSK IAM, and the function's role can be granted kafka-cluster:* only on a cluster it can name; allowed: the MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`,
      ),
    );
  for (const name of functionNames)
    if (name.length > MAX_FUNCTION_NAME)
      out.push(
        problemAt(
          dc,
          'name',
          'CONFIG_FUNCTION_NAME_TOO_LONG',
          `makes the Lambda function name ${name} (${name.length} characters); Lambda allows ${MAX_FUNCTION_NAME}; allowed: a shorter connector name or stage`,
        ),
      );
  for (const { group } of mappings)
    if (group.length > MAX_CONSUMER_GROUP)
      out.push(
        problemAt(
          dc,
          'topics',
          'CONFIG_CONSUMER_GROUP_TOO_LONG',
          `gives the trigger the consumer group ${group} (${group.length} characters); an event-source mapping allows ${MAX_CONSUMER_GROUP}; allowed: shorter topic or connector names`,
        ),
      );
  return out;
}
