import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  cacheConfig,
  readConnectorFromSsm,
  toStored,
  type ConnectorConfig,
} from '../../lib/config/index.ts';
import { ConfigError } from '../../lib/errors/index.ts';
import { edit, validate } from '../helpers/config.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { node22Path } from '../helpers/node22.ts';
import { startSsmEndpoint, type SsmEndpoint, type SsmParameter } from '../helpers/ssm-endpoint.ts';

const run = promisify(execFile);
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };

/** 13 secrets: more than one GetParametersByPath page (10), so readConnectorFromSsm must follow NextToken. */
function connectorWithManySecrets(): ConnectorConfig {
  // Direct delivery: RESTPP only, where a secret alone is enough.
  let text = edit(
    'tigergraph.delivery',
    'direct',
    edit('tigergraph.auth.secret', 'rest-secret-value'),
  );
  for (let i = 0; i < 12; i++) text = edit(`source.cluster.extra${i}.password`, `pw-${i}`, text);
  const result = validate(text);
  expect(result.errors).toEqual([]);
  return result.connectors[0]!;
}

describe('the local SSM endpoint, through the real SSMClient', () => {
  let ssm: SsmEndpoint;
  let client: SSMClient;
  const config = connectorWithManySecrets();
  const { stored, secrets } = toStored(config);
  const base = '/tgstream/dev/company-stream';
  const params: Record<string, SsmParameter> = {
    [`${base}/config`]: { type: 'String', value: JSON.stringify(stored) },
    '/plain': { type: 'String', value: 'top-level' },
    '/app/secure': { type: 'SecureString', value: 'hunter2' },
  };
  for (const [key, value] of Object.entries(secrets))
    params[`${base}/secrets/${key}`] = { type: 'SecureString', value };
  for (let i = 0; i < 23; i++)
    params[`/paged/p${String(i).padStart(2, '0')}`] = { type: 'String', value: `v${i}` };
  params['/paged/deeper/leaf'] = { type: 'String', value: 'deep' };

  beforeAll(async () => {
    ssm = await startSsmEndpoint(params);
    client = new SSMClient({ endpoint: ssm.url, region: REGION, credentials: CREDENTIALS });
  });
  afterAll(async () => {
    client.destroy();
    await ssm.stop();
  });

  it('serves GetParameter, returning SecureString values only WithDecryption', async () => {
    const plain = await client.send(new GetParameterCommand({ Name: '/plain' }));
    expect(plain.Parameter).toMatchObject({ Name: '/plain', Type: 'String', Value: 'top-level' });
    expect(plain.Parameter?.Version).toBe(1);
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(plain.Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:000000000000:parameter/plain');
    const hidden = await client.send(new GetParameterCommand({ Name: '/app/secure' }));
    expect(hidden.Parameter?.Value).not.toContain('hunter2');
    const shown = await client.send(
      new GetParameterCommand({ Name: '/app/secure', WithDecryption: true }),
    );
    expect(shown.Parameter?.Value).toBe('hunter2');
  });

  it('answers a missing parameter with the real ParameterNotFound (HTTP 400)', async () => {
    const error: unknown = await client
      .send(new GetParameterCommand({ Name: '/nope' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterNotFound);
    expect(error).toMatchObject({
      name: 'ParameterNotFound',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('serves GetParameters, listing missing names as InvalidParameters', async () => {
    const out = await client.send(
      new GetParametersCommand({ Names: ['/plain', '/nope', '/app/secure'], WithDecryption: true }),
    );
    expect(out.Parameters?.map((p) => [p.Name, p.Value])).toEqual([
      ['/plain', 'top-level'],
      ['/app/secure', 'hunter2'],
    ]);
    expect(out.InvalidParameters).toEqual(['/nope']);
  });

  it('pages GetParametersByPath at 10 like the real service, one level unless Recursive', async () => {
    const before = ssm.requests('GetParametersByPath');
    const names = async (input: { Recursive?: boolean; MaxResults?: number }) => {
      const all: string[] = [];
      const pages: number[] = [];
      let next: string | undefined;
      do {
        const page = await client.send(
          new GetParametersByPathCommand({ Path: '/paged', ...input, NextToken: next }),
        );
        pages.push(page.Parameters?.length ?? 0);
        all.push(...(page.Parameters ?? []).map((p) => p.Name ?? ''));
        next = page.NextToken;
      } while (next);
      return { all, pages };
    };
    const flat = await names({});
    expect(flat.pages).toEqual([10, 10, 3]);
    expect(flat.all).toHaveLength(23);
    expect(new Set(flat.all).size).toBe(23);
    expect(flat.all).not.toContain('/paged/deeper/leaf');
    const deep = await names({ Recursive: true, MaxResults: 4 });
    expect(deep.pages).toEqual([4, 4, 4, 4, 4, 4]);
    expect(deep.all).toContain('/paged/deeper/leaf');
    expect(ssm.requests('GetParametersByPath') - before).toBe(9);
    await expect(
      client.send(new GetParametersByPathCommand({ Path: '/paged', MaxResults: 11 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('lets readConnectorFromSsm read a connector whose secrets span two pages, once per cold start', async () => {
    const before = {
      get: ssm.requests('GetParameter'),
      path: ssm.requests('GetParametersByPath'),
    };
    const load = cacheConfig(() => readConnectorFromSsm(client, 'dev', 'company-stream'));
    const first = await load();
    const second = await load();
    expect(second).toBe(first);
    expect(first.settings).toEqual(config.settings);
    expect(first.settings['source.cluster.extra11.password']).toBe('pw-11');
    expect(ssm.requests('GetParameter') - before.get).toBe(1);
    expect(ssm.requests('GetParametersByPath') - before.path).toBe(2);
  });

  it('makes readConnectorFromSsm report a missing connector as CONFIG_SSM_NOT_FOUND', async () => {
    const error: unknown = await readConnectorFromSsm(client, 'dev', 'no-such').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_SSM_NOT_FOUND', retriable: false });
  });

  it('sees set() changes, with the Version going up', async () => {
    ssm.set('/mutable', { type: 'String', value: 'one' });
    ssm.set('/mutable', { type: 'String', value: 'two' });
    const out = await client.send(new GetParameterCommand({ Name: '/mutable' }));
    expect(out.Parameter).toMatchObject({ Value: 'two', Version: 2 });
    ssm.set('/mutable', undefined);
    await expect(client.send(new GetParameterCommand({ Name: '/mutable' }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it('refuses unsigned requests and operations it does not implement', async () => {
    const unsigned = await fetch(ssm.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body: JSON.stringify({ Name: '/plain' }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    await expect(
      client.send(new PutParameterCommand({ Name: '/x', Value: 'y', Type: 'String' })),
    ).rejects.toMatchObject({ name: 'UnknownOperationException' });
  });

  describe('a child process configured only through the environment (new SSMClient({}))', () => {
    const script = `
      const { SSMClient, GetParameterCommand } = require('@aws-sdk/client-ssm');
      new SSMClient({}).send(new GetParameterCommand({ Name: '/plain' })).then(
        (r) => process.stdout.write(JSON.stringify({ node: process.version, value: r.Parameter.Value })),
        (e) => { console.error(e); process.exit(1); },
      );`;
    const reach = async (node: string) => {
      // An empty AWS config, so a developer's ~/.aws cannot change what the SDK does.
      const home = mkdtempSync(join(tmpdir(), 'tgstream-ssm-env-'));
      const before = ssm.requests('GetParameter');
      const { stdout } = await run(node, ['-e', script], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ENDPOINT_URL_SSM: ssm.url,
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        },
      });
      expect(ssm.requests('GetParameter') - before).toBe(1);
      return JSON.parse(stdout) as { node: string; value: string };
    };

    it('reaches the endpoint through AWS_ENDPOINT_URL_SSM on this node', async () => {
      expect(await reach(process.execPath)).toEqual({ node: process.version, value: 'top-level' });
    });

    it(
      'reaches the endpoint through AWS_ENDPOINT_URL_SSM on node 22',
      { timeout: 300_000 },
      async () => {
        const out = await reach(node22Path());
        expect(out.node).toMatch(/^v22\./);
        expect(out.value).toBe('top-level');
      },
    );
  });
});
