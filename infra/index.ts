/**
 * Infrastructure generated from infra/connectors/*.properties, pulled into serverless.yml. Per
 * connector: the stream function and its Kafka trigger (raw CloudFormation: Serverless v3's
 * msk/kafka events cannot express retries, on-failure destinations, pollers or most logins),
 * the trigger's empty login secrets (source.ts), one IAM role (iam.ts), the configuration as an
 * SSM parameter (config-parameter.ts), a dead-letter bucket, alarms and a dashboard row
 * (observability.ts), and with MirrorMaker heartbeats on, a scheduled heartbeat function. No
 * secret enters the template: `serverless deploy` writes them itself (deploy-hooks.cjs), the
 * SecureStrings before the stack and the trigger's login secrets after it.
 */
import { join } from 'node:path';
import {
  formatProblem,
  logicalName,
  type ConnectorConfig,
  type Problem,
} from '../lib/config/index.ts';
import { ConfigError, isTigerStreamError } from '../lib/errors/index.ts';
import { deployProblems } from './checks.ts';
import { buildConnector, functionKeysOf, type Built, type Output } from './connector-stack.ts';
import {
  problemAt,
  readConnectorSet,
  type ConnectorSet,
  type DeployedConnector,
} from './connectors.ts';
import { functionVpc, stageVpc, VPC_PARAMS, type Vpc } from './network.ts';
import { dashboardBody } from './observability.ts';
import { SOURCE_SECRETS_KEY, mappingsOf, planTrigger } from './source.ts';
import { ref, type Resources } from './template.ts';

/** Where the connector files are: infra/connectors, or TGSTREAM_CONNECTORS_DIR (a stage's own set). */
const OWN_DIR = process.env.TGSTREAM_CONNECTORS_DIR === undefined;
const CONNECTORS_DIR =
  process.env.TGSTREAM_CONNECTORS_DIR ?? join(process.cwd(), 'infra', 'connectors');
const SHOWN_DIR = OWN_DIR ? join('infra', 'connectors') : CONNECTORS_DIR;
/** serverless.yml's `service`, which prefixes every function name. */
const DEFAULT_SERVICE = 'tigerstream';
/** Serverless v3's runtime list stops at nodejs20.x; each function gets nodejs22.x directly. */
const RUNTIME = 'nodejs22.x';

export interface GenerateOptions {
  /** serverless.yml's `service` (default `tigerstream`). */
  readonly service?: string;
  /** The stage's VPC (Serverless params); a connector's tigerstream.vpc.* keys win. */
  readonly vpc?: Vpc | undefined;
  /** Where warnings go (packaging prints them to stderr). */
  readonly warn?: (line: string) => void;
}

export interface Generated {
  readonly functions: Record<string, unknown>;
  readonly resources: {
    readonly Description: string;
    readonly Resources: Resources;
    readonly Outputs: Record<string, Output>;
    readonly extensions: Record<string, unknown>;
  };
}

const invalid = (dir: string, problems: readonly Problem[]): ConfigError =>
  new ConfigError(
    'CONFIG_INVALID',
    `${dir} has ${problems.length} problem(s):\n${[...problems]
      .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
      .map(formatProblem)
      .join('\n')}`,
    { details: { problems: problems.length } },
  );

/** The connectors of infra/connectors (or TGSTREAM_CONNECTORS_DIR); throws with every problem. */
export function readConnectors(dir = CONNECTORS_DIR): ConnectorSet {
  const set = readConnectorSet(dir, dir === CONNECTORS_DIR ? SHOWN_DIR : dir);
  if (set.errors.length > 0) throw invalid(set.dir, set.errors);
  return set;
}

/** Names two connectors must not share once made into logical ids and function names. */
function clashes(connectors: readonly DeployedConnector[]): Problem[] {
  const seen = new Map<string, string>();
  const out: Problem[] = [];
  for (const dc of connectors) {
    const key = logicalName(dc.config.name);
    const first = seen.get(key);
    if (first !== undefined)
      out.push(
        problemAt(
          dc,
          'name',
          'CONFIG_CONNECTOR_NAME_CLASH',
          `"${dc.config.name}" gives the same function and resource names as connector "${first}" (${key}); allowed: names that differ in more than punctuation`,
        ),
      );
    seen.set(key, dc.config.name);
  }
  return out;
}

const asSet = (connectors: readonly ConnectorConfig[]): ConnectorSet => ({
  dir: 'the connectors',
  connectors: connectors.map((config) => ({ config, lineOf: () => 1 })),
  errors: [],
  warnings: [],
});

/**
 * The `functions` and `resources` blocks serverless.yml includes.
 *
 * @throws ConfigError `CONFIG_INVALID` listing every problem as `file:line key: message [CODE]`.
 * @example
 * const { resources } = await generate('prod', undefined, { vpc: stageVpc('subnet-...', 'sg-...') });
 */
export async function generate(
  stage: string,
  connectors: ConnectorSet | readonly ConnectorConfig[] = readConnectors(),
  options: GenerateOptions = {},
): Promise<Generated> {
  const set = Array.isArray(connectors) ? asSet(connectors) : (connectors as ConnectorSet);
  const service = options.service ?? DEFAULT_SERVICE;
  const problems: Problem[] = [...set.errors, ...clashes(set.connectors)];
  const warnings: Problem[] = [...set.warnings];
  const built: Built[] = [];
  for (const dc of set.connectors) {
    const c = dc.config;
    const plan = planTrigger(c, stage, logicalName(c.name));
    const mappings = mappingsOf(c, logicalName(c.name));
    const vpc = functionVpc(c, options.vpc);
    const names = Object.values(functionKeysOf(c)).map((key) => `${service}-${stage}-${key}`);
    for (const p of deployProblems(dc, plan, mappings, names, vpc))
      (p.severity === 'error' ? problems : warnings).push(p);
    try {
      built.push(await buildConnector(dc, { stage, service, plan, mappings, vpc }));
    } catch (error) {
      if (!isTigerStreamError(error)) throw error;
      const key = typeof error.details.key === 'string' ? error.details.key : 'name';
      problems.push(problemAt(dc, key, error.code, error.message));
    }
  }
  if (problems.length > 0) throw invalid(set.dir, problems);
  for (const w of warnings) options.warn?.(formatProblem(w));

  const functions: Record<string, unknown> = {};
  const resources: Resources = {};
  const outputs: Generated['resources']['Outputs'] = {};
  const extensions: Record<string, unknown> = {};
  for (const b of built) {
    Object.assign(functions, b.functions);
    Object.assign(resources, b.resources);
    Object.assign(outputs, b.outputs);
    for (const key of Object.keys(b.functions))
      extensions[`${logicalName(key)}LambdaFunction`] = { Properties: { Runtime: RUNTIME } };
  }
  if (
    Object.values(resources).some(
      (r) => r.Type === 'AWS::SecretsManager::Secret' && 'KmsKeyId' in r.Properties,
    )
  )
    Object.assign(resources, mskSecretsKey(stage));
  resources.AlarmTopic = {
    Type: 'AWS::SNS::Topic',
    Properties: { DisplayName: `TigerStream ${stage} alarms` },
  };
  if (built.length > 0)
    resources.Dashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `tigerstream-${stage}`,
        DashboardBody: {
          'Fn::Sub': dashboardBody(
            stage,
            built.map(({ c, fnLogicalId }) => ({ c, fnLogicalId })),
          ),
        },
      },
    };
  outputs.AlarmTopicArn = {
    Description: "Subscribe to this SNS topic to receive the connectors' alarms",
    Value: ref('AlarmTopic'),
  };
  return {
    functions,
    resources: {
      Description: description(stage),
      Resources: resources,
      Outputs: outputs,
      extensions,
    },
  };
}

/** The stage's customer-managed key for MSK source secrets (MSK associates no others). */
const mskSecretsKey = (stage: string): Resources => ({
  [SOURCE_SECRETS_KEY]: {
    Type: 'AWS::KMS::Key',
    Properties: {
      Description: `TigerStream ${stage}: encrypts the MSK source secrets (AmazonMSK_*) of the connectors' triggers`,
      EnableKeyRotation: true,
    },
  },
  [`${SOURCE_SECRETS_KEY}Alias`]: {
    Type: 'AWS::KMS::Alias',
    Properties: {
      AliasName: `alias/tgstream-${stage}-source-secrets`,
      TargetKeyId: ref(SOURCE_SECRETS_KEY),
    },
  },
});

const description = (stage: string): string =>
  `TigerStream ${stage}: per connector a stream function and its Kafka trigger, an IAM role, the configuration as an SSM parameter, a dead-letter bucket, alarms and a dashboard row. No secret is in this template: 'serverless deploy' writes the SecureString secrets the functions read before the stack, and the values of the Secrets Manager secrets the triggers log in with (created empty here) after it, from the connector files on the deploying machine (infra/deploy-hooks.cjs).`;

/** What `${file(./infra/serverless.cjs):...}` hands the generator. */
interface ResolverContext {
  readonly options: { readonly stage?: string };
  readonly resolveVariable?: (variable: string) => Promise<unknown>;
}

const cache = new Map<string, Promise<Generated>>();

/** Generates once per serverless run: `functions` and `resources` share the result. */
async function fromServerless({ options, resolveVariable }: ResolverContext): Promise<Generated> {
  const stage = options.stage ?? 'dev';
  const read = async (variable: string): Promise<string | undefined> => {
    const value = await resolveVariable?.(variable);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const service = (await read('self:service')) ?? DEFAULT_SERVICE;
  const vpc = stageVpc(
    await read(`param:${VPC_PARAMS.subnets}, null`),
    await read(`param:${VPC_PARAMS.securityGroups}, null`),
  );
  const key = JSON.stringify([stage, service, vpc]);
  let result = cache.get(key);
  if (result === undefined) {
    result = generate(stage, readConnectors(), {
      service,
      vpc,
      warn: (line) => process.stderr.write(`tigerstream: warning: ${line}\n`),
    });
    cache.set(key, result);
  }
  return result;
}

/** Entries for `${file(./infra/serverless.cjs):...}` in serverless.yml (built into dist/infra.cjs). */
export const functions = async (context: ResolverContext) =>
  (await fromServerless(context)).functions;
export const resources = async (context: ResolverContext) =>
  (await fromServerless(context)).resources;
