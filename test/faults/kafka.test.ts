/**
 * Fault suite, TigerGraph's Kafka: a broker down in the middle of a batch, produce errors the
 * broker answers, and an oversized record. Faults come from the embedded broker's fault API;
 * a wrapper around the container's real producer only picks the moment.
 */
import { logLevel } from 'kafkajs';
import { createKafkaClient } from '../../lib/kafka/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { KAFKA_API_KEYS, KAFKA_ERRORS } from '../../lib/local/index.ts';
import {
  aroundSend,
  idOf,
  jsonValue,
  sourceRecords,
  startFaultEnv,
  type FaultEnv,
} from './harness.ts';
import { batchesOf, stream } from './esm.ts';
import { expectNothingLost, settle } from './scenario.ts';

const SCENARIO_TIMEOUT_MS = 120_000;

/** Each partition's leader (the mock cluster places leaders at random). */
async function leadersOf(bootstrap: string, topic: string): Promise<Map<number, number>> {
  const admin = createKafkaClient({
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map((topics[0]?.partitions ?? []).map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let env: FaultEnv | undefined;
/** Faults that end later (a broker back up): settled before the broker is stopped. */
const pending: Promise<unknown>[] = [];
afterEach(async () => {
  await Promise.allSettled(pending.splice(0));
  await env?.stop();
  env = undefined;
});

describe('fault suite: TigerGraph Kafka', () => {
  it(
    'target broker down in the middle of a batch',
    async () => {
      env = await startFaultEnv({ brokers: 3 });
      const e = env;
      const sources = sourceRecords(e, 30);
      const leaders = await leadersOf(e.kafka.bootstrapServers, e.target);
      const outage = (broker: number): void => {
        e.kafka.brokerDown(broker);
        pending.push(sleep(2000).then(() => e.kafka.brokerUp(broker)));
      };
      let downAsSent: number | undefined;
      let downOnceSent: number | undefined;
      const containers = e.containers({
        delivery: aroundSend(async (send) => {
          if (downAsSent !== undefined) outage(downAsSent);
          downAsSent = undefined;
          await send();
          if (downOnceSent !== undefined) outage(downOnceSent);
          downOnceSent = undefined;
        }),
      });
      const deliveries = await stream(e, containers, batchesOf(sources, 15), (i) => ({
        before: (attempt) => {
          if (attempt !== 1) return;
          // Batch 1: partition 1's leader goes down as the batch is produced (the other
          // leaders take their part of it).
          if (i === 1) downAsSent = leaders.get(1);
          // Batch 3: partition 2's leader goes down once the batch is produced, while the EOF
          // run reads it.
          if (i === 3) downOnceSent = leaders.get(2);
        },
      }));
      await Promise.all(pending);
      const verdict = await settle('target broker down mid-batch', e, sources, deliveries);
      expect(deliveries[1]?.errors.length, 'batch 1 met the broker down').toBeGreaterThan(0);
      expectNothingLost(verdict);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'produce errors NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT',
    async () => {
      env = await startFaultEnv();
      const e = env;
      const sources = sourceRecords(e, 30);
      const { NOT_LEADER_OR_FOLLOWER: NOT_LEADER, REQUEST_TIMED_OUT: TIMED_OUT } = KAFKA_ERRORS;
      // Fewer errors than the attempts in an invocation (4) are absorbed by its retries; more
      // fail the invocation and the batch is delivered again.
      const pushed: Record<number, number[]> = {
        0: [NOT_LEADER, TIMED_OUT],
        2: [TIMED_OUT, NOT_LEADER, TIMED_OUT, NOT_LEADER, TIMED_OUT],
        4: [NOT_LEADER, NOT_LEADER, NOT_LEADER, NOT_LEADER, NOT_LEADER, NOT_LEADER],
      };
      const deliveries = await stream(e, e.containers(), batchesOf(sources, 15), (i) => ({
        before: (attempt) => {
          const errors = pushed[i];
          if (attempt === 1 && errors) e.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, errors);
        },
      }));
      const verdict = await settle('produce errors (6, 7)', e, sources, deliveries);
      expect(
        [2, 4].map((i) => deliveries[i]?.errors.length),
        'batches 2 and 4 outlasted the retries of their first invocation',
      ).toEqual([1, 1]);
      expectNothingLost(verdict);
    },
    SCENARIO_TIMEOUT_MS,
  );

  /** A JSON record of about 300 KB with the record's coordinates. */
  const OVERSIZED = idOf(1, 7);
  const oversized = (partition: number, offset: number): Buffer =>
    idOf(partition, offset) === OVERSIZED
      ? Buffer.from(
          JSON.stringify({
            company: OVERSIZED,
            employee_num: offset,
            src: partition,
            seq: offset,
            pad: 'x'.repeat(300_000),
          }),
        )
      : jsonValue(partition, offset);
  const TOPIC_LIMIT = 256 * 1024;

  it(
    'an oversized record the broker refuses (MESSAGE_TOO_LARGE) is dead-lettered',
    async () => {
      env = await startFaultEnv();
      const e = env;
      const sources = sourceRecords(e, 20, oversized);
      // The target topic's max.message.bytes is 256 KiB; the dead-letter topic's is larger
      // (the mock broker has no per-topic limit, so the broker is told to refuse each produce
      // request that carries the record to the target topic).
      const containers = e.containers({
        delivery: aroundSend(async (send, records) => {
          if (records.some((r) => r.topic === e.target && (r.value?.length ?? 0) > TOPIC_LIMIT))
            e.kafka.pushRequestErrors(KAFKA_API_KEYS.Produce, [KAFKA_ERRORS.MESSAGE_TOO_LARGE]);
          await send();
        }),
      });
      const deliveries = await stream(e, containers, batchesOf(sources, 15));
      const verdict = await settle('oversized record (broker limit)', e, sources, deliveries, {
        poison: [OVERSIZED],
      });
      expectNothingLost(verdict, [OVERSIZED]);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'an oversized record over producer.max.request.size is dead-lettered',
    async () => {
      env = await startFaultEnv({
        settings: { 'producer.max.request.size': String(TOPIC_LIMIT) },
      });
      const e = env;
      const sources = sourceRecords(e, 20, oversized);
      const deliveries = await stream(e, e.containers(), batchesOf(sources, 15));
      const verdict = await settle('oversized record (producer limit)', e, sources, deliveries, {
        poison: [OVERSIZED],
      });
      expectNothingLost(verdict, [OVERSIZED]);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
