import { describe, expect, it } from 'vitest';
// kafkajs is CommonJS and spreads its error classes into its exports, which Node's ESM loader
// does not see as named exports.
import kafkajs from 'kafkajs';
import { TigerStreamError } from '../../../lib/errors/index.ts';
import {
  KAFKA_ERROR_KINDS,
  KAFKA_ERROR_RULES,
  KafkaError,
  classifyKafkaError,
  isRecordLevelKafkaError,
  maxRequestSizeOf,
  toKafkaError,
} from '../../../lib/kafka/index.ts';

const {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
  KafkaJSServerDoesNotSupportApiKey,
} = kafkajs;

/** What kafkajs throws for a Kafka error code: its protocol error with kafkajs's own flag. */
const protocol = (type: string, code: number, retriable: boolean): Error =>
  new KafkaJSProtocolError(
    Object.assign(new Error(`broker says ${type}`), { type, code, retriable }),
  );
/** What kafkajs's retrier throws when its retries are spent. */
const exhausted = (cause: Error): Error =>
  new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 0, retryTime: 100 });
const context = {
  action: 'Producing 3 record(s) to hello.t',
  retriableCode: 'KAFKA_PRODUCE_RETRIABLE',
  fallbackCode: 'KAFKA_PRODUCE_FAILED',
};

describe('the Kafka error table', () => {
  it('gives every record-level and fatal row a code, and no retriable row one', () => {
    for (const [name, rule] of Object.entries(KAFKA_ERROR_RULES)) {
      expect(KAFKA_ERROR_KINDS, name).toContain(rule.kind);
      if (rule.kind === 'retriable') expect(rule.code, name).toBeUndefined();
      else expect(rule.code, name).toMatch(/^KAFKA_[A-Z_]+$/);
      expect(rule.meaning.length, name).toBeGreaterThan(5);
    }
  });

  it('holds each Kafka protocol number once', () => {
    const numbers = Object.values(KAFKA_ERROR_RULES).flatMap((r) =>
      r.kafkaCode === undefined ? [] : [r.kafkaCode],
    );
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it.each([
    // [kafkajs type, code, kafkajs's own retriable flag, our kind, our code]
    ['NOT_LEADER_FOR_PARTITION', 6, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['LEADER_NOT_AVAILABLE', 5, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['REQUEST_TIMED_OUT', 7, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['NETWORK_EXCEPTION', 13, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['NOT_ENOUGH_REPLICAS', 19, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    // kafkajs calls a broker that is not available non-retriable; it comes back.
    ['BROKER_NOT_AVAILABLE', 8, false, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
    ['MESSAGE_TOO_LARGE', 10, false, 'record', 'KAFKA_RECORD_TOO_LARGE'],
    ['RECORD_LIST_TOO_LARGE', 18, false, 'record', 'KAFKA_RECORD_TOO_LARGE'],
    // kafkajs retries a corrupt message; the broker refuses the same bytes every time.
    ['CORRUPT_MESSAGE', 2, true, 'record', 'KAFKA_RECORD_CORRUPT'],
    ['INVALID_RECORD', 87, false, 'record', 'KAFKA_RECORD_INVALID'],
    ['INVALID_TIMESTAMP', 32, false, 'record', 'KAFKA_RECORD_TIMESTAMP_INVALID'],
    ['TOPIC_AUTHORIZATION_FAILED', 29, false, 'fatal', 'KAFKA_AUTHORIZATION_FAILED'],
    ['CLUSTER_AUTHORIZATION_FAILED', 31, false, 'fatal', 'KAFKA_AUTHORIZATION_FAILED'],
    ['SASL_AUTHENTICATION_FAILED', 58, false, 'fatal', 'KAFKA_AUTHENTICATION_FAILED'],
    // Kafka calls it non-retriable; kafkajs's own flag is not trusted for it.
    ['ILLEGAL_SASL_STATE', 34, true, 'fatal', 'KAFKA_AUTHENTICATION_FAILED'],
    ['UNSUPPORTED_COMPRESSION_TYPE', 76, false, 'fatal', 'KAFKA_COMPRESSION_UNSUPPORTED'],
    // Not in the table: kafkajs's flag decides, and the call names a fatal one.
    ['OFFSET_METADATA_TOO_LARGE', 12, false, 'fatal', 'KAFKA_PRODUCE_FAILED'],
    ['GROUP_LOAD_IN_PROGRESS', 14, true, 'retriable', 'KAFKA_PRODUCE_RETRIABLE'],
  ] as const)(
    '%s (%i; kafkajs retriable: %s) is %s: %s',
    (type, code, kafkajsRetriable, kind, ours) => {
      for (const thrown of [
        protocol(type, code, kafkajsRetriable),
        exhausted(protocol(type, code, kafkajsRetriable)),
      ]) {
        expect(classifyKafkaError(thrown).kind).toBe(kind);
        const error = toKafkaError(thrown, context);
        expect(error).toMatchObject({ code: ours, retriable: kind === 'retriable' });
        expect(isRecordLevelKafkaError(error)).toBe(kind === 'record');
      }
    },
  );

  it("names protocol errors by Kafka's current name, whatever kafkajs calls them", () => {
    expect(classifyKafkaError(protocol('NOT_LEADER_FOR_PARTITION', 6, true))).toMatchObject({
      kind: 'retriable',
      kafkaError: 'NOT_LEADER_OR_FOLLOWER',
    });
  });

  it('reads a number kafkajs does not know from its message (THROTTLING_QUOTA_EXCEEDED, 89)', () => {
    const unknown = protocol('KAFKAJS_UNKNOWN_ERROR_CODE', -99, false);
    Object.assign(unknown, { message: 'Unknown error code 89' });
    expect(classifyKafkaError(unknown)).toMatchObject({
      kind: 'retriable',
      kafkaError: 'THROTTLING_QUOTA_EXCEEDED',
    });
  });

  it('classifies through kafkajs wrappers: the cause decides', () => {
    const tooLarge = protocol('MESSAGE_TOO_LARGE', 10, false);
    expect(classifyKafkaError(exhausted(tooLarge)).kind).toBe('record');
    // The retrier wraps a non-retriable error with { cause }.
    const wrapped = new KafkaJSNonRetriableError(tooLarge);
    Object.assign(wrapped, { cause: tooLarge });
    expect(classifyKafkaError(wrapped)).toMatchObject({
      kind: 'record',
      kafkaError: 'MESSAGE_TOO_LARGE',
    });
    // Exhausted retries of a broken connection: retriable, and the producer is rebuilt.
    const broken = toKafkaError(exhausted(new KafkaJSConnectionError('write ECONNRESET')), context);
    expect(broken).toMatchObject({
      code: 'KAFKA_PRODUCE_RETRIABLE',
      retriable: true,
      reconnect: true,
    });
    // A leader change needs no new connection (kafkajs refreshed its metadata).
    expect(toKafkaError(protocol('NOT_LEADER_FOR_PARTITION', 6, true), context)).toMatchObject({
      reconnect: false,
    });
  });

  it("takes the most severe of an aggregate's errors (fatal, then retriable, then record)", () => {
    const record = protocol('INVALID_RECORD', 87, false);
    const retriable = protocol('REQUEST_TIMED_OUT', 7, true);
    const fatal = protocol('TOPIC_AUTHORIZATION_FAILED', 29, false);
    expect(classifyKafkaError(new KafkaJSAggregateError('x', [record, retriable])).kind).toBe(
      'retriable',
    );
    expect(
      classifyKafkaError(new KafkaJSAggregateError('x', [record, fatal, retriable])).kind,
    ).toBe('fatal');
    expect(classifyKafkaError(new KafkaJSAggregateError('x', [record])).kind).toBe('record');
  });

  it('classifies kafkajs errors without a protocol code by class', () => {
    const sasl = Reflect.construct(KafkaJSSASLAuthenticationError, [
      'SASL PLAIN authentication failed: Authentication failed',
    ]) as Error;
    expect(toKafkaError(sasl, context)).toMatchObject({
      code: 'KAFKA_AUTHENTICATION_FAILED',
      retriable: false,
      message: expect.stringContaining('the broker refused the credentials') as unknown,
    });
    const api = new KafkaJSServerDoesNotSupportApiKey(
      'The Kafka server does not support the requested API version',
      {
        apiKey: 17,
        apiName: 'SaslHandshake',
      },
    );
    expect(toKafkaError(api, context)).toMatchObject({
      code: 'KAFKA_BROKER_API_UNSUPPORTED',
      retriable: false,
    });
  });

  it.each([
    'Invalid topic',
    'Invalid message without value for topic "hello.t": {"key":null}',
    "The producer is disconnecting; therefore, it can't safely accept messages anymore",
  ])(
    'kafkajs refusing a request itself ("%s") is not retried: KAFKA_PRODUCE_REQUEST_INVALID, the client rebuilt',
    (message) => {
      const error = toKafkaError(new KafkaJSNonRetriableError(message), context);
      expect(error).toMatchObject({
        code: 'KAFKA_PRODUCE_REQUEST_INVALID',
        retriable: false,
        kind: 'fatal',
        reconnect: true,
      });
      expect(error.message).toBe(
        `Producing 3 record(s) to hello.t failed: the Kafka client refused the request before sending it (KafkaJSNonRetriableError): ${message}`,
      );
      expect(isRecordLevelKafkaError(error)).toBe(false);
    },
  );

  it('keeps one of our own errors found in the chain, and calls anything else fatal', () => {
    const ours = new TigerStreamError('KAFKA_OAUTH_TOKEN_FAILED', 'refused', { retriable: false });
    expect(toKafkaError(exhausted(ours), context)).toBe(ours);
    const bug = toKafkaError(new TypeError('x is undefined'), context);
    expect(bug).toMatchObject({ code: 'KAFKA_PRODUCE_FAILED', retriable: false });
    expect(bug.message).toBe('Producing 3 record(s) to hello.t failed: TypeError: x is undefined');
  });

  it("says what failed, what the table says it means, and Kafka's name", () => {
    const error = toKafkaError(protocol('MESSAGE_TOO_LARGE', 10, false), context);
    expect(error).toBeInstanceOf(KafkaError);
    expect(error.message).toBe(
      "Producing 3 record(s) to hello.t failed: the record batch is larger than the broker's message.max.bytes (TigerGraph: Kafka.MessageMaxSizeMB) (MESSAGE_TOO_LARGE): broker says MESSAGE_TOO_LARGE",
    );
    expect(error.details).toMatchObject({ kafkaError: 'MESSAGE_TOO_LARGE' });
  });
});

describe('producer.max.request.size', () => {
  it('is read as a positive integer, or undefined when not set', () => {
    expect(maxRequestSizeOf({})).toBeUndefined();
    expect(maxRequestSizeOf({ 'producer.max.request.size': ' ' })).toBeUndefined();
    expect(maxRequestSizeOf({ 'producer.max.request.size': '1048576' })).toBe(1_048_576);
  });

  it.each(['0', '-1', '1.5', 'big', '104857601'])(
    'refuses %s, naming the key and the range',
    (v) => {
      expect(() => maxRequestSizeOf({ 'producer.max.request.size': v })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_MAX_REQUEST_SIZE_INVALID',
          message: `producer.max.request.size must be an integer from 1 to 104857600; found "${v}"`,
        }),
      );
    },
  );
});
