/**
 * The connector lifecycle (the verbs of `gadmin connector`): create writes a connector's SSM
 * parameters and the trigger's source secrets (Secrets Manager), list/status read them and the
 * event-source mapping, pause/resume switch the mapping's Enabled flag, delete removes the
 * parameters and schedules the secrets create made for deletion. AWS clients are injected.
 */
import type { TigerGraphFactory } from './loading.ts';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type Parameter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import {
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  SSM_ROOT,
  connectorPath,
  fromStored,
  functionNameFor,
  inlineStores,
  mskSourceSecretNameFor,
  planSourceSecrets,
  readConnectorFromSsm,
  sourceCaSecretNameFor,
  sourceSecretNameFor,
  sourceSecretsFor,
  storedDocumentText,
  toStored,
  type ConnectorConfig,
} from '../config/index.ts';
import { inlineSchemaFiles } from '../convert/index.ts';
import { ControlError, messageOf } from '../errors/index.ts';
import { writeSourceSecret, type SecretChange } from './secrets-manager.ts';

export interface ControlDeps {
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
  /** Writes and removes the trigger's source secrets (SASL credentials, mTLS, private CA). */
  readonly secretsManager: SecretsManagerClient;
  readonly stage: string;
  /** The Serverless service name (serverless.yml `service`). */
  readonly service: string;
  /** Builds TigerGraph's client for a connector (status asks it for the loading job's run). */
  readonly tigergraph?: TigerGraphFactory;
}

export type ParamAction = 'created' | 'updated' | 'unchanged' | 'deleted';
export interface ParamChange {
  readonly name: string;
  readonly action: ParamAction;
  readonly secure: boolean;
}

/** TigerGraph's connector words for an event-source mapping's State. */
export const CONNECTOR_STATES = {
  Creating: 'UNASSIGNED',
  Enabling: 'UNASSIGNED',
  Enabled: 'RUNNING',
  Updating: 'RESTARTING',
  Disabling: 'PAUSED',
  Disabled: 'PAUSED',
  Deleting: 'DELETING',
} as const;
export type ConnectorState =
  (typeof CONNECTOR_STATES)[keyof typeof CONNECTOR_STATES] | 'FAILED' | 'NOT_DEPLOYED' | 'UNKNOWN';

export interface ConnectorStatus {
  readonly name: string;
  readonly state: ConnectorState;
  readonly reason: string;
  readonly mappingState: string | undefined;
  readonly uuid: string | undefined;
  readonly functionName: string;
}

const awsCall = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw new ControlError('CONTROL_AWS_CALL_FAILED', `${what} failed: ${messageOf(error)}`, {
      cause: error,
      retriable: true,
    });
  }
};

async function readPath(ssm: SSMClient, path: string): Promise<Parameter[]> {
  const out: Parameter[] = [];
  let next: string | undefined;
  do {
    const page = await awsCall(`Reading SSM parameters under ${path}`, () =>
      ssm.send(
        new GetParametersByPathCommand({
          Path: path,
          Recursive: true,
          WithDecryption: true,
          ...(next ? { NextToken: next } : {}),
        }),
      ),
    );
    out.push(...(page.Parameters ?? []));
    next = page.NextToken;
  } while (next);
  return out;
}

/**
 * The connector as the Lambda reads it: key and trust stores as PEM keys, schema files inline,
 * validated again. Reads those files.
 */
export async function storableConnector(config: ConnectorConfig): Promise<ConnectorConfig> {
  const settings = await inlineSchemaFiles(await inlineStores(config.settings));
  return fromStored(
    { format: 1, name: config.name, section: config.section, settings },
    {},
    config.file,
  );
}

/** The parameters a connector is stored as (name → value, secure?). Reads key/trust stores. */
export async function connectorParameters(
  config: ConnectorConfig,
  stage: string,
): Promise<Map<string, { value: string; secure: boolean }>> {
  return parametersOf(await storableConnector(config), stage);
}

function parametersOf(
  storable: ConnectorConfig,
  stage: string,
): Map<string, { value: string; secure: boolean }> {
  const { stored, secrets } = toStored(storable);
  const path = connectorPath(stage, storable.name);
  const params = new Map<string, { value: string; secure: boolean }>();
  params.set(`${path}/config`, { value: storedDocumentText(stored), secure: false });
  for (const [key, value] of Object.entries(secrets))
    params.set(`${path}/secrets/${key}`, { value, secure: true });
  return params;
}

/** What `createConnector` wrote. */
export interface CreateResult {
  readonly parameters: readonly ParamChange[];
  readonly secrets: readonly SecretChange[];
  /** Source secrets that are not TigerStream's to write, and why. */
  readonly notes: readonly string[];
}

/**
 * Writes a connector, idempotently. Every file is read and every value built before the first
 * write. Then the trigger's source secrets go to Secrets Manager (see lib/config/source-auth.ts
 * for which and in what format), and the SSM parameters are each created, updated or left
 * unchanged; SecureString secrets that are no longer in the file are deleted.
 */
export async function createConnector(
  config: ConnectorConfig,
  deps: ControlDeps,
): Promise<CreateResult> {
  const storable = await storableConnector(config);
  const secrets = await writeTriggerSecrets(storable, deps);
  const parameters = await writeParameters(config.name, parametersOf(storable, deps.stage), deps);
  return { parameters, secrets, notes: planSourceSecrets(storable, deps.stage).notes };
}

/** The trigger's source secrets into Secrets Manager (`storable`: storableConnector's). */
async function writeTriggerSecrets(
  storable: ConnectorConfig,
  deps: Pick<ControlDeps, 'secretsManager' | 'stage'>,
): Promise<SecretChange[]> {
  const changes: SecretChange[] = [];
  for (const secret of sourceSecretsFor(storable, deps.stage))
    changes.push(
      await writeSourceSecret(secret, {
        client: deps.secretsManager,
        stage: deps.stage,
        connector: storable.name,
      }),
    );
  return changes;
}

/**
 * What `serverless deploy` writes of a connector's secrets (infra/deploy-hooks.cjs): before the
 * stack, the SecureString parameters (the function needs them from its first batch; the stack
 * owns only `config`); after it, the trigger's secret values into the secrets the stack made,
 * and only then are SecureStrings the file no longer has deleted: until the stack is updated
 * (or when it rolls back) the old `config` still lists them.
 */
export async function writeDeploySecrets(
  config: ConnectorConfig,
  phase: 'before-stack' | 'after-stack',
  deps: Pick<ControlDeps, 'ssm' | 'secretsManager' | 'stage'>,
): Promise<CreateResult> {
  const storable = await storableConnector(config);
  const notes = planSourceSecrets(storable, deps.stage).notes;
  const secure = new Map([...parametersOf(storable, deps.stage)].filter(([, p]) => p.secure));
  if (phase === 'after-stack') {
    const secrets = await writeTriggerSecrets(storable, deps);
    const parameters = await deleteStaleSecrets(config.name, secure, deps);
    return { parameters, secrets, notes };
  }
  const parameters = await writeParameters(config.name, secure, deps, { deleteStale: false });
  return { parameters, secrets: [], notes: [] };
}

async function writeParameters(
  connector: string,
  desired: ReadonlyMap<string, { value: string; secure: boolean }>,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
  options: { deleteStale: boolean } = { deleteStale: true },
): Promise<ParamChange[]> {
  const path = connectorPath(deps.stage, connector);
  const existing = new Map(
    (await readPath(deps.ssm, `${path}/`)).map((p) => [p.Name as string, p]),
  );
  const changes: ParamChange[] = [];
  for (const [name, { value, secure }] of desired) {
    const current = existing.get(name);
    const type = secure ? 'SecureString' : 'String';
    if (current !== undefined && current.Value === value && current.Type === type) {
      changes.push({ name, action: 'unchanged', secure });
      continue;
    }
    await awsCall(`Writing SSM parameter ${name}`, () =>
      deps.ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: type,
          Overwrite: current !== undefined,
          // PEM chains can pass the 4 KB standard limit; intelligent tiering picks advanced only then.
          Tier: 'Intelligent-Tiering',
          Description: `TigerStream connector ${connector} (${secure ? 'secret' : 'configuration'})`,
        }),
      ),
    );
    changes.push({ name, action: current === undefined ? 'created' : 'updated', secure });
  }
  if (options.deleteStale)
    changes.push(...(await deleteStale(path, existing.keys(), desired, deps)));
  return changes;
}

/** Deletes the SecureStrings under the connector's path that `desired` no longer has. */
async function deleteStaleSecrets(
  connector: string,
  desired: ReadonlyMap<string, unknown>,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
): Promise<ParamChange[]> {
  const path = connectorPath(deps.stage, connector);
  const names = (await readPath(deps.ssm, `${path}/`)).map((p) => p.Name as string);
  return deleteStale(path, names, desired, deps);
}

async function deleteStale(
  path: string,
  names: Iterable<string>,
  desired: ReadonlyMap<string, unknown>,
  deps: Pick<ControlDeps, 'ssm'>,
): Promise<ParamChange[]> {
  // Only secrets go stale: other parameters under the path (the Lambda's runs/) are not ours.
  const stale = [...names].filter((n) => n.startsWith(`${path}/secrets/`) && !desired.has(n));
  await deleteNames(deps.ssm, stale);
  return stale.map((name) => ({ name, action: 'deleted' as const, secure: true }));
}

async function deleteNames(ssm: SSMClient, names: readonly string[]): Promise<void> {
  // DeleteParameters takes at most 10 names per call.
  for (let i = 0; i < names.length; i += 10) {
    const chunk = names.slice(i, i + 10);
    await awsCall(`Deleting SSM parameters ${chunk.join(', ')}`, () =>
      ssm.send(new DeleteParametersCommand({ Names: chunk })),
    );
  }
}

/** Connector names stored for the stage. */
export async function listConnectors(deps: Pick<ControlDeps, 'ssm' | 'stage'>): Promise<string[]> {
  const root = `${SSM_ROOT}/${deps.stage}/`;
  return (await readPath(deps.ssm, root))
    .map((p) => p.Name ?? '')
    .filter((n) => n.endsWith('/config') && n.split('/').length === 5)
    .map((n) => n.slice(root.length, -'/config'.length))
    .sort();
}

/**
 * Every event-source mapping of a connector's function: the IaC makes one per topic
 * (CloudFormation's mapping takes one topic), so pause, resume and status act on all of them.
 */
async function findMappings(
  name: string,
  deps: ControlDeps,
): Promise<{ functionName: string; mappings: EventSourceMappingConfiguration[] }> {
  const functionName = functionNameFor(deps.service, deps.stage, name);
  const mappings: EventSourceMappingConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall(`Listing event-source mappings of ${functionName}`, () =>
      deps.lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: functionName,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      ),
    );
    mappings.push(...(page.EventSourceMappings ?? []));
    marker = page.NextMarker;
  } while (marker !== undefined);
  return { functionName, mappings };
}

/** Which state a connector of several mappings shows: the first of these any mapping is in. */
const STATE_PRIORITY: readonly ConnectorState[] = [
  'FAILED',
  'UNKNOWN',
  'DELETING',
  'RESTARTING',
  'UNASSIGNED',
  'PAUSED',
  'RUNNING',
];

/** One status over a connector's mappings (one per topic): the most pressing state wins. */
export function combineStatuses(
  name: string,
  functionName: string,
  mappings: readonly EventSourceMappingConfiguration[],
): ConnectorStatus {
  const each = mappings.map((m) => toConnectorStatus(name, functionName, m));
  if (each.length <= 1) return each[0] ?? toConnectorStatus(name, functionName, undefined);
  const state = STATE_PRIORITY.find((s) => each.some((e) => e.state === s)) ?? 'UNKNOWN';
  const topic = (i: number): string => mappings[i]?.Topics?.join(',') ?? `mapping ${i + 1}`;
  return {
    name,
    state,
    reason: each
      .map((e, i) => `${topic(i)}: ${e.state}${e.reason === '' ? '' : ` (${e.reason})`}`)
      .join('; '),
    mappingState: [...new Set(each.map((e) => e.mappingState ?? '?'))].join(','),
    uuid: each.map((e) => e.uuid ?? '?').join(','),
    functionName,
  };
}

/** Maps a mapping's State, StateTransitionReason and LastProcessingResult to a connector state. */
export function toConnectorStatus(
  name: string,
  functionName: string,
  mapping: EventSourceMappingConfiguration | undefined,
): ConnectorStatus {
  if (mapping === undefined)
    return {
      name,
      state: 'NOT_DEPLOYED',
      reason: `no event-source mapping for ${functionName}; run 'serverless deploy'`,
      mappingState: undefined,
      uuid: undefined,
      functionName,
    };
  const mappingState = mapping.State;
  const last = mapping.LastProcessingResult ?? '';
  const failing = /^PROBLEM/i.test(last);
  const base: ConnectorState =
    mappingState === undefined
      ? 'UNKNOWN'
      : ((CONNECTOR_STATES as Record<string, ConnectorState>)[mappingState] ?? 'UNKNOWN');
  const state: ConnectorState = base === 'RUNNING' && failing ? 'FAILED' : base;
  const reason = [mapping.StateTransitionReason, last]
    .filter((s) => s !== undefined && s !== '')
    .join('; ');
  return { name, state, reason, mappingState, uuid: mapping.UUID, functionName };
}

export async function connectorStatus(name: string, deps: ControlDeps): Promise<ConnectorStatus> {
  const { functionName, mappings } = await findMappings(name, deps);
  return combineStatuses(name, functionName, mappings);
}

/** Pause (false) or resume (true) a connector by switching every one of its mappings' Enabled flag. */
export async function setConnectorEnabled(
  name: string,
  enabled: boolean,
  deps: ControlDeps,
): Promise<ConnectorStatus> {
  const { functionName, mappings } = await findMappings(name, deps);
  const uuids = mappings.flatMap((m) => (m.UUID === undefined ? [] : [m.UUID]));
  if (uuids.length === 0)
    throw new ControlError(
      'CONTROL_MAPPING_NOT_FOUND',
      `Connector ${name} has no event-source mapping (function ${functionName}); deploy it with 'serverless deploy --stage ${deps.stage}'`,
    );
  const updated: EventSourceMappingConfiguration[] = [];
  for (const uuid of uuids)
    updated.push(
      await awsCall(`${enabled ? 'Resuming' : 'Pausing'} mapping ${uuid}`, () =>
        deps.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled })),
      ),
    );
  return combineStatuses(name, functionName, updated);
}

/** The parameters `deleteConnector` would remove. */
export async function connectorParameterNames(
  name: string,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
): Promise<string[]> {
  return (await readPath(deps.ssm, `${connectorPath(deps.stage, name)}/`)).map(
    (p) => p.Name as string,
  );
}

/** Removes a connector's parameters. */
export async function deleteConnector(
  name: string,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
): Promise<ParamChange[]> {
  const names = await connectorParameterNames(name, deps);
  if (names.length === 0)
    throw new ControlError(
      'CONTROL_CONNECTOR_NOT_FOUND',
      `No connector "${name}" in stage "${deps.stage}" (nothing under ${connectorPath(deps.stage, name)}/)`,
    );
  await deleteNames(deps.ssm, names);
  return names.map((n) => ({
    name: n,
    action: 'deleted' as const,
    secure: n.includes('/secrets/'),
  }));
}

/**
 * The Secrets Manager secrets `createConnector` may have written for a connector: those its
 * stored configuration needs, or every name it could use when that configuration cannot be
 * read (already deleted, or its SecureStrings missing).
 */
export async function sourceSecretNames(
  name: string,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
): Promise<string[]> {
  try {
    const config = await readConnectorFromSsm(deps.ssm, deps.stage, name);
    return planSourceSecrets(config, deps.stage).secrets.map((s) => s.name);
  } catch {
    return [
      sourceSecretNameFor(deps.stage, name),
      mskSourceSecretNameFor(deps.stage, name),
      sourceCaSecretNameFor(deps.stage, name),
    ];
  }
}

/**
 * A connector's stored secrets (key → value), so output about it can be redacted even when
 * no connector file was read. Best effort: without SSM read access it returns nothing.
 */
export async function readStoredSecrets(
  name: string,
  deps: Pick<ControlDeps, 'ssm' | 'stage'>,
): Promise<Record<string, string>> {
  const prefix = `${connectorPath(deps.stage, name)}/secrets/`;
  try {
    const params = await readPath(deps.ssm, prefix);
    return Object.fromEntries(
      params
        .filter((p) => p.Name !== undefined && p.Value !== undefined)
        .map((p) => [(p.Name as string).slice(prefix.length), p.Value as string]),
    );
  } catch {
    return {};
  }
}

export { formatLoadingJobStatus, loadingJobStatus, type LoadingJobStatus } from './loading.ts';
export {
  RECOVERY_WINDOW_DAYS,
  inspectSecret,
  scheduleSecretDeletion,
  type SecretChange,
  type SecretState,
} from './secrets-manager.ts';
