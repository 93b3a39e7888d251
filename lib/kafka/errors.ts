/**
 * Kafka errors → what to do about them, in one table (STYLE.md: external codes map through
 * data, not if-chains). Every error the producer, its admin client or its connection raises
 * is one of three kinds:
 *
 * - `retriable`: the cluster is changing or unreachable (a leader moved, replicas are behind,
 *   a request timed out, a connection broke). The same records succeed later, so the call is
 *   retried with backoff within the invocation, then the batch fails and is redelivered.
 * - `record`: the broker refused these records and always will (too large, invalid, corrupt).
 *   Retrying is futile; the pipeline finds which record it was and applies errors.tolerance
 *   (lib/pipeline/policy.ts).
 * - `fatal`: nothing this connector sends can succeed until someone changes something
 *   (credentials, ACLs, a setting the broker does not support): the invocation fails at once
 *   with a code naming the problem.
 *
 * Rows are keyed by Kafka's name of a protocol error (`kafkaCode` is its number in the Kafka
 * protocol; kafkajs sometimes spells the name differently, so protocol errors are matched by
 * number first), or by the name of a kafkajs error class that carries no protocol code.
 * Sources: the Kafka protocol's error table (kafka.apache.org/protocol#protocol_error_codes)
 * and kafkajs 2.2.4 `src/errors.js`, `src/protocol/error.js`.
 */
import { DeliveryError, TigerStreamError, messageOf, type ErrorDetails } from '../errors/index.ts';

export const KAFKA_ERROR_KINDS = ['retriable', 'record', 'fatal'] as const;
export type KafkaErrorKind = (typeof KAFKA_ERROR_KINDS)[number];

export interface KafkaErrorRule {
  readonly kind: KafkaErrorKind;
  /**
   * Our code for it. Retriable rows have none: the call that failed names it
   * (`KAFKA_PRODUCE_RETRIABLE`, `KAFKA_CONNECT_FAILED`, `KAFKA_METADATA_FAILED`).
   */
  readonly code?: string;
  /** The Kafka protocol's number of the error; none for a kafkajs error class. */
  readonly kafkaCode?: number;
  /** The connection is broken: the client is rebuilt before the next attempt. */
  readonly reconnect?: boolean;
  /** What it means, for the error's message. */
  readonly meaning: string;
}

const TOO_LARGE = 'KAFKA_RECORD_TOO_LARGE';
const AUTHENTICATION = 'KAFKA_AUTHENTICATION_FAILED';
const AUTHORIZATION = 'KAFKA_AUTHORIZATION_FAILED';

/** The table. Anything not in it follows kafkajs's own `retriable` flag (else fatal). */
export const KAFKA_ERROR_RULES: Readonly<Record<string, KafkaErrorRule>> = {
  // Retriable: the cluster is moving or busy.
  UNKNOWN_TOPIC_OR_PARTITION: {
    kind: 'retriable',
    kafkaCode: 3,
    meaning: 'the broker does not know the topic-partition (yet)',
  },
  LEADER_NOT_AVAILABLE: {
    kind: 'retriable',
    kafkaCode: 5,
    meaning: 'the partition has no leader right now (an election is under way)',
  },
  NOT_LEADER_OR_FOLLOWER: {
    kind: 'retriable',
    kafkaCode: 6,
    meaning: 'the partition leader moved to another broker',
  },
  REQUEST_TIMED_OUT: { kind: 'retriable', kafkaCode: 7, meaning: 'the request timed out' },
  // Deliberately retriable though Kafka's table (and kafkajs) call it non-retriable: a broker
  // that is down or restarting comes back, and a new connection finds it or its successor.
  BROKER_NOT_AVAILABLE: {
    kind: 'retriable',
    kafkaCode: 8,
    reconnect: true,
    meaning: 'the broker is not available',
  },
  REPLICA_NOT_AVAILABLE: { kind: 'retriable', kafkaCode: 9, meaning: 'a replica is not available' },
  NETWORK_EXCEPTION: {
    kind: 'retriable',
    kafkaCode: 13,
    reconnect: true,
    meaning: 'the broker lost its connection to another broker',
  },
  NOT_ENOUGH_REPLICAS: {
    kind: 'retriable',
    kafkaCode: 19,
    meaning: 'fewer in-sync replicas than min.insync.replicas (acks=all)',
  },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: {
    kind: 'retriable',
    kafkaCode: 20,
    meaning: 'written, but fewer in-sync replicas than min.insync.replicas acknowledged it',
  },
  NOT_CONTROLLER: { kind: 'retriable', kafkaCode: 41, meaning: 'the broker is not the controller' },
  KAFKA_STORAGE_ERROR: {
    kind: 'retriable',
    kafkaCode: 56,
    meaning: "a disk of the partition's broker failed",
  },
  LISTENER_NOT_FOUND: {
    kind: 'retriable',
    kafkaCode: 72,
    meaning: 'the leader has no listener of this name (yet)',
  },
  FENCED_LEADER_EPOCH: { kind: 'retriable', kafkaCode: 74, meaning: 'stale leader epoch' },
  UNKNOWN_LEADER_EPOCH: { kind: 'retriable', kafkaCode: 75, meaning: 'newer leader epoch' },
  THROTTLING_QUOTA_EXCEEDED: {
    kind: 'retriable',
    kafkaCode: 89,
    meaning: 'a quota was exceeded',
  },
  KafkaJSConnectionError: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'cannot reach the broker',
  },
  KafkaJSConnectionClosedError: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'the broker closed the connection',
  },
  KafkaJSRequestTimeoutError: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'the broker did not answer in time',
  },
  KafkaJSBrokerNotFound: { kind: 'retriable', reconnect: true, meaning: 'no broker to send to' },
  KafkaJSNoBrokerAvailableError: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'no broker available',
  },
  KafkaJSMetadataNotLoaded: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'topic metadata not loaded',
  },
  KafkaJSTopicMetadataNotLoaded: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'topic metadata not loaded',
  },
  KafkaJSStaleTopicMetadataAssignment: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'topic metadata is stale',
  },
  KafkaJSLockTimeout: {
    kind: 'retriable',
    reconnect: true,
    meaning: 'timed out waiting for the connection',
  },
  // kafkajs's plain non-retriable error without a cause: it refused the request before sending
  // it ("Invalid topic", "Invalid message without value", a producer disconnecting). The same
  // request fails the same way, so it is not retried; the client is rebuilt for the next one.
  KafkaJSNonRetriableError: {
    kind: 'fatal',
    code: 'KAFKA_PRODUCE_REQUEST_INVALID',
    reconnect: true,
    meaning: 'the Kafka client refused the request before sending it',
  },

  // Record-level: these records, and only these, are refused, whatever the retries.
  // CORRUPT_MESSAGE is record-level by choice (Kafka calls it retriable): the broker refuses the
  // same bytes every time when the record itself is the cause (a null key for a compacted
  // topic, a size it cannot take). The price: a CRC error in transit, which a resend would
  // heal, dead-letters a good record under errors.tolerance=all (its original stays in the
  // source topic, at the coordinates the dead letter carries).
  CORRUPT_MESSAGE: {
    kind: 'record',
    kafkaCode: 2,
    code: 'KAFKA_RECORD_CORRUPT',
    meaning: 'the broker found the record corrupt (CRC, size, or a null key for a compacted topic)',
  },
  MESSAGE_TOO_LARGE: {
    kind: 'record',
    kafkaCode: 10,
    code: TOO_LARGE,
    meaning:
      "the record batch is larger than the broker's message.max.bytes (TigerGraph: Kafka.MessageMaxSizeMB)",
  },
  RECORD_LIST_TOO_LARGE: {
    kind: 'record',
    kafkaCode: 18,
    code: TOO_LARGE,
    meaning: 'the records are more than the segment size allows',
  },
  INVALID_TIMESTAMP: {
    kind: 'record',
    kafkaCode: 32,
    code: 'KAFKA_RECORD_TIMESTAMP_INVALID',
    meaning: "the record's timestamp is outside the topic's message.timestamp.difference.max.ms",
  },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: {
    kind: 'record',
    kafkaCode: 43,
    code: 'KAFKA_RECORD_INVALID',
    meaning: "the topic's message format cannot hold the record (headers need format v2)",
  },
  INVALID_RECORD: {
    kind: 'record',
    kafkaCode: 87,
    code: 'KAFKA_RECORD_INVALID',
    meaning: "the broker's validation refused the record (a compacted topic needs a key, ...)",
  },

  // Fatal: no record can succeed until the setup changes.
  TOPIC_AUTHORIZATION_FAILED: {
    kind: 'fatal',
    kafkaCode: 29,
    code: AUTHORIZATION,
    meaning: "the target cluster's ACLs do not let this principal write to the topic",
  },
  GROUP_AUTHORIZATION_FAILED: {
    kind: 'fatal',
    kafkaCode: 30,
    code: AUTHORIZATION,
    meaning: "the cluster's ACLs do not let this principal use the group",
  },
  CLUSTER_AUTHORIZATION_FAILED: {
    kind: 'fatal',
    kafkaCode: 31,
    code: AUTHORIZATION,
    meaning: "the cluster's ACLs do not let this principal do that",
  },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: {
    kind: 'fatal',
    kafkaCode: 53,
    code: AUTHORIZATION,
    meaning: "the cluster's ACLs do not let this principal use the transactional id",
  },
  UNSUPPORTED_SASL_MECHANISM: {
    kind: 'fatal',
    kafkaCode: 33,
    code: AUTHENTICATION,
    meaning: 'the broker does not enable this SASL mechanism (producer.sasl.mechanism)',
  },
  // Kafka: non-retriable. The SASL exchange got out of step, which a retry on the same setup
  // repeats: a mechanism or listener mismatch (producer.sasl.mechanism, the security protocol).
  ILLEGAL_SASL_STATE: {
    kind: 'fatal',
    kafkaCode: 34,
    code: AUTHENTICATION,
    meaning:
      'the SASL exchange got out of step (producer.sasl.mechanism or the security protocol does not match the listener)',
  },
  SASL_AUTHENTICATION_FAILED: {
    kind: 'fatal',
    kafkaCode: 58,
    code: AUTHENTICATION,
    meaning: 'the broker refused the credentials (producer.sasl.jaas.config)',
  },
  KafkaJSSASLAuthenticationError: {
    kind: 'fatal',
    code: AUTHENTICATION,
    meaning: 'the broker refused the credentials (producer.sasl.jaas.config)',
  },
  KafkaJSServerDoesNotSupportApiKey: {
    kind: 'fatal',
    code: 'KAFKA_BROKER_API_UNSUPPORTED',
    meaning:
      'the broker does not support a request the producer needs (SASL against a listener without it, or a broker older than Kafka 0.11)',
  },
  INVALID_TOPIC_EXCEPTION: {
    kind: 'fatal',
    kafkaCode: 17,
    code: 'KAFKA_TOPIC_INVALID',
    meaning: 'the topic name is invalid, or it is an internal topic',
  },
  INVALID_REQUIRED_ACKS: {
    kind: 'fatal',
    kafkaCode: 21,
    code: 'KAFKA_PRODUCE_FAILED',
    meaning: 'the broker does not accept acks=all',
  },
  UNSUPPORTED_VERSION: {
    kind: 'fatal',
    kafkaCode: 35,
    code: 'KAFKA_BROKER_API_UNSUPPORTED',
    meaning: 'the broker does not support the request version',
  },
  POLICY_VIOLATION: {
    kind: 'fatal',
    kafkaCode: 44,
    code: 'KAFKA_PRODUCE_FAILED',
    meaning: "the request violates the broker's policy",
  },
  UNSUPPORTED_COMPRESSION_TYPE: {
    kind: 'fatal',
    kafkaCode: 76,
    code: 'KAFKA_COMPRESSION_UNSUPPORTED',
    meaning: 'the topic does not accept this codec (producer.compression.type)',
  },
};

/** Rows by protocol number: kafkajs spells some names the old way (NOT_LEADER_FOR_PARTITION). */
const BY_KAFKA_CODE = new Map<number, readonly [string, KafkaErrorRule]>(
  Object.entries(KAFKA_ERROR_RULES).flatMap(([name, rule]) =>
    rule.kafkaCode === undefined ? [] : [[rule.kafkaCode, [name, rule] as const]],
  ),
);

/** How one error is classified. */
export interface KafkaErrorClass {
  readonly kind: KafkaErrorKind;
  /** Kafka's name of the protocol error, or the kafkajs error class; none for other errors. */
  readonly kafkaError: string | undefined;
  readonly rule: KafkaErrorRule | undefined;
  /** One of ours, found in the chain (an OAuth token error, say): its code and verdict hold. */
  readonly ours: TigerStreamError | undefined;
}

/** kafkajs's wrappers: the error that decided is their `cause`. */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);
const SEVERITY: Readonly<Record<KafkaErrorKind, number>> = { record: 0, retriable: 1, fatal: 2 };

interface ErrorLike {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

const asErrorLike = (e: unknown): ErrorLike | undefined =>
  typeof e === 'object' && e !== null ? e : undefined;

function classifyOne(error: unknown, depth: number): KafkaErrorClass {
  if (error instanceof TigerStreamError)
    return {
      kind: error.retriable ? 'retriable' : 'fatal',
      kafkaError: undefined,
      rule: undefined,
      ours: error,
    };
  const e = asErrorLike(error);
  const fallback: KafkaErrorClass = {
    kind: e?.retriable === true ? 'retriable' : 'fatal',
    kafkaError: typeof e?.name === 'string' ? e.name : undefined,
    rule: undefined,
    ours: undefined,
  };
  if (e === undefined || depth > 8) return fallback;
  // A protocol error: by Kafka's number first, then by name. kafkajs answers a number it does
  // not know with code -99 and keeps the number only in its message.
  const unknown =
    e.type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && error instanceof Error
      ? /Unknown error code (\d+)/.exec(error.message)?.[1]
      : undefined;
  const number = unknown !== undefined ? Number(unknown) : e.code;
  const byCode = typeof number === 'number' ? BY_KAFKA_CODE.get(number) : undefined;
  if (byCode)
    return { kind: byCode[1].kind, kafkaError: byCode[0], rule: byCode[1], ours: undefined };
  if (typeof e.type === 'string') {
    const rule = KAFKA_ERROR_RULES[e.type];
    return { ...fallback, kafkaError: e.type, ...(rule ? { kind: rule.kind, rule } : {}) };
  }
  // kafkajs's aggregate (admin requests): the most severe of its errors decides.
  if (e.name === 'KafkaJSAggregateError' && Array.isArray(e.errors) && e.errors.length > 0)
    return (e.errors as unknown[])
      .map((inner) => classifyOne(inner, depth + 1))
      .reduce((a, b) => (SEVERITY[b.kind] > SEVERITY[a.kind] ? b : a));
  if (
    typeof e.name === 'string' &&
    WRAPPERS.has(e.name) &&
    e.cause !== undefined &&
    e.cause !== error
  )
    return classifyOne(e.cause, depth + 1);
  const rule = typeof e.name === 'string' ? KAFKA_ERROR_RULES[e.name] : undefined;
  return rule ? { ...fallback, kind: rule.kind, rule } : fallback;
}

/**
 * Classifies anything kafkajs threw, through its wrappers (`KafkaJSNumberOfRetriesExceeded`
 * and `KafkaJSNonRetriableError` carry the deciding error as `cause`; `KafkaJSAggregateError`
 * holds several, the most severe decides).
 *
 * @example
 * classifyKafkaError(error).kind; // 'record' for MESSAGE_TOO_LARGE
 */
export const classifyKafkaError = (error: unknown): KafkaErrorClass => classifyOne(error, 0);

/** An error of the Kafka client, classified by {@link KAFKA_ERROR_RULES}. */
export class KafkaError extends DeliveryError {
  readonly kind: KafkaErrorKind;
  /** Kafka's name of the protocol error (`MESSAGE_TOO_LARGE`), or the kafkajs error class. */
  readonly kafkaError: string | undefined;
  /** The client's connection should be rebuilt before another attempt. */
  readonly reconnect: boolean;

  constructor(
    code: string,
    message: string,
    options: {
      kind: KafkaErrorKind;
      kafkaError: string | undefined;
      reconnect?: boolean;
      cause?: unknown;
      details?: ErrorDetails;
    },
  ) {
    super(code, message, {
      retriable: options.kind === 'retriable',
      cause: options.cause,
      details: {
        ...options.details,
        ...(options.kafkaError === undefined ? {} : { kafkaError: options.kafkaError }),
      },
    });
    this.kind = options.kind;
    this.kafkaError = options.kafkaError;
    this.reconnect = options.reconnect ?? false;
  }
}

/** True for an error that refuses these records and always will (see {@link KAFKA_ERROR_RULES}). */
export const isRecordLevelKafkaError = (error: unknown): error is KafkaError =>
  error instanceof KafkaError && error.kind === 'record';

/**
 * Wraps what the Kafka client threw into a coded {@link KafkaError}. One of ours found in the
 * chain is returned as it is. `action` says what failed ("Producing 3 record(s) to t");
 * `retriableCode` names a retriable failure and `fallbackCode` a fatal one the table does not
 * name.
 *
 * @example
 * throw toKafkaError(error, { action: 'Producing to t', retriableCode: 'KAFKA_PRODUCE_RETRIABLE', fallbackCode: 'KAFKA_PRODUCE_FAILED' });
 */
export function toKafkaError(
  error: unknown,
  context: {
    readonly action: string;
    readonly retriableCode: string;
    readonly fallbackCode: string;
    readonly details?: ErrorDetails;
  },
): TigerStreamError {
  const c = classifyKafkaError(error);
  if (c.ours) return c.ours;
  const code =
    c.kind === 'retriable' ? context.retriableCode : (c.rule?.code ?? context.fallbackCode);
  const what = c.rule
    ? `${c.rule.meaning} (${c.kafkaError ?? 'Kafka'})`
    : c.kafkaError !== undefined
      ? c.kafkaError
      : 'error';
  return new KafkaError(code, `${context.action} failed: ${what}: ${messageOf(error)}`, {
    kind: c.kind,
    kafkaError: c.kafkaError,
    // Protocol errors keep the connection; an unknown retriable error rebuilds it, as before.
    reconnect: c.rule ? c.rule.reconnect === true : c.kind === 'retriable',
    cause: error,
    ...(context.details ? { details: context.details } : {}),
  });
}
