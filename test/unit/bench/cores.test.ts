import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { coreLayout, currentCores, parseCpuList, pin } from '../../../bench/cores.ts';

const hasTaskset = spawnSync('taskset', ['-V']).status === 0;

describe('parseCpuList', () => {
  it("reads taskset's list syntax", () => {
    expect(parseCpuList('0-3,6')).toEqual([0, 1, 2, 3, 6]);
    expect(parseCpuList(' 1\n')).toEqual([1]);
  });

  it('refuses anything else, naming what it read', () => {
    for (const text of ['', 'a', '3-1', '1,,2'])
      expect(() => parseCpuList(text)).toThrow(
        expect.objectContaining({ code: 'BENCH_CORES_UNREADABLE' }),
      );
  });
});

describe('coreLayout (where the pipeline bench runs the stack and the measured process)', () => {
  it('gives the measured process the lower half of the cores it was given, the stack the rest', () => {
    expect(coreLayout([0, 1], undefined)).toMatchObject({
      producer: '0',
      stack: '1',
      restore: '0,1',
    });
    // Within a restriction the bench was started under (taskset -c 2,3,5).
    expect(coreLayout([2, 3, 5], 'split')).toMatchObject({
      producer: '2',
      stack: '3,5',
      restore: '2,3,5',
    });
    expect(coreLayout([0, 1, 2, 3, 4, 5, 6, 7], undefined).description).toBe(
      'the stack (broker, emulator) on cores 4,5,6,7, the measured process and its children (the handler, kcat) on cores 0,1,2,3',
    );
  });

  it('shares the cores, saying why, with one core, without taskset, or when told to', () => {
    for (const [allowed, setting, why] of [
      [[3], undefined, '1 core'],
      [undefined, undefined, 'taskset, from util-linux, could not be run'],
      [[0, 1], 'shared', 'TGSTREAM_BENCH_CORES=shared'],
    ] as const) {
      const layout = coreLayout(allowed, setting);
      expect(layout).toMatchObject({ stack: undefined, producer: undefined, restore: undefined });
      expect(layout.description).toContain(why);
    }
  });

  it('refuses any other TGSTREAM_BENCH_CORES, naming what is allowed', () => {
    expect(() => coreLayout([0, 1], 'half')).toThrow(
      expect.objectContaining({
        code: 'BENCH_CORES_INVALID',
        message: expect.stringContaining('allowed are split') as string,
      }),
    );
  });
});

describe.skipIf(!hasTaskset)('currentCores and pin (taskset)', () => {
  it("reads this process's cores and sets them again", () => {
    const cores = currentCores(process.pid);
    expect(cores?.length).toBeGreaterThan(0);
    pin(process.pid, (cores as number[]).join(','));
    expect(currentCores(process.pid)).toEqual(cores);
  });

  it('fails with BENCH_PIN_FAILED when taskset cannot (no such process), and reads nothing for it', () => {
    // Above Linux's largest pid (2^22), so never a process.
    const nobody = 2 ** 22 + 1;
    expect(() => pin(nobody, '0')).toThrow(
      expect.objectContaining({
        code: 'BENCH_PIN_FAILED',
        message: expect.stringContaining(`process ${nobody}`) as string,
      }),
    );
    expect(currentCores(nobody)).toBeUndefined();
  });
});
