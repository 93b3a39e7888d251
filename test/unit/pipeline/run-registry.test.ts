/**
 * Where containers record their job's streaming run: generations created once (compare-and-
 * swap by creation) in SSM (Lambda), files (the CLI) and memory (tests, the demo).
 */
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteParameterCommand,
  GetParametersByPathCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  decodeRunRecord,
  encodeRunRecord,
  fileRunRegistry,
  memoryRunRegistry,
  runKey,
  ssmRunRegistry,
  type RunRecord,
  type RunRegistry,
} from '../../../lib/pipeline/index.ts';

const PATH = '/tgstream/dev/company-stream';
const KEY = runKey('Company_Graph', 'load_company', 'hello.companies');
const STARTING: RunRecord = { kind: 'starting', owner: 'req-1.ab12cd34', at: 1_700_000_000_000 };

/** What every store must do, whatever it keeps the generations in. */
function behavesAsARegistry(make: () => Promise<RunRegistry>) {
  it('has nothing, then the newest generation; a generation is created once', async () => {
    const r = await make();
    expect(await r.current(KEY)).toBeUndefined();
    expect(await r.claim(KEY, 1, STARTING)).toBe(true);
    expect(await r.claim(KEY, 1, { kind: 'run', id: 'other' })).toBe(false);
    expect(await r.current(KEY)).toEqual({ generation: 1, record: STARTING });
    await r.update(KEY, 1, { kind: 'run', id: 'Company_Graph_m1.1700000000001' });
    expect(await r.current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'run', id: 'Company_Graph_m1.1700000000001' },
    });
    expect(await r.claim(KEY, 2, { kind: 'failed', at: 5 })).toBe(true);
    expect(await r.claim(KEY, 10, { kind: 'run', id: 'G_m1.10' })).toBe(true);
    expect(await r.current(KEY)).toEqual({
      generation: 10,
      record: { kind: 'run', id: 'G_m1.10' },
    });
    // Keys are apart.
    expect(await r.current(runKey('Company_Graph', 'load_company', 'other'))).toBeUndefined();
  });

  it('prunes the generations below a number, leaving the rest and other keys', async () => {
    const r = await make();
    const other = runKey('Company_Graph', 'load_company', 'other');
    for (let g = 1; g <= 4; g++) await r.claim(KEY, g, { kind: 'failed', at: g });
    await r.claim(other, 1, { kind: 'failed', at: 1 });
    await r.prune?.(KEY, 3);
    await r.prune?.(KEY, 3); // again: absent ones are no error
    await r.prune?.(runKey('G', 'j', 'never'), 3); // a key without generations
    expect(await r.claim(KEY, 1, { kind: 'failed', at: 0 })).toBe(true);
    expect(await r.claim(KEY, 2, { kind: 'failed', at: 0 })).toBe(true);
    expect(await r.claim(KEY, 3, { kind: 'failed', at: 0 })).toBe(false);
    expect(await r.current(KEY)).toEqual({ generation: 4, record: { kind: 'failed', at: 4 } });
    expect(await r.current(other)).toEqual({ generation: 1, record: { kind: 'failed', at: 1 } });
  });

  it('of many claims of one generation at once exactly one wins', async () => {
    const r = await make();
    const wins = await Promise.all(
      Array.from({ length: 12 }, (_, i) => r.claim(KEY, 1, { kind: 'run', id: `G_m1.${i}` })),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = wins.indexOf(true);
    expect(await r.current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'run', id: `G_m1.${winner}` },
    });
  });
}

describe('run records and keys', () => {
  it('encode and decode a run id, a starting marker and a failed marker', () => {
    for (const record of [
      { kind: 'run', id: 'Company_Graph_m1.1700000000001' },
      { kind: 'run', id: 'G.load.kafka.m1.17000000000010001' },
      { kind: 'run', id: 'G_m1.1700000000001', at: 1_700_000_000_002 },
      STARTING,
      { kind: 'starting', owner: 'a:b', at: 7 },
      { kind: 'failed', at: 1_700_000_000_123 },
    ] as const)
      expect(decodeRunRecord(encodeRunRecord(record))).toEqual(record);
    expect(encodeRunRecord(STARTING)).toBe('starting:req-1.ab12cd34:1700000000000');
    expect(encodeRunRecord({ kind: 'failed', at: 3 })).toBe('failed:3');
    expect(encodeRunRecord({ kind: 'run', id: 'G_m1.1', at: 9 })).toBe('run:9:G_m1.1');
    // A bare id (written by an earlier version, or by hand) is a run recorded at an unknown time.
    expect(decodeRunRecord('G_m1.1')).toEqual({ kind: 'run', id: 'G_m1.1' });
  });

  it('keys a run by graph, job and topic, with only characters an SSM name allows', () => {
    expect(KEY).toBe('Company_Graph.load_company.hello.companies');
    expect(runKey('G', 'j', 'a topic/x')).toBe('G.j.a_topic_x');
  });
});

describe('the run registry in memory', () => {
  behavesAsARegistry(() => Promise.resolve(memoryRunRegistry()));
});

describe('the run registry in files', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'tgstream-runs-'));
    dirs.push(d);
    return d;
  };
  behavesAsARegistry(async () => fileRunRegistry(await dir()));

  it('survives the process: another registry over the directory sees the run', async () => {
    const d = await dir();
    await fileRunRegistry(d).claim(KEY, 1, { kind: 'run', id: 'G_m1.1' });
    expect(await fileRunRegistry(d).current(KEY)).toEqual({
      generation: 1,
      record: { kind: 'run', id: 'G_m1.1' },
    });
    // Only the generation is left in the key's directory, no temporary file.
    expect(await readdir(join(d, KEY))).toEqual(['g1']);
  });

  it('an empty generation file (being written) is a retriable error; stray names are ignored', async () => {
    const d = await dir();
    await mkdir(join(d, KEY), { recursive: true });
    await writeFile(join(d, KEY, 'notes.txt'), 'x');
    expect(await fileRunRegistry(d).current(KEY)).toBeUndefined();
    await writeFile(join(d, KEY, 'g3'), '');
    await expect(fileRunRegistry(d).current(KEY)).rejects.toMatchObject({
      code: 'LOCAL_RUN_REGISTRY_FAILED',
      retriable: true,
    });
  });
});

describe('the run registry in SSM', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());
  const registry = () => ssmRunRegistry(new SSMClient({ region: 'us-east-1' }), PATH);
  /** SSM as it behaves: PutParameter without Overwrite fails on an existing name; pages of 2. */
  const parameters = () => {
    const params = new Map<string, string>();
    ssm
      .on(PutParameterCommand)
      .callsFake((input: { Name: string; Value: string; Overwrite: boolean }) => {
        if (params.has(input.Name) && !input.Overwrite)
          throw new ParameterAlreadyExists({ message: 'exists', $metadata: {} });
        params.set(input.Name, input.Value);
        return {};
      });
    ssm
      .on(GetParametersByPathCommand)
      .callsFake((input: { Path: string; Recursive: boolean; NextToken?: string }) => {
        const under = [...params]
          .filter(
            ([n]) =>
              n.startsWith(`${input.Path}/`) && !n.slice(input.Path.length + 1).includes('/'),
          )
          .map(([Name, Value]) => ({ Name, Value }));
        const from = Number(input.NextToken ?? 0);
        return {
          Parameters: under.slice(from, from + 2),
          ...(from + 2 < under.length ? { NextToken: String(from + 2) } : {}),
        };
      });
    ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
      if (!params.delete(input.Name))
        throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return {};
    });
    return params;
  };
  behavesAsARegistry(() => {
    parameters();
    return Promise.resolve(registry());
  });

  it('writes String parameters <path>/runs/<key>/g<N>, claims without Overwrite, reads every page', async () => {
    const params = parameters();
    const r = registry();
    for (let g = 1; g <= 5; g++)
      expect(await r.claim(KEY, g, { kind: 'failed', at: g })).toBe(true);
    await r.update(KEY, 5, { kind: 'run', id: 'G_m1.5' });
    expect(await r.current(KEY)).toEqual({ generation: 5, record: { kind: 'run', id: 'G_m1.5' } });
    expect([...params.keys()]).toContain(`${PATH}/runs/${KEY}/g5`);
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({
      Name: `${PATH}/runs/${KEY}/g1`,
      Value: 'failed:1',
      Type: 'String',
      Overwrite: false,
    });
    expect(puts.at(-1)).toMatchObject({ Value: 'G_m1.5', Overwrite: true });
    expect(ssm.commandCalls(GetParametersByPathCommand).at(-1)?.args[0].input).toMatchObject({
      Path: `${PATH}/runs/${KEY}`,
      Recursive: false,
    });
  });

  it('SSM failures become CONTROL_RUN_REGISTRY_FAILED: throttling retriable, access denied not', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    ssm.on(GetParametersByPathCommand).rejects(throttled);
    await expect(registry().current(KEY)).rejects.toMatchObject({
      code: 'CONTROL_RUN_REGISTRY_FAILED',
      retriable: true,
    });
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    ssm.on(PutParameterCommand).rejects(denied);
    const error = await registry()
      .claim(KEY, 1, STARTING)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTROL_RUN_REGISTRY_FAILED', retriable: false });
    expect((error as Error).message).toContain(
      'ssm:PutParameter, ssm:GetParametersByPath and ssm:DeleteParameter',
    );
  });

  it('prunes with DeleteParameter, one name at a time; a name already gone is skipped; a denial is CONTROL_RUN_REGISTRY_FAILED', async () => {
    const params = parameters();
    const r = registry();
    for (let g = 1; g <= 3; g++) await r.claim(KEY, g, { kind: 'failed', at: g });
    await r.prune?.(KEY, 3);
    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input.Name)).toEqual([
      `${PATH}/runs/${KEY}/g1`,
      `${PATH}/runs/${KEY}/g2`,
    ]);
    expect([...params.keys()]).toEqual([`${PATH}/runs/${KEY}/g3`]);
    ssm.on(DeleteParameterCommand).rejects(new ParameterNotFound({ message: 'x', $metadata: {} }));
    params.set(`${PATH}/runs/${KEY}/g1`, 'failed:1');
    await expect(r.prune?.(KEY, 3)).resolves.toBeUndefined();
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    ssm.on(DeleteParameterCommand).rejects(denied);
    await expect(r.prune?.(KEY, 3)).rejects.toMatchObject({
      code: 'CONTROL_RUN_REGISTRY_FAILED',
      retriable: false,
    });
  });

  it('refuses a key that cannot be a parameter name, before calling SSM', async () => {
    await expect(registry().current('G.job with space')).rejects.toMatchObject({
      code: 'CONFIG_NAME_INVALID',
    });
    expect(ssm.calls()).toHaveLength(0);
  });
});
