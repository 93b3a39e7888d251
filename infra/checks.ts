/**
 * Settings a connector file may hold (`tgstream run` works with them) but a deployed connector
 * cannot use: each is a problem in the validator's shape (`file:line key: message [CODE]`),
 * naming the setting and what is allowed instead. The validator's own errors (GSSAPI, say) and
 * its warning for mechanisms the trigger lacks come first (connectors.ts).
 */
import type { ConnectorConfig, Problem } from '../lib/config/index.ts';
import { problemAt, type DeployedConnector } from './connectors.ts';
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

/** Problems that stop packaging connector `dc` (and warnings), given its trigger, mappings and function names. */
export function deployProblems(
  dc: DeployedConnector,
  plan: TriggerPlan,
  mappings: readonly Mapping[],
  functionNames: readonly string[],
): Problem[] {
  const c = dc.config;
  const out: Problem[] = [];
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
