/**
 * Reads Kafka partitions from given start offsets with librdkafka, as TigerGraph's own Kafka
 * loader does: EOF mode stops at the end each partition had when it was reached; streaming
 * mode runs until aborted. Used by the TigerGraph emulator only.
 */
import { LocalError } from '../errors/index.ts';
import {
  RD_KAFKA_CONSUMER,
  RD_KAFKA_RESP_ERR_PARTITION_EOF,
  createRdKafkaHandle,
  loadRdKafka,
  messageReader,
  type RdKafka,
  type RdKafkaMessage,
} from './rdkafka.ts';

export interface PartitionStart {
  readonly partition: number;
  /** -2 earliest, -1 latest, otherwise an exact offset (librdkafka's own constants). */
  readonly startOffset: number;
}

export interface ReadMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface ReadOptions {
  readonly bootstrapServers: string;
  readonly topic: string;
  readonly partitions: readonly PartitionStart[];
  readonly eof: boolean;
  readonly onMessage: (message: ReadMessage) => void;
  /**
   * Runs after each run of messages handed to `onMessage` without leaving the thread (at most
   * DRAIN_LIMIT messages, the ones librdkafka has fetched), before the reader lets other work
   * run: a caller that gathers messages handles them here, in one go.
   */
  readonly onDrained?: () => void;
  readonly signal?: AbortSignal;
  /** librdkafka properties from the data source's `kafka_config`. */
  readonly kafkaConfig?: Readonly<Record<string, string>>;
  /** The library (loaded by default); tests pass it with a function replaced. */
  readonly rdkafka?: RdKafka;
}

const UNKNOWN_PARTITION = new Set([-190, 3]);
/**
 * A reader that has messages waiting hands over at most this many, taken from librdkafka in one
 * call, then lets other work on the thread run (the emulator's HTTP server answers reads and
 * loading calls while a streaming run catches up, as TigerGraph's RESTPP does while it loads).
 * A count, not a time: how long a slice holds the thread grows with the size of its lines.
 */
const DRAIN_LIMIT = 1000;
/** How long one wait for a message lasts off the thread; it ends as soon as one arrives. */
const POLL_MS = 100;

type AsyncFn = { async: (...args: unknown[]) => void };
const callAsync = <T>(fn: unknown, ...args: unknown[]): Promise<T> =>
  new Promise((resolve, reject) => {
    (fn as AsyncFn).async(...args, (error: unknown, result: T) => {
      if (error) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
      else resolve(result);
    });
  });

const consumerSettings = (
  options: Pick<ReadOptions, 'bootstrapServers' | 'kafkaConfig'>,
): Record<string, string> => ({
  'group.id': 'tigergraph',
  // librdkafka waits fetch.wait.max.ms (500 ms) at the end of a partition before it can
  // report EOF; an emulator on loopback need not.
  'fetch.wait.max.ms': '10',
  'fetch.error.backoff.ms': '10',
  ...options.kafkaConfig,
  'bootstrap.servers': options.bootstrapServers,
  'enable.partition.eof': 'true',
  'enable.auto.commit': 'false',
  log_level: '3',
});

/** Lists a topic's partitions by asking for each one's watermarks until one is unknown. */
export async function listPartitions(bootstrapServers: string, topic: string): Promise<number[]> {
  const rd = loadRdKafka();
  const rk = createRdKafkaHandle(rd, RD_KAFKA_CONSUMER, consumerSettings({ bootstrapServers }));
  try {
    const found: number[] = [];
    for (let p = 0; p < 10_000; p++) {
      const low = [0n];
      const high = [0n];
      const code = await callAsync<number>(rd.queryWatermarks, rk, topic, p, low, high, 5000);
      if (code === 0) found.push(p);
      else if (UNKNOWN_PARTITION.has(code)) break;
      else
        throw new LocalError(
          'LOCAL_KAFKA_METADATA_FAILED',
          `Listing partitions of ${topic} failed: ${rd.errToStr(code) as string}`,
        );
    }
    return found;
  } finally {
    await callAsync(rd.destroy, rk);
  }
}

/** Assigns the partitions at their start offsets to the consumer `rk`. */
function assign(rd: RdKafka, rk: unknown, options: ReadOptions): void {
  const list: unknown = rd.tplNew(options.partitions.length);
  let assigned: number;
  try {
    for (const { partition, startOffset } of options.partitions) {
      rd.tplAdd(list, options.topic, partition);
      rd.tplSetOffset(list, options.topic, partition, startOffset);
    }
    assigned = rd.assign(rk, list) as number;
  } finally {
    rd.tplDestroy(list);
  }
  if (assigned !== 0)
    throw new LocalError(
      'LOCAL_KAFKA_ASSIGN_FAILED',
      `Assigning ${options.topic} failed: ${rd.errToStr(assigned) as string}`,
    );
}

/** Reads the partitions; resolves with the number of messages delivered to `onMessage`. */
export async function readPartitions(options: ReadOptions): Promise<number> {
  const rd: RdKafka = options.rdkafka ?? loadRdKafka();
  const read = messageReader(rd);
  const rk = createRdKafkaHandle(rd, RD_KAFKA_CONSUMER, consumerSettings(options));
  let queue: unknown;
  let assigned = false;
  try {
    assign(rd, rk, options);
    assigned = true;
    queue = rd.queueGetConsumer(rk);
    return await consume(rd, rk, queue, read, options);
  } finally {
    if (queue) rd.queueDestroy(queue);
    if (assigned) await callAsync(rd.consumerClose, rk);
    await callAsync(rd.destroy, rk);
  }
}

/** The reading loop of {@link readPartitions}, on an assigned consumer and its queue. */
async function consume(
  rd: RdKafka,
  rk: unknown,
  queue: unknown,
  read: (pointer: bigint) => RdKafkaMessage,
  options: ReadOptions,
): Promise<number> {
  const atEnd = new Set<number>();
  let count = 0;
  const handle = (pointer: bigint): void => {
    try {
      const m = read(pointer);
      if (m.err === RD_KAFKA_RESP_ERR_PARTITION_EOF) atEnd.add(m.partition);
      else if (m.err !== 0)
        throw new LocalError(
          'LOCAL_KAFKA_READ_FAILED',
          `Reading ${options.topic}[${m.partition}] failed: ${rd.errToStr(m.err) as string}`,
        );
      else {
        count++;
        options.onMessage({ partition: m.partition, offset: m.offset, key: m.key, value: m.value });
      }
    } finally {
      rd.messageDestroy(pointer);
    }
  };
  const pointers = Buffer.alloc(8 * DRAIN_LIMIT);
  /**
   * Hands over the messages librdkafka has fetched, at most `limit`, and says how many there
   * were; should one fail, the rest are freed unread.
   */
  const drain = (limit: number): number => {
    const taken = Number(rd.consumeBatchQueue(queue, 0, pointers, limit));
    if (taken < 0)
      throw new LocalError(
        'LOCAL_KAFKA_READ_FAILED',
        `Reading ${options.topic} failed: librdkafka's consumer queue refused a batch read`,
      );
    let i = 0;
    try {
      for (; i < taken; i++) handle(pointers.readBigUInt64LE(8 * i));
    } finally {
      for (i++; i < taken; i++) rd.messageDestroy(pointers.readBigUInt64LE(8 * i));
    }
    return taken;
  };
  try {
    while (!(options.eof && atEnd.size >= options.partitions.length) && !options.signal?.aborted) {
      // What is already fetched is read on the thread, up to DRAIN_LIMIT messages in one call;
      // with nothing fetched, the wait for the next message is off the thread.
      if (drain(DRAIN_LIMIT) === 0) {
        const first = await callAsync<bigint | null>(rd.consumerPoll, rk, POLL_MS);
        if (!first) continue;
        handle(first);
        drain(DRAIN_LIMIT - 1);
      }
      options.onDrained?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return count;
  } catch (error) {
    // What was handed over before the failure is the caller's, as it would be message by message;
    // should loading it fail too, the first error is the one reported.
    try {
      options.onDrained?.();
    } catch {
      // the reader's own error below is the cause
    }
    throw error;
  }
}
