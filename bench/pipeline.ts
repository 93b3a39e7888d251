/**
 * End-to-end throughput on the embedded default: records through the stream handler
 * (decode, produce to <alias>.<topic> with acks=all, EOF loading run in the emulator) against
 * a baseline measured in the same run: producing the same records with kafkajs alone.
 */
import { Kafka, logLevel } from 'kafkajs';
import {
  withSettings,
  parseConnectorFile,
  validateConnectorFile,
  type ConnectorConfig,
} from '../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../lib/event/index.ts';
import { startEmbeddedKafka, startTigerGraphEmulator } from '../lib/local/index.ts';
import { silentLogger } from '../lib/observability/index.ts';
import { createStreamHandler } from '../lib/pipeline/index.ts';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { result, throughput, type BenchResult } from './harness.ts';

const BATCH = 500;

export async function benchPipeline(): Promise<BenchResult[]> {
  const kafka = startEmbeddedKafka();
  const gsql = readFileSync('infra/examples/company.gsql', 'utf8');
  const tg = await startTigerGraphEmulator({
    gsql,
    kafkaBootstrapOverride: kafka.bootstrapServers,
  });
  kafka.createTopic('companies', 1);
  kafka.createTopic('hello.companies', 1);
  kafka.createTopic('baseline', 1);
  const { parsed, problems } = parseConnectorFile(
    readFileSync('infra/connectors/company.properties', 'utf8'),
    'company.properties',
  );
  const config = withSettings(
    validateConnectorFile(parsed, problems).connectors[0] as ConnectorConfig,
    {
      'source.cluster.bootstrap.servers': kafka.bootstrapServers,
      'target.cluster.bootstrap.servers': kafka.bootstrapServers,
      'tigergraph.url': tg.url,
    },
  );
  const handler = createStreamHandler({
    loadConfig: () => Promise.resolve(config),
    logger: silentLogger(),
  });
  let offset = 0;
  const records = (): KafkaRecord[] =>
    Array.from({ length: BATCH }, () => {
      const n = offset++;
      return {
        topic: 'companies',
        partition: 0,
        offset: n,
        timestamp: Date.now(),
        timestampType: 'CREATE_TIME',
        key: Buffer.from(`c${n}`),
        value: Buffer.from(JSON.stringify({ company: `Company ${n}`, employee_num: n })),
        headers: [],
      };
    });
  const context = {
    awsRequestId: 'bench',
    getRemainingTimeInMillis: () => 60_000,
  } as unknown as Context;
  const producer = new Kafka({
    brokers: kafka.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  }).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const baseline = await throughput(BATCH, () =>
      producer.send({
        topic: 'baseline',
        acks: -1,
        messages: records().map((r) => ({ key: r.key, value: r.value, partition: 0 })),
      }),
    );
    const pipeline = await throughput(
      BATCH,
      () =>
        handler(
          encodeKafkaEvent(records(), { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' }),
          context,
        ),
      3000,
    );
    return [
      result(
        'pipeline: handler, 500-record batches',
        pipeline,
        'kafkajs produce only (acks=all)',
        baseline,
      ),
    ];
  } finally {
    await producer.disconnect();
    await handler.close();
    await tg.stop();
    kafka.stop();
  }
}
