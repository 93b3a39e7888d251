/**
 * Every kafkajs client goes through lib/kafka/client.ts, which sets kafkajs up first: the codecs
 * registered and the request queue without its idle timer loop (lib/kafka/request-queue.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../lib/kafka/index.ts';

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: { scheduleCheckPendingRequests: () => void };
};
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as {
  CompressionCodecs: Record<number, () => unknown>;
  CompressionTypes: Record<string, number>;
};

const ROOT = join(import.meta.dirname, '..', '..', '..');

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );

describe('createKafkaClient', () => {
  it('sets kafkajs up before the first client: its own queue scheduling is replaced, the codecs registered', () => {
    // This file's process has made no client yet: kafkajs's own scheduling is in place.
    const own = RequestQueue.prototype.scheduleCheckPendingRequests;
    expect(own.toString()).toContain('CHECK_PENDING_REQUESTS_INTERVAL');
    const zstd = (): unknown =>
      (CompressionCodecs[CompressionTypes.ZSTD as number] as () => unknown)();
    expect(zstd).toThrow(/not implemented/i);
    const kafka = createKafkaClient({ brokers: ['127.0.0.1:1'] });
    expect(typeof kafka.producer).toBe('function');
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).not.toBe(own);
    expect(zstd()).toMatchObject({ compress: expect.any(Function) as unknown });
  });

  it('is the only place the function and the benches make a kafkajs client', () => {
    const making = ['lib', 'bench']
      .flatMap((dir) => sources(join(ROOT, dir)))
      .filter((f) => /\bnew\s+(?:kafkajs\.)?Kafka\s*\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(making).toEqual(['lib/kafka/client.ts']);
  });
});
