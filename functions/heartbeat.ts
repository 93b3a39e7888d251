/**
 * Lambda entry point run on a schedule (EventBridge) for a connector whose MirrorMaker 2
 * heartbeats are on. Wiring only: SSM and Kafka control clients, Powertools logger with its
 * middy middleware, configuration cache; the behaviour lives in lib/heartbeat.
 */
import type { KafkaClient } from '@aws-sdk/client-kafka';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { kafkaSdk } from '../lib/aws/index.ts';
import { createHeartbeatHandler } from '../lib/heartbeat/index.ts';
import { createBrokerResolver } from '../lib/kafka/index.ts';
import { connectorEnvironment } from './connector-env.ts';

// Built once per cold start and reused by every invocation of this container.
const { secrets, logger, loadConfig } = connectorEnvironment({ function: 'heartbeat' });
let kafkaControl: KafkaClient | undefined;

export const handler = createHeartbeatHandler({
  loadConfig,
  resolveBrokers: createBrokerResolver(() => (kafkaControl ??= new (kafkaSdk().KafkaClient)({}))),
  logger,
  secrets,
  middlewares: [injectLambdaContext(logger.powertools, { resetKeys: true })],
});
