import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
  type Parameter,
} from '@aws-sdk/client-ssm';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { runCli } from '../../../lib/cli/index.ts';
import {
  buildSourceSecret,
  planSourceSecrets,
  readStoreAsPem,
  storedSecretKeys,
  withSettings,
} from '../../../lib/config/index.ts';
import { VALID } from '../../helpers/config.ts';
import { captureIo } from '../../helpers/cli.ts';
import { testConfig } from '../../helpers/fakes.ts';
import { ROOT } from '../../helpers/fixtures.ts';

const ssm = mockClient(SSMClient);
const sm = mockClient(SecretsManagerClient);
const deps = () => ({
  ssm: new SSMClient({ region: 'us-east-1' }),
  lambda: new LambdaClient({ region: 'us-east-1' }),
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
});
const dir = mkdtempSync(join(tmpdir(), 'tgstream-secrets-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const KEYTOOL = join(ROOT, 'test', 'fixtures', 'keystores', 'keytool');
const AUTH = 'tgstream/prod/company-stream/source-auth';
const CA = 'tgstream/prod/company-stream/source-ca';
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });
const notFound = () =>
  awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

/** An SSM parameter store in memory behind the mocked client. */
const fakeStore = () => {
  const params = new Map<string, Parameter>();
  ssm.on(GetParametersByPathCommand).callsFake((input: { Path: string }) => ({
    Parameters: [...params.values()].filter((p) => p.Name?.startsWith(input.Path)),
  }));
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const p = params.get(input.Name);
    if (p === undefined) throw awsError('ParameterNotFound', 'not found');
    return { Parameter: p };
  });
  ssm
    .on(PutParameterCommand)
    .callsFake((input: { Name: string; Value: string; Type: Parameter['Type'] }) => {
      params.set(input.Name, { Name: input.Name, Value: input.Value, Type: input.Type });
      return { Version: 1 };
    });
  ssm.on(DeleteParametersCommand).callsFake((input: { Names: string[] }) => {
    for (const n of input.Names) params.delete(n);
    return { DeletedParameters: input.Names };
  });
  return params;
};

/** VALID (loads through TigerGraph) with these source settings. */
const withSource = (...lines: string[]): string =>
  VALID.replace('[connector_1]', [...lines, '[connector_1]'].join('\n'));
const SCRAM = withSource(
  'consumer.security.protocol=SASL_SSL',
  'consumer.sasl.mechanism=SCRAM-SHA-512',
  'consumer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="src-user" password="src-pass-789";',
);
const SCRAM_VALUE = '{"username":"src-user","password":"src-pass-789"}';

const create = async (text: string, extra: string[] = []) => {
  const cap = captureIo();
  const code = await runCli(
    ['connector', 'create', '--c', write('c.properties', text), '--stage', 'prod', ...extra],
    cap.io,
    deps(),
  );
  return { code, stdout: cap.stdout(), stderr: cap.stderr() };
};
const inputs = (command: Parameters<typeof sm.commandCalls>[0]): unknown[] =>
  sm.commandCalls(command).map((c) => c.args[0].input as unknown);

const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** The DER of each certificate in a PEM text, in order. */
const ders = (pem: string): string[] =>
  (pem.match(CERT) ?? []).map((c) => new X509Certificate(c).raw.toString('hex'));
const keyDer = (pem: string): string =>
  createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('hex');

beforeEach(() => {
  ssm.reset();
  sm.reset();
});

describe('tgstream connector create: SASL source credentials in Secrets Manager', () => {
  it('creates the secret when it does not exist, tagged, and says which secret it wrote', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ Name: AUTH });
    const { code, stdout, stderr } = await create(SCRAM);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(inputs(CreateSecretCommand)).toEqual([
      {
        Name: AUTH,
        SecretString: SCRAM_VALUE,
        Description:
          'TigerStream connector company-stream (stage prod): SASL/SCRAM-SHA-512 username and password for the Lambda Kafka trigger',
        Tags: [
          { Key: 'tigerstream:stage', Value: 'prod' },
          { Key: 'tigerstream:connector', Value: 'company-stream' },
          { Key: 'tigerstream:created-by', Value: 'tgstream connector create' },
        ],
      },
    ]);
    expect(stdout.split('\n').slice(0, 2)).toEqual([
      `created   ${AUTH} (Secrets Manager: SASL username and password for the Kafka trigger)`,
      'created   /tgstream/prod/company-stream/config',
    ]);
    expect(stdout).toContain(
      `note: company-stream: ${AUTH} did not exist, so it was created; 'serverless deploy' creates the trigger's secrets itself`,
    );
    expect(stdout).not.toMatch(/src-pass-789|src-user/);
  });

  it('writes an MSK source’s SCRAM credentials under the AmazonMSK_ name naming.ts gives', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).resolves({});
    const msk =
      'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd1234-ab12-cd34-ef56-abcdef123456-4';
    const { code, stdout } = await create(
      SCRAM.replace(
        'source.cluster.bootstrap.servers=src1:9092,src2:9092',
        `source.cluster.bootstrap.servers=${msk}`,
      ),
    );
    expect(code).toBe(0);
    expect(inputs(PutSecretValueCommand)).toEqual([
      { SecretId: `AmazonMSK_${AUTH}`, SecretString: SCRAM_VALUE },
    ]);
    expect(stdout).toContain(`updated   AmazonMSK_${AUTH} (Secrets Manager:`);
  });

  it('writes PLAIN credentials into a secret the deploy created empty (PutSecretValue only)', async () => {
    fakeStore();
    // A secret with no value yet answers GetSecretValue with ResourceNotFoundException too.
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).resolves({ Name: AUTH });
    const { code, stdout } = await create(
      SCRAM.replace('SCRAM-SHA-512', 'PLAIN').replace(
        'scram.ScramLoginModule',
        'plain.PlainLoginModule',
      ),
    );
    expect(code).toBe(0);
    expect(inputs(PutSecretValueCommand)).toEqual([{ SecretId: AUTH, SecretString: SCRAM_VALUE }]);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(stdout).toContain(
      `updated   ${AUTH} (Secrets Manager: SASL username and password for the Kafka trigger)`,
    );
  });

  it('leaves a secret that already holds the value unchanged, and --json lists names, not values', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand, { SecretId: AUTH }).resolves({ SecretString: SCRAM_VALUE });
    const { code, stdout } = await create(SCRAM, ['--json']);
    expect(code).toBe(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    const doc = JSON.parse(stdout) as { secrets: unknown };
    expect(doc.secrets).toEqual([
      { connector: 'company-stream', name: AUTH, kind: 'sasl', action: 'unchanged' },
    ]);
    expect(stdout).not.toContain('src-pass-789');
  });

  it('restores a secret an earlier delete scheduled for deletion, then writes it', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand).rejects(
      awsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      ),
    );
    sm.on(PutSecretValueCommand)
      .rejectsOnce(
        awsError(
          'InvalidRequestException',
          "You can't perform this operation on the secret because it was marked for deletion.",
        ),
      )
      .resolves({ Name: AUTH });
    sm.on(RestoreSecretCommand).resolves({ Name: AUTH });
    const { code, stdout, stderr } = await create(SCRAM);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(inputs(RestoreSecretCommand)).toEqual([{ SecretId: AUTH }]);
    expect(inputs(PutSecretValueCommand)).toHaveLength(2);
    expect(stdout).toContain(`restored  ${AUTH} (Secrets Manager:`);
  });

  it('writes no secret when tigerstream.esm.secret.arn names the user’s own, and says so', async () => {
    fakeStore();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mine-AbCdEf';
    const { code, stdout } = await create(
      SCRAM.replace('[connector_1]', `tigerstream.esm.secret.arn=${arn}\n[connector_1]`),
    );
    expect(code).toBe(0);
    expect(sm.calls()).toHaveLength(0);
    expect(stdout).toContain(
      `note: company-stream: the trigger reads its SASL credentials from tigerstream.esm.secret.arn (${arn}), so no secret was written for them`,
    );
  });

  it('calls Secrets Manager not at all for a source without authentication', async () => {
    fakeStore();
    const { code } = await create(VALID);
    expect(code).toBe(0);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('tgstream connector create: Secrets Manager errors', () => {
  it('AccessDenied: exit 1, a coded error naming the secret and the permission, no value, nothing in SSM', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException', 'denied'));
    sm.on(PutSecretValueCommand).rejects(
      awsError(
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/dev is not authorized to perform: secretsmanager:PutSecretValue on resource: ${AUTH} because no identity-based policy allows it (request carried src-pass-789)`,
      ),
    );
    const { code, stdout, stderr } = await create(SCRAM);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      new RegExp(
        `^tgstream: Secrets Manager PutSecretValue on secret ${AUTH} failed \\(AccessDeniedException: User: .* is not authorized to perform: secretsmanager:PutSecretValue on resource: ${AUTH} .*\\); the AWS identity running tgstream needs secretsmanager:GetSecretValue, PutSecretValue, CreateSecret, .* \\[CONTROL_SECRET_ACCESS_DENIED\\]\\n$`,
      ),
    );
    expect(stderr).not.toMatch(/src-pass-789|src-user/);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('throttling and network failures are retriable coded errors', async () => {
    fakeStore();
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const throttled = await create(SCRAM);
    expect(throttled.code).toBe(1);
    expect(throttled.stderr).toContain(
      `Secrets Manager CreateSecret on secret ${AUTH} failed (ThrottlingException: Rate exceeded); Secrets Manager throttled the call; run the command again [CONTROL_SECRET_THROTTLED]`,
    );
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), { code: 'ETIMEDOUT' }),
    );
    const offline = await create(SCRAM);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('[CONTROL_SECRET_CALL_FAILED]');
    expect(offline.stderr).toContain(`PutSecretValue on secret ${AUTH} failed`);
  });
});

describe('tgstream connector create: mTLS and private CA secrets from keytool stores', () => {
  it.each([
    ['rsa.jks', 'JKS, RSA key with its own key password'],
    ['rsa.p12', 'PKCS12, RSA key'],
    ['ec.jks', 'JKS, EC key'],
  ])(
    '%s (%s): the certificate leaf first then its chain, the key as PKCS#8, and the CA',
    async (store) => {
      const params = fakeStore();
      sm.on(GetSecretValueCommand).rejects(notFound());
      sm.on(PutSecretValueCommand).rejects(notFound());
      const text = withSource(
        'consumer.security.protocol=SSL',
        `consumer.ssl.keystore.location=${join(KEYTOOL, store)}`,
        'consumer.ssl.keystore.password=store-pass-1',
        ...(store.endsWith('.jks') ? ['consumer.ssl.key.password=key-pass-2'] : []),
        `consumer.ssl.truststore.location=${join(KEYTOOL, 'truststore.jks')}`,
        'consumer.ssl.truststore.password=trust-pass-3',
      );
      const { code, stdout, stderr } = await create(text);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const created = inputs(CreateSecretCommand) as { Name: string; SecretString: string }[];
      expect(created.map((c) => c.Name)).toEqual([AUTH, CA]);
      const auth = JSON.parse(created[0]?.SecretString ?? '') as Record<string, string>;
      expect(Object.keys(auth)).toEqual(['certificate', 'privateKey']);
      // The same key and certificates keystore.ts reads from the store...
      const pem = await readStoreAsPem(
        'consumer.ssl.keystore.location',
        join(KEYTOOL, store),
        'store-pass-1',
        store.endsWith('.jks') ? 'key-pass-2' : undefined,
      );
      expect(keyDer(auth.privateKey ?? '')).toBe(keyDer(pem.key ?? ''));
      expect(auth.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(new Set(ders(auth.certificate ?? ''))).toEqual(new Set(ders(pem.certificates)));
      // ...in Lambda's order: the key's certificate, then each issuer, ending at the root.
      const chain = (auth.certificate?.match(CERT) ?? []).map((c) => new X509Certificate(c));
      expect(chain.slice(1).map((c) => c.subject)).toEqual([
        'CN=TigerStream Test Intermediate CA',
        'CN=TigerStream Test Root CA',
      ]);
      expect(chain[0]?.checkPrivateKey(createPrivateKey(auth.privateKey ?? ''))).toBe(true);
      chain.forEach((c, i) => {
        const issuer = chain[i + 1] ?? c;
        expect(c.checkIssued(issuer) && c.verify(issuer.publicKey)).toBe(true);
      });
      // What keytool itself exported from the store (scripts/make-keystores.sh).
      expect(ders(auth.certificate ?? '')).toEqual(
        ders(readFileSync(join(KEYTOOL, `${store}.chain.pem`), 'utf8')),
      );
      expect(keyDer(auth.privateKey ?? '')).toBe(
        keyDer(readFileSync(join(KEYTOOL, `${store}.key.pem`), 'utf8')),
      );
      const ca = JSON.parse(created[1]?.SecretString ?? '') as Record<string, string>;
      expect(Object.keys(ca)).toEqual(['certificate']);
      // Every trusted certificate of the truststore: both roots.
      const trusted = await readStoreAsPem(
        'consumer.ssl.truststore.location',
        join(KEYTOOL, 'truststore.jks'),
        'trust-pass-3',
      );
      expect(new Set(ders(ca.certificate ?? ''))).toEqual(new Set(ders(trusted.certificates)));
      expect(
        (ca.certificate?.match(CERT) ?? []).map((c) => new X509Certificate(c).subject).sort(),
      ).toEqual(['CN=TigerStream Other Test Root CA', 'CN=TigerStream Test Root CA']);
      expect(stdout.split('\n').slice(0, 2)).toEqual([
        `created   ${AUTH} (Secrets Manager: mTLS client certificate and private key for the Kafka trigger)`,
        `created   ${CA} (Secrets Manager: private root CA certificate for the Kafka trigger)`,
      ]);
      expect(stdout).not.toContain('BEGIN');
      // The stored document names exactly the SecureStrings create wrote, as the deploy predicts.
      const doc = JSON.parse(params.get('/tgstream/prod/company-stream/config')?.Value ?? '') as {
        secretKeys: string[];
      };
      const written = [...params.keys()]
        .filter((n) => n.includes('/secrets/'))
        .map((n) => n.slice(n.indexOf('/secrets/') + '/secrets/'.length))
        .sort();
      expect(doc.secretKeys).toEqual(written);
      expect(storedSecretKeys(testConfig(text).settings)).toEqual(written);
    },
  );

  it('decrypts an encrypted PEM key with ssl.key.password: Lambda reads no PBES2 key', async () => {
    const pem = await readStoreAsPem(
      'consumer.ssl.keystore.location',
      join(KEYTOOL, 'rsa.p12'),
      'store-pass-1',
    );
    const chain = pem.certificates;
    const key = pem.key ?? '';
    const encrypted = createPrivateKey(key)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem-pass' })
      .toString();
    // Chain given root first: the secret still starts with the key's own certificate.
    const reversed = (
      chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
    )
      .reverse()
      .join('\n');
    const config = withSettings(testConfig(withSource('consumer.security.protocol=SSL')), {
      'consumer.ssl.keystore.type': 'PEM',
      'consumer.ssl.keystore.key': encrypted,
      'consumer.ssl.keystore.certificate.chain': reversed,
      'consumer.ssl.key.password': 'pem-pass',
    });
    const [planned] = planSourceSecrets(config, 'prod').secrets;
    expect(planned).toMatchObject({ name: AUTH, kind: 'client-certificate' });
    const secret = buildSourceSecret(config, planned as NonNullable<typeof planned>);
    expect(Object.keys(secret.value)).toEqual(['certificate', 'privateKey']);
    expect(keyDer(secret.value.privateKey ?? '')).toBe(keyDer(key));
    expect(ders(secret.value.certificate ?? '')).toEqual(ders(chain));

    const wrong = withSettings(config, { 'consumer.ssl.key.password': 'not-it' });
    expect(() => buildSourceSecret(wrong, planned as NonNullable<typeof planned>)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_SOURCE_KEY_UNREADABLE',
        message: expect.stringMatching(
          /^consumer\.ssl\.keystore\.key: the private key cannot be read .*encrypted with the password in consumer\.ssl\.key\.password$/,
        ) as unknown,
      }),
    );
    const roots = await readStoreAsPem(
      'consumer.ssl.truststore.location',
      join(KEYTOOL, 'truststore.jks'),
      'trust-pass-3',
    );
    const other = withSettings(config, {
      'consumer.ssl.keystore.certificate.chain': roots.certificates,
    });
    expect(() => buildSourceSecret(other, planned as NonNullable<typeof planned>)).toThrow(
      expect.objectContaining({ code: 'CONFIG_SOURCE_CERTIFICATE_MISMATCH' }),
    );
  });
});

describe('tgstream connector delete: source secrets', () => {
  const ours = {
    Name: AUTH,
    Tags: [{ Key: 'tigerstream:created-by', Value: 'tgstream connector create' }],
  };

  it('schedules the secret create made for deletion with a recovery window and says so', async () => {
    const params = fakeStore();
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(PutSecretValueCommand).rejects(notFound());
    expect((await create(SCRAM)).code).toBe(0);
    sm.reset();
    sm.on(DescribeSecretCommand, { SecretId: AUTH }).resolves(ours);
    sm.on(DeleteSecretCommand).resolves({
      Name: AUTH,
      DeletionDate: new Date('2031-02-03T04:05:06Z'),
    });
    const { io, stdout, stderr } = captureIo();
    expect(
      await runCli(
        ['connector', 'delete', 'company-stream', '--stage', 'prod', '--yes'],
        io,
        deps(),
      ),
    ).toBe(0);
    expect(stderr()).toBe('');
    // The stored configuration says which secrets the connector has: only that one is asked for.
    expect(inputs(DescribeSecretCommand)).toEqual([{ SecretId: AUTH }]);
    expect(inputs(DeleteSecretCommand)).toEqual([{ SecretId: AUTH, RecoveryWindowInDays: 30 }]);
    expect(params.size).toBe(0);
    expect(stdout()).toContain(
      `scheduled ${AUTH} (Secrets Manager) for deletion on 2031-02-03: it stays restorable for 30 days ('aws secretsmanager restore-secret --secret-id ${AUTH}', or 'tgstream connector create' again restores it)\n`,
    );
  });

  it('keeps a secret it did not create (the stack’s) and asks about the rest without a stored config', async () => {
    fakeStore();
    sm.on(DescribeSecretCommand).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: AUTH }).resolves({
      Name: AUTH,
      Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'tigerstream-prod' }],
    });
    sm.on(DescribeSecretCommand, { SecretId: CA }).resolves({ ...ours, Name: CA });
    sm.on(DeleteSecretCommand).resolves({ Name: CA, DeletionDate: new Date('2031-01-01') });
    const asked: string[] = [];
    const { io, stdout } = captureIo({
      ask: (q) => {
        asked.push(q);
        return Promise.resolve('y');
      },
    });
    expect(
      await runCli(['connector', 'delete', 'company-stream', '--stage', 'prod'], io, deps()),
    ).toBe(0);
    expect(asked).toEqual([
      'Delete connector company-stream in stage prod (0 parameter(s) and 1 Secrets Manager secret(s))? [y/N] ',
    ]);
    // Without a stored configuration every name the connector could use is asked for.
    expect(inputs(DescribeSecretCommand)).toEqual([
      { SecretId: AUTH },
      { SecretId: `AmazonMSK_${AUTH}` },
      { SecretId: CA },
    ]);
    expect(inputs(DeleteSecretCommand)).toEqual([{ SecretId: CA, RecoveryWindowInDays: 30 }]);
    expect(stdout()).toContain(
      `kept      ${AUTH} (Secrets Manager): 'tgstream connector create' did not create it; it belongs to CloudFormation stack tigerstream-prod`,
    );
  });

  it('deletes nothing when Secrets Manager denies access', async () => {
    const params = fakeStore();
    params.set('/tgstream/prod/company-stream/config', {
      Name: '/tgstream/prod/company-stream/config',
      Value: '{}',
    });
    sm.on(DescribeSecretCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const { io, stderr } = captureIo();
    expect(
      await runCli(
        ['connector', 'delete', 'company-stream', '--stage', 'prod', '--yes'],
        io,
        deps(),
      ),
    ).toBe(1);
    expect(stderr()).toContain(`DescribeSecret on secret ${AUTH} failed`);
    expect(stderr()).toContain('[CONTROL_SECRET_ACCESS_DENIED]');
    expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(0);
    expect(params.size).toBe(1);
  });
});
