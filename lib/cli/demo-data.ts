/**
 * The demo's records: company records keyed by name, spread over the partitions, with `bad`
 * of them spread evenly among the good ones, each a kind TigerGraph rejects or that does not
 * decode, so a run shows every record accounted for.
 */
import { logLevel } from 'kafkajs';
import { createKafkaClient } from '../kafka/index.ts';

export interface Company {
  readonly company: string;
  readonly employee_num: number;
}

/** What a bad record is: JSON without the job's id field, text that is not JSON, or bytes
 * that do not decode with the converter (Avro). */
export type BadKind = 'no-id' | 'not-json' | 'undecodable';

/**
 * The bad records' positions: `bad` of `count`, evenly spread (1-based record numbers), each
 * with its rank among the bad ones (0, 1, 2, ...), which picks its kind.
 */
export function badPositions(count: number, bad: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let k = 0; k < bad; k++) out.set(Math.floor(((k + 0.5) * count) / bad) + 1, k);
  return out;
}

/** Seeds the records with `encode` for good ones and `encodeBad` for the bad ones. */
export async function seedRecords(
  bootstrapServers: string,
  topic: string,
  options: { count: number; partitions: number; bad: ReadonlyMap<number, number> },
  encode: (v: Company) => Buffer | string,
  encodeBad: (n: number, rank: number) => Buffer | string,
): Promise<void> {
  const kafka = createKafkaClient({
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const chunk = 2000;
    for (let start = 0; start < options.count; start += chunk) {
      const messages = Array.from({ length: Math.min(chunk, options.count - start) }, (_, j) => {
        const n = start + j + 1;
        const company = `Company ${String(n).padStart(6, '0')}`;
        return {
          key: company,
          value: options.bad.has(n)
            ? encodeBad(n, options.bad.get(n) ?? 0)
            : encode({ company, employee_num: 10 + ((n * 7919) % 400_000) }),
          partition: n % options.partitions,
          headers: { source: 'tgstream-demo' },
        };
      });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}
