/**
 * Connector configuration in SSM Parameter Store:
 *   /tgstream/<stage>/<connector>/config          String, JSON, no secrets
 *   /tgstream/<stage>/<connector>/secrets/<key>   SecureString, one per secret key
 */
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ConfigError, messageOf } from '../errors/index.ts';
import type { Entry, ParsedFile } from './parse.ts';
import type { ConnectorConfig } from './schema.ts';
import { isSecretKey } from './secrets.ts';
import { formatProblem, validateConnectorFile } from './validate.ts';

export const SSM_ROOT = '/tgstream';
const STAGE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The stored, non-secret part of a connector. */
export interface StoredConnector {
  readonly format: 1;
  readonly name: string;
  readonly section: string;
  readonly settings: Readonly<Record<string, string>>;
}

export const connectorPath = (stage: string, connector: string): string => {
  if (!STAGE.test(stage))
    throw new ConfigError(
      'CONFIG_STAGE_INVALID',
      `Stage "${stage}" is not allowed: use 1-64 characters [A-Za-z0-9_.-]`,
    );
  return `${SSM_ROOT}/${stage}/${connector}`;
};

/** Splits a connector's settings into the stored config document and its secrets. */
export function toStored(config: ConnectorConfig): {
  stored: StoredConnector;
  secrets: Record<string, string>;
} {
  const settings: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.settings)) {
    if (isSecretKey(k) && v !== '') secrets[k] = v;
    else settings[k] = v;
  }
  return { stored: { format: 1, name: config.name, section: config.section, settings }, secrets };
}

/** Rebuilds and validates a connector from stored settings and secrets. */
export function fromStored(
  stored: StoredConnector,
  secrets: Readonly<Record<string, string>>,
  origin: string,
): ConnectorConfig {
  const entries: Entry[] = Object.entries({ ...stored.settings, ...secrets })
    .filter(([k]) => k !== 'name' && k !== 'tasks.max')
    .map(([key, value], i) => ({ key, value, line: i + 1 }));
  const sectionEntries: Entry[] = [
    { key: 'name', value: stored.name, line: entries.length + 2 },
    ...(stored.settings['tasks.max'] === undefined
      ? []
      : [{ key: 'tasks.max', value: stored.settings['tasks.max'], line: entries.length + 3 }]),
  ];
  const parsed: ParsedFile = {
    file: origin,
    entries,
    sections: [{ title: stored.section, line: entries.length + 1, entries: sectionEntries }],
  };
  const result = validateConnectorFile(parsed);
  if (result.errors.length > 0 || result.connectors.length !== 1)
    throw new ConfigError(
      'CONFIG_INVALID',
      `The configuration stored at ${origin} is not valid:\n${result.errors.map(formatProblem).join('\n')}`,
    );
  return result.connectors[0] as ConnectorConfig;
}

const isStored = (v: unknown): v is StoredConnector => {
  const o = v as Partial<StoredConnector> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    o.format === 1 &&
    typeof o.name === 'string' &&
    typeof o.section === 'string' &&
    typeof o.settings === 'object' &&
    o.settings !== null
  );
};

/**
 * Reads one connector from SSM (one GetParameter, then GetParametersByPath for secrets).
 *
 * @throws ConfigError `CONFIG_SSM_NOT_FOUND`, `CONFIG_SSM_INVALID` or `CONFIG_SSM_UNREACHABLE` (retriable).
 */
export async function readConnectorFromSsm(
  client: SSMClient,
  stage: string,
  connector: string,
): Promise<ConnectorConfig> {
  const path = connectorPath(stage, connector);
  let text: string | undefined;
  const secrets: Record<string, string> = {};
  try {
    const result = await client.send(new GetParameterCommand({ Name: `${path}/config` }));
    text = result.Parameter?.Value;
    let next: string | undefined;
    do {
      const page = await client.send(
        new GetParametersByPathCommand({
          Path: `${path}/secrets/`,
          WithDecryption: true,
          ...(next ? { NextToken: next } : {}),
        }),
      );
      for (const p of page.Parameters ?? [])
        if (p.Name && p.Value !== undefined)
          secrets[p.Name.slice(`${path}/secrets/`.length)] = p.Value;
      next = page.NextToken;
    } while (next);
  } catch (error) {
    if ((error as { name?: string }).name === 'ParameterNotFound')
      throw new ConfigError(
        'CONFIG_SSM_NOT_FOUND',
        `No connector "${connector}" in stage "${stage}": SSM parameter ${path}/config does not exist (run 'tgstream connector create')`,
        { cause: error },
      );
    throw new ConfigError(
      'CONFIG_SSM_UNREACHABLE',
      `Cannot read ${path} from SSM Parameter Store: ${messageOf(error)}`,
      { retriable: true, cause: error },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text ?? '');
  } catch {
    doc = undefined;
  }
  if (!isStored(doc))
    throw new ConfigError(
      'CONFIG_SSM_INVALID',
      `SSM parameter ${path}/config is not a TigerStream connector document (format 1 JSON)`,
    );
  return fromStored(doc, secrets, `ssm:${path}`);
}

/**
 * Caches a loader per cold start and refreshes it after `maxAgeMs(config)`; a failed
 * refresh keeps serving nothing stale past its age (the error propagates).
 */
export function cacheConfig(
  load: () => Promise<ConnectorConfig>,
  options: { now?: () => number; maxAgeMs?: (c: ConnectorConfig) => number } = {},
): () => Promise<ConnectorConfig> {
  const now = options.now ?? Date.now;
  const maxAge = options.maxAgeMs ?? ((c) => c.configMaxAgeMs);
  let cached: { config: ConnectorConfig; at: number } | undefined;
  let inFlight: Promise<ConnectorConfig> | undefined;
  return async () => {
    if (cached && now() - cached.at < maxAge(cached.config)) return cached.config;
    inFlight ??= load()
      .then((config) => {
        cached = { config, at: now() };
        return config;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/** A copy of a connector with some settings replaced, validated again. */
export function withSettings(
  config: ConnectorConfig,
  overrides: Readonly<Record<string, string>>,
): ConnectorConfig {
  const { stored, secrets } = toStored(config);
  return fromStored(
    { ...stored, settings: { ...stored.settings, ...overrides } },
    secrets,
    config.file,
  );
}
