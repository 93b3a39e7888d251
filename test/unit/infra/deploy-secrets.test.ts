/**
 * `serverless deploy` writes the connectors' secrets itself (infra/deploy-hooks.cjs): the
 * SecureStrings before the stack, the trigger's login secrets after it. AWS through
 * aws-sdk-client-mock.
 */
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  CreateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { deploySecrets } from '../../../infra/deploy-secrets.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'tgs-deploy-secrets-'));
copyFileSync(
  join(ROOT, 'test/fixtures/deploy/msk-scram.properties'),
  join(dir, 'msk-scram.properties'),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serverless deploy writes the connectors secrets', () => {
  const ssm = mockClient(SSMClient);
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    ssm.reset();
    sm.reset();
  });
  const run = (phase: 'before-stack' | 'after-stack') =>
    deploySecrets(phase, {
      stage: 'prod',
      region: 'us-east-1',
      dir,
      ssm: new SSMClient({ region: 'us-east-1' }),
      secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
    });

  it('before the stack: the SecureString parameters only (the stack owns config), no value printed', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    ssm.on(PutParameterCommand).resolves({});
    const lines = await run('before-stack');
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts.length).toBeGreaterThan(0);
    for (const p of puts) {
      expect(p.Type).toBe('SecureString');
      expect(p.Name).toMatch(/^\/tgstream\/prod\/[^/]+\/secrets\//);
    }
    expect(puts.map((p) => p.Name)).not.toContainEqual(expect.stringMatching(/\/config$/));
    // The GSQL password of the file is one of them; the trigger's SCRAM login is not (Secrets Manager, later).
    expect(puts.map((p) => p.Value)).toContain('Tg-Gsql-Pa55');
    expect(sm.calls()).toHaveLength(0);
    expect(lines.join('\n')).toContain('created /tgstream/prod/');
    expect(lines.join('\n')).not.toMatch(/Pa55/);
  });

  it('after the stack: the trigger login into the secret the stack made, and no SSM write', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('no value yet'), { name: 'ResourceNotFoundException' }),
    );
    sm.on(PutSecretValueCommand).resolves({});
    const lines = await run('after-stack');
    const put = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(put?.SecretId).toMatch(/^AmazonMSK_tgstream\/prod\/.+\/source-auth$/);
    expect(JSON.parse(put?.SecretString ?? '{}')).toEqual({
      username: 'shop-reader',
      password: 'Msk-Scram-Pa55',
    });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(0);
    expect(lines.join('\n')).toContain('(Secrets Manager)');
    expect(lines.join('\n')).not.toContain('Msk-Scram-Pa55');
  });

  it('deletes SecureStrings the file no longer has only after the stack (the old config still lists them until then)', async () => {
    const gone = '/tgstream/prod/shop-scram/secrets/producer.ssl.key.password';
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [{ Name: gone, Type: 'SecureString', Value: 'old' }],
    });
    ssm.on(PutParameterCommand).resolves({});
    ssm.on(DeleteParametersCommand).resolves({});
    await run('before-stack');
    expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(0);
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    sm.on(PutSecretValueCommand).resolves({});
    const lines = await run('after-stack');
    expect(ssm.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input.Names)).toEqual([
      [gone],
    ]);
    expect(lines).toContain(`tigerstream: shop-scram: deleted ${gone} (SecureString)`);
  });

  it('an AWS message that quotes a secret is redacted before it is printed', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    ssm.on(PutParameterCommand).rejects(
      Object.assign(new Error('Value Tg-Gsql-Pa55 is not valid'), {
        name: 'ValidationException',
      }),
    );
    const error = await run('before-stack').catch((e: unknown) => e);
    expect((error as Error).message).toContain('Value ****** is not valid');
    expect((error as Error).message).not.toContain('Tg-Gsql-Pa55');
  });

  it('an AWS refusal is a coded error naming the parameter, never its value', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    ssm
      .on(PutParameterCommand)
      .rejects(
        Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
      );
    const error = await run('before-stack').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTROL_AWS_CALL_FAILED' });
    expect((error as Error).message).toMatch(
      /Writing SSM parameter \/tgstream\/prod\/.+\/secrets\//,
    );
    expect((error as Error).message).not.toContain('Pa55');
  });
});

describe('the plugin serverless.yml loads (infra/deploy-hooks.cjs)', () => {
  const Plugin = createRequire(import.meta.url)('../../../infra/deploy-hooks.cjs') as new (
    serverless: unknown,
    options: unknown,
    utils?: unknown,
  ) => {
    hooks: Record<string, () => Promise<void>>;
    load: () => { deploySecrets: (...args: unknown[]) => Promise<string[]> };
  };
  const provider = {
    getStage: () => 'prod',
    getRegion: () => 'eu-west-1',
    getCredentials: () => ({}),
  };
  const serverless = { getProvider: () => provider };

  it('writes before and after the stack deploy, with the deploy stage and region', async () => {
    const notices: string[] = [];
    const plugin = new Plugin(serverless, {}, { log: { notice: (l: string) => notices.push(l) } });
    expect(Object.keys(plugin.hooks).sort()).toEqual([
      'after:deploy:deploy',
      'before:deploy:deploy',
      'before:deploy:function:initialize',
    ]);
    const calls: unknown[][] = [];
    plugin.load = () => ({
      deploySecrets: (...args: unknown[]) => {
        calls.push(args);
        return Promise.resolve([`tigerstream: wrote for ${String(args[0])}`]);
      },
    });
    await plugin.hooks['before:deploy:deploy']?.();
    await plugin.hooks['after:deploy:deploy']?.();
    expect(calls.map((c) => c[0])).toEqual(['before-stack', 'after-stack']);
    expect(calls[0]?.[1]).toMatchObject({
      stage: 'prod',
      region: 'eu-west-1',
      credentials: undefined,
    });
    expect(notices).toEqual([
      'tigerstream: wrote for before-stack',
      'tigerstream: wrote for after-stack',
    ]);
  });

  it("passes Serverless's resolved credentials to the SDK, waiting for a profile or role to resolve", async () => {
    const v2 = {
      accessKeyId: '',
      secretAccessKey: '',
      sessionToken: '',
      getPromise() {
        Object.assign(this, { accessKeyId: 'AKIA1', secretAccessKey: 's3', sessionToken: 't0' });
        return Promise.resolve();
      },
    };
    const withCreds = {
      getProvider: () => ({ ...provider, getCredentials: () => ({ credentials: v2 }) }),
    };
    const plugin = new Plugin(withCreds, {}, { log: { notice: () => undefined } });
    let given: unknown;
    plugin.load = () => ({
      deploySecrets: (_phase: unknown, options: unknown) => {
        given = options;
        return Promise.resolve([]);
      },
    });
    await plugin.hooks['before:deploy:deploy']?.();
    const credentials = (given as { credentials: () => Promise<unknown> }).credentials;
    expect(await credentials()).toEqual({
      accessKeyId: 'AKIA1',
      secretAccessKey: 's3',
      sessionToken: 't0',
    });
  });

  it("refuses 'serverless deploy function', naming what to run instead", () => {
    const plugin = new Plugin(serverless, {}, { log: { notice: () => undefined } });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    try {
      void plugin.hooks['before:deploy:function:initialize']?.();
      expect(exit).toHaveBeenCalledWith(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(
        "'serverless deploy function' is not supported: each function runs as its connector's own role",
      );
    } finally {
      stderr.mockRestore();
      exit.mockRestore();
    }
  });

  it('a failure stops the deploy with the coded line and no stack trace', async () => {
    const plugin = new Plugin(serverless, {}, { log: { notice: () => undefined } });
    plugin.load = () => ({
      deploySecrets: () =>
        Promise.reject(
          Object.assign(new Error('Writing SSM parameter /x failed'), {
            code: 'CONTROL_AWS_CALL_FAILED',
          }),
        ),
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    try {
      await plugin.hooks['before:deploy:deploy']?.();
      expect(exit).toHaveBeenCalledWith(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toBe(
        "\ntigerstream: cannot write the connectors' secrets (before-stack): Writing SSM parameter /x failed [CONTROL_AWS_CALL_FAILED]. Nothing was deployed.\n",
      );
    } finally {
      stderr.mockRestore();
      exit.mockRestore();
    }
  });
});
