/**
 * Kafka's five codecs on the embedded broker, with Debian's kcat (librdkafka, with liblz4,
 * libzstd and its Snappy) as the other Kafka client: what kcat produces in each codec
 * `tgstream run` loads, as a user runs it; what TigerStream's producer writes in each
 * `producer.compression.type` kcat reads back; a batch no codec can read stops the run with a
 * coded error, on every run of the group.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPRESSION_TYPES,
  createBatchConsumer,
  createKafkaDelivery,
  type CompressionType,
} from '../../lib/kafka/index.ts';
import type { TigerStreamError } from '../../lib/errors/index.ts';
import { startEmbeddedKafka } from '../../lib/local/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { node22Path } from '../helpers/node22.ts';
import { produce, startEnv, uniqueTopic, type Env } from '../helpers/embedded.ts';

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;

const hasKcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0;
if (!hasKcat)
  console.warn('kcat is not installed (apt-get install kcat): the codec tests are skipped');

/** Per codec; several batches each, spread over the partitions by kcat's partitioner. */
const N = 400;
const RUN_TIMEOUT_MS = 90_000;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `tgstream run` as a user runs it; asynchronous, since the emulator answers from this process. */
const tgstreamRun = (file: string): Promise<Run> =>
  new Promise((done) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/tgstream.js'),
        'run',
        '--c',
        file,
        '--eof',
        '--json',
        '--session-timeout-ms',
        '6000',
      ],
      { cwd: ROOT, timeout: RUN_TIMEOUT_MS },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status, signal) => done({ status, signal, stdout, stderr }));
  });

/** kcat's exit status and what it printed. */
const kcat = (args: string[], input?: string) => {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

type Codec = {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};
const codecTable = CompressionCodecs as unknown as Record<number, (() => Codec) | undefined>;

/** Runs `fn` with kafkajs's codec `id` replaced in this process, then restores it. */
async function withCodec<T>(id: number, codec: Codec, fn: () => Promise<T>): Promise<T> {
  const original = codecTable[id];
  codecTable[id] = () => codec;
  try {
    return await fn();
  } finally {
    codecTable[id] = original;
  }
}

describe.skipIf(!hasKcat)('Kafka compression codecs, with kcat as the other client', () => {
  let env: Env;
  /** The example connector file pointed at this broker and emulator, for `topic`. */
  let connectorFor: (topic: string, name: string) => string;
  beforeAll(async () => {
    env = await startEnv({ partitions: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-codecs-'));
    const example = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8');
    connectorFor = (topic, name) => {
      const file = join(dir, `${name}.properties`);
      writeFileSync(
        file,
        example
          .replace(/^topics=.*$/m, `topics=${topic}`)
          .replace(/^name=.*$/m, `name=${name}`)
          .replace(
            /^(source|target)\.cluster\.bootstrap\.servers=.*$/gm,
            `$1.cluster.bootstrap.servers=${env.kafka.bootstrapServers}`,
          )
          .replace(/^tigergraph\.url=.*$/m, `tigergraph.url=${env.tg.url}`),
      );
      return file;
    };
  });
  afterAll(async () => {
    await env?.stop();
  });

  it(
    'tgstream run loads every record kcat produced in none, gzip, snappy, lz4 and zstd, and stops on its own',
    async () => {
      for (const codec of COMPRESSION_TYPES) {
        const lines = Array.from({ length: N }, (_, i) =>
          JSON.stringify({ company: `${codec}-${i}`, employee_num: i }),
        );
        const produced = kcat(
          ['-P', '-b', env.kafka.bootstrapServers, '-t', env.source, '-z', codec],
          `${lines.join('\n')}\n`,
        );
        expect(produced.status, produced.stderr).toBe(0);
      }
      const run = await tgstreamRun(connectorFor(env.source, 'company-stream'));
      expect(run.signal, `tgstream run did not stop on its own:\n${run.stderr}`).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        records: 5 * N,
        loaded: 5 * N,
        rejected: 0,
        objectsLoaded: 5 * N,
      });
      // Nothing of kafkajs's own chatter (its partitioner notice above all) reaches the log.
      expect(run.stderr).not.toMatch(/partitioner|KafkaJS/i);
      const vertices = await createTigerGraphClient({ url: env.tg.url, version: 3 }).listVertices(
        'Company_Graph',
        'Company',
      );
      const perCodec = new Map<string, number>();
      for (const v of vertices) {
        const codec = v.v_id.split('-')[0] as string;
        perCodec.set(codec, (perCodec.get(codec) ?? 0) + 1);
      }
      expect(Object.fromEntries(perCodec)).toEqual(
        Object.fromEntries(COMPRESSION_TYPES.map((c) => [c, N])),
      );
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'a second run of the same group finds nothing left and exits 0',
    async () => {
      const run = await tgstreamRun(connectorFor(env.source, 'company-stream'));
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ records: 0, loaded: 0 });
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  const identity: Codec = {
    compress: (encoder) => Promise.resolve(encoder.buffer),
    decompress: (buffer) => Promise.resolve(buffer),
  };
  const garbage: Codec = {
    compress: () => Promise.resolve(Buffer.from('these bytes are not an LZ4 frame')),
    decompress: () => Promise.reject(new Error('not used')),
  };
  it.each([
    [
      'a codec id Kafka does not define',
      5,
      identity,
      'KAFKA_CODEC_UNSUPPORTED',
      'A record batch uses compression codec id 5, which Kafka does not define',
    ],
    [
      'an LZ4 batch that is not LZ4',
      CompressionTypes.LZ4,
      garbage,
      'KAFKA_CODEC_CORRUPT',
      'A lz4-compressed record batch could not be decompressed: LZ4 frame is not valid: no LZ4 frame magic',
    ],
  ])(
    'a batch with %s stops the run with exit 1 and a coded error, on every run of the group',
    async (_, id, codec, code, message) => {
      const topic = uniqueTopic('bad');
      env.kafka.createTopic(topic, 1);
      const kafka = new Kafka({
        brokers: env.kafka.bootstrapServers.split(','),
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await withCodec(id, codec, () =>
          producer.send({
            topic,
            acks: -1,
            compression: id, // eslint-disable-line @typescript-eslint/no-unsafe-enum-assignment -- id 5 is outside kafkajs's enum on purpose
            messages: [{ value: JSON.stringify({ company: 'never loaded', employee_num: 1 }) }],
          }),
        );
      } finally {
        await producer.disconnect();
      }
      const file = connectorFor(topic, `codec-${code.toLowerCase()}`);
      // The second run is the one that used to exit 13 with nothing printed.
      for (const attempt of [1, 2]) {
        const run = await tgstreamRun(file);
        expect(run.signal, `run ${attempt} did not stop:\n${run.stderr}`).toBeNull();
        expect(run.status, `run ${attempt}:\n${run.stderr}`).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(message);
        expect(run.stderr).toContain(`[${code}]`);
      }
    },
    2 * RUN_TIMEOUT_MS + 30_000,
  );

  it.each(COMPRESSION_TYPES)(
    'the producer writes producer.compression.type=%s, and kcat reads every value back',
    async (type: CompressionType) => {
      const topic = uniqueTopic('out');
      env.kafka.createTopic(topic, 1);
      const values = Array.from({ length: 300 }, (_, i) =>
        JSON.stringify({ company: `${type}-out-${i}`, employee_num: i }),
      );
      const delivery = createKafkaDelivery({
        brokers: env.kafka.bootstrapServers.split(','),
        security: env.config.target,
        compression: type,
      });
      // Which codec kafkajs compressed with: proof the setting reached the wire.
      const used: number[] = [];
      const id = COMPRESSION_TYPES.indexOf(type);
      const real = codecTable[id]?.();
      const send = () =>
        delivery.send(
          values.map((v, i) => ({
            topic,
            partition: 0,
            key: Buffer.from(`k${i}`),
            value: Buffer.from(v),
            headers: [],
            timestamp: Date.now(),
          })),
        );
      try {
        if (real === undefined) await send();
        else
          await withCodec(
            id,
            {
              compress: (encoder) => {
                used.push(id);
                return real.compress(encoder);
              },
              decompress: (buffer) => real.decompress(buffer),
            },
            send,
          );
      } finally {
        await delivery.disconnect();
      }
      expect(used.length > 0).toBe(type !== 'none');
      const read = kcat([
        '-C',
        '-b',
        env.kafka.bootstrapServers,
        '-t',
        topic,
        '-e',
        '-q',
        '-f',
        '%s\n',
      ]);
      expect(read.status, read.stderr).toBe(0);
      expect(read.stdout.trimEnd().split('\n')).toEqual(values);
    },
  );

  it("under Node 22 (Lambda's runtime) zstd is compressed by Node's zlib, and kcat reads it back", async () => {
    const topic = uniqueTopic('node22');
    env.kafka.createTopic(topic, 1);
    const script = `
        import { createKafkaDelivery } from ${JSON.stringify(join(ROOT, 'lib/kafka/index.ts'))};
        import { zstdCompressesNatively } from ${JSON.stringify(join(ROOT, 'lib/kafka/zstd.ts'))};
        const delivery = createKafkaDelivery({
          brokers: ${JSON.stringify(env.kafka.bootstrapServers.split(','))},
          security: ${JSON.stringify(env.config.target)},
          compression: 'zstd',
        });
        const values = Array.from({ length: 200 }, (_, i) => 'node22-' + i);
        await delivery.send(values.map((v) => ({
          topic: ${JSON.stringify(topic)}, partition: 0, key: null, value: Buffer.from(v),
          headers: [], timestamp: Date.now(),
        })));
        await delivery.disconnect();
        console.log(JSON.stringify({ version: process.version, native: zstdCompressesNatively }));
      `;
    const child = spawn(node22Path(), ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((done) => child.on('close', done));
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      version: expect.stringMatching(/^v22\./) as string,
      native: true,
    });
    const read = kcat([
      '-C',
      '-b',
      env.kafka.bootstrapServers,
      '-t',
      topic,
      '-e',
      '-q',
      '-f',
      '%s\n',
    ]);
    expect(read.status, read.stderr).toBe(0);
    expect(read.stdout.trimEnd().split('\n')).toEqual(
      Array.from({ length: 200 }, (_, i) => `node22-${i}`),
    );
  }, 120_000);
});

describe('a source the consumer cannot get past', () => {
  it('stops the consumer after its restarts with a coded error, and logs each restart', async () => {
    const kafka = startEmbeddedKafka({ brokers: 1 });
    try {
      const topic = uniqueTopic('down');
      kafka.createTopic(topic, 1);
      await produce(kafka.bootstrapServers, topic, [{ value: 'one', partition: 0 }]);
      const warnings: string[] = [];
      const consumer = createBatchConsumer({
        brokers: kafka.bootstrapServers.split(','),
        security: { protocol: 'PLAINTEXT' } as Env['config']['source'],
        groupId: uniqueTopic('group'),
        topics: [topic],
        fromBeginning: true,
        batchSize: 10,
        batchingWindowMs: 50,
        sessionTimeoutMs: 6000,
        maxRestarts: 1,
        logger: {
          ...silentLogger(),
          warn: (message: string) => {
            warnings.push(message);
          },
        },
      });
      const failure = new Promise<TigerStreamError>((resolve) => {
        void consumer.start({
          // The broker goes away once the first batch is in: every later fetch fails.
          onBatch: () => {
            kafka.brokerDown(1);
            return Promise.resolve(true);
          },
          onFailure: resolve,
        });
      });
      const error = await failure;
      await consumer.stop().catch(() => undefined);
      expect(error).toMatchObject({ code: 'KAFKA_SOURCE_CONSUMER_FAILED' });
      expect(error.message).toMatch(
        /^The source consumer of group group-\w+ stopped after 1 restart\(s\): /,
      );
      // The batch taken before the broker went down may also fail its commit (logged, and
      // read again), depending on when the broker's going down reaches the connection.
      expect(warnings.filter((w) => w !== 'Committing a batch failed; reading it again')).toEqual([
        'The source consumer crashed; restarting it',
      ]);
    } finally {
      kafka.stop();
    }
  }, 90_000);
});
