import { describe, expect, it } from 'vitest';
import { coreLayout } from '../../../bench/stack.ts';

describe('coreLayout (where the pipeline bench runs the stack and the measured process)', () => {
  it('puts the stack on the last core and the measured process on the others', () => {
    expect(coreLayout(2, true, undefined)).toMatchObject({ stack: '1', producer: '0' });
    expect(coreLayout(8, true, 'split')).toMatchObject({ stack: '7', producer: '0-6' });
    expect(coreLayout(8, true, undefined).description).toBe(
      'the stack (broker, emulator) on core 7, the measured process and its children (the handler, kcat) on cores 0-6',
    );
  });

  it('shares the cores, saying why, with one core, without taskset, or when told to', () => {
    for (const [cores, taskset, setting, why] of [
      [1, true, undefined, '1 core'],
      [4, false, undefined, 'taskset, from util-linux, could not be run'],
      [4, true, 'shared', 'TGSTREAM_BENCH_CORES=shared'],
    ] as const) {
      const layout = coreLayout(cores, taskset, setting);
      expect(layout.stack).toBeUndefined();
      expect(layout.producer).toBeUndefined();
      expect(layout.description).toContain(why);
    }
  });

  it('refuses any other TGSTREAM_BENCH_CORES, naming what is allowed', () => {
    expect(() => coreLayout(2, true, 'half')).toThrow(
      expect.objectContaining({
        code: 'BENCH_CORES_INVALID',
        message: expect.stringContaining('allowed are split') as string,
      }),
    );
  });
});
