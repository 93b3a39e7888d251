/**
 * Connector configuration in SSM Parameter Store:
 *   /tgstream/<stage>/<connector>/config          String, JSON, no secrets (the deploy or
 *                                                 `tgstream connector create` writes it)
 *   /tgstream/<stage>/<connector>/secrets/<key>   SecureString, one per secret key (only
 *                                                 `tgstream connector create` writes them)
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ssmSdk } from '../aws/index.ts';
import { ConfigError, messageOf } from '../errors/index.ts';
import type { Entry, ParsedFile } from './parse.ts';
import type { ConnectorConfig } from './schema.ts';
import { isSecretKey } from './secrets.ts';
import { formatProblem, validateConnectorFile, type ValidationResult } from './validate.ts';

export const SSM_ROOT = '/tgstream';
const STAGE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The stored, non-secret part of a connector. */
export interface StoredConnector {
  readonly format: 1;
  readonly name: string;
  readonly section: string;
  readonly settings: Readonly<Record<string, string>>;
  /**
   * The keys stored as SecureStrings under `secrets/`, so a reader knows exactly which are
   * missing (the deploy writes this document before `tgstream connector create` writes the
   * secrets). Absent in documents written before it existed; still format 1.
   */
  readonly secretKeys?: readonly string[];
}

export const connectorPath = (stage: string, connector: string): string => {
  if (!STAGE.test(stage))
    throw new ConfigError(
      'CONFIG_STAGE_INVALID',
      `Stage "${stage}" is not allowed: use 1-64 characters [A-Za-z0-9_.-]`,
    );
  return `${SSM_ROOT}/${stage}/${connector}`;
};

/**
 * The secret keys `tgstream connector create` stores for these settings. A key or trust store
 * file (`<prefix>.ssl.keystore.location`, `.ssl.truststore.location`) is stored as the PEM keys
 * `inlineStores` (keystore.ts) replaces it with, and its passwords are not stored, so the
 * document the deploy writes from the file names the same keys as the one create writes.
 */
export function storedSecretKeys(settings: Readonly<Record<string, string>>): string[] {
  const keys = new Set(
    Object.entries(settings)
      .filter(([k, v]) => isSecretKey(k) && v !== '')
      .map(([k]) => k),
  );
  for (const [k, v] of Object.entries(settings)) {
    const m = /^(.*)\.ssl\.(keystore|truststore)\.location$/.exec(k);
    if (!m || v.trim() === '') continue;
    const prefix = m[1] as string;
    if (m[2] === 'keystore') {
      keys.delete(`${prefix}.ssl.keystore.password`);
      keys.delete(`${prefix}.ssl.key.password`);
      keys.add(`${prefix}.ssl.keystore.certificate.chain`);
      keys.add(`${prefix}.ssl.keystore.key`);
    } else {
      keys.delete(`${prefix}.ssl.truststore.password`);
      keys.add(`${prefix}.ssl.truststore.certificates`);
    }
  }
  return [...keys].sort();
}

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
  return {
    stored: {
      format: 1,
      name: config.name,
      section: config.section,
      settings,
      secretKeys: storedSecretKeys(config.settings),
    },
    secrets,
  };
}

/**
 * The text of a stored document as SSM holds it: the same document is the same text, whoever
 * writes it (the deploy's `AWS::SSM::Parameter` or `tgstream connector create`), because the
 * settings and secret keys are sorted. Otherwise create would see the deployed document as
 * changed and overwrite the parameter the stack owns.
 */
export function storedDocumentText(stored: StoredConnector): string {
  const settings = Object.fromEntries(
    Object.entries(stored.settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return JSON.stringify({
    format: stored.format,
    name: stored.name,
    section: stored.section,
    settings,
    ...(stored.secretKeys === undefined ? {} : { secretKeys: [...stored.secretKeys].sort() }),
  });
}

/** Validates stored settings and secrets as one connector file section. */
function validateStored(
  stored: StoredConnector,
  secrets: Readonly<Record<string, string>>,
  origin: string,
): ValidationResult {
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
  return validateConnectorFile(parsed);
}

/** Rebuilds and validates a connector from stored settings and secrets. */
export function fromStored(
  stored: StoredConnector,
  secrets: Readonly<Record<string, string>>,
  origin: string,
): ConnectorConfig {
  const result = validateStored(stored, secrets, origin);
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
    o.settings !== null &&
    (o.secretKeys === undefined ||
      (Array.isArray(o.secretKeys) && o.secretKeys.every((k) => typeof k === 'string')))
  );
};

/**
 * The error for secrets the stored document needs but SSM does not hold: the deploy wrote the
 * configuration, `tgstream connector create` has not written the secrets (yet). Names the
 * keys and parameters, never a value.
 */
export function secretMissingError(
  stage: string,
  connector: string,
  missing: readonly string[],
): ConfigError {
  const path = connectorPath(stage, connector);
  return new ConfigError(
    'CONFIG_SECRET_MISSING',
    `Connector "${connector}" in stage "${stage}" has its configuration in SSM (${path}/config) but not ${missing.length === 1 ? 'the secret' : `${missing.length} secrets`} it needs: ${missing.map((k) => `${path}/secrets/${k}`).join(', ')} (SecureString). \`serverless deploy\` writes them before the stack from the connector file on the deploying machine, and 'tgstream connector create --c <the connector file defining ${connector}> --stage ${stage}' writes them too: deploy again from a machine with the file, or run it`,
    { details: { stage, connector, missing: missing.join(',') } },
  );
}

/**
 * The secret keys a stored connector needs that `secrets` lacks: exactly those the document
 * lists; for a document without the list, those whose absence makes validation fail (and only
 * when that is all that fails).
 */
export function missingSecretKeys(
  stored: StoredConnector,
  secrets: Readonly<Record<string, string>>,
  origin: string,
): string[] {
  if (stored.secretKeys !== undefined) return stored.secretKeys.filter((k) => !(k in secrets));
  const { errors } = validateStored(stored, secrets, origin);
  const absent = errors.filter((p) => isSecretKey(p.key) && !(p.key in secrets));
  return absent.length > 0 && absent.length === errors.length
    ? [...new Set(absent.map((p) => p.key))].sort()
    : [];
}

/**
 * What an SSM error means for reading a connector, by the error's name: a data table, as
 * external codes are. A denial is not retried (the role or a key policy must change first):
 * `AccessDeniedException` (for the parameter, or for kms:Decrypt of a SecureString) and
 * `InvalidKeyId` (the SecureString's key cannot be used). Anything else is taken as SSM being
 * unreachable for now (retriable).
 */
interface ReadFailure {
  readonly code: string;
  readonly retriable: boolean;
  readonly message: (
    where: { stage: string; connector: string; path: string },
    aws: string,
  ) => string;
}

const UNREACHABLE: ReadFailure = {
  code: 'CONFIG_SSM_UNREACHABLE',
  retriable: true,
  message: ({ path }, aws) => `Cannot read ${path} from SSM Parameter Store: ${aws}`,
};
const ACCESS_DENIED: ReadFailure = {
  code: 'CONFIG_SSM_ACCESS_DENIED',
  retriable: false,
  message: ({ path }, aws) =>
    `Not allowed to read ${path} from SSM Parameter Store: ${aws}. The function's role needs ssm:GetParameter and ssm:GetParametersByPath on ${path} and ${path}/*, and kms:Decrypt (through SSM) of the key that encrypts its SecureStrings; the deploy grants these to the connector's own role, so check that the function runs as it and that the key's policy lets this account use the key`,
};

const SSM_READ_ERRORS: Readonly<Record<string, ReadFailure>> = {
  ParameterNotFound: {
    code: 'CONFIG_SSM_NOT_FOUND',
    retriable: false,
    message: ({ stage, connector, path }) =>
      `No connector "${connector}" in stage "${stage}": SSM parameter ${path}/config does not exist (run 'tgstream connector create')`,
  },
  AccessDeniedException: ACCESS_DENIED,
  InvalidKeyId: ACCESS_DENIED,
};

function ssmReadError(
  error: unknown,
  where: { stage: string; connector: string; path: string },
): ConfigError {
  const name = (error as { name?: unknown } | null)?.name;
  const failure = (typeof name === 'string' ? SSM_READ_ERRORS[name] : undefined) ?? UNREACHABLE;
  return new ConfigError(failure.code, failure.message(where, messageOf(error)), {
    retriable: failure.retriable,
    cause: error,
  });
}

/**
 * Reads one connector from SSM (one GetParameter, then GetParametersByPath for secrets).
 *
 * @throws ConfigError `CONFIG_SSM_NOT_FOUND`, `CONFIG_SSM_ACCESS_DENIED` (the role or the key
 *   refuses; not retriable), `CONFIG_SSM_INVALID`, `CONFIG_SECRET_MISSING` (configuration
 *   deployed, secrets not yet written), `CONFIG_INVALID` or `CONFIG_SSM_UNREACHABLE` (retriable).
 */
export async function readConnectorFromSsm(
  client: SSMClient,
  stage: string,
  connector: string,
): Promise<ConnectorConfig> {
  const path = connectorPath(stage, connector);
  let text: string | undefined;
  const secrets: Record<string, string> = {};
  const { GetParameterCommand, GetParametersByPathCommand } = ssmSdk();
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
    throw ssmReadError(error, { stage, connector, path });
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
  const missing = missingSecretKeys(doc, secrets, `ssm:${path}`);
  if (missing.length > 0) throw secretMissingError(stage, connector, missing);
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
  // An override of a secret key replaces the secret too (fromStored lets secrets win).
  const kept = Object.fromEntries(Object.entries(secrets).filter(([k]) => !(k in overrides)));
  return fromStored(
    { ...stored, settings: { ...stored.settings, ...overrides } },
    kept,
    config.file,
  );
}
