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

/**
 * The longest the broker waits for the replicas' acknowledgements of one produce request
 * (acks=all; kafkajs's sendBatch `timeout`, its own default 30 s).
 */
export const PRODUCE_TIMEOUT_MS = 30_000;

/**
 * A send's abort signal, and the broker's ack timeout bounded by the time left before the
 * Lambda deadline: a broker that waits for replicas past the invocation would answer nobody.
 * The client's own wait for the answer is cut by the signal (lib/kafka/index.ts untilAborted).
 */
const sendOptions = (deps: PipelineDeps): { signal?: AbortSignal; timeoutMs: number } => {
  const left =
    deps.deadline === undefined ? PRODUCE_TIMEOUT_MS : deps.deadline - (deps.now ?? Date.now)();
  return {
    ...(deps.signal ? { signal: deps.signal } : {}),
    timeoutMs: Math.max(1, Math.min(PRODUCE_TIMEOUT_MS, left)),
  };
};

/**
 * Produces the lines (each also the record to produce), retrying retriable failures. When the
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
  lines: readonly (Line & OutRecord)[],
): Promise<ProduceResult> {
  const ranges = new Map<string, ProducedRange>();
  const refused = new Map<KafkaRecord, KafkaError>();
  let produced = 0;
  const sendPart = async (from: number, to: number): Promise<void> => {
    const part = lines.slice(from, to);
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
  if (lines.length > 0) await sendPart(0, lines.length);
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
 * Header of a dead letter sent without its value, because the dead-letter topic refused the
 * value too (most often a record too large for TigerGraph's Kafka is too large for a
 * dead-letter topic on the same cluster). It says why and how many bytes the value had; the
 * value itself stays in the source topic, at the coordinates the other headers give.
 */
export const DLQ_VALUE_OMITTED_HEADER = 'tigerstream.dead.letter.value.omitted';

/**
 * Sends dead letters, retrying retriable failures. A dead letter the topic refuses for itself
 * (record-level) is found by halving the send, as produceLines does, and sent again without
 * its value, with {@link DLQ_VALUE_OMITTED_HEADER}: its coordinates, code and key still reach
 * the dead-letter topic, and nothing is dropped. Should even that be refused, the batch fails
 * (`KAFKA_DEAD_LETTER_REFUSED`, not retriable) and the event-source mapping's on-failure
 * destination keeps it.
 */
export async function sendDeadLetters(
  deps: PipelineDeps,
  deadLetters: readonly OutRecord[],
): Promise<void> {
  const send = (part: readonly OutRecord[]) =>
    retry(() => deps.delivery.send(part, sendOptions(deps)), retryDeps(deps));
  const refusedBy = (error: KafkaError, letters: readonly OutRecord[]): KafkaError =>
    new KafkaError(
      'KAFKA_DEAD_LETTER_REFUSED',
      `The dead-letter topic ${letters[0]?.topic ?? ''} refused ${letters.length} dead letter(s), even without the value: ${error.message}`,
      {
        kind: 'fatal',
        kafkaError: error.kafkaError,
        cause: error,
        details: { topic: letters[0]?.topic },
      },
    );
  const sendPart = async (part: readonly OutRecord[]): Promise<void> => {
    try {
      await send(part);
      return;
    } catch (error) {
      if (!isRecordLevelKafkaError(error)) throw error;
      if (part.length > 1) {
        const mid = part.length >>> 1;
        await sendPart(part.slice(0, mid));
        await sendPart(part.slice(mid));
        return;
      }
      const letter = part[0] as OutRecord;
      const stub: OutRecord = {
        ...letter,
        value: null,
        headers: [
          ...letter.headers,
          {
            key: DLQ_VALUE_OMITTED_HEADER,
            value: Buffer.from(
              `${error.code}: the dead-letter topic refused the value of ${letter.value?.length ?? 0} bytes; read it from the source at the coordinates in the __connect.errors.* headers`,
            ),
          },
        ],
      };
      deps.logger.warn('Dead letter sent without its value: the dead-letter topic refused it', {
        topic: letter.topic,
        bytes: letter.value?.length ?? 0,
        error,
      });
      try {
        await send([stub]);
      } catch (again) {
        if (!isRecordLevelKafkaError(again)) throw again;
        throw refusedBy(again, part);
      }
    }
  };
  if (deadLetters.length > 0) await sendPart(deadLetters);
}
