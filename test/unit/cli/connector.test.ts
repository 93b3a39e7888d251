import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
  type Parameter,
} from '@aws-sdk/client-ssm';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { runCli } from '../../../lib/cli/index.ts';
import { toConnectorStatus } from '../../../lib/control/index.ts';
import { VALID, edit } from '../../helpers/config.ts';
import { captureIo } from '../../helpers/cli.ts';
import { ROOT } from '../../helpers/fixtures.ts';

const ssm = mockClient(SSMClient);
const lambda = mockClient(LambdaClient);
// Source secrets (SASL, mTLS): test/unit/cli/connector-secrets.test.ts. Here none exists.
const sm = mockClient(SecretsManagerClient);
const deps = () => ({
  ssm: new SSMClient({ region: 'us-east-1' }),
  lambda: new LambdaClient({ region: 'us-east-1' }),
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
});
const dir = mkdtempSync(join(tmpdir(), 'tgstream-cli-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** An SSM parameter store in memory behind the mocked client. */
const fakeStore = () => {
  const params = new Map<string, Parameter>();
  ssm.on(GetParametersByPathCommand).callsFake((input: { Path: string }) => ({
    Parameters: [...params.values()].filter((p) => p.Name?.startsWith(input.Path)),
  }));
  ssm
    .on(PutParameterCommand)
    .callsFake((input: { Name: string; Value: string; Type: string; Overwrite?: boolean }) => {
      if (params.has(input.Name) && !input.Overwrite)
        throw Object.assign(new Error('exists'), { name: 'ParameterAlreadyExists' });
      params.set(input.Name, {
        Name: input.Name,
        Value: input.Value,
        Type: input.Type as Parameter['Type'],
      });
      return { Version: 1 };
    });
  ssm.on(DeleteParametersCommand).callsFake((input: { Names: string[] }) => {
    for (const n of input.Names) params.delete(n);
    return { DeletedParameters: input.Names };
  });
  return params;
};

beforeEach(() => {
  ssm.reset();
  lambda.reset();
  sm.reset();
  const notFound = Object.assign(new Error("Secrets Manager can't find the specified secret."), {
    name: 'ResourceNotFoundException',
  });
  sm.on(DescribeSecretCommand).rejects(notFound);
  sm.on(GetSecretValueCommand).rejects(notFound);
  sm.on(PutSecretValueCommand).resolves({});
});

describe('tgstream connector validate', () => {
  it('exits 0 with a normalized summary and secrets as ******', async () => {
    const file = write(
      'ok.properties',
      VALID.replace('[connector_1]', 'tigergraph.auth.password=Pa55-word!\n[connector_1]'),
    );
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file], io)).toBe(0);
    expect(stdout()).toContain('valid, 1 connector(s), 0 warning(s)');
    expect(stdout()).toContain('connector company-stream [connector_1]');
    expect(stdout()).toContain('target     world tg:30002 topics hello.companies');
    expect(stdout()).toContain('tigergraph.auth.password=******');
    expect(stdout()).not.toContain('Pa55-word!');
  });

  it('shows warnings with a valid file', async () => {
    const file = write('warn.properties', edit('sync.topic.configs.enabled', 'true'));
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file], io)).toBe(0);
    expect(stdout()).toMatch(
      /warning: .*warn\.properties:11 sync\.topic\.configs\.enabled: .* \[CONFIG_SYNC_TOPIC_CONFIGS_ENABLED\]/,
    );
  });

  it('exits 2 with one line per problem', async () => {
    const file = write(
      'bad.properties',
      edit('topics', undefined, edit('value.converter', 'Avro')),
    );
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file], io)).toBe(2);
    const lines = stdout().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^.*bad\.properties:9 value\.converter: found "Avro"; allowed: .* \[CONFIG_VALUE_CONVERTER_UNKNOWN\]$/,
    );
    expect(lines[1]).toMatch(
      /^.*bad\.properties:\d+ topics: is required: .* \[CONFIG_TOPICS_MISSING\]$/,
    );
  });

  it('--json gives the same as JSON', async () => {
    const file = write('bad2.properties', edit('tasks.max', '0'));
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file, '--json'], io)).toBe(2);
    const doc = JSON.parse(stdout()) as {
      valid: boolean;
      errors: { code: string; line: number; key: string }[];
    };
    expect(doc.valid).toBe(false);
    expect(doc.errors).toEqual([
      expect.objectContaining({ code: 'CONFIG_TASKS_MAX_INVALID', key: 'tasks.max', line: 19 }),
    ]);
    const ok = captureIo();
    expect(
      await runCli(
        ['connector', 'validate', '--c', write('ok2.properties', VALID), '--json'],
        ok.io,
      ),
    ).toBe(0);
    expect(JSON.parse(ok.stdout())).toMatchObject({
      valid: true,
      connectors: [{ name: 'company-stream', target: { topics: ['hello.companies'] } }],
      errors: [],
      warnings: [],
    });
  });
});

describe('tgstream connector validate, mirror-only', () => {
  const mirrorOnly = VALID.replace(/^tigergraph\..*\n/gm, '');

  it('says in one line that the connector mirrors only and your loading job loads', async () => {
    const file = write('mirror.properties', mirrorOnly);
    const { io, stdout, stderr } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file], io)).toBe(0);
    expect(stderr()).toBe('');
    const lines = stdout().split('\n');
    expect(lines[0]).toBe(`${file}: valid, 1 connector(s), 0 warning(s)`);
    expect(lines.filter((l) => l.includes('mirror-only'))).toEqual([
      "  tigergraph mirror-only: records go to hello.companies on TigerGraph's Kafka; your loading job (RUN LOADING JOB ...) loads them",
    ]);
  });

  it('--json gives mode mirror-only and no tigergraph settings', async () => {
    const file = write('mirror2.properties', mirrorOnly);
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file, '--json'], io)).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({
      valid: true,
      connectors: [{ mode: 'mirror-only', tigergraph: null }],
    });
    const loader = captureIo();
    await runCli(
      ['connector', 'validate', '--c', write('k.properties', VALID), '--json'],
      loader.io,
    );
    expect(JSON.parse(loader.stdout())).toMatchObject({
      connectors: [{ mode: 'kafka', tigergraph: { graph: 'Company_Graph' } }],
    });
  });

  it('exits 2 with one line naming the missing keys when only some tigergraph.* keys are set', async () => {
    const file = write(
      'half.properties',
      mirrorOnly.replace(
        '[connector_1]',
        'tigergraph.delivery=direct\ntigergraph.url=http://tg:14240\n[connector_1]',
      ),
    );
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'validate', '--c', file], io)).toBe(2);
    expect(stdout()).toBe(
      `${file}:12 tigergraph.delivery: is set, so TigerStream is to call TigerGraph's loader, which also needs tigergraph.graph (the graph the loading job belongs to), tigergraph.loading.job (the loading job name), tigergraph.loading.filename (the DEFINE FILENAME variable of the loading job, e.g. f1); allowed: tigergraph.url, tigergraph.graph, tigergraph.loading.job and tigergraph.loading.filename all set, or no tigergraph.* key (mirror-only: records go to hello.companies on TigerGraph's Kafka and your own loading job loads them) [CONFIG_TIGERGRAPH_INCOMPLETE]\n`,
    );
  });
});

describe('tgstream convert needs no tigergraph.* key', () => {
  const line = JSON.stringify({
    topic: 'companies',
    partition: 0,
    offset: 1,
    timestamp: 0,
    key: null,
    value: Buffer.from('{ "company": "A" }').toString('base64'),
    headers: [],
  });
  it.each([
    ['mirror-only', VALID.replace(/^tigergraph\..*\n/gm, '')],
    ['incomplete', edit('tigergraph.graph', undefined)],
  ])('converts with a %s file', async (name, text) => {
    const { Readable } = await import('node:stream');
    const { io, stdout, stderr } = captureIo();
    const code = await runCli(['convert', '--c', write(`convert-${name}.properties`, text)], io, {
      stdin: Readable.from([line]),
    });
    expect(stderr()).toBe('');
    expect(code).toBe(0);
    expect(stdout()).toBe('{"company":"A"}\n');
  });
});

describe('tgstream connector create', () => {
  const withSecrets = VALID.replace(
    '[connector_1]',
    [
      'tigergraph.auth.password=tg-pass-123',
      'producer.security.protocol=SASL_SSL',
      'producer.sasl.mechanism=SCRAM-SHA-512',
      'producer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="svc" password="scram-pass-456";',
      '[connector_1]',
    ].join('\n'),
  );

  it('writes the config as a String without secrets and each secret as a SecureString, idempotently', async () => {
    const params = fakeStore();
    const file = write('secrets.properties', withSecrets);
    const first = captureIo();
    expect(
      await runCli(['connector', 'create', '--c', file, '--stage', 'prod'], first.io, deps()),
    ).toBe(0);
    expect(first.stdout()).toBe(
      [
        'created   /tgstream/prod/company-stream/config',
        'created   /tgstream/prod/company-stream/secrets/tigergraph.auth.password (SecureString)',
        'created   /tgstream/prod/company-stream/secrets/producer.sasl.jaas.config (SecureString)',
        '',
      ].join('\n'),
    );
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts.find((p) => p.Name?.endsWith('/config'))).toMatchObject({
      Type: 'String',
      Overwrite: false,
    });
    expect(puts.find((p) => p.Name?.endsWith('/tigergraph.auth.password'))).toMatchObject({
      Type: 'SecureString',
      Value: 'tg-pass-123',
    });
    const config = params.get('/tgstream/prod/company-stream/config')?.Value ?? '';
    expect(config).not.toContain('tg-pass-123');
    expect(config).not.toContain('scram-pass-456');
    expect(first.stdout() + first.stderr()).not.toMatch(/tg-pass-123|scram-pass-456/);

    const again = captureIo();
    expect(
      await runCli(['connector', 'create', '--c', file, '--stage', 'prod'], again.io, deps()),
    ).toBe(0);
    expect(
      again
        .stdout()
        .trim()
        .split('\n')
        .every((l) => l.startsWith('unchanged')),
    ).toBe(true);

    const changed = write(
      'secrets2.properties',
      withSecrets
        .replace('tg-pass-123', 'tg-pass-789')
        .replace('tigergraph.graph=Company_Graph', 'tigergraph.graph=Other'),
    );
    const third = captureIo();
    await runCli(['connector', 'create', '--c', changed, '--stage', 'prod'], third.io, deps());
    expect(third.stdout()).toContain('updated   /tgstream/prod/company-stream/config');
    expect(third.stdout()).toContain(
      'updated   /tgstream/prod/company-stream/secrets/tigergraph.auth.password (SecureString)',
    );
    expect(third.stdout()).toContain(
      'unchanged /tgstream/prod/company-stream/secrets/producer.sasl.jaas.config',
    );

    const fewer = write(
      'secrets3.properties',
      withSecrets.replace('tigergraph.auth.password=tg-pass-123\n', ''),
    );
    const fourth = captureIo();
    await runCli(['connector', 'create', '--c', fewer, '--stage', 'prod'], fourth.io, deps());
    expect(fourth.stdout()).toContain(
      'deleted   /tgstream/prod/company-stream/secrets/tigergraph.auth.password',
    );
    expect(params.has('/tgstream/prod/company-stream/secrets/tigergraph.auth.password')).toBe(
      false,
    );
  });

  it('stores JKS and PKCS12 key and trust stores as PEM SecureStrings, with no file path left', async () => {
    const params = fakeStore();
    const stores = join(ROOT, 'test', 'fixtures', 'keystores');
    const text = VALID.replace(
      '[connector_1]',
      [
        'producer.security.protocol=SSL',
        `producer.ssl.keystore.location=${join(stores, 'client.keystore.p12')}`,
        'producer.ssl.keystore.password=p12-pass',
        `producer.ssl.truststore.location=${join(stores, 'truststore.jks')}`,
        'producer.ssl.truststore.password=trust-pass',
        'consumer.security.protocol=SSL',
        `consumer.ssl.keystore.location=${join(stores, 'client.keystore.jks')}`,
        'consumer.ssl.keystore.password=keystore-pass',
        '[connector_1]',
      ].join('\n'),
    );
    const { io, stdout } = captureIo();
    expect(
      await runCli(['connector', 'create', '--c', write('tls.properties', text)], io, deps()),
    ).toBe(0);
    const secret = (k: string) => params.get(`/tgstream/dev/company-stream/secrets/${k}`);
    expect(secret('producer.ssl.keystore.key')?.Value).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(secret('producer.ssl.keystore.certificate.chain')?.Value).toMatch(
      /^-----BEGIN CERTIFICATE-----/,
    );
    expect(secret('producer.ssl.truststore.certificates')?.Value).toMatch(
      /^-----BEGIN CERTIFICATE-----/,
    );
    expect(secret('consumer.ssl.keystore.key')?.Type).toBe('SecureString');
    const config = params.get('/tgstream/dev/company-stream/config')?.Value ?? '';
    expect(config).not.toContain('.location');
    expect(config).not.toContain('p12-pass');
    expect(JSON.parse(config)).toMatchObject({
      settings: { 'producer.ssl.keystore.type': 'PEM', 'producer.ssl.truststore.type': 'PEM' },
    });
    expect(stdout()).not.toContain('BEGIN');
  });

  it('names the key and path of a store the password does not open, without the password', async () => {
    fakeStore();
    const text = VALID.replace(
      '[connector_1]',
      `producer.security.protocol=SSL\nproducer.ssl.keystore.location=${join(ROOT, 'test/fixtures/keystores/client.keystore.p12')}\nproducer.ssl.keystore.password=wrong-pass\n[connector_1]`,
    );
    const { io, stderr } = captureIo();
    expect(
      await runCli(['connector', 'create', '--c', write('badstore.properties', text)], io, deps()),
    ).toBe(2);
    expect(stderr()).toMatch(
      /producer\.ssl\.keystore\.location: .*client\.keystore\.p12 \(PKCS12\) does not open with the password in producer\.ssl\.keystore\.password: .* \[CONFIG_STORE_PASSWORD_WRONG\]/,
    );
    expect(stderr()).not.toContain('wrong-pass');
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('stores the schemas of .avsc files inline, so the Lambda needs no files', async () => {
    const params = fakeStore();
    const schema = {
      type: 'record',
      name: 'Company',
      fields: [{ name: 'company', type: 'string' }],
    };
    const avsc = write('company.avsc', JSON.stringify(schema));
    const text = edit(
      'value.converter',
      'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry',
    ).replace('[connector_1]', `value.converter.schemas=${avsc}\n[connector_1]`);
    const { io } = captureIo();
    expect(
      await runCli(['connector', 'create', '--c', write('avro.properties', text)], io, deps()),
    ).toBe(0);
    const stored = JSON.parse(params.get('/tgstream/dev/company-stream/config')?.Value ?? '{}') as {
      settings: Record<string, string>;
    };
    expect(JSON.parse(stored.settings['value.converter.schemas'] ?? '')).toEqual([schema]);
  });

  it('writes nothing for an invalid file', async () => {
    fakeStore();
    const { io } = captureIo();
    expect(
      await runCli(
        ['connector', 'create', '--c', write('inv.properties', edit('topics', undefined))],
        io,
        deps(),
      ),
    ).toBe(2);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('tgstream connector status, pause, resume, list, delete', () => {
  const mapping = (extra: Record<string, unknown>) => ({
    UUID: 'uuid-1',
    State: 'Enabled',
    LastProcessingResult: 'OK',
    StateTransitionReason: 'USER_INITIATED',
    ...extra,
  });

  it.each([
    [{ State: 'Enabled' }, 'RUNNING'],
    [
      {
        State: 'Enabled',
        LastProcessingResult:
          'PROBLEM: Connection error. Please check your event source connection configuration.',
      },
      'FAILED',
    ],
    [{ State: 'Disabled' }, 'PAUSED'],
    [{ State: 'Creating' }, 'UNASSIGNED'],
    [{ State: 'Updating' }, 'RESTARTING'],
  ])('maps %o to %s', (extra, state) => {
    expect(toConnectorStatus('c', 'f', mapping(extra)).state).toBe(state);
  });

  it('status finds the mapping of the deployed function and prints the state with the reason', async () => {
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [mapping({ LastProcessingResult: 'PROBLEM: Function call failed' })],
    });
    const { io, stdout } = captureIo();
    expect(
      await runCli(['connector', 'status', 'company-stream', '--stage', 'prod'], io, deps()),
    ).toBe(1);
    expect(lambda.commandCalls(ListEventSourceMappingsCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'tigerstream-prod-streamCompanyStream',
    });
    expect(stdout()).toBe(
      'company-stream: FAILED (USER_INITIATED; PROBLEM: Function call failed) mapping uuid-1\n',
    );
  });

  it('pause and resume switch the Enabled flag', async () => {
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [mapping({})] });
    lambda
      .on(UpdateEventSourceMappingCommand)
      .callsFake((input: { Enabled: boolean }) =>
        mapping({ State: input.Enabled ? 'Enabling' : 'Disabling' }),
      );
    const paused = captureIo();
    expect(await runCli(['connector', 'pause', 'company-stream'], paused.io, deps())).toBe(0);
    expect(paused.stdout()).toContain('company-stream: PAUSED');
    const resumed = captureIo();
    expect(await runCli(['connector', 'resume', 'company-stream'], resumed.io, deps())).toBe(0);
    expect(
      lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input),
    ).toEqual([
      { UUID: 'uuid-1', Enabled: false },
      { UUID: 'uuid-1', Enabled: true },
    ]);
  });

  it('pause, resume and status act on every mapping of a connector of several topics, across pages', async () => {
    // The IaC makes one mapping per topic (CloudFormation's mapping takes one topic).
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'tigerstream-dev-streamCompanyStream' })
      .resolvesOnce({
        EventSourceMappings: [mapping({ UUID: 'uuid-a', Topics: ['a'] })],
        NextMarker: 'm2',
      })
      .resolvesOnce({ EventSourceMappings: [mapping({ UUID: 'uuid-b', Topics: ['b'] })] });
    lambda
      .on(UpdateEventSourceMappingCommand)
      .callsFake((input: { UUID: string; Enabled: boolean }) =>
        mapping({ UUID: input.UUID, State: 'Disabling', Topics: [input.UUID.slice(-1)] }),
      );
    const paused = captureIo();
    expect(await runCli(['connector', 'pause', 'company-stream'], paused.io, deps())).toBe(0);
    expect(
      lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input),
    ).toEqual([
      { UUID: 'uuid-a', Enabled: false },
      { UUID: 'uuid-b', Enabled: false },
    ]);
    expect(lambda.commandCalls(ListEventSourceMappingsCommand)[1]?.args[0].input).toMatchObject({
      Marker: 'm2',
    });
    expect(paused.stdout()).toContain('company-stream: PAUSED');
    expect(paused.stdout()).toContain(
      '(a: PAUSED (USER_INITIATED; OK); b: PAUSED (USER_INITIATED; OK))',
    );

    // One mapping failing makes the connector FAILED, naming the topic.
    lambda.reset();
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        mapping({ UUID: 'uuid-a', Topics: ['a'], LastProcessingResult: 'OK' }),
        mapping({
          UUID: 'uuid-b',
          Topics: ['b'],
          LastProcessingResult: 'PROBLEM: Function call failed',
        }),
      ],
    });
    const status = captureIo();
    expect(await runCli(['connector', 'status', 'company-stream'], status.io, deps())).toBe(1);
    expect(status.stdout()).toMatch(
      /^company-stream: FAILED \(a: RUNNING .*; b: FAILED .*PROBLEM: Function call failed\)\) mapping uuid-a,uuid-b\n/,
    );
  });

  it('pause says what to do when the connector is not deployed', async () => {
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
    const { io, stderr } = captureIo();
    expect(await runCli(['connector', 'pause', 'company-stream'], io, deps())).toBe(1);
    expect(stderr()).toContain(
      "deploy it with 'serverless deploy --stage dev' [CONTROL_MAPPING_NOT_FOUND]",
    );
  });

  it('list shows each stored connector with its state', async () => {
    const params = fakeStore();
    params.set('/tgstream/dev/a/config', { Name: '/tgstream/dev/a/config', Value: '{}' });
    params.set('/tgstream/dev/a/secrets/x.password', {
      Name: '/tgstream/dev/a/secrets/x.password',
      Value: 's',
    });
    params.set('/tgstream/dev/b/config', { Name: '/tgstream/dev/b/config', Value: '{}' });
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'tigerstream-dev-streamA' })
      .resolves({ EventSourceMappings: [mapping({ State: 'Disabled' })] });
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'tigerstream-dev-streamB' })
      .resolves({ EventSourceMappings: [] });
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'list'], io, deps())).toBe(0);
    expect(
      stdout()
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ').trim()),
    ).toEqual(['a PAUSED', 'b NOT_DEPLOYED', '']);
  });

  it('delete asks first, refuses without a terminal, and --yes removes every parameter', async () => {
    const params = fakeStore();
    for (const n of ['config', 'secrets/a.password', 'secrets/b.secret'])
      params.set(`/tgstream/dev/x/${n}`, { Name: `/tgstream/dev/x/${n}`, Value: 'v' });
    const noTty = captureIo();
    expect(await runCli(['connector', 'delete', 'x'], noTty.io, deps())).toBe(2);
    expect(noTty.stderr()).toContain('pass --yes');
    const declined = captureIo({ ask: () => Promise.resolve('n') });
    expect(await runCli(['connector', 'delete', 'x'], declined.io, deps())).toBe(1);
    expect(params.size).toBe(3);
    const confirmed = captureIo({ ask: () => Promise.resolve('y') });
    expect(await runCli(['connector', 'delete', 'x'], confirmed.io, deps())).toBe(0);
    expect(params.size).toBe(0);
    expect(ssm.commandCalls(DeleteParametersCommand)[0]?.args[0].input).toEqual({
      Names: [
        '/tgstream/dev/x/config',
        '/tgstream/dev/x/secrets/a.password',
        '/tgstream/dev/x/secrets/b.secret',
      ],
    });
    const missing = captureIo();
    expect(await runCli(['connector', 'delete', 'x', '--yes'], missing.io, deps())).toBe(1);
    expect(missing.stderr()).toContain('[CONTROL_CONNECTOR_NOT_FOUND]');
  });
});
