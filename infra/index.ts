/**
 * Infrastructure generated from infra/connectors/*.properties, pulled into serverless.yml:
 * per connector one Lambda function, one Kafka event-source mapping (raw CloudFormation,
 * because Serverless v3's msk/kafka events cannot express retries, on-failure destinations
 * or pollers), and IAM access to that connector's SSM parameters; CloudWatch alarms per
 * connector notifying one SNS topic, and one dashboard for the stage. No secret enters the
 * template: secrets live in SSM SecureString parameters written by `tgstream connector create`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../lib/observability/index.ts';
import {
  consumerGroupFor,
  formatProblem,
  functionKeyFor,
  logicalName,
  parseConnectorFile,
  validateConnectorFile,
  type ConnectorConfig,
} from '../lib/config/index.ts';

/** Where the connector files are: infra/connectors, or TGSTREAM_CONNECTORS_DIR (a stage's own set). */
const CONNECTORS_DIR =
  process.env.TGSTREAM_CONNECTORS_DIR ?? join(process.cwd(), 'infra', 'connectors');
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
      dir === CONNECTORS_DIR && process.env.TGSTREAM_CONNECTORS_DIR === undefined
        ? join('infra', 'connectors', f)
        : join(dir, f),
    );
    const result = validateConnectorFile(parsed, parseProblems);
    problems.push(...result.errors.map(formatProblem));
    connectors.push(...result.connectors);
  }
  if (problems.length > 0)
    throw new Error(
      `${dir === CONNECTORS_DIR && process.env.TGSTREAM_CONNECTORS_DIR === undefined ? 'infra/connectors' : dir} has ${problems.length} problem(s):\n${problems.join('\n')}`,
    );
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

/** The dimensions of the handler's EMF metrics (lib/observability/metrics.ts). */
const emfDimensions = (c: ConnectorConfig, stage: string): { Name: string; Value: string }[] => [
  { Name: 'service', Value: METRICS_SERVICE },
  { Name: 'stage', Value: stage },
  { Name: 'connector', Value: c.name },
];

const alarm = (
  description: string,
  metric: {
    namespace: string;
    name: string;
    dimensions: { Name: string; Value: unknown }[];
    statistic: 'Sum' | 'Maximum';
  },
  threshold: number,
  periods = 1,
): Record<string, unknown> => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    Namespace: metric.namespace,
    MetricName: metric.name,
    Dimensions: metric.dimensions,
    Statistic: metric.statistic,
    Period: 300,
    EvaluationPeriods: periods,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    // No data means no batches: nothing failed.
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: 'AlarmTopic' }],
    OKActions: [{ Ref: 'AlarmTopic' }],
  },
});

/** The alarms of one connector, keyed by logical id. */
function alarms(
  c: ConnectorConfig,
  stage: string,
  fnName: string,
  fnLogicalId: string,
): Record<string, unknown> {
  const fn = [{ Name: 'FunctionName', Value: { Ref: fnLogicalId } }];
  const who = `TigerStream connector ${c.name}`;
  return {
    [`${fnName}ErrorsAlarm`]: alarm(
      `${who}: the function failed a batch. Lambda retries it (10 attempts, halving the batch), then writes it to the dead-letter bucket. See the function's log for the error code.`,
      { namespace: 'AWS/Lambda', name: 'Errors', dimensions: fn, statistic: 'Sum' },
      1,
    ),
    [`${fnName}ThrottlesAlarm`]: alarm(
      `${who}: invocations were throttled (account or reserved concurrency); the topic falls behind.`,
      { namespace: 'AWS/Lambda', name: 'Throttles', dimensions: fn, statistic: 'Sum' },
      1,
    ),
    [`${fnName}OffsetLagAlarm`]: alarm(
      `${who}: at least ${c.alarms.offsetLag} records are waiting in the source topics for 15 minutes (tigerstream.alarm.offset.lag).`,
      { namespace: 'AWS/Lambda', name: 'OffsetLag', dimensions: fn, statistic: 'Maximum' },
      c.alarms.offsetLag,
      3,
    ),
    [`${fnName}DeadLetterAlarm`]: alarm(
      `${who}: records went to the dead-letter target (errors.tolerance=all). Their headers name the error code, topic, partition and offset.`,
      {
        namespace: METRICS_NAMESPACE,
        name: 'dead-letter-count',
        dimensions: emfDimensions(c, stage),
        statistic: 'Sum',
      },
      1,
    ),
    [`${fnName}RejectedAlarm`]: alarm(
      `${who}: TigerGraph rejected lines of a loading run (invalid or missing values for the loading job).`,
      {
        namespace: METRICS_NAMESPACE,
        name: 'rejected-count',
        dimensions: emfDimensions(c, stage),
        statistic: 'Sum',
      },
      1,
    ),
  };
}

/** The body of the stage's dashboard: per connector, records, lag and function health. */
function dashboardBody(stage: string, rows: { c: ConnectorConfig; fnLogicalId: string }[]): string {
  const widgets = rows.flatMap(({ c, fnLogicalId }, i) => {
    const emf = (name: string, stat: string): unknown[] => [
      METRICS_NAMESPACE,
      name,
      'service',
      METRICS_SERVICE,
      'stage',
      stage,
      'connector',
      c.name,
      { stat },
    ];
    const fn = (name: string, stat: string): unknown[] => [
      'AWS/Lambda',
      name,
      'FunctionName',
      `\${${fnLogicalId}}`,
      { stat },
    ];
    const widget = (x: number, title: string, metrics: unknown[][]): Record<string, unknown> => ({
      type: 'metric',
      x,
      y: i * 6,
      width: 8,
      height: 6,
      properties: {
        title: `${c.name}: ${title}`,
        region: '${AWS::Region}',
        period: 300,
        view: 'timeSeries',
        metrics,
      },
    });
    return [
      widget(0, 'records', [
        emf('record-count', 'Sum'),
        emf('loaded-count', 'Sum'),
        emf('rejected-count', 'Sum'),
        emf('dead-letter-count', 'Sum'),
        emf('tombstone-count', 'Sum'),
      ]),
      widget(8, 'lag', [
        fn('OffsetLag', 'Maximum'),
        emf('replication-latency-ms', 'Maximum'),
        emf('record-age-ms', 'Maximum'),
      ]),
      widget(16, 'function', [
        fn('Invocations', 'Sum'),
        fn('Errors', 'Sum'),
        fn('Throttles', 'Sum'),
        fn('Duration', 'p99'),
      ]),
    ];
  });
  return JSON.stringify({ widgets });
}

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
  const rows: { c: ConnectorConfig; fnLogicalId: string }[] = [];
  for (const c of connectors) {
    const fn = functionKeyFor(c.name);
    const fnLogicalId = `${logicalName(fn)}LambdaFunction`;
    functions[fn] = {
      handler: 'dist/stream.handler',
      description: `TigerStream connector ${c.name}: ${c.topics.join(',')} -> ${c.tigergraph === undefined ? "TigerGraph's Kafka (mirror-only)" : `TigerGraph ${c.tigergraph.graph}`}`,
      timeout: KAFKA_MAX_TIMEOUT_S,
      memorySize: 1024,
      environment: {
        TGSTREAM_STAGE: stage,
        TGSTREAM_CONNECTOR: c.name,
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    resources[`${logicalName(fn)}EventSourceMapping`] = eventSourceMapping(c, fnLogicalId);
    Object.assign(resources, alarms(c, stage, logicalName(fn), fnLogicalId));
    rows.push({ c, fnLogicalId });
    // Serverless v3's runtime list stops at nodejs20.x; set nodejs22.x on the function itself.
    extensions[fnLogicalId] = { Properties: { Runtime: 'nodejs22.x' } };
  }
  resources.AlarmTopic = {
    Type: 'AWS::SNS::Topic',
    Properties: { DisplayName: `TigerStream ${stage} alarms` },
  };
  if (rows.length > 0)
    resources.Dashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `tigerstream-${stage}`,
        DashboardBody: { 'Fn::Sub': dashboardBody(stage, rows) },
      },
    };
  const outputs = {
    AlarmTopicArn: {
      Description: "Subscribe to this SNS topic to receive the connectors' alarms",
      Value: { Ref: 'AlarmTopic' },
    },
    DeadLetterBucketName: {
      Description:
        "Batches that failed every retry (the event-source mappings' on-failure destination)",
      Value: { Ref: 'DeadLetterBucket' },
    },
  };
  return { functions, resources: { Resources: resources, Outputs: outputs, extensions } };
}

/** Entry for `${file(./infra/serverless.cjs):...}` in serverless.yml (built into dist/infra.cjs). */
export const functions = ({ options }: { options: { stage?: string } }) =>
  generate(options.stage ?? 'dev').functions;
export const resources = ({ options }: { options: { stage?: string } }) =>
  generate(options.stage ?? 'dev').resources;
