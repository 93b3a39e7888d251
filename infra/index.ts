/**
 * Infrastructure generated from infra/connectors/*.properties, pulled into serverless.yml:
 * per connector one Lambda function, one Kafka event-source mapping (raw CloudFormation,
 * because Serverless v3's msk/kafka events cannot express retries, on-failure destinations
 * or pollers), and IAM access to that connector's SSM parameters. No secret enters the
 * template: secrets live in SSM SecureString parameters written by `tgstream connector create`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { consumerGroupFor, functionKeyFor, logicalName } from '../lib/config/naming.ts';
import { join } from 'node:path';
import {
  formatProblem,
  parseConnectorFile,
  validateConnectorFile,
  type ConnectorConfig,
} from '../lib/config/index.ts';

const CONNECTORS_DIR = join(process.cwd(), 'infra', 'connectors');
/** Kafka event-source mappings allow function timeouts of at most 14 minutes. */
const KAFKA_MAX_TIMEOUT_S = 840;

/** Every connector of every file; throws with every problem when one is invalid. */
export function readConnectors(dir = CONNECTORS_DIR): ConnectorConfig[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.properties'))
    .sort();
  const connectors: ConnectorConfig[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const { parsed, problems: parseProblems } = parseConnectorFile(
      readFileSync(join(dir, f), 'utf8'),
      join('infra', 'connectors', f),
    );
    const result = validateConnectorFile(parsed, parseProblems);
    problems.push(...result.errors.map(formatProblem));
    connectors.push(...result.connectors);
  }
  if (problems.length > 0)
    throw new Error(`infra/connectors has ${problems.length} problem(s):\n${problems.join('\n')}`);
  return connectors;
}

const eventSourceMapping = (
  c: ConnectorConfig,
  functionLogicalId: string,
): Record<string, unknown> => {
  const msk = c.sourceBootstrapServers.startsWith('arn:');
  const properties: Record<string, unknown> = {
    FunctionName: { 'Fn::GetAtt': [functionLogicalId, 'Arn'] },
    Topics: c.topics.filter((t) => !c.topicsExclude.includes(t)),
    StartingPosition: c.esm.startingPosition,
    BatchSize: c.esm.batchSize,
    // Whole seconds only; the ESM default for Kafka is 500 ms when unset.
    ...(c.esm.batchingWindowMs >= 1000
      ? { MaximumBatchingWindowInSeconds: Math.round(c.esm.batchingWindowMs / 1000) }
      : {}),
    Enabled: true,
    // Retry controls and on-failure destinations need provisioned mode; tasks.max caps pollers.
    ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: Math.max(1, c.tasksMax) },
    MaximumRetryAttempts: 10,
    BisectBatchOnFunctionError: true,
    DestinationConfig: {
      OnFailure: { Destination: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${DeadLetterBucket}' } },
    },
  };
  const groupId = consumerGroupFor(c.name);
  if (msk) {
    properties.EventSourceArn = c.sourceBootstrapServers;
    properties.AmazonManagedKafkaEventSourceConfig = { ConsumerGroupId: groupId };
  } else {
    properties.SelfManagedEventSource = {
      Endpoints: { KafkaBootstrapServers: c.sourceBootstrapServers.split(',') },
    };
    properties.SelfManagedKafkaEventSourceConfig = { ConsumerGroupId: groupId };
  }
  const secretArn = c.settings['tigerstream.esm.secret.arn'];
  const access: Record<string, string> = {
    PLAIN: 'BASIC_AUTH',
    'SCRAM-SHA-256': 'SASL_SCRAM_256_AUTH',
    'SCRAM-SHA-512': 'SASL_SCRAM_512_AUTH',
  };
  const accessType = c.source.mechanism === undefined ? undefined : access[c.source.mechanism];
  if (accessType !== undefined && secretArn !== undefined)
    properties.SourceAccessConfigurations = [{ Type: accessType, URI: secretArn }];
  return { Type: 'AWS::Lambda::EventSourceMapping', Properties: properties };
};

/** The `functions` and `resources` blocks serverless.yml includes. */
export function generate(
  stage: string,
  connectors = readConnectors(),
): { functions: Record<string, unknown>; resources: Record<string, unknown> } {
  const functions: Record<string, unknown> = {};
  const resources: Record<string, unknown> = {
    DeadLetterBucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      },
    },
  };
  const extensions: Record<string, unknown> = {};
  for (const c of connectors) {
    const fn = functionKeyFor(c.name);
    const fnLogicalId = `${logicalName(fn)}LambdaFunction`;
    functions[fn] = {
      handler: 'dist/stream.handler',
      description: `TigerStream connector ${c.name}: ${c.topics.join(',')} -> TigerGraph ${c.tigergraph.graph}`,
      timeout: KAFKA_MAX_TIMEOUT_S,
      memorySize: 1024,
      environment: {
        TGSTREAM_STAGE: stage,
        TGSTREAM_CONNECTOR: c.name,
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    resources[`${logicalName(fn)}EventSourceMapping`] = eventSourceMapping(c, fnLogicalId);
    // Serverless v3's runtime list stops at nodejs20.x; set nodejs22.x on the function itself.
    extensions[fnLogicalId] = { Properties: { Runtime: 'nodejs22.x' } };
  }
  return { functions, resources: { Resources: resources, extensions } };
}

/** Entry for `${file(./dist/infra.cjs):...}` in serverless.yml. */
export const functions = ({ options }: { options: { stage?: string } }) =>
  generate(options.stage ?? 'dev').functions;
export const resources = ({ options }: { options: { stage?: string } }) =>
  generate(options.stage ?? 'dev').resources;
