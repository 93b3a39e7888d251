import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { toStored, withSettings } from '../../lib/config/index.ts';
import type { StreamHandler } from '../../lib/pipeline/index.ts';
import { fixture } from '../helpers/fixtures.ts';
import { startEnv, type Env } from '../helpers/embedded.ts';

const context = {
  awsRequestId: 'lambda-test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('functions/stream.ts (the Lambda) with configuration from SSM', () => {
  const ssm = mockClient(SSMClient);
  let env: Env;
  let handler: StreamHandler;
  const logs: string[] = [];
  const write = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    env = await startEnv({ partitions: 1, emulator: { secret: 'rest-secret-value' } });
    // 3.x kafka delivery: RESTPP takes the secret, the GSQL server a user name and password.
    const config = withSettings(env.config, {
      'tigergraph.auth.secret': 'rest-secret-value',
      'tigergraph.auth.username': 'tigergraph',
      'tigergraph.auth.password': 'gsql-password-value',
    });
    const { stored, secrets } = toStored(config);
    expect(secrets).toEqual({
      'tigergraph.auth.secret': 'rest-secret-value',
      'tigergraph.auth.password': 'gsql-password-value',
    });
    ssm
      .on(GetParameterCommand, { Name: '/tgstream/dev/company-stream/config' })
      .resolves({ Parameter: { Type: 'String', Value: JSON.stringify(stored) } });
    ssm.on(GetParametersByPathCommand, { Path: '/tgstream/dev/company-stream/secrets/' }).resolves({
      Parameters: [
        {
          Name: '/tgstream/dev/company-stream/secrets/tigergraph.auth.secret',
          Type: 'SecureString',
          Value: 'rest-secret-value',
        },
        {
          Name: '/tgstream/dev/company-stream/secrets/tigergraph.auth.password',
          Type: 'SecureString',
          Value: 'gsql-password-value',
        },
      ],
    });
    process.env.TGSTREAM_STAGE = 'dev';
    process.env.TGSTREAM_CONNECTOR = 'company-stream';
    process.stdout.write = (chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    };
    ({ handler } = await import('../../functions/stream.ts'));
  });
  afterAll(async () => {
    process.stdout.write = write;
    await handler.close();
    await env.stop();
    ssm.restore();
  });

  it('handles the documented MSK event shape, reads SSM once per cold start, and keeps the secret out of the logs', async () => {
    const sample = fixture('msk-event.json') as {
      records: Record<string, { topic: string; value: string }[]>;
    };
    const record = sample.records['mytopic-0']?.[0] as { topic: string; value: string };
    const make = (company: string) => ({
      ...sample,
      records: {
        [`${env.source}-0`]: [
          {
            ...record,
            topic: env.source,
            value: Buffer.from(JSON.stringify({ company, employee_num: 1 })).toString('base64'),
          },
        ],
      },
    });
    const first = await handler(make('FromLambda1'), context);
    const second = await handler(make('FromLambda2'), context);
    expect(first).toMatchObject({ records: 1, produced: 1, loaded: 1 });
    expect(second).toMatchObject({ records: 1, loaded: 1 });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParametersByPathCommand)[0]?.args[0].input).toEqual({
      Path: '/tgstream/dev/company-stream/secrets/',
      WithDecryption: true,
    });
    const out = logs.join('');
    expect(out).toContain('"message":"Batch done"');
    expect(out).not.toContain('rest-secret-value');
    expect(out).not.toContain('gsql-password-value');
  });

  it('fails the invocation with a clear error when the connector is not in SSM', async () => {
    const { readConnectorFromSsm } = await import('../../lib/config/index.ts');
    ssm
      .on(GetParameterCommand, { Name: '/tgstream/dev/missing/config' })
      .rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    await expect(readConnectorFromSsm(new SSMClient({}), 'dev', 'missing')).rejects.toMatchObject({
      code: 'CONFIG_SSM_NOT_FOUND',
      message: expect.stringContaining('/tgstream/dev/missing/config') as unknown,
    });
  });
});
