/**
 * What every TigerStream Lambda of a connector builds once per cold start: its stage and
 * connector from the environment the template sets, the SSM client, the redacting logger and
 * the cached configuration loader. Wiring only, shared by functions/stream.ts and heartbeat.ts.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ssmSdk } from '../lib/aws/index.ts';
import {
  cacheConfig,
  createSecretRegistry,
  readConnectorFromSsm,
  type ConnectorConfig,
  type SecretRegistry,
} from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors/index.ts';
import { createLogger, parseLogLevel } from '../lib/observability/index.ts';

export interface ConnectorEnvironment {
  readonly stage: string;
  readonly connector: string;
  /**
   * The SSM client, built on first call: the first invocation loads the SDK (lib/aws), not the
   * import of the handler, so the init phase stays short (README, Benchmarks, "Cold start").
   */
  readonly ssm: () => SSMClient;
  /** Every log line passes through the secrets of the loaded configuration. */
  readonly secrets: SecretRegistry;
  readonly logger: ReturnType<typeof createLogger>;
  readonly loadConfig: () => Promise<ConnectorConfig>;
}

/** Reads the environment and builds the clients; `fields` are extra persistent log keys. */
export function connectorEnvironment(fields: Record<string, string> = {}): ConnectorEnvironment {
  const stage = process.env.TGSTREAM_STAGE;
  const connector = process.env.TGSTREAM_CONNECTOR;
  if (!stage || !connector) {
    throw new ConfigError(
      'CONFIG_LAMBDA_ENV_MISSING',
      'The Lambda needs TGSTREAM_STAGE and TGSTREAM_CONNECTOR in its environment (serverless.yml sets them)',
    );
  }
  let client: SSMClient | undefined;
  const ssm = (): SSMClient => (client ??= new (ssmSdk().SSMClient)({}));
  const maxAge = process.env.TGSTREAM_CONFIG_MAX_AGE_MS;
  const secrets = createSecretRegistry();
  const logger = createLogger({
    level: parseLogLevel(process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL),
    service: 'tigerstream',
    redact: (text) => secrets.redact(text),
    fields: { connector, stage, ...fields },
  });
  const loadConfig = cacheConfig(
    () => readConnectorFromSsm(ssm(), stage, connector),
    maxAge === undefined ? {} : { maxAgeMs: () => Number(maxAge) },
  );
  return { stage, connector, ssm, secrets, logger, loadConfig };
}
