/**
 * One IAM role per connector, shared by its functions (the stream function and, with
 * MirrorMaker heartbeats on, the heartbeat function) and used by its Kafka trigger, which reads
 * the source with the function's execution role. Each statement grants one need on this
 * connector's own resources only. `Resource: '*'` appears only for the network-interface
 * actions, with the reason beside it; no statement allows `*` or `<service>:*` actions.
 */
import { connectorPath, type ConnectorConfig } from '../lib/config/index.ts';
import {
  mskResourceArn,
  parseMskArn,
  triggerTopics,
  usesMskIam,
  type Mapping,
  type TriggerPlan,
} from './source.ts';
import { accountArn, getAtt, sub, type Resource, type Statement } from './template.ts';

/** MirrorMaker 2's heartbeat topic on the target cluster (lib/heartbeat/format.ts). */
const HEARTBEATS_TOPIC = 'heartbeats';

export interface RoleInputs {
  readonly stage: string;
  readonly plan: TriggerPlan;
  /** The trigger's mappings: their topics and consumer groups. */
  readonly mappings: readonly Mapping[];
  /** The connector's Lambda function names (their log groups are `/aws/lambda/<name>`). */
  readonly functionNames: readonly string[];
  readonly deadLetterBucket: string;
  /** The function joins a VPC (tigerstream.vpc.* or the stage's vpc params). */
  readonly functionInVpc: boolean;
  /** The heartbeat function writes to the target's heartbeats topic. */
  readonly heartbeats: boolean;
}

/** The topics the handler produces to on the target (MM2's replication policy names them). */
function targetTopics(c: ConnectorConfig, heartbeats: boolean): string[] {
  // As lib/kafka's targetTopicName; repeated here to keep the Kafka client out of the generator.
  const mirrored = triggerTopics(c).map((t) =>
    c.replicationPolicy === 'identity' ? t : `${c.sourceAlias}${c.replicationSeparator}${t}`,
  );
  return [
    ...mirrored,
    ...(c.deadLetterTopic === undefined ? [] : [c.deadLetterTopic]),
    ...(heartbeats ? [HEARTBEATS_TOPIC] : []),
  ];
}

const allow = (
  Sid: string,
  Action: string[],
  Resource: unknown,
  Condition?: Statement['Condition'],
): Statement => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition === undefined ? {} : { Condition }),
});

/** Statements for reading a cluster over MSK IAM (the trigger) or writing to one (the producer). */
function mskStatements(c: ConnectorConfig, inputs: RoleInputs): Statement[] {
  const { plan, mappings, heartbeats } = inputs;
  const out: Statement[] = [];
  const source = plan.msk;
  if (source !== undefined) {
    // The trigger looks up the cluster and its brokers; MSK scopes these to the cluster ARN
    // (MSK developer guide, "Accessing one Amazon MSK cluster").
    out.push(
      allow(
        'SourceClusterLookup',
        ['kafka:DescribeClusterV2', 'kafka:DescribeCluster', 'kafka:GetBootstrapBrokers'],
        source.arn,
      ),
    );
    if (plan.auth.kind === 'iam') {
      out.push(
        allow(
          'SourceIamConnect',
          ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
          source.arn,
        ),
        allow(
          'SourceIamReadTopics',
          ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
          mappings.map((m) => mskResourceArn(source, 'topic', m.topic)),
        ),
        allow(
          'SourceIamConsumerGroup',
          ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          mappings.map((m) => mskResourceArn(source, 'group', m.group)),
        ),
      );
    }
  }
  const target = parseMskArn(c.targetBootstrapServers);
  if (target !== undefined) {
    // The handler resolves the target's brokers from its ARN (lib/kafka/msk.ts).
    out.push(allow('TargetClusterBrokers', ['kafka:GetBootstrapBrokers'], target.arn));
    if (usesMskIam(c.target))
      out.push(
        allow('TargetIamConnect', ['kafka-cluster:Connect'], target.arn),
        allow(
          'TargetIamWriteTopics',
          ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          targetTopics(c, heartbeats).map((t) => mskResourceArn(target, 'topic', t)),
        ),
      );
  }
  return out;
}

/** The connector's execution role. */
export function connectorRole(c: ConnectorConfig, inputs: RoleInputs): Resource {
  const { stage, plan } = inputs;
  const path = connectorPath(stage, c.name);
  const secrets = [plan.secret, plan.caSecret].flatMap((s) => (s === undefined ? [] : [s.arn]));
  const viaServices = [
    sub('ssm.${AWS::Region}.amazonaws.com'),
    ...(secrets.length > 0 ? [sub('secretsmanager.${AWS::Region}.amazonaws.com')] : []),
  ];
  const statements: Statement[] = [
    allow(
      'Logs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      inputs.functionNames.map((name) => accountArn('logs', `log-group:/aws/lambda/${name}:*`)),
    ),
    // The configuration (config, secrets/*) and the streaming-run registry (runs/*).
    allow(
      'ConfigRead',
      ['ssm:GetParameter', 'ssm:GetParametersByPath'],
      [accountArn('ssm', `parameter${path}`), accountArn('ssm', `parameter${path}/*`)],
    ),
    // The streaming-run registry claims generations and deletes old ones (lib/pipeline/run-registry.ts).
    allow(
      'RunRegistryWrite',
      ['ssm:PutParameter', 'ssm:DeleteParameter'],
      accountArn('ssm', `parameter${path}/runs/*`),
    ),
    // SecureStrings (and secrets) are encrypted by whichever key `connector create` used, so
    // any key of this account and region, but only when SSM or Secrets Manager asks for it.
    allow('DecryptThroughSsmAndSecretsManager', ['kms:Decrypt'], accountArn('kms', 'key/*'), {
      StringEquals: { 'kms:ViaService': viaServices },
    }),
    ...(secrets.length > 0
      ? [allow('TriggerSecretsRead', ['secretsmanager:GetSecretValue'], secrets)]
      : []),
    // The trigger's on-failure destination writes the failed batch (S3 needs both actions).
    allow('DeadLetterWrite', ['s3:PutObject'], sub(`\${${inputs.deadLetterBucket}.Arn}/*`)),
    allow('DeadLetterList', ['s3:ListBucket'], getAtt(inputs.deadLetterBucket, 'Arn')),
    ...mskStatements(c, inputs),
  ];
  if (inputs.functionInVpc || plan.vpc !== undefined || plan.msk !== undefined)
    // Lambda (the function in a VPC) and the trigger (MSK, or a self-managed cluster in a VPC)
    // create and delete network interfaces with this role. EC2's Describe* actions take no
    // resource-level permission at all; CreateNetworkInterface and DeleteNetworkInterface take
    // some, but the interfaces' ids are made at run time and an MSK trigger uses the cluster's
    // subnets and security groups, which the template does not know. So '*', as Lambda's own
    // managed policies (AWSLambdaVPCAccessExecutionRole, AWSLambdaMSKExecutionRole) grant them.
    statements.push(
      allow(
        'NetworkInterfaces',
        [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          ...(inputs.functionInVpc
            ? ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses']
            : []),
        ],
        '*',
      ),
    );
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `TigerStream connector ${c.name} (${stage}): its functions and Kafka trigger`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'connector',
          PolicyDocument: { Version: '2012-10-17', Statement: statements },
        },
      ],
    },
  };
}
