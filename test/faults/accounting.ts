/**
 * What actually landed, read back after a scenario, and the verdict per source record: loaded
 * (a vertex exists), dead-lettered (in the dead-letter topic and not loaded) or lost (neither);
 * duplicates; and whether each partition's order held in the target topic.
 */
import type { KafkaRecord } from '../../lib/event/index.ts';
import {
  listPartitions,
  readPartitions,
  type ReadMessage,
} from '../../lib/local/rdkafka-reader.ts';
import { GRAPH, VERTEX, idOf, type FaultEnv } from './harness.ts';
import type { FaultRow } from './report.ts';

export interface Landed {
  /** The target topic `<alias>.<topic>` on TigerGraph's Kafka, every partition, in offset order. */
  readonly target: readonly ReadMessage[];
  readonly deadLetters: readonly ReadMessage[];
  /** Vertex ids in the emulator's graph. */
  readonly vertices: ReadonlySet<string>;
  /** Lines the loader was given per vertex id. */
  readonly loads: ReadonlyMap<string, number>;
}

/** Reads a topic from its beginning to its end, with a Kafka consumer (librdkafka). */
async function readAll(bootstrapServers: string, topic: string): Promise<ReadMessage[]> {
  const partitions = await listPartitions(bootstrapServers, topic);
  const out: ReadMessage[] = [];
  await readPartitions({
    bootstrapServers,
    topic,
    partitions: partitions.map((partition) => ({ partition, startOffset: -2 })),
    eof: true,
    onMessage: (m) => out.push(m),
  });
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const vertexIds = (env: FaultEnv): Set<string> =>
  new Set(env.tg.store.listVertices(GRAPH, VERTEX).map((v) => v.id));

/**
 * Waits for what is still under way to settle (EOF runs a given-up or killed invocation left
 * running; a streaming run loading; `expected` ids appearing, up to `waitMs`), then reads the
 * target topic, the dead-letter topic and the graph.
 */
export async function readLanded(
  env: FaultEnv,
  expected: readonly string[] = [],
  waitMs = 15_000,
): Promise<Landed> {
  const until = Date.now() + waitMs;
  await Promise.race([env.tg.idle(), sleep(waitMs)]);
  while (Date.now() < until && expected.some((id) => !vertexIds(env).has(id))) await sleep(100);
  const bootstrap = env.kafka.bootstrapServers;
  return {
    target: await readAll(bootstrap, env.target),
    deadLetters: await readAll(bootstrap, env.dlq),
    vertices: vertexIds(env),
    loads: new Map(env.loads),
  };
}

/** The source record a target message came from: the coordinates in its value, else its key. */
function origin(m: ReadMessage): { id: string; partition: number; offset: number } | undefined {
  try {
    const v = JSON.parse(m.value?.toString('utf8') ?? '') as { src?: unknown; seq?: unknown };
    if (typeof v.src === 'number' && typeof v.seq === 'number')
      return { id: idOf(v.src, v.seq), partition: v.src, offset: v.seq };
  } catch {
    // Not JSON: fall back to the key.
  }
  const key = /^p(\d+)-(\d+)$/.exec(m.key?.toString('utf8') ?? '');
  return key ? { id: key[0], partition: Number(key[1]), offset: Number(key[2]) } : undefined;
}

export interface Verdict {
  readonly row: FaultRow;
  /** Breaches of per-partition order (or partition) in the target topic, described. */
  readonly orderProblems: readonly string[];
  readonly lostIds: readonly string[];
  readonly deadLetteredIds: readonly string[];
}

const count = <K>(map: Map<K, number>, key: K): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/**
 * The verdict over `sources`. Each record is counted once: loaded (its vertex exists),
 * else dead-lettered (in the dead-letter topic), else lost. A record's deliveries are
 * max(copies in the target topic, lines the loader was given) plus its dead-letter copies;
 * every delivery beyond its first is a duplicate. Order: in each target partition, the
 * first copies of one source partition's records must come in source-offset order, and in
 * the source partition's number.
 */
export function account(
  scenario: string,
  sources: readonly KafkaRecord[],
  landed: Landed,
): Verdict {
  const topicCopies = new Map<string, number>();
  const orderProblems: string[] = [];
  const seen = new Set<string>();
  const lastFirst = new Map<string, number>();
  for (const m of landed.target) {
    const from = origin(m);
    if (from === undefined) {
      orderProblems.push(`target[${m.partition}]@${m.offset} names no source record`);
      continue;
    }
    count(topicCopies, from.id);
    if (from.partition !== m.partition)
      orderProblems.push(`${from.id} landed in target partition ${m.partition}`);
    if (seen.has(from.id)) continue;
    seen.add(from.id);
    const lane = `${m.partition}/${from.partition}`;
    const last = lastFirst.get(lane);
    if (last !== undefined && from.offset < last)
      orderProblems.push(
        `target[${m.partition}]@${m.offset}: ${from.id} first arrived after offset ${last} of its partition`,
      );
    lastFirst.set(lane, Math.max(last ?? -1, from.offset));
  }
  const dlqCopies = new Map<string, number>();
  for (const m of landed.deadLetters) {
    const key = m.key?.toString('utf8');
    if (key !== undefined) count(dlqCopies, key);
  }
  let loaded = 0;
  let duplicates = 0;
  const lostIds: string[] = [];
  const deadLetteredIds: string[] = [];
  for (const r of sources) {
    const id = idOf(r.partition, r.offset);
    const dead = dlqCopies.get(id) ?? 0;
    const deliveries = Math.max(topicCopies.get(id) ?? 0, landed.loads.get(id) ?? 0) + dead;
    duplicates += Math.max(0, deliveries - 1);
    if (landed.vertices.has(id)) loaded++;
    else if (dead > 0) deadLetteredIds.push(id);
    else lostIds.push(id);
  }
  return {
    row: {
      scenario,
      records: sources.length,
      loaded,
      deadLettered: deadLetteredIds.length,
      duplicates,
      lost: lostIds.length,
    },
    orderProblems,
    lostIds,
    deadLetteredIds,
  };
}
