import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  InvalidKeyId,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import {
  cacheConfig,
  readConnectorFromSsm,
  storedSecretKeys,
  toStored,
  type StoredConnector,
} from '../../../lib/config/index.ts';
import { createLogger } from '../../../lib/observability/index.ts';
import { createStreamHandler } from '../../../lib/pipeline/index.ts';
import { VALID } from '../../helpers/config.ts';
import { FakeDelivery, testConfig } from '../../helpers/fakes.ts';
import { fixture } from '../../helpers/fixtures.ts';

const ssm = mockClient(SSMClient);
const client = () => new SSMClient({ region: 'us-east-1' });
const PATH = '/tgstream/dev/company-stream';

/** Mirror-only, with a SCRAM source and a TigerGraph-free target: one secret key. */
const SCRAM_SOURCE = VALID.replace(/^tigergraph\..*\n/gm, '').replace(
  '[connector_1]',
  [
    'consumer.security.protocol=SASL_SSL',
    'consumer.sasl.mechanism=SCRAM-SHA-512',
    'consumer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="src-user" password="src-pass-789";',
    'producer.ssl.truststore.certificates=-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----',
    '[connector_1]',
  ].join('\n'),
);

/** SSM as the deploy leaves it: the config document, and whichever secrets exist. */
const store = (doc: unknown, secrets: Record<string, string>) => {
  ssm
    .on(GetParameterCommand, { Name: `${PATH}/config` })
    .resolves({ Parameter: { Type: 'String', Value: JSON.stringify(doc) } });
  ssm.on(GetParametersByPathCommand, { Path: `${PATH}/secrets/` }).resolves({
    Parameters: Object.entries(secrets).map(([k, v]) => ({
      Name: `${PATH}/secrets/${k}`,
      Type: 'SecureString',
      Value: v,
    })),
  });
};

beforeEach(() => ssm.reset());

describe('the stored document lists its secret keys', () => {
  it('names every secret key the file has, store files as the PEM keys create writes', () => {
    const { stored, secrets } = toStored(testConfig(SCRAM_SOURCE));
    expect(stored.secretKeys).toEqual([
      'consumer.sasl.jaas.config',
      'producer.ssl.truststore.certificates',
    ]);
    expect(Object.keys(secrets).sort()).toEqual(stored.secretKeys);
    expect(
      storedSecretKeys({
        'consumer.ssl.keystore.location': '/x/k.jks',
        'consumer.ssl.keystore.password': 'a',
        'consumer.ssl.key.password': 'b',
        'producer.ssl.truststore.location': '/x/t.p12',
        'producer.ssl.truststore.password': 'c',
        'tigergraph.auth.password': '',
      }),
    ).toEqual([
      'consumer.ssl.keystore.certificate.chain',
      'consumer.ssl.keystore.key',
      'producer.ssl.truststore.certificates',
    ]);
  });
});

describe('readConnectorFromSsm when the deploy wrote the configuration but not its secrets', () => {
  it('fails with CONFIG_SECRET_MISSING naming each missing parameter and the command to run', async () => {
    const { stored } = toStored(testConfig(SCRAM_SOURCE));
    store(stored, { 'producer.ssl.truststore.certificates': 'pem' });
    const error = await readConnectorFromSsm(client(), 'dev', 'company-stream').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_SECRET_MISSING',
      retriable: false,
      details: { stage: 'dev', connector: 'company-stream', missing: 'consumer.sasl.jaas.config' },
    });
    expect((error as Error).message).toBe(
      `Connector "company-stream" in stage "dev" has its configuration in SSM (${PATH}/config) but not the secret it needs: ${PATH}/secrets/consumer.sasl.jaas.config (SecureString). \`serverless deploy\` writes them before the stack from the connector file on the deploying machine, and 'tgstream connector create --c <the connector file defining company-stream> --stage dev' writes them too: deploy again from a machine with the file, or run it`,
    );
  });

  it('names every missing secret when none was written', async () => {
    store(toStored(testConfig(SCRAM_SOURCE)).stored, {});
    await expect(readConnectorFromSsm(client(), 'dev', 'company-stream')).rejects.toMatchObject({
      code: 'CONFIG_SECRET_MISSING',
      message: expect.stringContaining(
        `not 2 secrets it needs: ${PATH}/secrets/consumer.sasl.jaas.config, ${PATH}/secrets/producer.ssl.truststore.certificates`,
      ) as unknown,
    });
  });

  it('reads a format 1 document without secretKeys as before, and still names a missing secret', async () => {
    const { stored, secrets } = toStored(testConfig(SCRAM_SOURCE));
    const legacy: StoredConnector = {
      format: 1,
      name: stored.name,
      section: stored.section,
      settings: stored.settings,
    };
    store(legacy, secrets);
    const config = await readConnectorFromSsm(client(), 'dev', 'company-stream');
    expect(config.source).toMatchObject({ mechanism: 'SCRAM-SHA-512', username: 'src-user' });

    ssm.reset();
    store(legacy, { 'producer.ssl.truststore.certificates': 'pem' });
    await expect(readConnectorFromSsm(client(), 'dev', 'company-stream')).rejects.toMatchObject({
      code: 'CONFIG_SECRET_MISSING',
      details: { missing: 'consumer.sasl.jaas.config' },
    });
  });

  it('keeps CONFIG_INVALID for a document that is wrong for other reasons', async () => {
    const { stored, secrets } = toStored(testConfig(SCRAM_SOURCE));
    store({ ...stored, settings: { ...stored.settings, topics: '' } }, secrets);
    await expect(readConnectorFromSsm(client(), 'dev', 'company-stream')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('the stream handler (functions/stream.ts wiring) with a missing secret', () => {
  const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as Context;

  it('fails the invocation with the coded error and logs it without a value; once create has run, the next batch goes through', async () => {
    const { stored, secrets } = toStored(testConfig(SCRAM_SOURCE));
    store(stored, {});
    const lines: string[] = [];
    const delivery = new FakeDelivery({ 'hello.mytopic': 1 });
    const handler = createStreamHandler({
      loadConfig: cacheConfig(() => readConnectorFromSsm(client(), 'dev', 'company-stream')),
      createDelivery: () => delivery,
      resolveBrokers: (value) => Promise.resolve(value),
      logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    });
    const event = fixture('msk-event.json');

    await expect(handler(event, context)).rejects.toMatchObject({
      code: 'CONFIG_SECRET_MISSING',
    });
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(failed).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'Batch failed; it will be delivered again',
        error: expect.objectContaining({
          code: 'CONFIG_SECRET_MISSING',
          missing: 'consumer.sasl.jaas.config,producer.ssl.truststore.certificates',
        }) as unknown,
      }),
    ]);

    // `tgstream connector create` writes the SecureStrings; the failure was not cached.
    ssm.reset();
    store(stored, secrets);
    await expect(handler(event, context)).resolves.toMatchObject({ records: 1, produced: 1 });
    expect(lines.join('\n')).not.toContain('src-pass-789');
    await handler.close();
  });
});

describe('readConnectorFromSsm when SSM refuses', () => {
  const metadata = { httpStatusCode: 400, requestId: 'r-1' };
  const denied = (message: string) =>
    new SSMServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: metadata,
      message,
    });

  it.each([
    [
      'the role may not read the parameter',
      denied(
        'User: arn:aws:sts::123456789012:assumed-role/other/fn is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/tgstream/dev/company-stream/config',
      ),
      'config',
    ],
    [
      'the role may not decrypt a SecureString',
      denied(
        'User: arn:aws:sts::123456789012:assumed-role/r/fn is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd',
      ),
      'secrets',
    ],
    [
      "the SecureString's key cannot be used",
      new InvalidKeyId({ $metadata: metadata, message: 'The query key ID is not valid.' }),
      'secrets',
    ],
  ] as const)(
    'fails with CONFIG_SSM_ACCESS_DENIED, not retried, when %s',
    async (_what, error, refused) => {
      store(toStored(testConfig(SCRAM_SOURCE)).stored, {});
      if (refused === 'config') ssm.on(GetParameterCommand).rejects(error);
      else ssm.on(GetParametersByPathCommand).rejects(error);
      const failure = await readConnectorFromSsm(client(), 'dev', 'company-stream').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toMatchObject({ code: 'CONFIG_SSM_ACCESS_DENIED', retriable: false });
      expect((failure as Error).message).toContain(`Not allowed to read ${PATH} from SSM`);
      expect((failure as Error).message).toContain(error.message);
      expect((failure as Error).message).toContain('kms:Decrypt (through SSM)');
    },
  );

  it('keeps other failures retriable as CONFIG_SSM_UNREACHABLE', async () => {
    ssm.on(GetParameterCommand).rejects(
      new SSMServiceException({
        name: 'InternalServerError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: 'We encountered an internal error',
      }),
    );
    await expect(readConnectorFromSsm(client(), 'dev', 'company-stream')).rejects.toMatchObject({
      code: 'CONFIG_SSM_UNREACHABLE',
      retriable: true,
    });
  });
});
