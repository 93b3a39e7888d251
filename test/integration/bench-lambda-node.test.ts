import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RESULTS_MARK, isLambdaNode, onLambdaNode } from '../../bench/lambda-node.ts';

// The child runs on the pinned Node 22 (scripts/node22.ts installs it on first use).
const dir = mkdtempSync(join(tmpdir(), 'bench-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child script: prints `lines`, then exits with `code`. */
const child = (name: string, lines: string[], code = 0): string => {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `${lines.map((l) => `console.log(${JSON.stringify(l)});`).join('\n')}\nprocess.exitCode = ${code};\n`,
  );
  return file;
};

const entries = [{ name: 'pipeline: x', p50Ms: 1, p99Ms: 2 }];

/** A child script answering with its Node's version and the flags it was started with (one entry). */
const flagsChild = (): string => {
  const file = join(dir, 'flags.mjs');
  writeFileSync(
    file,
    `console.log(${JSON.stringify(RESULTS_MARK)} + JSON.stringify([{ name: process.version + ' ' + process.execArgv.join(' '), milliseconds: 0, bundleBytes: 0 }]));\n`,
  );
  return file;
};

// Whatever the environment says, these tests take the child's path.
beforeEach(() => {
  vi.stubEnv('TGSTREAM_BENCH_NODE', '');
  return () => vi.unstubAllEnvs();
});

describe.skipIf(isLambdaNode(process.version))(
  'onLambdaNode: a suite in a child process on Node 22',
  () => {
    it('returns the results the child prints after the mark and passes its other lines on', async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      const here = vi.fn();
      try {
        const script = child('ok', [
          'pipeline: node v22',
          `${RESULTS_MARK}${JSON.stringify(entries)}`,
        ]);
        await expect(onLambdaNode('pipeline', here, { script })).resolves.toEqual(entries);
        expect(log).toHaveBeenCalledWith('pipeline: node v22');
        expect(log).not.toHaveBeenCalledWith(expect.stringContaining(RESULTS_MARK));
        expect(here).not.toHaveBeenCalled();
      } finally {
        log.mockRestore();
      }
    }, 120_000);

    it('fails with BENCH_SUITE_FAILED when the child exits 0 without results, or with results but not 0', async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        await expect(
          onLambdaNode('pipeline', vi.fn(), { script: child('none', ['nothing']) }),
        ).rejects.toMatchObject({
          code: 'BENCH_SUITE_FAILED',
          message: expect.stringContaining('exited with 0 and no results') as string,
        });
        await expect(
          onLambdaNode('pipeline', vi.fn(), {
            script: child('bad', [`${RESULTS_MARK}${JSON.stringify(entries)}`], 3),
          }),
        ).rejects.toMatchObject({
          code: 'BENCH_SUITE_FAILED',
          message: expect.stringContaining('exited with 3') as string,
        });
      } finally {
        log.mockRestore();
      }
    }, 120_000);

    it("runs the child on Node 22 with a function's NODE_OPTIONS as its flags", async () => {
      const here = vi.fn();
      const [entry] = await onLambdaNode('pipeline', here, {
        script: flagsChild(),
        nodeOptions: '--enable-source-maps --max-semi-space-size=51',
      });
      expect(entry?.name).toMatch(/^v22\.\d+\.\d+ --enable-source-maps --max-semi-space-size=51$/);
      expect(here).not.toHaveBeenCalled();
    }, 120_000);

    it('fails with BENCH_SUITE_FAILED for a suite bench/suite-child.ts does not know', async () => {
      await expect(onLambdaNode('no-such-suite', vi.fn())).rejects.toMatchObject({
        code: 'BENCH_SUITE_FAILED',
        message: expect.stringContaining('exited with 2 and no results') as string,
      });
    }, 120_000);
  },
);

describe("onLambdaNode with a function's NODE_OPTIONS", () => {
  it('starts a child on the current Node with them as flags, since this process lacks them', async () => {
    vi.stubEnv('TGSTREAM_BENCH_NODE', 'current');
    const here = vi.fn();
    const [entry] = await onLambdaNode('pipeline', here, {
      script: flagsChild(),
      nodeOptions: '--enable-source-maps  --max-semi-space-size=51',
    });
    expect(entry?.name).toBe(`${process.version} --enable-source-maps --max-semi-space-size=51`);
    expect(here).not.toHaveBeenCalled();
  }, 120_000);

  it('runs the suite here when this process has every one of them', async () => {
    vi.stubEnv('TGSTREAM_BENCH_NODE', 'current');
    const entries = [{ name: 'x', milliseconds: 1, bundleBytes: 2 }];
    const own = process.execArgv.filter((f) => f.startsWith('--')).join(' ');
    await expect(
      onLambdaNode('pipeline', () => Promise.resolve(entries), {
        script: flagsChild(),
        nodeOptions: own,
      }),
    ).resolves.toBe(entries);
  });
});
