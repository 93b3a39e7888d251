/**
 * Every kafkajs client TigerStream makes, made here: kafkajs is set up for the process first
 * (the Snappy, LZ4 and zstd codecs registered, lib/kafka/codecs.ts; the request queue without
 * its idle timer loop, lib/kafka/request-queue.ts), so no client runs without either.
 */
import { Kafka, type KafkaConfig } from 'kafkajs';
import { registerCodecs } from './codecs.ts';
import { installQuietRequestQueue } from './request-queue.ts';

/**
 * A kafkajs client, with kafkajs set up as TigerStream runs it.
 *
 * @param config kafkajs's own client configuration (brokers, TLS, SASL, logging).
 * @example
 * const kafka = createKafkaClient({ brokers: ['localhost:9092'] });
 */
export function createKafkaClient(config: KafkaConfig): Kafka {
  registerCodecs();
  installQuietRequestQueue();
  return new Kafka(config);
}
