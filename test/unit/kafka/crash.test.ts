import { describe, expect, it } from 'vitest';
import { LocalError } from '../../../lib/errors/index.ts';
import { CodecError } from '../../../lib/kafka/index.ts';
import { consumerFailure } from '../../../lib/kafka/crash.ts';

/** A kafkajs error as it reaches the CRASH event: a name, a message, sometimes a cause. */
const kafkajsError = (name: string, message: string, cause?: unknown): Error =>
  Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { name });

const context = { groupId: 'tigerstream-company-stream', restarts: 0 };

describe('consumerFailure', () => {
  it('passes on the coded error that caused the crash, however deep', () => {
    const ours = new CodecError(
      'KAFKA_CODEC_CORRUPT',
      'A lz4-compressed record batch could not be decompressed',
    );
    const wrapped = kafkajsError('KafkaJSNumberOfRetriesExceeded', 'retries', ours);
    expect(consumerFailure(wrapped, context)).toBe(ours);
  });

  it("names the codec when kafkajs has none for a batch's compression", () => {
    const error = consumerFailure(
      kafkajsError('KafkaJSNotImplemented', 'Snappy compression not implemented'),
      context,
    );
    expect(error).toBeInstanceOf(CodecError);
    expect(error).toMatchObject({ code: 'KAFKA_CODEC_UNSUPPORTED', details: { codec: 'snappy' } });
    expect(error.message).toContain('snappy-compressed');
  });

  it('wraps anything else with the group and the restarts tried', () => {
    const cause = kafkajsError('KafkaJSConnectionError', 'Connection error: ECONNREFUSED');
    const error = consumerFailure(cause, { ...context, restarts: 5 });
    expect(error).toBeInstanceOf(LocalError);
    expect(error).toMatchObject({ code: 'KAFKA_SOURCE_CONSUMER_FAILED', cause });
    expect(error.message).toBe(
      'The source consumer of group tigerstream-company-stream stopped after 5 restart(s): KafkaJSConnectionError: Connection error: ECONNREFUSED',
    );
  });
});
