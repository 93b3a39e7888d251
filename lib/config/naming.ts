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

/** The ESM's consumer group. */
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
 * The consumer group of a connector's trigger for one of its `topicCount` source topics. A
 * Kafka event-source mapping reads one topic (CloudFormation's `Topics` holds one item) and its
 * group must be unique among the account's Kafka mappings, so a connector with several topics
 * gets a mapping per topic, each with the group `tigerstream-<connector>.<topic>`; a one-topic
 * connector keeps {@link consumerGroupFor}.
 */
export const triggerGroupFor = (connector: string, topic: string, topicCount: number): string =>
  topicCount === 1 ? consumerGroupFor(connector) : `${consumerGroupFor(connector)}.${topic}`;
