/**
 * The produce bench's @platformatic/kafka candidate, in a child process under Node 22 (the
 * library needs Node >= 22.22): kcat's lines to one topic, acks=all, in sends of `perSend`
 * records, `parallel` of them in flight (bench/produce-child.ts has the protocol).
 *
 * `node22 bin/run-ts.js bench/produce-platformatic.ts <bootstrap> <topic> <partitions> <lines file> <perSend> <parallel>`
 */
import { ProduceAcks, Producer, type MessageToProduce } from '@platformatic/kafka';
import { readLines, serveRounds, type Line } from './produce-child.ts';

const [bootstrap = '', topic = '', partitions = '', file = '', perSend = '', parallel = ''] =
  process.argv.slice(2);
const PARTITIONS = Number(partitions);
const PER_SEND = Number(perSend);
const PARALLEL = Number(parallel);
const WARM_UP_SENDS = 6;

/** As bench/produce.ts splits its own sends: in parallel, each send its own partition. */
const sendsOf = (lines: readonly Line[]): MessageToProduce[][] => {
  const sends: MessageToProduce[][] = [];
  const timestamp = BigInt(Date.now());
  for (let at = 0; at < lines.length; at += PER_SEND)
    sends.push(
      lines.slice(at, at + PER_SEND).map(({ key, value }, i) => ({
        topic,
        partition: PARALLEL > 1 ? (at / PER_SEND) % PARTITIONS : (at + i) % PARTITIONS,
        key,
        value,
        timestamp,
      })),
    );
  return sends;
};

const lines = readLines(file);
const producer = new Producer({
  clientId: 'tgstream-bench',
  bootstrapBrokers: bootstrap.split(','),
  acks: ProduceAcks.ALL,
});

async function produce(sends: readonly MessageToProduce[][]): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < sends.length; i += PARALLEL)
    await Promise.all(
      sends
        .slice(i, i + PARALLEL)
        .map((messages) => producer.send({ messages, acks: ProduceAcks.ALL })),
    );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

await serveRounds(async () => {
  const warmUp = sendsOf(lines).slice(0, WARM_UP_SENDS);
  await produce(warmUp);
  return {
    warmUpRecords: warmUp.reduce((n, s) => n + s.length, 0),
    round: () => produce(sendsOf(lines)),
    close: () => producer.close(),
  };
});
