/**
 * The soak's surroundings: `tgstream dev` in a child process (the embedded broker and the
 * TigerGraph emulator, whose graph grows with every vertex loaded, kept out of the measured
 * process), the example connector file pointed at it, and the count of what was loaded.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { logLevel } from 'kafkajs';
import { createKafkaClient } from '../lib/kafka/index.ts';
import { LocalError } from '../lib/errors/index.ts';
import { ROOT } from './harness.ts';
import { companyId } from './soak-feed.ts';

export interface Verified {
  readonly distinctIdsSeeded: number;
  readonly vertices: number;
  readonly missing: number;
  readonly ok: boolean;
}

const round = (x: number): number => Math.round(x * 10) / 10;

export interface Stack {
  readonly bootstrapServers: string;
  readonly tigergraphUrl: string;
  readonly child: ChildProcessWithoutNullStreams;
}

/** Starts `tgstream dev --json` with a connector file's topics; resolves with where it listens. */
export async function startStack(connectorFile: string, partitions: number): Promise<Stack> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/tgstream.js'),
      'dev',
      '--c',
      connectorFile,
      '--partitions',
      String(partitions),
      '--json',
    ],
    { cwd: ROOT },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line') as Promise<[string]>,
    once(child, 'exit').then(() => {
      throw new LocalError('SOAK_STACK_START_FAILED', `tgstream dev exited: ${stderr}`);
    }),
  ]);
  const where = JSON.parse(first[0]) as { bootstrapServers: string; tigergraphUrl: string };
  return { ...where, child };
}

/** Stops `tgstream dev` as Ctrl-C does; kills it when it does not stop within 10 s. */
export async function stopStack(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref()),
  ]);
  if (!stopped) child.kill('SIGKILL');
}

/** The resident high-water mark of a process (Linux /proc), or undefined elsewhere. */
export function peakRssOf(pid: number | undefined): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** The sum of the topic's high watermarks: what the broker holds. */
export async function topicSize(bootstrapServers: string, topic: string): Promise<number> {
  const admin = createKafkaClient({
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The example connector file, pointed at the stack, with the batch size asked for. */
export function connectorFor(
  dir: string,
  stack: Pick<Stack, 'bootstrapServers' | 'tigergraphUrl'>,
  batchSize: number,
): string {
  const text = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8')
    .replace(
      /^source\.cluster\.bootstrap\.servers=.*$/m,
      `source.cluster.bootstrap.servers=${stack.bootstrapServers}`,
    )
    .replace(
      /^target\.cluster\.bootstrap\.servers=.*$/m,
      `target.cluster.bootstrap.servers=${stack.bootstrapServers}`,
    )
    .replace(/^tigergraph\.url=.*$/m, `tigergraph.url=${stack.tigergraphUrl}`)
    .replace(/^tigerstream\.esm\.batch\.size=.*$/m, `tigerstream.esm.batch.size=${batchSize}`);
  const file = join(dir, 'soak.properties');
  writeFileSync(file, text);
  return file;
}

/** Counts the Company vertices and the seeded ids among them. */
export async function verifyGraph(tigergraphUrl: string, count: number): Promise<Verified> {
  const answer = await fetch(`${tigergraphUrl}/restpp/graph/Company_Graph/vertices/Company`);
  const body = (await answer.json()) as { results?: { v_id: string }[] };
  const ids = new Set((body.results ?? []).map((v) => v.v_id));
  let missing = 0;
  for (let n = 1; n <= count; n++) if (!ids.has(companyId(n))) missing++;
  return {
    distinctIdsSeeded: count,
    vertices: ids.size,
    missing,
    ok: missing === 0 && ids.size === count,
  };
}
