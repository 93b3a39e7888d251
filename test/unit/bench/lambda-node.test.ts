import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLambdaNode, onLambdaNode } from '../../../bench/lambda-node.ts';

describe('onLambdaNode (the pipeline suite on Node 22, as nodejs22.x runs the function)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('knows Node 22 from its version string, and no other', () => {
    expect(isLambdaNode('v22.23.3')).toBe(true);
    for (const v of ['v20.20.2', 'v23.1.0', 'v2.2.0', '22.1.0'])
      expect(isLambdaNode(v)).toBe(false);
  });

  it('runs the suite here when told TGSTREAM_BENCH_NODE=current', async () => {
    vi.stubEnv('TGSTREAM_BENCH_NODE', 'current');
    const entries = [{ name: 'x', milliseconds: 1, bundleBytes: 2 }];
    await expect(onLambdaNode('pipeline', () => Promise.resolve(entries))).resolves.toBe(entries);
  });

  it('refuses any other TGSTREAM_BENCH_NODE, naming what is allowed', async () => {
    vi.stubEnv('TGSTREAM_BENCH_NODE', '20');
    const here = vi.fn();
    await expect(onLambdaNode('pipeline', here)).rejects.toMatchObject({
      code: 'BENCH_NODE_INVALID',
      message: expect.stringContaining('allowed are lambda') as string,
    });
    expect(here).not.toHaveBeenCalled();
  });
});
