/**
 * The stream handler: one middy handler used by the Lambda (functions/stream.ts) and by the
 * local ESM runner (tgstream run), so both run exactly the same code.
 */
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { requireTigerGraph, type ConnectorConfig, type SecretRegistry } from '../config/index.ts';
import { createConverter as defaultConverter, type Converter } from '../convert/index.ts';
import { decodeKafkaEvent } from '../event/index.ts';
import type { KafkaClient } from '@aws-sdk/client-kafka';
import { kafkaSdk } from '../aws/index.ts';
import {
  compressionTypeOf,
  createBrokerResolver,
  createKafkaDelivery,
  maxRequestSizeOf,
  type KafkaDelivery,
} from '../kafka/index.ts';
import {
  BATCH_FAILED_METRIC,
  createLogger,
  recordBatchMetrics,
  type Logger,
  type MetricsSink,
} from '../observability/index.ts';
import { invocationDeadline, type RetryPolicy } from '../errors/retry.ts';
import { ConfigError } from '../errors/index.ts';
import { createTigerGraphClient, type TigerGraphClient } from '../tigergraph/index.ts';
import { processBatch, type BatchResult } from './process.ts';
import { createRunTimes } from './deadline.ts';
import { memoryRunRegistry, type RunRegistry } from './run-registry.ts';
import type { StreamingRun } from './common.ts';

export interface StreamHandlerDeps {
  /** Returns the current configuration (cached by the caller; see cacheConfig). */
  readonly loadConfig: () => Promise<ConnectorConfig>;
  readonly createDelivery?: (
    config: ConnectorConfig,
    logger: Logger,
    brokers: string,
  ) => KafkaDelivery;
  /** Resolves an MSK cluster ARN to brokers (default: GetBootstrapBrokers with a lazily built client). */
  readonly resolveBrokers?: (value: string, security: ConnectorConfig['target']) => Promise<string>;
  /** Builds TigerGraph's client; called only for a connector with tigergraph.* settings (not mirror-only). */
  readonly createTigerGraph?: (config: ConnectorConfig) => TigerGraphClient;
  readonly createConverter?: (config: ConnectorConfig) => Converter | Promise<Converter>;
  readonly logger?: Logger;
  /** Learns the secrets of each loaded configuration; the logger should redact through it. */
  readonly secrets?: SecretRegistry;
  /**
   * Where each batch's metrics go (the Lambda passes Powertools' Metrics and flushes it with
   * its logMetrics middleware); none: no metrics (the local runner, the CLI).
   */
  readonly metrics?: MetricsSink;
  /** Middlewares that run around everything else (Powertools' context and metrics). */
  readonly middlewares?: readonly MiddlewareObj[];
  readonly retryPolicy?: RetryPolicy;
  /**
   * Where containers record their loading job's streaming run (SSM in Lambda, files for the
   * CLI); default: this handler's memory, which no other container or process shares.
   */
  readonly runRegistry?: RunRegistry;
  readonly now?: () => number;
  /** Time kept free before the Lambda deadline for the error to surface (ms). */
  readonly deadlineMarginMs?: number;
}

/** What one invocation knows, kept on the context so a failed one still reports it. */
interface Attempt {
  readonly started: number;
  readonly records: number;
  readonly bytes: number;
  readonly oldest: number | undefined;
  retries: number;
}
type StreamContext = Context & { connectorConfig?: ConnectorConfig; tigerstreamAttempt?: Attempt };

export type StreamHandler = ((event: unknown, context: Context) => Promise<BatchResult>) & {
  close(): Promise<void>;
};

const defaultDelivery = (config: ConnectorConfig, logger: Logger, brokers: string): KafkaDelivery =>
  createKafkaDelivery({
    brokers: brokers.split(','),
    security: config.target,
    logger,
    clientId: `tigerstream-${config.name}`,
    compression: compressionTypeOf(config.settings),
    maxRequestSize: maxRequestSizeOf(config.settings),
  });

const defaultTigerGraph = (config: ConnectorConfig): TigerGraphClient => {
  const tg = requireTigerGraph(config, "the stream handler's TigerGraph client");
  return createTigerGraphClient({
    url: tg.url,
    version: tg.version,
    auth: tg.auth,
    timeoutMs: tg.requestTimeoutMs,
  });
};

/**
 * Builds the handler. Clients are built once per configuration and reused across
 * invocations (a producer per container, not per batch).
 *
 * @example
 * export const handler = createStreamHandler({ loadConfig: cacheConfig(() => readConnectorFromSsm(ssm, stage, name)) });
 */
export function createStreamHandler(deps: StreamHandlerDeps): StreamHandler {
  const now = deps.now ?? Date.now;
  const baseLogger = deps.logger ?? createLogger();
  let kafkaControl: KafkaClient | undefined;
  // Per container: the streaming loading runs started (tigergraph.loading.eof=false).
  const streamingRuns = new Map<string, StreamingRun>();
  const runRegistry = deps.runRegistry ?? memoryRunRegistry();
  // Per container: how long its EOF runs took, so none starts that the deadline cuts short.
  const runTimes = createRunTimes();
  const resolveBrokers =
    deps.resolveBrokers ??
    createBrokerResolver(() => (kafkaControl ??= new (kafkaSdk().KafkaClient)({})));
  let clients:
    | {
        config: ConnectorConfig;
        delivery: KafkaDelivery;
        /** None for a mirror-only connector: it never calls TigerGraph. */
        tigergraph: TigerGraphClient | undefined;
        converter: Converter;
        logger: Logger;
      }
    | undefined;

  const clientsFor = async (config: ConnectorConfig) => {
    if (clients?.config === config) return clients;
    const logger = baseLogger.child({ connector: config.name });
    const sameTarget =
      clients &&
      clients.config.targetBootstrapServers === config.targetBootstrapServers &&
      JSON.stringify(clients.config.target) === JSON.stringify(config.target);
    if (clients && !sameTarget) await clients.delivery.disconnect().catch(() => undefined);
    clients = {
      config,
      logger,
      delivery:
        sameTarget && clients
          ? clients.delivery
          : (deps.createDelivery ?? defaultDelivery)(
              config,
              logger,
              await resolveBrokers(config.targetBootstrapServers, config.target),
            ),
      tigergraph:
        config.tigergraph === undefined
          ? undefined
          : (deps.createTigerGraph ?? defaultTigerGraph)(config),
      converter: await (deps.createConverter ?? ((c: ConnectorConfig) => defaultConverter(c)))(
        config,
      ),
    };
    return clients;
  };

  // timeoutEarlyInMillis 0: our own deadline (below) aborts retries before Lambda's.
  const core = middy<unknown, BatchResult, Error, StreamContext>({ timeoutEarlyInMillis: 0 });
  for (const m of deps.middlewares ?? [])
    core.use(m as MiddlewareObj<unknown, BatchResult, Error, StreamContext>);
  core
    .use({
      name: 'tigerstreamConfig',
      before: async (request: Request<unknown, BatchResult, Error, StreamContext>) => {
        const config = await deps.loadConfig();
        deps.secrets?.add(config.settings);
        request.context.connectorConfig = config;
      },
      onError: (request: Request<unknown, BatchResult, Error, StreamContext>) => {
        deps.metrics?.addMetric(BATCH_FAILED_METRIC, 'Count', 1);
        // What a failing batch held and how long it has waited: the figures that matter while
        // the ESM keeps retrying it.
        const attempt = request.context.tigerstreamAttempt;
        if (deps.metrics && attempt) {
          // Not record-count: a batch retried would be counted as read once per attempt.
          deps.metrics.addMetric('failed-record-count', 'Count', attempt.records);
          deps.metrics.addMetric('failed-byte-count', 'Bytes', attempt.bytes);
          deps.metrics.addMetric(
            'record-age-ms',
            'Milliseconds',
            attempt.oldest === undefined ? 0 : Math.max(0, attempt.started - attempt.oldest),
          );
          deps.metrics.addMetric('retry-count', 'Count', attempt.retries);
        }
        // Not handled here: the invocation fails and the ESM redelivers the batch.
        baseLogger.error('Batch failed; it will be delivered again', {
          error: request.error,
          requestId: request.context.awsRequestId,
        });
      },
    })
    .handler(async (event: unknown, context: StreamContext) => {
      const started = now();
      const batch = decodeKafkaEvent(event);
      let bytes = 0;
      let oldest: number | undefined;
      let newest: number | undefined;
      for (const r of batch.records) {
        bytes += r.value?.length ?? 0;
        if (oldest === undefined || r.timestamp < oldest) oldest = r.timestamp;
        if (newest === undefined || r.timestamp > newest) newest = r.timestamp;
      }
      const attempt: Attempt = {
        started,
        records: batch.records.length,
        bytes,
        oldest,
        retries: 0,
      };
      context.tigerstreamAttempt = attempt;
      const config = context.connectorConfig;
      if (config === undefined)
        throw new ConfigError(
          'CONFIG_NOT_LOADED',
          'The connector configuration was not loaded before the handler ran',
        );
      const c = await clientsFor(config);
      const logger = c.logger.child({ requestId: context.awsRequestId });
      const { deadline, signal, dispose } = invocationDeadline(
        context,
        started,
        deps.deadlineMarginMs ?? 2000,
        900_000,
      );
      let result: BatchResult;
      try {
        result = await processBatch(batch, {
          config,
          converter: c.converter,
          delivery: c.delivery,
          tigergraph: c.tigergraph,
          logger,
          streamingRuns,
          runRegistry,
          runTimes,
          signal,
          deadline,
          now,
          countRetry: () => attempt.retries++,
          requestId: context.awsRequestId,
          metrics: deps.metrics,
          ...(deps.retryPolicy ? { retryPolicy: deps.retryPolicy } : {}),
        });
      } finally {
        dispose();
      }
      const finished = now();
      if (deps.metrics) {
        recordBatchMetrics(deps.metrics, {
          'record-count': result.records,
          'byte-count': result.bytes,
          'record-age-ms': attempt.oldest === undefined ? 0 : Math.max(0, started - attempt.oldest),
          'replication-latency-ms': newest === undefined ? 0 : Math.max(0, finished - newest),
          'tombstone-count': result.tombstones,
          'loaded-count': result.loaded,
          'rejected-count': result.rejected,
          'dead-letter-count': result.deadLettered,
          'objects-loaded-count': result.objectsLoaded,
          'objects-rejected-count': result.objectsRejected,
          'retry-count': result.retries,
        });
      }
      logger.info('Batch done', { ...result, ms: finished - started });
      return result;
    });

  const handler = ((event: unknown, context: Context) => core(event, context)) as StreamHandler;
  handler.close = async () => {
    await clients?.delivery.disconnect();
    clients = undefined;
  };
  return handler;
}
