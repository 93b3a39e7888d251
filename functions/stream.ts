/**
 * Lambda entry point for a Kafka event-source mapping. Wiring only: SSM client, Powertools
 * logger and metrics with their middy middlewares, configuration cache; the behaviour lives
 * in lib/pipeline.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import {
  cacheConfig,
  connectorPath,
  createSecretRegistry,
  readConnectorFromSsm,
} from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors/index.ts';
import { createLogger, createMetrics, parseLogLevel } from '../lib/observability/index.ts';
import { createStreamHandler, ssmRunRegistry } from '../lib/pipeline/index.ts';

const stage = process.env.TGSTREAM_STAGE;
const connector = process.env.TGSTREAM_CONNECTOR;
if (!stage || !connector) {
  throw new ConfigError(
    'CONFIG_LAMBDA_ENV_MISSING',
    'The Lambda needs TGSTREAM_STAGE and TGSTREAM_CONNECTOR in its environment (serverless.yml sets them)',
  );
}

// Built once per cold start and reused by every invocation of this container.
const ssm = new SSMClient({});
const maxAge = process.env.TGSTREAM_CONFIG_MAX_AGE_MS;
// Every log line passes through the secrets of the loaded configuration.
const secrets = createSecretRegistry();
const logger = createLogger({
  level: parseLogLevel(process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL),
  service: 'tigerstream',
  redact: (text) => secrets.redact(text),
  fields: { connector, stage },
});
const metrics = createMetrics({ stage, connector });

export const handler = createStreamHandler({
  loadConfig: cacheConfig(
    () => readConnectorFromSsm(ssm, stage, connector),
    maxAge === undefined ? {} : { maxAgeMs: () => Number(maxAge) },
  ),
  logger,
  secrets,
  metrics,
  // Streaming runs (tigergraph.loading.eof=false) are shared through the connector's SSM path.
  runRegistry: ssmRunRegistry(ssm, connectorPath(stage, connector)),
  middlewares: [
    injectLambdaContext(logger.powertools, { resetKeys: true }),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ],
});
