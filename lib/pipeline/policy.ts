/**
 * The batch policy, in one place. What happens to a record that cannot be converted:
 *
 * | errors.tolerance | dead-letter topic | outcome                                              |
 * |------------------|-------------------|------------------------------------------------------|
 * | none             | any               | the invocation fails; the ESM redelivers the batch    |
 * | all              | set               | the original record goes to the dead-letter topic    |
 * | all              | not set           | counted as rejected and logged with its coordinates  |
 *
 * Retriable errors (network, 5xx, registry down) always fail the invocation, whatever the
 * tolerance, so the batch is retried rather than dead-lettered.
 */
import type { ConnectorConfig } from '../config/index.ts';
import { ConvertError } from '../errors/index.ts';

export type RecordOutcome = 'fail-batch' | 'dead-letter' | 'reject';

export function decideRecordFailure(
  error: unknown,
  config: Pick<ConnectorConfig, 'errorsTolerance' | 'deadLetterTopic'>,
): RecordOutcome {
  // Only a ConvertError is about one record; anything else (registry down or refusing us,
  // a bug) would dead-letter every record, so it fails the batch instead.
  if (!(error instanceof ConvertError) || error.retriable) return 'fail-batch';
  if (config.errorsTolerance === 'none') return 'fail-batch';
  return config.deadLetterTopic === undefined ? 'reject' : 'dead-letter';
}

/** Headers added to a dead-lettered record (Kafka Connect's names, for familiarity). */
export const DLQ_HEADERS = {
  code: '__connect.errors.exception.code',
  message: '__connect.errors.exception.message',
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
} as const;
