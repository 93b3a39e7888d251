/**
 * Lambda entry point run on a schedule (EventBridge) for a connector whose MirrorMaker 2
 * heartbeats are on. Wiring only: SSM and Kafka control clients, Powertools logger with its
 * middy middleware, configuration cache; the behaviour lives in lib/heartbeat.
 */
import { KafkaClient } from '@aws-sdk/client-kafka';
import { SSMClient } from '@aws-sdk/client-ssm';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { cacheConfig, createSecretRegistry, readConnectorFromSsm } from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors/index.ts';
import { createHeartbeatHandler } from '../lib/heartbeat/index.ts';
import { createBrokerResolver } from '../lib/kafka/index.ts';
import { createLogger, parseLogLevel } from '../lib/observability/index.ts';

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
let kafkaControl: KafkaClient | undefined;
const maxAge = process.env.TGSTREAM_CONFIG_MAX_AGE_MS;
// Every log line passes through the secrets of the loaded configuration.
const secrets = createSecretRegistry();
const logger = createLogger({
  level: parseLogLevel(process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL),
  service: 'tigerstream',
  redact: (text) => secrets.redact(text),
  fields: { connector, stage, function: 'heartbeat' },
});

export const handler = createHeartbeatHandler({
  loadConfig: cacheConfig(
    () => readConnectorFromSsm(ssm, stage, connector),
    maxAge === undefined ? {} : { maxAgeMs: () => Number(maxAge) },
  ),
  resolveBrokers: createBrokerResolver(() => (kafkaControl ??= new KafkaClient({}))),
  logger,
  secrets,
  middlewares: [injectLambdaContext(logger.powertools, { resetKeys: true })],
});
