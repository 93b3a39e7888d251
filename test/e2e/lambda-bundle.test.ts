/**
 * The artifact that ships: `serverless package` builds and zips it (in a fresh clone), the test
 * unpacks the zip and runs the function's Handler in a fresh Node process per execution
 * environment, with the environment the generated template sets, configuration from a local
 * SSM-protocol endpoint, the embedded broker and the TigerGraph emulator. Beside the zip the
 * task root has only what the runtime provides for sure (the AWS SDK clients the bundle leaves
 * out, scripts/build-options.cjs), so a module the bundle lacks fails here as on Lambda. It
 * runs on this machine's Node and on Node 22 (Lambda's nodejs22.x), and asserts the batch
 * results and every line on stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toStored, withSettings, type ConnectorConfig } from '../../lib/config/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import { startSchemaRegistry, type SchemaRegistryStandIn } from '../../lib/local/index.ts';
import { encode } from '../helpers/avro.ts';
import { ROOT } from '../helpers/fixtures.ts';
import {
  bundleFiles,
  packagesLoadedBy,
  provideRuntimePackages,
} from '../helpers/lambda-runtime.ts';
import { startSaslBroker, type SaslBroker } from '../helpers/sasl-broker.ts';
import { freshClone, serverlessPackage } from '../helpers/serverless.ts';
import { node22Path } from '../helpers/node22.ts';
import { startSsmEndpoint, type SsmEndpoint } from '../helpers/ssm-endpoint.ts';
import { readTopic, startEnv, uniqueTopic, type Env } from '../helpers/embedded.ts';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}
interface ShimOutcome {
  requestId?: string;
  result?: Record<string, number>;
  error?: { name?: string; code?: string; message?: string };
  init?: { name?: string; code?: string; message?: string };
}
interface Container {
  node: string;
  importMs: number;
  /** The packages in node_modules the import of the handler loaded (lambda-shim.mjs). */
  initPackages: string[];
  results: ShimOutcome[];
  lines: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

/** The packages the bundle takes from the nodejs22.x runtime (and the build leaves out). */
const { RUNTIME_PROVIDED } = createRequire(import.meta.url)('../../scripts/build-options.cjs') as {
  RUNTIME_PROVIDED: string[];
};
/** What the zip's bundle of one function may weigh. */
const MAX_BUNDLE_BYTES = 3 * 1024 * 1024;

const STAGE = 'bundle';
const SECRET = 'rest-secret-4f1c9e';
const PASSWORD = 'scram-password-77ab2d';

/** `serverless package` as a user runs it; returns the unpacked task root and the function. */
function packageAndUnpack(): {
  taskRoot: string;
  handler: string;
  environment: Record<string, string>;
  functionName: string;
  memory: number;
  runtimePackages: string[];
} {
  const out = mkdtempSync(join(tmpdir(), 'tgstream-bundle-'));
  // As a user runs it, right after clone and npm ci: packaging builds the bundle it zips.
  const clone = freshClone();
  let sls: ReturnType<typeof serverlessPackage>;
  try {
    sls = serverlessPackage(STAGE, join(out, 'package'), {}, clone.dir);
  } finally {
    clone.remove();
  }
  if (sls.status !== 0) throw new Error(`serverless package failed: ${sls.stdout}${sls.stderr}`);
  const template = JSON.parse(
    readFileSync(join(out, 'package', 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const fn = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables
        ?.TGSTREAM_CONNECTOR === 'company-stream',
  );
  if (!fn) throw new Error('no company-stream function in the template');
  const taskRoot = join(out, 'task');
  const zip = readdirSync(join(out, 'package')).find((f) => f.endsWith('.zip')) as string;
  const unzip = spawnSync('unzip', ['-q', join(out, 'package', zip), '-d', taskRoot], {
    encoding: 'utf8',
  });
  if (unzip.status !== 0) throw new Error(`unzip failed: ${unzip.stderr}`);
  // The nodejs22.x runtime provides these clients, each with what it needs; nothing else.
  const runtimePackages = provideRuntimePackages(taskRoot, RUNTIME_PROVIDED);
  const props = fn.Properties as {
    Handler: string;
    FunctionName: string;
    MemorySize: number;
    Environment: { Variables: Record<string, string> };
  };
  return {
    taskRoot,
    handler: props.Handler,
    environment: props.Environment.Variables,
    functionName: props.FunctionName,
    memory: props.MemorySize,
    runtimePackages,
  };
}

describe('the packaged Lambda bundle, run as Lambda runs it', () => {
  let pkg: ReturnType<typeof packageAndUnpack>;
  let env: Env;
  let ssm: SsmEndpoint;
  let dlq: string;
  let sasl: SaslBroker;
  let registry: SchemaRegistryStandIn;
  let offset = 0;
  const work = mkdtempSync(join(tmpdir(), 'tgstream-bundle-run-'));

  const store = (name: string, config: ConnectorConfig): void => {
    const { stored, secrets } = toStored(config);
    ssm.set(`/tgstream/${STAGE}/${name}/config`, { type: 'String', value: JSON.stringify(stored) });
    for (const [key, value] of Object.entries(secrets))
      ssm.set(`/tgstream/${STAGE}/${name}/secrets/${key}`, { type: 'SecureString', value });
  };

  beforeAll(async () => {
    pkg = packageAndUnpack();
    env = await startEnv({ partitions: 1, emulator: { secret: SECRET } });
    dlq = uniqueTopic('dlq');
    env.kafka.createTopic(dlq, 1);
    ssm = await startSsmEndpoint({});
    const secrets = {
      'tigergraph.auth.secret': SECRET,
      'tigergraph.auth.username': 'tigergraph',
      'tigergraph.auth.password': PASSWORD,
    };
    store('company-stream', withSettings(env.config, secrets));
    // A second connector in direct mode for the published sample events: whatever their
    // values, every record must end in one outcome.
    store(
      'samples',
      withSettings(env.config, {
        ...secrets,
        'tigergraph.delivery': 'direct',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
      }),
    );
    // One whose Avro values name their schema in a registry reached over plain http: the
    // registry client loads node:http on its first request (a chunk of the bundle).
    registry = await startSchemaRegistry();
    store(
      'avro-registry',
      withSettings(env.config, {
        ...secrets,
        'value.converter': 'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
        'value.converter.schema.registry.url': registry.url,
      }),
    );
    // A third producing to a target over MSK IAM, so the lazily loaded signer runs: a listener
    // that takes the OAUTHBEARER token and refuses the login.
    sasl = await startSaslBroker();
    store(
      'iam-target',
      withSettings(env.config, {
        ...secrets,
        'target.cluster.bootstrap.servers': sasl.address,
        'producer.security.protocol': 'SASL_PLAINTEXT',
        'producer.sasl.mechanism': 'AWS_MSK_IAM',
        'producer.sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
      }),
    );
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
    await sasl?.stop();
    await ssm?.stop();
    await env?.stop();
  });

  /**
   * One execution environment: a fresh process that imports the handler and runs the events.
   * Asynchronous: the emulator and the SSM endpoint answer from this process's event loop.
   */
  const runContainer = async (
    node: string,
    events: unknown[],
    connector = 'company-stream',
    extraEnv: Record<string, string> = {},
  ): Promise<Container> => {
    const eventsFile = join(work, `${uniqueTopic('events')}.json`);
    const resultsFile = `${eventsFile}.out`;
    writeFileSync(eventsFile, JSON.stringify(events));
    const child = spawn(
      node,
      [
        join(ROOT, 'test/helpers/lambda-shim.mjs'),
        pkg.taskRoot,
        pkg.handler,
        eventsFile,
        resultsFile,
      ],
      {
        cwd: pkg.taskRoot,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          ...pkg.environment,
          TGSTREAM_CONNECTOR: connector,
          // What Lambda sets in every execution environment.
          AWS_REGION: 'us-east-1',
          AWS_LAMBDA_FUNCTION_NAME: pkg.functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(pkg.memory),
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: pkg.taskRoot,
          AWS_ACCESS_KEY_ID: 'AKIDBUNDLETEST',
          AWS_SECRET_ACCESS_KEY: 'bundle-test-secret-key',
          AWS_SESSION_TOKEN: 'bundle-test-session',
          AWS_ENDPOINT_URL_SSM: ssm.url,
          AWS_CONFIG_FILE: join(work, 'none'),
          AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
          ...extraEnv,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const [status, signal] = (await once(child, 'close')) as [number | null, string | null];
    clearTimeout(timer);
    if (status !== 0)
      throw new Error(
        `the runtime process failed (status ${status}, signal ${signal}): ${stderr.slice(-2000)}\n${stdout.slice(-3000)}`,
      );
    const out = JSON.parse(readFileSync(resultsFile, 'utf8')) as Omit<
      Container,
      'lines' | 'stdout' | 'stderr'
    >;
    const lines = `${stdout}\n${stderr}`
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { ...out, lines, stdout, stderr };
  };

  const companies = (names: string[]): KafkaRecord[] =>
    names.map((company) => ({
      topic: env.source,
      partition: 0,
      offset: offset++,
      timestamp: Date.now() - 1000,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(company),
      value: Buffer.from(JSON.stringify({ company, employee_num: 7 }, null, 2)),
      headers: [],
    }));
  const mskEvent = (records: KafkaRecord[]): unknown =>
    JSON.parse(
      JSON.stringify(
        encodeKafkaEvent(records, {
          eventSource: 'aws:kafka',
          eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/c/abc',
          bootstrapServers: 'b-1:9092',
        }),
      ),
    ) as unknown;

  const nodes = (): [string, () => string][] => [
    ["this machine's Node", () => process.execPath],
    ['Node 22 (Lambda nodejs22.x)', node22Path],
  ];

  it('ships bundles under 3 MB that load nothing but Node and the clients the runtime provides', () => {
    const dist = join(pkg.taskRoot, 'dist');
    const entries = readdirSync(dist).filter((f) => f.endsWith('.mjs'));
    expect(entries.sort()).toEqual(['heartbeat.mjs', 'stream.mjs']);
    const chunks = readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.mjs'));
    const used = new Set<string>();
    for (const f of entries) {
      // Each function's bundle: its file and every chunk it can load, all in the zip.
      const { imported, all } = bundleFiles(join(dist, f));
      const bytes = all.reduce((n, file) => n + statSync(file).size, 0);
      const read = imported.reduce((n, file) => n + statSync(file).size, 0);
      console.log(
        `bundle dist/${f}: ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MB) in ${all.length} files; its import reads ${read}`,
      );
      expect(bytes, f).toBeLessThan(MAX_BUNDLE_BYTES);
      for (const file of all) used.add(file);
    }
    // No chunk is left over from another build (serverless.yml packages dist/chunks/*).
    expect(chunks.map((c) => join(dist, 'chunks', c)).filter((c) => !used.has(c))).toEqual([]);
    for (const file of used) {
      const loaded = packagesLoadedBy(readFileSync(file, 'utf8'));
      expect(
        loaded.filter((name) => !RUNTIME_PROVIDED.includes(name)),
        file,
      ).toEqual([]);
    }
    // The stand-in runtime is that narrow: the signer's dependencies come from the bundle.
    for (const name of ['aws-msk-iam-sasl-signer-js', '@aws-sdk/credential-providers'])
      expect(pkg.runtimePackages).not.toContain(name);
    expect(pkg.runtimePackages).toEqual(expect.arrayContaining(RUNTIME_PROVIDED));
  });

  it('signs an MSK IAM login from the bundle alone (the signer and its AWS SDK parts are in it)', async () => {
    const before = sasl.tokens.length;
    const c = await runContainer(
      node22Path(),
      [mskEvent(companies(['Bundle IAM']))],
      'iam-target',
      { SHIM_TIMEOUT_MS: '20000' },
    );
    expect(`${c.stdout}${c.stderr}`).not.toMatch(
      /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/,
    );
    // The login is refused, so the batch fails with a code, after the token was sent.
    expect(c.results[0]?.error?.code).toMatch(/^[A-Z]+(_[A-Z0-9]+)+$/);
    const token = sasl.tokens[before];
    expect(token, 'no OAUTHBEARER token reached the broker').toBeDefined();
    // MSK's IAM token: a presigned kafka-cluster:Connect URL, base64url-encoded, signed with
    // the execution environment's credentials.
    const url = new URL(Buffer.from(token ?? '', 'base64url').toString('utf8'));
    expect(url.host).toBe('kafka.us-east-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDBUNDLETEST\/\d{8}\/us-east-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('bundle-test-session');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);

  it('fetches Avro schemas from a schema registry over http from the bundle (Node 22)', async () => {
    const schema = {
      type: 'record',
      name: 'Company',
      fields: [
        { name: 'company', type: 'string' },
        { name: 'employee_num', type: 'int' },
      ],
    };
    const id = registry.register(`${env.source}-value`, schema);
    const records = companies(['Registry A', 'Registry B']).map((r, i) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(id, 1);
      return {
        ...r,
        value: Buffer.concat([head, encode(schema, { company: `Registry ${i}`, employee_num: 9 })]),
      };
    });
    const c = await runContainer(node22Path(), [mskEvent(records)], 'avro-registry');
    expect(c.results.map((r) => r.error ?? r.result)).toEqual([
      expect.objectContaining({ records: 2, loaded: 2, rejected: 0, deadLettered: 0 }),
    ]);
    expect(registry.fetches(id)).toBeGreaterThanOrEqual(1);
  }, 120_000);

  describe.each(nodes())('on %s', (label, nodePath) => {
    let c: Container;
    const readsPerContainer: number[] = [];
    beforeAll(async () => {
      const ssmBefore = ssm.requests();
      c = await runContainer(nodePath(), [
        mskEvent(companies(['Bundle A', 'Bundle B', 'Bundle C'])),
        mskEvent(companies(['Bundle D'])),
      ]);
      readsPerContainer.push(ssm.requests() - ssmBefore);
    }, 180_000);

    it('says which Node ran it', () => {
      console.log(`bundle ran on Node ${c.node}, import ${c.importMs.toFixed(0)} ms`);
      expect(c.node).toMatch(/^v\d+\./);
      if (label.startsWith('Node 22')) expect(c.node).toMatch(/^v22\./);
    });

    it("imports the handler without the runtime's SDK clients (the first invocation loads SSM's)", () => {
      // The init phase loads nothing from node_modules (lib/aws loads the clients on first use);
      // the batches below still read their configuration through the SSM client.
      expect(c.initPackages).toEqual([]);
    });

    it('returns each batch result with every record counted once', () => {
      expect(c.results.map((r) => r.error ?? r.result)).toEqual([
        expect.objectContaining({
          records: 3,
          loaded: 3,
          rejected: 0,
          deadLettered: 0,
          tombstones: 0,
          objectsLoaded: 3,
        }),
        expect.objectContaining({
          records: 1,
          loaded: 1,
          rejected: 0,
          deadLettered: 0,
          tombstones: 0,
          objectsLoaded: 1,
        }),
      ]);
      // Configuration is read from SSM once per execution environment, not per invocation:
      // two invocations, one read (the config parameter and one page of secrets by path).
      expect(readsPerContainer[0]).toBe(2);
    });

    it('writes JSON log lines with the Lambda context, service, stage and connector', () => {
      const done = c.lines.filter((l) => l.message === 'Batch done');
      expect(done).toHaveLength(2);
      for (const [i, line] of done.entries()) {
        expect(line).toMatchObject({
          level: 'INFO',
          service: 'tigerstream',
          connector: 'company-stream',
          stage: STAGE,
          function_name: pkg.functionName,
          function_request_id: c.results[i]?.requestId,
          cold_start: i === 0,
        });
      }
    });

    it('writes one EMF document per invocation and a ColdStart metric once', () => {
      const emf = c.lines.filter((l) => '_aws' in l);
      const cold = emf.filter((l) => 'ColdStart' in l);
      expect(cold).toHaveLength(1);
      const batches = emf.filter((l) => 'record-count' in l);
      expect(batches).toHaveLength(2);
      for (const doc of batches) {
        const directive = (
          doc._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }
        ).CloudWatchMetrics[0];
        expect(directive?.Namespace).toBe('TigerStream');
        expect([...(directive?.Dimensions[0] ?? [])].sort()).toEqual([
          'connector',
          'service',
          'stage',
        ]);
        expect(doc).toMatchObject({
          service: 'tigerstream',
          stage: STAGE,
          connector: 'company-stream',
        });
      }
      expect(
        batches.map((b) => [
          b['record-count'],
          b['loaded-count'],
          b['objects-loaded-count'],
          b['rejected-count'],
          b['dead-letter-count'],
          b['retry-count'],
        ]),
      ).toEqual([
        [3, 3, 3, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
      ]);
      expect(batches[0]?.['byte-count']).toBeGreaterThan(0);
      expect(batches[0]?.['record-age-ms']).toBeGreaterThanOrEqual(1000);
    });

    it('fails a batch it cannot load with a coded error, logged and counted, and prints no secret', async () => {
      env.tg.injectFault({
        match: /loading-jobs/,
        status: 400,
        code: 'REST-30000',
        message: `refused tigergraph:${PASSWORD} with ${SECRET}`,
        times: 100,
      });
      const failed = await runContainer(nodePath(), [mskEvent(companies(['Bundle E']))]);
      env.tg.clearFaults();
      expect(failed.results[0]?.error).toMatchObject({ code: 'TIGERGRAPH_REST_30000' });
      const error = failed.lines.find(
        (l) => l.message === 'Batch failed; it will be delivered again',
      );
      expect(error).toMatchObject({
        level: 'ERROR',
        function_request_id: failed.results[0]?.requestId,
      });
      expect(JSON.stringify(error)).toContain('refused tigergraph:******');
      const emf = failed.lines.filter((l) => '_aws' in l && 'batch-failed-count' in l);
      expect(emf).toHaveLength(1);
      for (const text of [failed.stdout, failed.stderr, c.stdout, c.stderr]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(SECRET);
      }
    });
  });

  it('fails with a coded error, logged and counted, when its configuration is not in SSM', async () => {
    const c = await runContainer(
      node22Path(),
      [mskEvent(companies(['Bundle Z']))],
      'never-created',
    );
    expect(c.results[0]?.error).toMatchObject({ code: 'CONFIG_SSM_NOT_FOUND' });
    expect(c.results[0]?.error?.message).toContain('/tgstream/bundle/never-created/');
    expect(
      c.lines.find((l) => l.message === 'Batch failed; it will be delivered again'),
    ).toMatchObject({
      level: 'ERROR',
      connector: 'never-created',
      function_name: pkg.functionName,
    });
    expect(c.lines.filter((l) => '_aws' in l && 'batch-failed-count' in l)).toHaveLength(1);
  }, 60_000);

  // The sample events AWS and Powertools publish (test/fixtures/events/SOURCES.md), each
  // through the bundle on Node 22: accepted shapes end with every record in one outcome.
  it('runs every published sample event through the bundle on Node 22', async () => {
    const dir = join(ROOT, 'test/fixtures/events');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const events = files.map(
      (f) =>
        JSON.parse(readFileSync(join(dir, f), 'utf8')) as { records: Record<string, unknown[]> },
    );
    const c = await runContainer(node22Path(), events, 'samples');
    expect(c.results).toHaveLength(files.length);
    for (const [i, file] of files.entries()) {
      const outcome = c.results[i] as ShimOutcome;
      const raw = Object.values(events[i]?.records ?? {}).flat() as { value?: string | null }[];
      // Lambda never sends a header value as base64 text (see SOURCES.md): a coded refusal.
      if (file === 'lambda-java-roundtrip-header-as-base64.json') {
        expect(outcome.error, file).toMatchObject({ code: 'EVENT_MALFORMED' });
        continue;
      }
      expect(outcome.error, file).toBeUndefined();
      // What each record must become, read from the fixture itself: no value is a tombstone;
      // JSON the example job loads (a "company") is loaded; anything else is dead-lettered
      // (TigerGraph rejects it, or it is not JSON and holds a line break).
      const expected = { tombstones: 0, loaded: 0, deadLettered: 0, rejected: 0 };
      for (const r of raw) {
        if (r.value === null || r.value === undefined) {
          expected.tombstones++;
          continue;
        }
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(r.value, 'base64').toString('utf8'));
        } catch {
          json = undefined;
        }
        if (typeof json === 'object' && json !== null && 'company' in json) expected.loaded++;
        else expected.deadLettered++;
      }
      expect(outcome.result, file).toMatchObject({ records: raw.length, ...expected });
    }
    const dead = c.results.reduce((n, o) => n + (o.result?.deadLettered ?? 0), 0);
    expect(dead).toBeGreaterThan(0);
    return readTopic(env.kafka.bootstrapServers, dlq, dead).then((got) =>
      expect(got).toHaveLength(dead),
    );
  }, 180_000);
});
