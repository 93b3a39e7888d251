/**
 * How a connector's Kafka trigger (event-source mapping) reaches and authenticates to the source
 * cluster, read from the connector file's source security (`consumer.`, `source.cluster.`,
 * `source.admin.` keys): which `SourceAccessConfigurations`, which Secrets Manager secrets,
 * which network. Facts: reference `aws-lambda-kafka.md` sections 2.1 and 2.6, and Lambda's
 * "Configuring cluster authentication methods" page (SASL only over TLS).
 *
 * The secrets hold no value in the template: the stack creates each one empty, named from the
 * stage and connector (lib/config/naming.ts), so the mapping can name its ARN; `serverless
 * deploy` writes the value right after the stack (infra/deploy-hooks.cjs, PutSecretValue), and
 * `tgstream connector create` writes the same. Until then the trigger cannot log in.
 */
import {
  MSK_ARN,
  logicalName,
  mskSourceSecretNameFor,
  sourceCaSecretNameFor,
  sourceSecretNameFor,
  triggerBatchingWindowSeconds,
  triggerGroupFor,
  type ConnectorConfig,
} from '../lib/config/index.ts';
import { ref, type Resources } from './template.ts';

/** The parts of an MSK cluster ARN: `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
export interface MskCluster {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  /** The cluster's UUID with its `-<n>` suffix, as MSK's topic and group ARNs carry it. */
  readonly uuid: string;
}

/** The cluster an MSK ARN names, or `undefined` for `host:port` lists. */
export function parseMskArn(value: string): MskCluster | undefined {
  if (!MSK_ARN.test(value)) return undefined;
  const [, partition, , region, account, resource] = value.split(':');
  const [, name, uuid] = (resource ?? '').split('/');
  if (!partition || !region || !account || !name || !uuid) return undefined;
  return { arn: value, partition, region, account, name, uuid };
}

/** MSK IAM resources (MSK's "IAM access control" resource ARNs): `topic/` and `group/` under the cluster. */
export const mskResourceArn = (
  cluster: MskCluster,
  kind: 'topic' | 'group',
  resourceName: string,
): string =>
  `arn:${cluster.partition}:kafka:${cluster.region}:${cluster.account}:${kind}/${cluster.name}/${cluster.uuid}/${resourceName}`;

const SASL_ACCESS = {
  PLAIN: 'BASIC_AUTH',
  'SCRAM-SHA-256': 'SASL_SCRAM_256_AUTH',
  'SCRAM-SHA-512': 'SASL_SCRAM_512_AUTH',
} as const;
type SaslAccess = (typeof SASL_ACCESS)[keyof typeof SASL_ACCESS];

/** How the trigger logs in to the source cluster. */
export type TriggerAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'iam' }
  | { readonly kind: 'sasl'; readonly access: SaslAccess }
  | { readonly kind: 'mtls' }
  /** A mechanism the trigger has no login for: the validator reports it (an error when deployed). */
  | { readonly kind: 'unsupported' };

/** Whether a Kafka client uses MSK IAM (AWS_MSK_IAM, or OAUTHBEARER with MSK's IAM login module). */
export const usesMskIam = (s: ConnectorConfig['source']): boolean =>
  s.mechanism === 'AWS_MSK_IAM' || (s.mechanism === 'OAUTHBEARER' && s.oauth?.kind === 'msk-iam');

/** The trigger's login, from the source security as validated. */
export function triggerAuthOf(c: ConnectorConfig): TriggerAuth {
  const s = c.source;
  if (usesMskIam(s)) return { kind: 'iam' };
  if (s.mechanism !== undefined) {
    const access = (SASL_ACCESS as Partial<Record<string, SaslAccess>>)[s.mechanism];
    return access === undefined ? { kind: 'unsupported' } : { kind: 'sasl', access };
  }
  // With SASL_SSL the client certificate, if any, is not how the trigger logs in: Lambda takes
  // one login per mapping, and the SASL one is it.
  if (s.protocol === 'SSL' && (s.keystoreLocation !== undefined || s.keyPem !== undefined))
    return { kind: 'mtls' };
  return { kind: 'none' };
}

/** A secret the trigger reads: created by this stack (`logicalId`), or named by its ARN. */
export interface TriggerSecret {
  /** The ARN: `{ Ref }` of the stack's secret, or the ARN string the connector file gives. */
  readonly arn: unknown;
  readonly logicalId: string | undefined;
  readonly name: string | undefined;
}

/** Everything the trigger needs to reach the source. */
export interface TriggerPlan {
  readonly msk: MskCluster | undefined;
  readonly auth: TriggerAuth;
  /** The login secret (SASL credentials or the client certificate). */
  readonly secret: TriggerSecret | undefined;
  /** The source brokers' private root CA (self-managed clusters only). */
  readonly caSecret: TriggerSecret | undefined;
  /** Self-managed clusters in a VPC: where the trigger's network interfaces go. */
  readonly vpc: { readonly subnetIds: string[]; readonly securityGroupIds: string[] } | undefined;
}

export const idList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The logical id of the stage's KMS key for MSK source secrets. */
export const SOURCE_SECRETS_KEY = 'SourceSecretsKey';

/** The trigger of connector `c` in `stage`; `logical` prefixes its resources' logical ids. */
export function planTrigger(c: ConnectorConfig, stage: string, logical: string): TriggerPlan {
  const msk = parseMskArn(c.sourceBootstrapServers);
  const auth = triggerAuthOf(c);
  const explicit = c.settings['tigerstream.esm.secret.arn']?.trim();
  let secret: TriggerSecret | undefined;
  if (auth.kind === 'sasl' || auth.kind === 'mtls') {
    const logicalId = `${logical}SourceSecret`;
    secret = explicit
      ? { arn: explicit, logicalId: undefined, name: undefined }
      : {
          arn: ref(logicalId),
          logicalId,
          name:
            msk === undefined
              ? sourceSecretNameFor(stage, c.name)
              : mskSourceSecretNameFor(stage, c.name),
        };
  }
  // MSK brokers present certificates of a public CA: the trigger takes no root CA for MSK.
  const privateCa =
    msk === undefined &&
    c.source.protocol.endsWith('SSL') &&
    (c.source.truststoreLocation !== undefined || c.source.caPem !== undefined);
  const caId = `${logical}SourceCaSecret`;
  const subnetIds = idList(c.settings['tigerstream.esm.vpc.subnet.ids']);
  const securityGroupIds = idList(c.settings['tigerstream.esm.vpc.security.group.ids']);
  return {
    msk,
    auth,
    secret,
    caSecret: privateCa
      ? { arn: ref(caId), logicalId: caId, name: sourceCaSecretNameFor(stage, c.name) }
      : undefined,
    vpc:
      msk === undefined && subnetIds.length > 0 && securityGroupIds.length > 0
        ? { subnetIds, securityGroupIds }
        : undefined,
  };
}

const UNTIL_CREATE = (stage: string, c: ConnectorConfig) =>
  `Written by 'serverless deploy' right after the stack (or 'tgstream connector create --c ${c.file} --stage ${stage}'); the trigger cannot authenticate before.`;

/** The empty secrets the stack creates for the trigger; no value ever enters the template. */
export function triggerSecretResources(
  c: ConnectorConfig,
  plan: TriggerPlan,
  stage: string,
): Resources {
  const out: Resources = {};
  const what =
    plan.auth.kind === 'mtls'
      ? 'mTLS client certificate chain and PKCS#8 private key as JSON {"certificate","privateKey"} (PEM)'
      : `SASL/${c.source.mechanism ?? ''} login as JSON {"username","password"}`;
  if (plan.secret?.logicalId !== undefined && plan.secret.name !== undefined)
    out[plan.secret.logicalId] = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Name: plan.secret.name,
        Description: `TigerStream connector ${c.name}: the Kafka trigger's ${what}. ${UNTIL_CREATE(stage, c)}`,
        // MSK associates SASL/SCRAM secrets only when a customer-managed key encrypts them.
        ...(plan.msk === undefined ? {} : { KmsKeyId: ref(SOURCE_SECRETS_KEY) }),
      },
    };
  if (plan.caSecret?.logicalId !== undefined)
    out[plan.caSecret.logicalId] = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Name: plan.caSecret.name,
        Description: `TigerStream connector ${c.name}: the source brokers' private root CA as JSON {"certificate"} (PEM). ${UNTIL_CREATE(stage, c)}`,
      },
    };
  return out;
}

/** `SourceAccessConfigurations`: the login, the private CA, the trigger's VPC. */
function sourceAccess(plan: TriggerPlan): { Type: string; URI: unknown }[] {
  const out: { Type: string; URI: unknown }[] = [];
  if (plan.secret !== undefined)
    out.push({
      Type: plan.auth.kind === 'sasl' ? plan.auth.access : 'CLIENT_CERTIFICATE_TLS_AUTH',
      URI: plan.secret.arn,
    });
  if (plan.caSecret !== undefined)
    out.push({ Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: plan.caSecret.arn });
  for (const id of plan.vpc?.subnetIds ?? []) out.push({ Type: 'VPC_SUBNET', URI: `subnet:${id}` });
  for (const id of plan.vpc?.securityGroupIds ?? [])
    out.push({ Type: 'VPC_SECURITY_GROUP', URI: `security_group:${id}` });
  return out;
}

/** The source topics the trigger reads (`topics` without `topics.exclude`). */
export const triggerTopics = (c: ConnectorConfig): string[] =>
  c.topics.filter((t) => !c.topicsExclude.includes(t));

/** One mapping of a connector: its topic, consumer group and logical id. */
export interface Mapping {
  readonly topic: string;
  readonly group: string;
  readonly logicalId: string;
}

/**
 * A topic name as letters and digits only, one-to-one (a logical id takes nothing else):
 * letters and digits stay, `Z` is `ZZ`, and `.`, `_`, `-` are `Zd`, `Zu`, `Zh`.
 */
const escapedTopic = (topic: string): string =>
  topic.replace(/[Z._-]/g, (ch) => `Z${{ Z: 'Z', '.': 'd', _: 'u', '-': 'h' }[ch] ?? ''}`);

/**
 * The connector's mappings, one per topic (a mapping reads one topic), each
 * `<Connector><Topic>EventSourceMapping` with the group `tigerstream-<connector>.<topic>`, also
 * for a connector of one topic: a topic's mapping and group depend on that topic alone, so
 * adding or removing another topic never replaces it (a replaced mapping with a new group would
 * read its topic again from the starting position). Only topics whose PascalCase names clash
 * (they differ in punctuation or in the case of a first letter) take the escaped topic name,
 * which is one-to-one.
 */
export function mappingsOf(c: ConnectorConfig, logical: string): Mapping[] {
  const topics = triggerTopics(c);
  const count = new Map<string, number>();
  for (const t of topics) count.set(logicalName(t), (count.get(logicalName(t)) ?? 0) + 1);
  return topics.map((topic) => {
    const plain = logicalName(topic);
    const name = (count.get(plain) ?? 0) > 1 || plain === '' ? escapedTopic(topic) : plain;
    return {
      topic,
      group: triggerGroupFor(c.name, topic),
      logicalId: `${logical}${name}EventSourceMapping`,
    };
  });
}

/** The Kafka event-source mappings (raw CloudFormation: Serverless v3's events cannot express them). */
export function eventSourceMappings(
  c: ConnectorConfig,
  plan: TriggerPlan,
  mappings: readonly Mapping[],
  fnLogicalId: string,
  bucketLogicalId: string,
): Resources {
  const access = sourceAccess(plan);
  const window = triggerBatchingWindowSeconds(c.esm.batchingWindowMs);
  const out: Resources = {};
  for (const { topic, group, logicalId } of mappings)
    out[logicalId] = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [fnLogicalId, 'Arn'] },
        Topics: [topic],
        StartingPosition: c.esm.startingPosition,
        BatchSize: c.esm.batchSize,
        // Whole seconds only; unset, AWS's default for Kafka (500 ms). Validation warns when
        // the setting cannot be written as it is (CONFIG_ESM_BATCHING_WINDOW_ROUNDED).
        ...(window === undefined ? {} : { MaximumBatchingWindowInSeconds: window }),
        Enabled: true,
        // Retry controls and on-failure destinations need provisioned mode; tasks.max caps pollers.
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: Math.max(1, c.tasksMax) },
        MaximumRetryAttempts: 10,
        BisectBatchOnFunctionError: true,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${bucketLogicalId}}` },
          },
        },
        ...(plan.msk === undefined
          ? {
              SelfManagedEventSource: {
                Endpoints: { KafkaBootstrapServers: c.sourceBootstrapServers.split(',') },
              },
              SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: group },
            }
          : {
              EventSourceArn: plan.msk.arn,
              AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: group },
            }),
        ...(access.length > 0 ? { SourceAccessConfigurations: access } : {}),
      },
    };
  return out;
}
