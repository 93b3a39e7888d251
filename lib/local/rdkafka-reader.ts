/**
 * Reads Kafka partitions from given start offsets with librdkafka, as TigerGraph's own Kafka
 * loader does: EOF mode stops at the end each partition had when it was reached; streaming
 * mode runs until aborted. Used by the TigerGraph emulator only.
 */
import { LocalError } from '../errors/index.ts';
import {
  RD_KAFKA_CONSUMER,
  RD_KAFKA_RESP_ERR_PARTITION_EOF,
  copyBytes,
  createRdKafkaHandle,
  decodeMessage,
  loadRdKafka,
  type RdKafka,
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
   * DRAIN_LIMIT messages or DRAIN_SLICE_MS), before the reader lets other work run: a caller
   * that gathers messages handles them here, in one go.
   */
  readonly onDrained?: () => void;
  readonly signal?: AbortSignal;
  /** librdkafka properties from the data source's `kafka_config`. */
  readonly kafkaConfig?: Readonly<Record<string, string>>;
}

const UNKNOWN_PARTITION = new Set([-190, 3]);
/**
 * A reader that has messages waiting hands over at most this many, or for at most this long,
 * then lets other work on the thread run (the emulator's HTTP server answers reads and loading
 * calls while a streaming run catches up, as TigerGraph's RESTPP does while it loads).
 */
const DRAIN_LIMIT = 1000;
const DRAIN_SLICE_MS = 10;
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

/** Reads the partitions; resolves with the number of messages delivered to `onMessage`. */
export async function readPartitions(options: ReadOptions): Promise<number> {
  const rd: RdKafka = loadRdKafka();
  const rk = createRdKafkaHandle(rd, RD_KAFKA_CONSUMER, consumerSettings(options));
  const list: unknown = rd.tplNew(options.partitions.length);
  for (const { partition, startOffset } of options.partitions) {
    rd.tplAdd(list, options.topic, partition);
    rd.tplSetOffset(list, options.topic, partition, startOffset);
  }
  const assigned = rd.assign(rk, list) as number;
  rd.tplDestroy(list);
  if (assigned !== 0) {
    await callAsync(rd.destroy, rk);
    throw new LocalError(
      'LOCAL_KAFKA_ASSIGN_FAILED',
      `Assigning ${options.topic} failed: ${rd.errToStr(assigned) as string}`,
    );
  }
  const atEnd = new Set<number>();
  let count = 0;
  const handle = (pointer: unknown): void => {
    const m = decodeMessage(rd, pointer);
    try {
      if (m.err === RD_KAFKA_RESP_ERR_PARTITION_EOF) atEnd.add(m.partition);
      else if (m.err !== 0)
        throw new LocalError(
          'LOCAL_KAFKA_READ_FAILED',
          `Reading ${options.topic}[${m.partition}] failed: ${rd.errToStr(m.err) as string}`,
        );
      else {
        count++;
        options.onMessage({
          partition: m.partition,
          offset: Number(m.offset),
          key: copyBytes(m.key, m.key_len),
          value: copyBytes(m.payload, m.len),
        });
      }
    } finally {
      rd.messageDestroy(pointer);
    }
  };
  try {
    while (!(options.eof && atEnd.size >= options.partitions.length) && !options.signal?.aborted) {
      // What is already fetched is read on the thread, a slice at a time; with nothing
      // fetched, the wait for the next message is off the thread.
      let m: unknown = rd.consumerPoll(rk, 0);
      if (!m) m = await callAsync<unknown>(rd.consumerPoll, rk, POLL_MS);
      if (!m) continue;
      const until = performance.now() + DRAIN_SLICE_MS;
      for (let drained = 1; ; drained++) {
        handle(m);
        if (drained >= DRAIN_LIMIT || performance.now() >= until) break;
        m = rd.consumerPoll(rk, 0);
        if (!m) break;
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
  } finally {
    await callAsync(rd.consumerClose, rk);
    await callAsync(rd.destroy, rk);
  }
}
