/**
 * Lambda entry point for a Kafka event-source mapping. Wiring only: SSM client, Powertools
 * logger and metrics with their middy middlewares, configuration cache; the behaviour lives
 * in lib/pipeline.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { connectorPath } from '../lib/config/index.ts';
import { createMetrics } from '../lib/observability/index.ts';
import { createStreamHandler, ssmRunRegistry } from '../lib/pipeline/index.ts';
import { connectorEnvironment } from './connector-env.ts';

// Built once per cold start and reused by every invocation of this container.
const { stage, connector, ssm, secrets, logger, loadConfig } = connectorEnvironment();
const metrics = createMetrics({ stage, connector });

export const handler = createStreamHandler({
  loadConfig,
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
