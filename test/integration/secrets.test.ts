import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { runCli } from '../../lib/cli/index.ts';
import { createSecretRegistry, withSettings } from '../../lib/config/index.ts';
import { encodeKafkaEvent } from '../../lib/event/index.ts';
import {
  startEmbeddedKafka,
  startTigerGraphEmulator,
  type EmbeddedKafka,
  type TigerGraphEmulator,
} from '../../lib/local/index.ts';
import { createLogger } from '../../lib/observability/index.ts';
import { createStreamHandler } from '../../lib/pipeline/index.ts';
import { captureIo } from '../helpers/cli.ts';
import { COMPANY_GSQL, produce, uniqueTopic } from '../helpers/embedded.ts';
import { testConfig } from '../helpers/fakes.ts';
import { VALID } from '../helpers/config.ts';

const SECRETS = {
  'tigergraph.auth.password': 'tg-Pa55word-1',
  'tigergraph.auth.secret': 'restpp-secret-2',
  'value.converter.basic.auth.user.info': 'registry-user:registry-pass-3',
  'consumer.ssl.truststore.password': 'truststore-pass-4',
  'producer.sasl.jaas.config':
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="jaas-pass-5";',
};
const SECRET_VALUES = [
  'tg-Pa55word-1',
  'restpp-secret-2',
  'registry-pass-3',
  'truststore-pass-4',
  'jaas-pass-5',
];
const leaks = (text: string): string[] => SECRET_VALUES.filter((s) => text.includes(s));

describe('no secret reaches stdout, stderr or the logs', () => {
  let kafka: EmbeddedKafka;
  let tg: TigerGraphEmulator;
  let file: string;
  let badFile: string;
  const source = uniqueTopic('src');
  const ssm = mockClient(SSMClient);
  const lambda = mockClient(LambdaClient);
  const deps = {
    ssm: new SSMClient({ region: 'us-east-1' }),
    lambda: new LambdaClient({ region: 'us-east-1' }),
  };

  beforeAll(async () => {
    kafka = startEmbeddedKafka();
    kafka.createTopic(source, 1);
    kafka.createTopic(`hello.${source}`, 1);
    tg = await startTigerGraphEmulator({
      gsql: COMPANY_GSQL(`hello.${source}`),
      kafkaBootstrapOverride: kafka.bootstrapServers,
      secret: SECRETS['tigergraph.auth.secret'],
      gsqlCredentials: { username: 'tigergraph', password: SECRETS['tigergraph.auth.password'] },
    });
    await produce(kafka.bootstrapServers, source, [
      { key: 'a', value: '{"company":"A","employee_num":1}', partition: 0 },
    ]);
    const lines = Object.entries({
      ...SECRETS,
      'tigergraph.auth.username': 'tigergraph',
      'tigergraph.url': tg.url,
      'source.cluster.bootstrap.servers': kafka.bootstrapServers,
      'target.cluster.bootstrap.servers': kafka.bootstrapServers,
      topics: source,
    })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    const base = VALID.replace(
      /^(topics|source.cluster.bootstrap.servers|target.cluster.bootstrap.servers|tigergraph.url)=.*\n/gm,
      '',
    );
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-secrets-'));
    file = join(dir, 'secret.properties');
    writeFileSync(file, base.replace('[connector_1]', `${lines}\n[connector_1]`));
    badFile = join(dir, 'bad.properties');
    // Errors next to secrets: a jaas config that does not match its mechanism, an unknown converter.
    writeFileSync(
      badFile,
      base
        .replace(
          '[connector_1]',
          `${lines}\nproducer.security.protocol=SASL_SSL\nproducer.sasl.mechanism=SCRAM-SHA-512\nvalue.converter.extra=1\n[connector_1]`,
        )
        .replace(
          'value.converter=org.apache.kafka.connect.converters.ByteArrayConverter',
          'value.converter=Nope',
        ),
    );
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: '/tgstream/dev/company-stream/config', Value: '{}' },
        {
          Name: '/tgstream/dev/company-stream/secrets/tigergraph.auth.password',
          Value: SECRETS['tigergraph.auth.password'],
          Type: 'SecureString',
        },
      ],
    });
    ssm.on(PutParameterCommand).resolves({});
    ssm.on(DeleteParametersCommand).resolves({});
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        {
          UUID: 'u',
          State: 'Enabled',
          LastProcessingResult: `PROBLEM: broker said ${SECRETS['tigergraph.auth.password']}`,
        },
      ],
    });
    lambda.on(UpdateEventSourceMappingCommand).resolves({ UUID: 'u', State: 'Disabling' });
  });
  afterAll(async () => {
    await tg.stop();
    kafka.stop();
    ssm.restore();
    lambda.restore();
  });

  it('in every CLI command', async () => {
    const commands = [
      ['connector', 'validate', '--c', file],
      ['connector', 'validate', '--c', file, '--json'],
      ['connector', 'validate', '--c', badFile],
      ['connector', 'validate', '--c', badFile, '--json'],
      ['connector', 'create', '--c', file],
      ['connector', 'create', '--c', file, '--json'],
      ['connector', 'create', '--c', badFile],
      ['connector', 'list'],
      ['connector', 'status', 'company-stream'],
      ['connector', 'status', '--json'],
      ['connector', 'pause', 'company-stream'],
      ['connector', 'resume', 'company-stream', '--json'],
      ['connector', 'delete', 'company-stream', '--yes'],
      ['run', '--c', file, '--eof', '--log-level', 'debug', '--session-timeout-ms', '6000'],
      ['run', '--c', badFile, '--eof'],
    ];
    const outputs: string[] = [];
    for (const argv of commands) {
      const { io, stdout, stderr } = captureIo();
      const code = await runCli(argv, io, deps);
      outputs.push(`$ ${argv.join(' ')} (exit ${code})\n${stdout()}${stderr()}`);
      expect(leaks(stdout() + stderr()), argv.join(' ')).toEqual([]);
    }
    // The commands did run: the stream loaded the record and the problems were reported.
    const all = outputs.join('\n');
    expect(all).toContain('"loaded":1');
    expect(all).toContain('[CONFIG_VALUE_CONVERTER_UNKNOWN]');
    expect(all).toContain('FAILED (PROBLEM: broker said ******)');
  });

  it('in the handler logs, also when an error message echoes a secret', async () => {
    const lines: string[] = [];
    const secrets = createSecretRegistry();
    const config = withSettings(testConfig(VALID.replace('topics=companies', `topics=${source}`)), {
      ...SECRETS,
      'tigergraph.auth.username': 'tigergraph',
      'tigergraph.url': tg.url,
      'source.cluster.bootstrap.servers': kafka.bootstrapServers,
      'target.cluster.bootstrap.servers': kafka.bootstrapServers,
    });
    const handler = createStreamHandler({
      loadConfig: () => Promise.resolve(config),
      logger: createLogger({
        level: 'debug',
        write: (l) => lines.push(l),
        redact: (t) => secrets.redact(t),
      }),
      secrets,
      retryPolicy: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
    });
    const context = {
      awsRequestId: 'r',
      getRemainingTimeInMillis: () => 30_000,
    } as unknown as Context;
    const event = encodeKafkaEvent(
      [
        {
          topic: source,
          partition: 0,
          offset: 0,
          timestamp: Date.now(),
          timestampType: 'CREATE_TIME',
          key: null,
          value: Buffer.from('{"company":"B","employee_num":2}'),
          headers: [],
        },
      ],
      { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' },
    );
    try {
      expect((await handler(event, context)).loaded).toBe(1);
      tg.injectFault({
        match: /loading-jobs/,
        status: 400,
        code: 'REST-30000',
        message: `bad credentials tigergraph:${SECRETS['tigergraph.auth.password']} secret ${SECRETS['tigergraph.auth.secret']}`,
      });
      await expect(handler(event, context)).rejects.toMatchObject({
        code: 'TIGERGRAPH_REST_30000',
      });
    } finally {
      await handler.close();
    }
    const text = lines.join('\n');
    expect(text).toContain('Batch failed');
    expect(text).toContain('bad credentials tigergraph:******');
    expect(leaks(text)).toEqual([]);
  });
});
