/**
 * The batching window of a Kafka event-source mapping, for the local runner's consumer: records
 * are gathered per partition across fetches and handed over when `batchSize` of them are
 * gathered, or when the oldest has waited `windowMs` (AWS: "the maximum amount of time to gather
 * records before invoking the function"; shared/reference/aws-lambda-kafka.md, section 2.1).
 *
 * Why across fetches: a fetch answers with what the partition holds when it arrives (the
 * consumer asks for at least one byte), so handing over each fetch makes the batches as small as
 * the producer's requests whenever the reader keeps up; librdkafka's mock cluster, the embedded
 * broker, even answers every fetch with a single message set (rdkafka_mock_handlers.c, "FIXME:
 * Multiple messageSets ?"), one producer request. At 10,000 records/s from a producer sending
 * every few milliseconds that was a handler call per few dozen records, each paying a loading
 * call, and the runner fell behind.
 *
 * Batches are handed over one at a time, in order, in the background: fetching goes on while
 * the handler works, as an ESM keeps polling while it invokes. Adding to a partition that holds
 * two batches' worth waits until it holds less, so at most about two batches are held.
 */
import type { KafkaRecord } from '../event/index.ts';

export interface GatheredBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: KafkaRecord[];
  /**
   * The offset to commit once the batch is handled, asked then: one past its last record, or
   * past the control records fetched after it when nothing was gathered after it meanwhile.
   */
  readonly next: () => number;
}

export interface GathererOptions {
  readonly batchSize: number;
  /** 0 hands over what is gathered at once (in slices of `batchSize`). */
  readonly windowMs: number;
  /** Handles and commits a batch; false stops the gatherer for good (nothing more is handed over). */
  readonly deliver: (batch: GatheredBatch) => Promise<boolean>;
  /**
   * A hand-over failed (`deliver` threw): the gatherer has dropped what it held of that
   * partition, which is uncommitted; the caller reads it again from `from`.
   */
  readonly onHandOverFailure: (
    error: unknown,
    where: { topic: string; partition: number; from: number },
  ) => void;
  /**
   * The partition's position moved past control records (`advance`) while its last batch was
   * being committed, too late for that commit: nothing is held, and this is where it stands.
   */
  readonly onPosition?: (where: { topic: string; partition: number; next: number }) => void;
  readonly now?: () => number;
}

export interface Gatherer {
  /**
   * Gathers a fetched batch's records (`next`: the position after it, control records included)
   * and starts handing over what is due. Resolves at once, or once the partition holds less
   * than two batches; false when `deliver` said stop.
   */
  add(
    topic: string,
    partition: number,
    records: readonly KafkaRecord[],
    next: number,
  ): Promise<boolean>;
  /** Records of a partition not yet committed: held, or being handed over. */
  held(topic: string, partition: number): number;
  /** Moves a partition's position past control records fetched after what it holds. */
  advance(topic: string, partition: number, next: number): void;
  /** Drops everything held (a rebalance): it is uncommitted, so it is read again. */
  clear(): void;
  /** Drops everything held and hands over nothing more, for good (a stop); `add` says false. */
  close(): void;
  /** Resolves once no batch is being handed over (nor queued to be). */
  idle(): Promise<void>;
}

interface PartitionState {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: KafkaRecord[];
  /** When each held record was gathered. */
  readonly arrivals: number[];
  next: number;
  /** Records being handed over, and the first offset among them. */
  handing: number;
  handingFrom?: number;
  /** The hand-overs under way, and whether more became due meanwhile. */
  pumping?: Promise<void>;
  again: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export function createGatherer(options: GathererOptions): Gatherer {
  const now = options.now ?? Date.now;
  const states = new Map<string, PartitionState>();
  let stopped = false;
  // One hand-over at a time, in the order they were asked for.
  let serial: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = serial.then(fn);
    serial = next.catch(() => undefined);
    return next;
  };
  const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
  const live = (state: PartitionState): boolean => !stopped && states.get(state.key) === state;
  const due = (state: PartitionState): boolean =>
    state.records.length >= options.batchSize ||
    (state.records.length > 0 &&
      (options.windowMs <= 0 ||
        (state.arrivals[0] ?? Number.POSITIVE_INFINITY) + options.windowMs <= now()));

  /** Hands over the oldest batch of a partition; false when `deliver` said stop. */
  const handOver = async (state: PartitionState): Promise<boolean> => {
    const records = state.records.splice(0, options.batchSize);
    state.arrivals.splice(0, records.length);
    state.handing = records.length;
    state.handingFrom = (records[0] as KafkaRecord).offset;
    const last = (records.at(-1) as KafkaRecord).offset;
    let committed = last + 1;
    const ok = await options.deliver({
      topic: state.topic,
      partition: state.partition,
      records,
      // Past control records only while the partition is still this gatherer's and holds
      // nothing after this batch: once cleared (a stop, a rebalance) what it held was dropped
      // unhandled, so the position after it must not be committed.
      next: () =>
        (committed =
          live(state) && state.records.length === 0 ? Math.max(state.next, last + 1) : last + 1),
    });
    state.handing = 0;
    if (!ok) stop();
    else if (live(state) && state.records.length === 0 && state.next > committed)
      options.onPosition?.({ topic: state.topic, partition: state.partition, next: state.next });
    return ok;
  };

  /** Hands over, in the background, whatever is due of a partition (unless already doing so). */
  const pump = (state: PartitionState): void => {
    if (state.pumping) {
      state.again = true;
      return;
    }
    state.again = false;
    // One batch per turn: a partition still due after its turn queues again behind the others,
    // so a partition whose input keeps up with the handler cannot keep the others waiting.
    state.pumping = inOrder(async () => {
      if (live(state) && due(state) && (await handOver(state)) && live(state) && due(state))
        state.again = true;
    })
      .catch((error: unknown) => {
        if (!live(state)) return;
        // The partition starts afresh: what it held is read again from the failed batch.
        states.delete(state.key);
        const from = state.handingFrom ?? state.next;
        empty(state);
        options.onHandOverFailure(error, {
          topic: state.topic,
          partition: state.partition,
          from,
        });
      })
      .finally(() => {
        state.pumping = undefined;
        if (state.again && live(state)) pump(state);
        else arm(state);
      });
  };

  /** Wakes the partition when its oldest record has waited the window. */
  const arm = (state: PartitionState): void => {
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    const oldest = state.arrivals[0];
    if (!live(state) || oldest === undefined || state.pumping) return;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        pump(state);
      },
      Math.max(0, oldest + options.windowMs - now()),
    );
  };

  const empty = (state: PartitionState): void => {
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    state.records.length = 0;
    state.arrivals.length = 0;
  };
  const stop = (): void => {
    stopped = true;
    for (const s of states.values()) if (s.timer !== undefined) clearTimeout(s.timer);
  };

  return {
    async add(topic, partition, records, next) {
      if (stopped) return false;
      const key = keyOf(topic, partition);
      let state = states.get(key);
      if (!state) {
        state = {
          key,
          topic,
          partition,
          records: [],
          arrivals: [],
          next,
          handing: 0,
          again: false,
        };
        states.set(key, state);
      }
      const at = now();
      for (const r of records) {
        state.records.push(r);
        state.arrivals.push(at);
      }
      state.next = Math.max(state.next, next);
      if (due(state)) pump(state);
      else arm(state);
      while (live(state) && state.pumping && state.records.length >= 2 * options.batchSize)
        await state.pumping;
      return !stopped;
    },
    held(topic, partition) {
      const state = states.get(keyOf(topic, partition));
      return state ? state.records.length + state.handing : 0;
    },
    advance(topic, partition, next) {
      const state = states.get(keyOf(topic, partition));
      if (state) state.next = Math.max(state.next, next);
    },
    clear() {
      // Emptied too, so a hand-over under way sends nothing more of what was dropped.
      for (const s of states.values()) empty(s);
      states.clear();
    },
    close() {
      stop();
      for (const s of states.values()) empty(s);
      states.clear();
    },
    async idle() {
      // Hand-overs queued while waiting (a partition's next turn) are waited for too.
      for (;;) {
        const last = serial;
        await last;
        const pumping = [...states.values()].flatMap((s) => (s.pumping ? [s.pumping] : []));
        if (pumping.length > 0) await Promise.all(pumping);
        else if (last === serial) return;
      }
    },
  };
}
