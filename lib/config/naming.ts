/** Names shared by the IaC (infra/) and the CLI, so `tgstream connector status` finds what Serverless created. */

/** `company-stream` → `CompanyStream`. */
export const logicalName = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => `${p.charAt(0).toUpperCase()}${p.slice(1)}`)
    .join('');

/** The function key in serverless.yml for a connector. */
export const functionKeyFor = (connector: string): string => `stream${logicalName(connector)}`;

/** The deployed Lambda function name (Serverless v3: `<service>-<stage>-<functionKey>`). */
export const functionNameFor = (service: string, stage: string, connector: string): string =>
  `${service}-${stage}-${functionKeyFor(connector)}`;

/** The consumer group `tgstream run` reads a connector's topics with (the deployed trigger's are {@link triggerGroupFor}). */
export const consumerGroupFor = (connector: string): string => `tigerstream-${connector}`;

/**
 * The AWS Secrets Manager secret the event-source mapping reads to authenticate to the source
 * cluster (SASL/SCRAM or PLAIN: `{"username","password"}`; mTLS: `{"certificate","privateKey"}`
 * in PEM, as Lambda expects). Written by `tgstream connector create`, named by the IaC.
 */
export const sourceSecretNameFor = (stage: string, connector: string): string =>
  `tgstream/${stage}/${connector}/source-auth`;

/** The secret holding the source cluster's private root CA (`{"certificate"}` in PEM). */
export const sourceCaSecretNameFor = (stage: string, connector: string): string =>
  `tgstream/${stage}/${connector}/source-ca`;

/**
 * MSK takes SASL/SCRAM users only from secrets whose name starts with `AmazonMSK_` (and that a
 * customer-managed KMS key encrypts): reference `aws-lambda-kafka.md` section 2.6.
 */
export const MSK_SECRET_PREFIX = 'AmazonMSK_';

/**
 * The source secret's name for an MSK source: {@link sourceSecretNameFor} with MSK's prefix, so
 * the secret the IaC creates (encrypted with the stage's own KMS key) can also be associated
 * with the cluster. The IaC uses it for every MSK source that needs a secret (SASL/SCRAM or
 * mTLS); `tgstream connector create` must write that name.
 */
export const mskSourceSecretNameFor = (stage: string, connector: string): string =>
  `${MSK_SECRET_PREFIX}${sourceSecretNameFor(stage, connector)}`;

/**
 * The consumer group of a connector's trigger for one of its source topics:
 * `tigerstream-<connector>.<topic>`. A Kafka event-source mapping reads one topic
 * (CloudFormation's `Topics` holds one item) and its group must be unique among the account's
 * Kafka mappings, so each topic gets its own mapping and group. A one-topic connector gets the
 * per-topic name too: a group cannot be changed on a mapping (it is replaced, and a new group
 * reads from the starting position again), so adding a second topic must leave the first
 * topic's group as it was.
 */
export const triggerGroupFor = (connector: string, topic: string): string =>
  `${consumerGroupFor(connector)}.${topic}`;
