/**
 * Everything one connector deploys: its functions (the stream function and, with MirrorMaker
 * heartbeats on, the heartbeat function on a schedule), its triggers and their login secrets,
 * its role, its configuration parameter, its dead-letter bucket and its alarms.
 */
import {
  functionKeyFor,
  heartbeatScheduleFor,
  logicalName,
  type ConnectorConfig,
} from '../lib/config/index.ts';
import { configParameter } from './config-parameter.ts';
import type { DeployedConnector } from './connectors.ts';
import { connectorRole } from './iam.ts';
import type { Vpc } from './network.ts';
import { alarms } from './observability.ts';
import {
  eventSourceMappings,
  triggerSecretResources,
  type Mapping,
  type TriggerPlan,
} from './source.ts';
import { ref, sub, type Resource, type Resources } from './template.ts';

/** Kafka event-source mappings allow function timeouts of at most 14 minutes. */
const KAFKA_MAX_TIMEOUT_S = 840;
/** One heartbeat is one small produce. */
const HEARTBEAT_TIMEOUT_S = 60;
/**
 * The functions' NODE_OPTIONS: stack traces in the logs point into lib/ through the bundles'
 * source maps, which Node then reads as it loads each module (bench/cold-start.ts measures the
 * import with it, as Lambda runs it).
 */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** The stream function's memory (MB). */
export const STREAM_MEMORY_MB = 1024;
/** The heartbeat function's memory (MB): one small produce a minute at most. */
const HEARTBEAT_MEMORY_MB = 256;

/**
 * The semi-space (MB) of V8's young generation Lambda's Node.js bootstrap gives a function of
 * `memoryMb`: a tenth of the memory for the young generation, half of it a semi-space, in
 * integer arithmetic (`/var/runtime/bootstrap` of nodejs18.x as published; nodejs22.x's is not
 * published, so not verified).
 */
export const semiSpaceMbFor = (memoryMb: number): number =>
  Math.floor(Math.floor(memoryMb / 10) / 2);

/**
 * The stream function's NODE_OPTIONS: {@link FUNCTION_NODE_OPTIONS} and the semi-space Lambda's
 * bootstrap gives its memory ({@link semiSpaceMbFor}; 51 MB at 1,024, which V8 rounds up to a
 * power of two, 64). A bootstrap that sets one on Node's command line overrides NODE_OPTIONS with
 * the same size; one that sets none would, without these options, leave V8's default (16 MB on
 * 64-bit). Either way the function runs with the size the pipeline bench runs the handler with
 * (these options, as Node flags); a bootstrap passing another size would win. Not set for
 * speed: with the bench's events built before each group, no difference from the default was
 * detected (README, "The young generation").
 */
export const streamNodeOptions = (memoryMb: number): string =>
  `${FUNCTION_NODE_OPTIONS} --max-semi-space-size=${semiSpaceMbFor(memoryMb)}`;

/** A CloudFormation output. */
export interface Output {
  readonly Description: string;
  readonly Value: unknown;
}

/** The serverless.yml function keys of a connector: its stream function, and its heartbeat one. */
export const functionKeysOf = (c: ConnectorConfig): { stream: string; heartbeat?: string } => ({
  stream: functionKeyFor(c.name),
  ...(heartbeatScheduleFor(c) === undefined
    ? {}
    : { heartbeat: `heartbeat${logicalName(c.name)}` }),
});

/** Where and how a connector is deployed. */
export interface ConnectorInputs {
  readonly stage: string;
  readonly service: string;
  readonly plan: TriggerPlan;
  readonly mappings: readonly Mapping[];
  readonly vpc: Vpc | undefined;
}

/** Everything one connector deploys, keyed for the template. */
export interface Built {
  readonly c: ConnectorConfig;
  readonly functions: Record<string, unknown>;
  readonly resources: Resources;
  readonly fnLogicalId: string;
  readonly outputs: Record<string, Output>;
}

const DEAD_LETTER_BUCKET: Resource = {
  Type: 'AWS::S3::Bucket',
  // Dead letters outlive the stack: removing a connector must not delete failed batches.
  DeletionPolicy: 'Retain',
  UpdateReplacePolicy: 'Retain',
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
};

/** The functions, resources and outputs of connector `dc`. */
export async function buildConnector(
  dc: DeployedConnector,
  { stage, service, plan, mappings, vpc }: ConnectorInputs,
): Promise<Built> {
  const c = dc.config;
  const logical = logicalName(c.name);
  const keys = functionKeysOf(c);
  const fn = keys.stream;
  const fnLogicalId = `${logicalName(fn)}LambdaFunction`;
  const roleId = `${logical}Role`;
  // Fn::Sub, not the logical id: Serverless then adds no DependsOn the reference already implies.
  const role = sub(`\${${roleId}.Arn}`);
  const bucketId = `${logical}DeadLetterBucket`;
  const heartbeat = heartbeatScheduleFor(c);
  const environment = {
    TGSTREAM_STAGE: stage,
    TGSTREAM_CONNECTOR: c.name,
    NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
  };
  const placement = vpc === undefined ? {} : { vpc: { ...vpc } };
  const functions: Record<string, unknown> = {
    [fn]: {
      handler: 'dist/stream.handler',
      description: `TigerStream connector ${c.name}: ${c.topics.join(',')} -> ${c.tigergraph === undefined ? "TigerGraph's Kafka (mirror-only)" : `TigerGraph ${c.tigergraph.graph}`}`,
      timeout: KAFKA_MAX_TIMEOUT_S,
      memorySize: STREAM_MEMORY_MB,
      role,
      environment: { ...environment, NODE_OPTIONS: streamNodeOptions(STREAM_MEMORY_MB) },
      ...placement,
    },
  };
  if (heartbeat !== undefined && keys.heartbeat !== undefined)
    // MirrorMaker 2's heartbeats, written by functions/heartbeat.ts (lib/heartbeat).
    functions[keys.heartbeat] = {
      handler: 'dist/heartbeat.handler',
      description: `TigerStream connector ${c.name}: MirrorMaker 2 heartbeats to the target cluster, ${heartbeat.expression}`,
      timeout: HEARTBEAT_TIMEOUT_S,
      memorySize: HEARTBEAT_MEMORY_MB,
      role,
      environment,
      ...placement,
      events: [{ schedule: { rate: [heartbeat.expression], enabled: true } }],
    };
  const functionNames = Object.keys(functions).map((key) => `${service}-${stage}-${key}`);
  const resources: Resources = {
    [roleId]: connectorRole(c, {
      stage,
      plan,
      mappings,
      functionNames,
      deadLetterBucket: bucketId,
      functionInVpc: vpc !== undefined,
      heartbeats: heartbeat !== undefined,
    }),
    ...eventSourceMappings(c, plan, mappings, fnLogicalId, bucketId),
    ...triggerSecretResources(c, plan, stage),
    [`${logical}ConfigParameter`]: await configParameter(c, stage),
    [bucketId]: DEAD_LETTER_BUCKET,
    ...alarms(c, stage, logicalName(fn), fnLogicalId),
  };
  const outputs: Record<string, Output> = {
    [`${logical}DeadLetterBucketName`]: {
      Description: `Connector ${c.name}: batches that failed every retry (its trigger's on-failure destination)`,
      Value: ref(bucketId),
    },
  };
  if (plan.secret?.logicalId !== undefined)
    outputs[`${logical}SourceSecretArn`] = {
      Description: `Connector ${c.name}: the trigger's login secret (serverless deploy writes its value after the stack)`,
      Value: ref(plan.secret.logicalId),
    };
  return { c, functions, resources, fnLogicalId, outputs };
}
