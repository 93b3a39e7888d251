/** Where containers record their job's streaming run: SSM (Lambda) and memory (one process). */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { memoryRunRegistry, runKey, ssmRunRegistry } from '../../../lib/pipeline/index.ts';

const PATH = '/tgstream/dev/company-stream';
const NAME = `${PATH}/runs/Company_Graph.load_company`;

describe('the run registry in SSM', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());
  const registry = () => ssmRunRegistry(new SSMClient({ region: 'us-east-1' }), PATH);

  it('the first container to claim records its run; a later claim gets the recorded one', async () => {
    const params = new Map<string, string>();
    ssm
      .on(PutParameterCommand)
      .callsFake((input: { Name: string; Value: string; Overwrite: boolean }) => {
        if (params.has(input.Name) && !input.Overwrite)
          throw new ParameterAlreadyExists({ message: 'exists', $metadata: {} });
        params.set(input.Name, input.Value);
        return {};
      });
    ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
      const value = params.get(input.Name);
      if (value === undefined) throw new ParameterNotFound({ message: 'no', $metadata: {} });
      return { Parameter: { Value: value } };
    });
    const key = runKey('Company_Graph', 'load_company');
    expect(await registry().read(key)).toBeUndefined();
    expect(await registry().claim(key, 'G_m1.1')).toBe('G_m1.1');
    expect(await registry().claim(key, 'G_m1.2')).toBe('G_m1.1');
    expect(await registry().read(key)).toBe('G_m1.1');
    await registry().replace(key, 'G_m1.3');
    expect(await registry().read(key)).toBe('G_m1.3');
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({
      Name: NAME,
      Value: 'G_m1.1',
      Type: 'String',
      Overwrite: false,
    });
    expect(puts.at(-1)).toMatchObject({ Name: NAME, Value: 'G_m1.3', Overwrite: true });
  });

  it('SSM failures other than not-found reach the caller (the handler retries, then fails)', async () => {
    ssm.on(GetParameterCommand).rejects(new Error('ThrottlingException: Rate exceeded'));
    await expect(registry().read('G.j')).rejects.toThrow('Rate exceeded');
    ssm.on(PutParameterCommand).rejects(new Error('AccessDeniedException'));
    await expect(registry().claim('G.j', 'id')).rejects.toThrow('AccessDeniedException');
  });

  it('refuses a key that cannot be a parameter name, before calling SSM', async () => {
    await expect(registry().read('G.job with space')).rejects.toMatchObject({
      code: 'CONFIG_NAME_INVALID',
    });
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('the run registry in memory', () => {
  it('keeps the first claim and takes replacements', async () => {
    const r = memoryRunRegistry();
    expect(await r.read('k')).toBeUndefined();
    expect(await r.claim('k', 'a')).toBe('a');
    expect(await r.claim('k', 'b')).toBe('a');
    await r.replace('k', 'c');
    expect(await r.read('k')).toBe('c');
  });
});
