/**
 * Producing to TigerGraph's Kafka so that one record the broker refuses (a record-level error,
 * lib/kafka/errors.ts) is found, and the batch's other records are still delivered, in order;
 * and sending dead letters.
 */
import type { KafkaRecord } from '../event/index.ts';
import { retry } from '../errors/retry.ts';
import {
  KafkaError,
  isRecordLevelKafkaError,
  type OutRecord,
  type ProducedRange,
} from '../kafka/index.ts';
import { coordinates, dlqHeaders, retryDeps, type Line, type PipelineDeps } from './common.ts';
import { decideRecordFailure } from './policy.ts';

/** A source record a line of which the broker refused, and why. */
export interface Refusal {
  readonly record: KafkaRecord;
  readonly error: KafkaError;
}

export interface ProduceResult {
  /** Per topic-partition, the first offset produced. */
  readonly ranges: ProducedRange[];
  /** Lines acknowledged. */
  readonly produced: number;
  /** Source records refused (each once, in order), when errors.tolerance lets the batch go on. */
  readonly refused: Refusal[];
}

const sendOptions = (deps: PipelineDeps) => (deps.signal ? { signal: deps.signal } : {});

/**
 * Produces `out` (the line `lines[i]` became `out[i]`), retrying retriable failures. When the
 * broker refuses a send for its records (too large, invalid, corrupt), the send is split in
 * halves, the first half delivered before the second, until the refused line stands alone:
 * a send of many records fails as a whole, and a send too large as a whole succeeds in parts.
 * A refused line's record goes to the policy: under errors.tolerance=none the batch fails at
 * once with the record's code and coordinates; under `all` it is returned as refused and
 * the rest goes on. Order within each partition is kept, since each part is acknowledged
 * before the next is sent. A refused request spanning several partitions may have been
 * written in the partitions that accepted it (kafkajs reports the first error only), so their
 * records can reach the topic twice: delivery is at-least-once.
 */
export async function produceLines(
  deps: PipelineDeps,
  out: readonly OutRecord[],
  lines: readonly Line[],
): Promise<ProduceResult> {
  const ranges = new Map<string, ProducedRange>();
  const refused = new Map<KafkaRecord, KafkaError>();
  let produced = 0;
  const sendPart = async (from: number, to: number): Promise<void> => {
    const part = out.slice(from, to);
    try {
      const got = await retry(() => deps.delivery.send(part, sendOptions(deps)), retryDeps(deps));
      produced += part.length;
      for (const r of got) {
        const key = `${r.topic}\u0000${r.partition}`;
        const known = ranges.get(key);
        if (known === undefined || r.firstOffset < known.firstOffset) ranges.set(key, r);
      }
      return;
    } catch (error) {
      if (!isRecordLevelKafkaError(error)) throw error;
      if (to - from > 1) {
        const mid = (from + to) >>> 1;
        await sendPart(from, mid);
        await sendPart(mid, to);
        return;
      }
      const record = (lines[from] as Line).record;
      if (decideRecordFailure(error, deps.config) === 'fail-batch') {
        const at = coordinates(record);
        throw new KafkaError(
          error.code,
          `TigerGraph's Kafka refused the record at ${at.topic}[${at.partition}] offset ${at.offset}: ${error.message}; errors.tolerance=none fails the batch`,
          { kind: 'record', kafkaError: error.kafkaError, cause: error, details: at },
        );
      }
      if (!refused.has(record)) refused.set(record, error);
    }
  };
  if (out.length > 0) await sendPart(0, out.length);
  return {
    ranges: [...ranges.values()],
    produced,
    refused: [...refused].map(([record, error]) => ({ record, error })),
  };
}

/**
 * The records the broker refused, under errors.tolerance=all: dead-lettered (with the
 * refusal's code in their headers) when a dead-letter topic is set, else counted as rejected;
 * each logged with its coordinates.
 */
export async function handleRefusals(
  deps: PipelineDeps,
  refused: readonly Refusal[],
): Promise<{ deadLettered: number; rejected: number }> {
  const letters: OutRecord[] = [];
  for (const { record, error } of refused) {
    const outcome = decideRecordFailure(error, deps.config);
    if (outcome === 'fail-batch') throw error;
    deps.logger.warn(
      outcome === 'dead-letter'
        ? 'Record sent to the dead-letter topic'
        : 'Record rejected (errors.tolerance=all, no dead-letter topic)',
      { ...coordinates(record), error },
    );
    if (outcome === 'dead-letter')
      letters.push(deadLetterOf(record, error, deps.config.deadLetterTopic as string));
  }
  await sendDeadLetters(deps, letters);
  return { deadLettered: letters.length, rejected: refused.length - letters.length };
}

/** A dead letter: the original record to the dead-letter topic, with the error's headers. */
export const deadLetterOf = (record: KafkaRecord, error: unknown, topic: string): OutRecord => ({
  topic,
  partition: undefined,
  key: record.key,
  value: record.value,
  headers: dlqHeaders(record, error),
  timestamp: record.timestamp,
});

/**
 * Sends dead letters, retrying retriable failures. The dead-letter topic refusing one (most
 * often a record too large for TigerGraph's Kafka is too large for a dead-letter topic on the
 * same cluster) fails the batch, since nothing may be dropped: `KAFKA_DEAD_LETTER_REFUSED`,
 * not retriable; the event-source mapping's on-failure destination keeps the batch.
 */
export async function sendDeadLetters(
  deps: PipelineDeps,
  deadLetters: readonly OutRecord[],
): Promise<void> {
  if (deadLetters.length === 0) return;
  try {
    await retry(() => deps.delivery.send(deadLetters, sendOptions(deps)), retryDeps(deps));
  } catch (error) {
    if (!isRecordLevelKafkaError(error)) throw error;
    throw new KafkaError(
      'KAFKA_DEAD_LETTER_REFUSED',
      `The dead-letter topic ${deadLetters[0]?.topic ?? ''} refused ${deadLetters.length} dead letter(s): ${error.message}`,
      {
        kind: 'fatal',
        kafkaError: error.kafkaError,
        cause: error,
        details: { topic: deadLetters[0]?.topic },
      },
    );
  }
}
