/**
 * The heartbeat function's core: on each scheduled invocation, one MirrorMaker 2 heartbeat
 * (source alias, target alias, now) to partition 0 of the target cluster's `heartbeats` topic,
 * acknowledged by every in-sync replica (acks=all), through the target's own security settings
 * (`producer.*` / `target.cluster.*`), as MirrorHeartbeatTask writes it. Used by
 * functions/heartbeat.ts; tests call it with an injected configuration and broker.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  heartbeatScheduleFor,
  type ConnectorConfig,
  type SecretRegistry,
} from '../config/index.ts';
import { invocationDeadline, retry, type RetryPolicy } from '../errors/retry.ts';
import { compressionTypeOf, createKafkaDelivery, type KafkaDelivery } from '../kafka/index.ts';
import { createLogger, type Logger } from '../observability/index.ts';
import {
  HEARTBEATS_PARTITION,
  HEARTBEATS_TOPIC,
  HeartbeatError,
  encodeHeartbeat,
  type Heartbeat,
} from './format.ts';

export interface HeartbeatHandlerDeps {
  /** Returns the current configuration (cached by the caller; see cacheConfig). */
  readonly loadConfig: () => Promise<ConnectorConfig>;
  /** Turns `target.cluster.bootstrap.servers` into brokers (an MSK ARN through GetBootstrapBrokers). */
  readonly resolveBrokers: (value: string, security: ConnectorConfig['target']) => Promise<string>;
  /** Builds the producer of the target cluster (default: lib/kafka's, with the target's security). */
  readonly createDelivery?: (
    config: ConnectorConfig,
    logger: Logger,
    brokers: string,
  ) => KafkaDelivery;
  readonly logger?: Logger;
  /** Learns the secrets of each loaded configuration; the logger should redact through it. */
  readonly secrets?: SecretRegistry;
  /** Middlewares that run around everything else (Powertools' context). */
  readonly middlewares?: readonly MiddlewareObj[];
  readonly retryPolicy?: RetryPolicy;
  readonly now?: () => number;
  /** Time kept free before the Lambda deadline for the error to surface (ms). */
  readonly deadlineMarginMs?: number;
}

/** What one invocation did. */
export type HeartbeatResult =
  | {
      readonly sent: true;
      readonly heartbeat: Heartbeat;
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
    }
  /** The configuration turns heartbeats off (it changed after the schedule was deployed). */
  | { readonly sent: false; readonly reason: 'disabled' };

export type HeartbeatHandler = ((event: unknown, context: Context) => Promise<HeartbeatResult>) & {
  close(): Promise<void>;
};

/** A heartbeat is small and the next comes within minutes: a few quick attempts are enough. */
export const HEARTBEAT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 2000,
  factor: 2,
});

const defaultDelivery = (config: ConnectorConfig, logger: Logger, brokers: string): KafkaDelivery =>
  createKafkaDelivery({
    brokers: brokers.split(','),
    security: config.target,
    logger,
    clientId: `tigerstream-${config.name}-heartbeat`,
    compression: compressionTypeOf(config.settings),
  });

/**
 * Builds the heartbeat handler. The producer is built once per target (per cold start, in
 * Lambda) and reused by every invocation.
 *
 * @example
 * export const handler = createHeartbeatHandler({
 *   loadConfig: cacheConfig(() => readConnectorFromSsm(ssm, stage, name)),
 *   resolveBrokers: createBrokerResolver(() => new KafkaClient({})),
 * });
 */
export function createHeartbeatHandler(deps: HeartbeatHandlerDeps): HeartbeatHandler {
  const now = deps.now ?? Date.now;
  const baseLogger = deps.logger ?? createLogger();
  let clients: { config: ConnectorConfig; delivery: KafkaDelivery; logger: Logger } | undefined;

  const clientsFor = async (config: ConnectorConfig) => {
    if (clients?.config === config) return clients;
    const logger = baseLogger.child({ connector: config.name });
    const previous = clients;
    const sameTarget =
      previous !== undefined &&
      previous.config.targetBootstrapServers === config.targetBootstrapServers &&
      JSON.stringify(previous.config.target) === JSON.stringify(config.target);
    if (previous && !sameTarget) await previous.delivery.disconnect().catch(() => undefined);
    clients = {
      config,
      logger,
      delivery: sameTarget
        ? previous.delivery
        : (deps.createDelivery ?? defaultDelivery)(
            config,
            logger,
            await deps.resolveBrokers(config.targetBootstrapServers, config.target),
          ),
    };
    return clients;
  };

  /** Writes one heartbeat of `config` before `deadline`. */
  const write = async (
    config: ConnectorConfig,
    started: number,
    deadline: number,
    signal: AbortSignal,
  ): Promise<HeartbeatResult> => {
    const { delivery, logger } = await clientsFor(config);

    const heartbeat: Heartbeat = {
      sourceClusterAlias: config.sourceAlias,
      targetClusterAlias: config.targetAlias,
      timestamp: started,
    };
    const { key, value } = encodeHeartbeat(heartbeat);
    const ranges = await retry(
      async () => {
        // MirrorMaker 2 creates this topic itself (one partition, compacted); TigerStream does
        // not (a broker with auto.create.topics.enable=true creates it on this metadata request,
        // with its defaults), so say what is missing instead of failing on metadata.
        if ((await delivery.partitionCount(HEARTBEATS_TOPIC)) === 0)
          throw new HeartbeatError(
            'HEARTBEAT_TOPIC_MISSING',
            `The target cluster (${config.targetBootstrapServers}) has no topic ${HEARTBEATS_TOPIC}; create it as MirrorMaker 2 does (1 partition, cleanup.policy=compact, replication factor heartbeats.topic.replication.factor), or set emit.heartbeats.enabled=false`,
            { details: { topic: HEARTBEATS_TOPIC } },
          );
        return delivery.send(
          [
            {
              topic: HEARTBEATS_TOPIC,
              partition: HEARTBEATS_PARTITION,
              key,
              value,
              headers: [],
              timestamp: heartbeat.timestamp,
            },
          ],
          { signal, timeoutMs: Math.max(1, deadline - now()) },
        );
      },
      {
        policy: deps.retryPolicy ?? HEARTBEAT_RETRY_POLICY,
        signal,
        deadline,
        now,
        onRetry: ({ attempt, delayMs, error }) =>
          logger.warn('Heartbeat not written; trying again', { attempt, delayMs, error }),
      },
    );
    const offset = ranges[0]?.firstOffset ?? -1;
    logger.info('Heartbeat written', {
      topic: HEARTBEATS_TOPIC,
      partition: HEARTBEATS_PARTITION,
      offset,
      ...heartbeat,
    });
    return {
      sent: true,
      heartbeat,
      topic: HEARTBEATS_TOPIC,
      partition: HEARTBEATS_PARTITION,
      offset,
    };
  };

  // timeoutEarlyInMillis 0: our own deadline (below) stops retries before Lambda's.
  const core = middy<unknown, HeartbeatResult>({ timeoutEarlyInMillis: 0 });
  for (const m of deps.middlewares ?? []) core.use(m as MiddlewareObj<unknown, HeartbeatResult>);
  core.handler(async (_event: unknown, context: Context): Promise<HeartbeatResult> => {
    const config = await deps.loadConfig();
    deps.secrets?.add(config.settings);
    if (heartbeatScheduleFor(config) === undefined) {
      baseLogger.info('Heartbeats are off for this connector; nothing written', {
        connector: config.name,
      });
      return { sent: false, reason: 'disabled' };
    }
    const started = now();
    const { deadline, signal, dispose } = invocationDeadline(
      context,
      started,
      deps.deadlineMarginMs ?? 1000,
      60_000,
    );
    try {
      return await write(config, started, deadline, signal);
    } finally {
      dispose();
    }
  });

  const handler = ((event: unknown, context: Context) => core(event, context)) as HeartbeatHandler;
  handler.close = async () => {
    await clients?.delivery.disconnect();
    clients = undefined;
  };
  return handler;
}
