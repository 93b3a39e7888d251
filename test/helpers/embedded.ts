/** Integration harness: the real embedded broker and the TigerGraph emulator, unique topics. */
import { randomBytes } from 'node:crypto';
import { logLevel, type IHeaders } from 'kafkajs';
import { createKafkaClient } from '../../lib/kafka/index.ts';
import { withSettings, type ConnectorConfig } from '../../lib/config/index.ts';
import {
  startEmbeddedKafka,
  startTigerGraphEmulator,
  type EmbeddedKafka,
  type EmulatorOptions,
  type TigerGraphEmulator,
} from '../../lib/local/index.ts';
import { edit, VALID } from './config.ts';
import { testConfig } from './fakes.ts';

export const COMPANY_GSQL = (topic: string): string => `
CREATE VERTEX Company (primary_id name STRING, employee_num INT)
CREATE GRAPH Company_Graph (Company)
CREATE DATA_SOURCE KAFKA k1 = "{\\"broker\\":\\"localhost:30002\\"}" FOR GRAPH Company_Graph
CREATE LOADING JOB load_company FOR GRAPH Company_Graph {
  DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"${topic}\\",\\"default_start_offset\\":-2}";
  LOAD f1 TO VERTEX Company VALUES ($"company", $"employee_num") USING JSON_FILE="true";
}
`;

export const uniqueTopic = (prefix = 't'): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export interface Env {
  kafka: EmbeddedKafka;
  tg: TigerGraphEmulator;
  source: string;
  target: string;
  config: ConnectorConfig;
  stop(): Promise<void>;
}

/** Starts a broker and an emulator with a fresh source/target topic pair and a matching connector. */
export async function startEnv(
  options: {
    partitions?: number;
    brokers?: number;
    settings?: Record<string, string>;
    emulator?: Pick<EmulatorOptions, 'secret' | 'username' | 'password' | 'runningWord'>;
    /** The emulator's schema and jobs for the target topic (default: the company example). */
    gsql?: (target: string) => string;
  } = {},
): Promise<Env> {
  const partitions = options.partitions ?? 3;
  const kafka = startEmbeddedKafka({ brokers: options.brokers ?? 1 });
  const source = uniqueTopic('src');
  const target = `hello.${source}`;
  kafka.createTopic(source, partitions);
  kafka.createTopic(target, partitions);
  const tg = await startTigerGraphEmulator({
    gsql: (options.gsql ?? COMPANY_GSQL)(target),
    kafkaBootstrapOverride: kafka.bootstrapServers,
    ...(options.emulator ?? {}),
  });
  const config = withSettings(testConfig(edit('topics', source, VALID)), {
    'source.cluster.bootstrap.servers': kafka.bootstrapServers,
    'target.cluster.bootstrap.servers': kafka.bootstrapServers,
    'tigergraph.url': tg.url,
    ...options.settings,
  });
  return {
    kafka,
    tg,
    source,
    target,
    config,
    stop: async () => {
      await tg.stop();
      kafka.stop();
    },
  };
}

export interface SeedMessage {
  key?: string | null;
  value: string | null;
  partition: number;
  headers?: IHeaders;
  timestamp?: string;
}

export async function produce(
  bootstrap: string,
  topic: string,
  messages: SeedMessage[],
): Promise<void> {
  await produceSends(bootstrap, topic, [messages]);
}

/** Produces each list as a request of its own (acks=all), in order, on one connection. */
export async function produceSends(
  bootstrap: string,
  topic: string,
  sends: readonly SeedMessage[][],
): Promise<void> {
  const kafka = createKafkaClient({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const p = kafka.producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    for (const messages of sends)
      await p.send({
        topic,
        acks: -1,
        messages: messages.map((m) => ({ ...m, key: m.key ?? null })),
      });
  } finally {
    await p.disconnect();
  }
}

export interface ReadBack {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
  timestamp: string;
}

/** Reads `count` messages of a topic from the beginning with a throwaway group. */
export async function readTopic(
  bootstrap: string,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadBack[]> {
  const kafka = createKafkaClient({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: ReadBack[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length}/${count} from ${topic} before the timeout`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          out.push({
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            timestamp: message.timestamp,
          });
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
