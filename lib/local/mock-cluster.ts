/**
 * The embedded Kafka broker: librdkafka's mock cluster, a real Kafka-protocol broker on
 * loopback. Topics are created through the mock API (kafkajs `admin.createTopics` does not
 * work against it); fault hooks drive the fault tests.
 */
import { LocalError } from '../errors/index.ts';
import { RD_KAFKA_PRODUCER, createRdKafkaHandle, loadRdKafka, type RdKafka } from './rdkafka.ts';

/** Kafka API keys used with {@link EmbeddedKafka.pushRequestErrors}. */
export const KAFKA_API_KEYS = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  SyncGroup: 14,
} as const;

/** Kafka protocol error codes used in fault tests (lib/kafka/errors.ts classifies them). */
export const KAFKA_ERRORS = {
  CORRUPT_MESSAGE: 2,
  NOT_LEADER_OR_FOLLOWER: 6,
  /** Kafka's older name of NOT_LEADER_OR_FOLLOWER. */
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  TOPIC_AUTHORIZATION_FAILED: 29,
  INVALID_TIMESTAMP: 32,
  INVALID_RECORD: 87,
} as const;

export interface EmbeddedKafka {
  /** `host:port,host:port` of the brokers, all on 127.0.0.1. */
  readonly bootstrapServers: string;
  readonly brokerCount: number;
  createTopic(name: string, partitions: number, replicationFactor?: number): void;
  /** Takes a broker down (its connections are closed and refused) until {@link brokerUp}. */
  brokerDown(brokerId: number): void;
  brokerUp(brokerId: number): void;
  /** Adds a round-trip delay to every response of a broker. */
  setRoundTripTime(brokerId: number, rttMs: number): void;
  /** The next requests of an API get these error codes, one each, in order (0: no error). */
  pushRequestErrors(apiKey: number, errors: readonly number[]): void;
  /** Moves a partition's leadership to a broker (as a rolling restart or a rebalance does). */
  setPartitionLeader(topic: string, partition: number, brokerId: number): void;
  stop(): void;
}

export interface StartEmbeddedKafkaOptions {
  /** Number of brokers (ids 1..N). Default 1. */
  readonly brokers?: number;
  readonly topics?: readonly { name: string; partitions: number }[];
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Starts the embedded broker.
 *
 * @example
 * const kafka = startEmbeddedKafka({ brokers: 3, topics: [{ name: 'orders', partitions: 3 }] });
 * try { ... kafka.bootstrapServers ... } finally { kafka.stop(); }
 */
export function startEmbeddedKafka(options: StartEmbeddedKafkaOptions = {}): EmbeddedKafka {
  const brokerCount = options.brokers ?? 1;
  if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > 16) {
    throw new LocalError(
      'LOCAL_BROKER_COUNT_INVALID',
      `Broker count must be an integer from 1 to 16, found ${brokerCount}`,
    );
  }
  const rd: RdKafka = loadRdKafka();
  // The mock cluster hangs off a client handle that must outlive it; log only errors.
  const rk = createRdKafkaHandle(rd, RD_KAFKA_PRODUCER, { log_level: '3' });
  const cluster: unknown = rd.mockClusterNew(rk, brokerCount);
  if (!cluster) {
    rd.destroy(rk);
    throw new LocalError(
      'LOCAL_BROKER_START_FAILED',
      'librdkafka could not start the mock cluster',
    );
  }
  const bootstrapServers = rd.mockBootstraps(cluster) as string;
  let stopped = false;
  const checkBroker = (brokerId: number): void => {
    if (!Number.isInteger(brokerId) || brokerId < 1 || brokerId > brokerCount)
      throw new LocalError(
        'LOCAL_BROKER_ID_INVALID',
        `Broker id must be 1..${brokerCount}, found ${brokerId}`,
      );
  };
  const checkCode = (what: string, code: number): void => {
    if (code !== 0)
      throw new LocalError(
        'LOCAL_BROKER_CALL_FAILED',
        `${what} failed: ${rd.errToStr(code) as string}`,
      );
  };
  const embedded: EmbeddedKafka = {
    bootstrapServers,
    brokerCount,
    createTopic(name, partitions, replicationFactor = 1) {
      if (!TOPIC_NAME.test(name))
        throw new LocalError(
          'LOCAL_TOPIC_NAME_INVALID',
          `Topic name "${name}" is not allowed: use 1-249 of [A-Za-z0-9._-]`,
        );
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000)
        throw new LocalError(
          'LOCAL_TOPIC_PARTITIONS_INVALID',
          `Partitions must be an integer from 1 to 1000, found ${partitions}`,
        );
      checkCode(
        `Creating topic ${name}`,
        rd.mockTopicCreate(
          cluster,
          name,
          partitions,
          Math.min(replicationFactor, brokerCount),
        ) as number,
      );
    },
    brokerDown(brokerId) {
      checkBroker(brokerId);
      checkCode(`Taking broker ${brokerId} down`, rd.mockBrokerDown(cluster, brokerId) as number);
    },
    brokerUp(brokerId) {
      checkBroker(brokerId);
      checkCode(`Bringing broker ${brokerId} up`, rd.mockBrokerUp(cluster, brokerId) as number);
    },
    setRoundTripTime(brokerId, rttMs) {
      checkBroker(brokerId);
      checkCode(
        `Setting broker ${brokerId} round-trip time`,
        rd.mockBrokerRtt(cluster, brokerId, rttMs) as number,
      );
    },
    pushRequestErrors(apiKey, errors) {
      rd.mockPushErrors(cluster, apiKey, errors.length, Int32Array.from(errors));
    },
    setPartitionLeader(topic, partition, brokerId) {
      const err = rd.mockPartitionSetLeader(cluster, topic, partition, brokerId) as number;
      if (err !== 0)
        throw new LocalError(
          'LOCAL_BROKER_LEADER_FAILED',
          `Could not move ${topic}[${partition}]'s leadership to broker ${brokerId}: ${rd.errToStr(err) as string}`,
        );
    },
    stop() {
      if (stopped) return;
      stopped = true;
      rd.mockClusterDestroy(cluster);
      rd.destroy(rk);
    },
  };
  for (const topic of options.topics ?? []) embedded.createTopic(topic.name, topic.partitions);
  return embedded;
}
