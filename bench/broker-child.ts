/**
 * The embedded broker alone in a child process, so a bench's producer and the broker do not
 * share one event loop or one process's CPU accounting: prints `{"bootstrapServers": ...}` on
 * its first line and runs until its standard input closes.
 *
 * `node bin/run-ts.js bench/broker-child.ts <topic>:<partitions> ...`
 */
import { startEmbeddedKafka } from '../lib/local/index.ts';

const topics = process.argv.slice(2).map((spec) => {
  const [name, partitions] = spec.split(':');
  return { name: name as string, partitions: Number(partitions ?? 1) };
});
const kafka = startEmbeddedKafka({ topics });
process.stdout.write(`${JSON.stringify({ bootstrapServers: kafka.bootstrapServers })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  kafka.stop();
  process.exit(0);
});
