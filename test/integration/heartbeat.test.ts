/**
 * MirrorMaker 2's heartbeats on the embedded broker: the heartbeat function's core, with an
 * injected configuration whose target is the broker, writes to `heartbeats`; the project's own
 * consumer reads the records back and they decode as MM2's Heartbeat.
 */
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { withSettings, type ConnectorConfig } from '../../lib/config/index.ts';
import type { TigerStreamError } from '../../lib/errors/index.ts';
import type { KafkaRecord } from '../../lib/event/index.ts';
import {
  HEARTBEATS_TOPIC,
  createHeartbeatHandler,
  decodeHeartbeat,
  type HeartbeatHandler,
} from '../../lib/heartbeat/index.ts';
import { createBatchConsumer } from '../../lib/kafka/index.ts';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { VALID } from '../helpers/config.ts';
import { uniqueTopic } from '../helpers/embedded.ts';
import { testConfig } from '../helpers/fakes.ts';

const context = {
  awsRequestId: 'heartbeat-integration',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

let kafka: EmbeddedKafka | undefined;
let handler: HeartbeatHandler | undefined;
afterEach(async () => {
  await handler?.close();
  handler = undefined;
  kafka?.stop();
  kafka = undefined;
});

/** The connector file's target pointed at the embedded broker, heartbeats every 5 s as shipped. */
const connectorOn = (bootstrap: string, text = VALID): ConnectorConfig =>
  withSettings(testConfig(text), {
    'target.cluster.bootstrap.servers': bootstrap,
    'emit.heartbeats.interval.seconds': '5',
  });

const heartbeatHandler = (config: ConnectorConfig): HeartbeatHandler =>
  createHeartbeatHandler({
    loadConfig: () => Promise.resolve(config),
    resolveBrokers: (value) => Promise.resolve(value),
    logger: silentLogger(),
    retryPolicy: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20, factor: 2 },
  });

/** Reads `count` records of `topic` from the beginning with lib/kafka's consumer. */
async function consume(bootstrap: string, topic: string, count: number): Promise<KafkaRecord[]> {
  const consumer = createBatchConsumer({
    brokers: bootstrap.split(','),
    security: testConfig().source,
    groupId: uniqueTopic('heartbeat-reader'),
    topics: [topic],
    fromBeginning: true,
    batchSize: 10,
    batchingWindowMs: 50,
    sessionTimeoutMs: 6000,
    logger: silentLogger(),
  });
  const records: KafkaRecord[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length}/${count} from ${topic} before the timeout`)),
        20_000,
      );
      void consumer
        .start({
          onBatch: (batch) => {
            records.push(...batch);
            if (records.length >= count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve(true);
          },
          onFailure: (error: TigerStreamError) => {
            clearTimeout(timer);
            reject(error);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.stop();
  }
  return records;
}

describe("MirrorMaker 2's heartbeats on the embedded broker", () => {
  it('writes a heartbeat per invocation that decodes as MM2 writes it: source alias, target alias, timestamp', async () => {
    kafka = startEmbeddedKafka();
    // As MirrorMaker 2 creates it: one partition.
    kafka.createTopic(HEARTBEATS_TOPIC, 1);
    handler = heartbeatHandler(connectorOn(kafka.bootstrapServers));

    const before = Date.now();
    const first = await handler({}, context);
    const second = await handler({}, context);
    const after = Date.now();
    expect(first).toMatchObject({ sent: true, topic: 'heartbeats', partition: 0, offset: 0 });
    expect(second).toMatchObject({ sent: true, offset: 1 });

    const records = await consume(kafka.bootstrapServers, HEARTBEATS_TOPIC, 2);
    expect(records.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0],
      [0, 1],
    ]);
    const heartbeats = records.map((r) => decodeHeartbeat(r));
    for (const [i, heartbeat] of heartbeats.entries()) {
      expect(heartbeat.sourceClusterAlias).toBe('hello');
      expect(heartbeat.targetClusterAlias).toBe('world');
      expect(heartbeat.timestamp).toBeGreaterThanOrEqual(before);
      expect(heartbeat.timestamp).toBeLessThanOrEqual(after);
      // MirrorHeartbeatTask stamps the record with the heartbeat's own time.
      expect(records[i]?.timestamp).toBe(heartbeat.timestamp);
    }
    expect(heartbeats[1]!.timestamp).toBeGreaterThanOrEqual(heartbeats[0]!.timestamp);
    expect(heartbeats.map((h) => h.timestamp)).toEqual([
      first.sent ? first.heartbeat.timestamp : -1,
      second.sent ? second.heartbeat.timestamp : -1,
    ]);
  }, 60_000);

  it("produces with the target's security settings: SASL the broker does not speak fails the invocation and writes nothing", async () => {
    kafka = startEmbeddedKafka();
    kafka.createTopic(HEARTBEATS_TOPIC, 1);
    // The embedded broker answers PLAINTEXT only, so a producer that honours producer.* SASL
    // settings cannot connect; one that ignored them would write.
    const sasl = VALID.replace(
      '[connector_1]',
      'producer.security.protocol=SASL_PLAINTEXT\nproducer.sasl.mechanism=SCRAM-SHA-512\nproducer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="tg" password="hb-secret-5e1";\n[connector_1]',
    );
    const config = connectorOn(kafka.bootstrapServers, sasl);
    expect(config.target).toMatchObject({ protocol: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-512' });
    handler = heartbeatHandler(config);
    // The first request is the topic's metadata, whose SASL handshake the broker refuses (which
    // KAFKA_* code says so is lib/kafka's classification; any Kafka error is the point here).
    await expect(handler({}, context)).rejects.toMatchObject({
      code: expect.stringMatching(/^KAFKA_/) as unknown,
    });

    // The same connector without the SASL settings writes, so the refusal came from them.
    const plain = heartbeatHandler(connectorOn(kafka.bootstrapServers));
    try {
      await expect(plain({}, context)).resolves.toMatchObject({ sent: true, offset: 0 });
    } finally {
      await plain.close();
    }
    const records = await consume(kafka.bootstrapServers, HEARTBEATS_TOPIC, 1);
    expect(records).toHaveLength(1);
  }, 60_000);
});
