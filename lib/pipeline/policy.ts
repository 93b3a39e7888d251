/**
 * The batch policy, in one place: what happens to a record that fails, by where it failed and
 * `errors.tolerance` (DESIGN.md sections 2 and 4).
 *
 * | the record ...                                         | none                                           | all, dead-letter topic set                     | all, no dead-letter topic |
 * |--------------------------------------------------------|------------------------------------------------|------------------------------------------------|---------------------------|
 * | cannot be converted (`CONVERT_*`)                      | the batch fails with the record's code          | dead-lettered                                  | rejected                  |
 * | is refused by TigerGraph's Kafka (`KAFKA_RECORD_*`)    | the batch fails with the record's code          | dead-lettered                                  | rejected                  |
 * | is rejected by TigerGraph, direct mode                 | the batch fails: `TIGERGRAPH_RECORDS_REJECTED`  | dead-lettered (`TIGERGRAPH_RECORD_REJECTED`)   | rejected                  |
 * | is rejected by TigerGraph, kafka mode, EOF run waited  | the batch fails: `TIGERGRAPH_RECORDS_REJECTED`  | rejected (see below)                           | rejected                  |
 *
 * - "The batch fails": the invocation throws a non-retriable coded error at once, with no
 *   retry inside the invocation. The event-source mapping retries the batch, bisects it
 *   (BisectBatchOnFunctionError) and writes what still fails to its on-failure destination
 *   (infra/index.ts). The records of the batch that succeeded before are delivered again on
 *   each retry (at-least-once).
 * - "Dead-lettered": the original key, value, headers and timestamp go to
 *   `errors.deadletterqueue.topic.name` with {@link DLQ_HEADERS} naming the code, the message
 *   and the coordinates; the batch goes on. A dead letter the cluster refuses in turn fails the
 *   batch (`KAFKA_DEAD_LETTER_REFUSED`): nothing is dropped.
 * - "Rejected": counted in the batch's `rejected` and logged with its coordinates (never its
 *   bytes).
 * - TigerGraph rejections that cannot be mapped back to records are counted, never
 *   dead-lettered. An EOF run reports sums over the lines it read, not which lines it
 *   rejected: with a dead-letter topic the lines are posted again to /ddl to single the
 *   records out (process.ts isolateRejected); when /ddl refuses, or direct mode's re-post
 *   budget is spent (lib/pipeline/direct.ts), they are counted. With `tigergraph.loading.eof=false`, `tigergraph.loading.wait=false`
 *   or a mirror-only connector TigerStream never learns TigerGraph's verdict: the loading job's
 *   own statistics report it.
 * - Retriable errors (network, timeouts, 5xx, 429, leader changes, the registry down) fail the
 *   invocation after the retries within it, whatever the tolerance: dead-lettering them would
 *   set aside records that succeed later. Fatal errors (authentication, authorization, a
 *   setting the cluster refuses) fail it at once, whatever the tolerance.
 */
import type { ConnectorConfig } from '../config/index.ts';
import { ConvertError, TigerGraphError } from '../errors/index.ts';
import { isRecordLevelKafkaError } from '../kafka/index.ts';

export type RecordOutcome = 'fail-batch' | 'dead-letter' | 'reject';

/** The code of a record TigerGraph rejected and that was singled out (direct mode). */
export const TIGERGRAPH_RECORD_REJECTED = 'TIGERGRAPH_RECORD_REJECTED';
/** The code of a batch failed because TigerGraph rejected records under errors.tolerance=none. */
export const TIGERGRAPH_RECORDS_REJECTED = 'TIGERGRAPH_RECORDS_REJECTED';

/**
 * True for an error that is about one record and will not change on a retry: a record that
 * cannot be converted, one the broker refuses, one TigerGraph rejected. Anything else (the
 * registry down or refusing us, an authorization failure, a bug) would be the same for every
 * record, so it fails the batch instead of dead-lettering the lot.
 */
export const isRecordLevel = (error: unknown): boolean =>
  (error instanceof ConvertError && !error.retriable) ||
  isRecordLevelKafkaError(error) ||
  (error instanceof TigerGraphError && error.code === TIGERGRAPH_RECORD_REJECTED);

/** What to do with one record that failed with `error`; see the table above. */
export function decideRecordFailure(
  error: unknown,
  config: Pick<ConnectorConfig, 'errorsTolerance' | 'deadLetterTopic'>,
): RecordOutcome {
  if (!isRecordLevel(error)) return 'fail-batch';
  if (config.errorsTolerance === 'none') return 'fail-batch';
  return config.deadLetterTopic === undefined ? 'reject' : 'dead-letter';
}

/** Whether TigerGraph's rejections fail the batch (errors.tolerance=none), before any is singled out. */
export const rejectionsFailBatch = (config: Pick<ConnectorConfig, 'errorsTolerance'>): boolean =>
  config.errorsTolerance === 'none';

/**
 * The error that fails a batch whose records TigerGraph rejected under errors.tolerance=none.
 * Not retriable: TigerGraph's verdict does not change on a retry, so nothing is retried within
 * the invocation; the event-source mapping's retries and bisection take it from there.
 */
export function recordsRejectedError(what: {
  readonly job: string;
  /** Which records, e.g. "records companies[0] offsets 10-59" or "EOF run g.job.123". */
  readonly where: string;
  readonly rejectedLines: number;
  readonly rejectedObjects: number;
  readonly details?: Readonly<Record<string, string | number | boolean | undefined>>;
}): TigerGraphError {
  return new TigerGraphError(
    TIGERGRAPH_RECORDS_REJECTED,
    `TigerGraph's loading job ${what.job} rejected ${what.rejectedLines} line(s) and ${what.rejectedObjects} object(s) of ${what.where}; errors.tolerance=none fails the batch (set errors.tolerance=all and errors.deadletterqueue.topic.name to set rejected records aside and go on)`,
    {
      retriable: false,
      details: {
        job: what.job,
        rejectedLines: what.rejectedLines,
        rejectedObjects: what.rejectedObjects,
        ...what.details,
      },
    },
  );
}

/** Headers added to a dead-lettered record (Kafka Connect's names, for familiarity). */
export const DLQ_HEADERS = {
  code: '__connect.errors.exception.code',
  message: '__connect.errors.exception.message',
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
} as const;
