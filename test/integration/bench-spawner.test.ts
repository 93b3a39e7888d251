/**
 * The bench's spawning helper (bench/spawner.ts): programs run in a process of their own, timed
 * there, and every failure a bench run can meet reaches the caller as a coded error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSpawner, type Spawner } from '../../bench/spawner.ts';
import { kcatProduce, writeKcatFile } from '../../bench/pipeline.ts';
import { startEmbeddedKafka } from '../../lib/local/index.ts';
import { uniqueTopic } from '../helpers/embedded.ts';

/** The state letter /proc gives process `pid` (`Z` once it has died), or undefined when it is gone. */
const stateOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
};

/** Whether process `pid` still runs (a zombie, dead and not yet collected, does not). */
const isRunning = (pid: number): boolean => {
  const state = stateOf(pid);
  return state !== undefined && state !== 'Z';
};

const hasKcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0;

/** The process id a program wrote to `file`, once it has (a shell's `echo $$ > file`). */
const pidWrittenTo = async (file: string): Promise<number> => {
  await expect
    .poll(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', { timeout: 10_000 })
    .toBe(true);
  return Number(readFileSync(file, 'utf8').trim());
};

/** Runs `check` with a helper started from `script`, closing it whatever happens. */
const withSpawner = async (check: (spawner: Spawner) => Promise<void>, script?: string) => {
  const spawner = await startSpawner(script);
  try {
    await check(spawner);
  } finally {
    await spawner.close();
  }
};

/** Runs `check` with a stand-in helper whose script is `source`, removing it afterwards. */
const withStub = async (source: string, check: (spawner: Spawner) => Promise<void>) => {
  const dir = mkdtempSync(join(tmpdir(), 'spawner-stub-'));
  try {
    const stub = join(dir, 'stub.mjs');
    writeFileSync(stub, source);
    await withSpawner(check, stub);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('startSpawner', () => {
  it('runs a program in the helper, not in this process, and times it there', async () => {
    await withSpawner(async (spawner) => {
      expect(spawner.pid).not.toBe(process.pid);
      // The program's parent is the helper: this process never forked it.
      const parent = await spawner.run('sh', ['-c', 'echo $PPID']);
      expect(Number(parent.stdout.trim())).toBe(spawner.pid);
      const slept = await spawner.run('sleep', ['0.2']);
      expect(slept.ms).toBeGreaterThanOrEqual(190);
      expect(slept.ms).toBeLessThan(5000);
      // Runs in parallel are answered each with its own result.
      const both = await Promise.all([
        spawner.run('sh', ['-c', 'echo one']),
        spawner.run('sh', ['-c', 'echo two']),
      ]);
      expect(both.map((r) => r.stdout.trim())).toEqual(['one', 'two']);
    });
  });

  it('names the exit code and the end of standard error of a program that fails', async () => {
    await withSpawner(async (spawner) => {
      await expect(spawner.run('sh', ['-c', 'echo broken >&2; exit 3'])).rejects.toMatchObject({
        code: 'BENCH_SPAWN_FAILED',
        message: 'sh exited with 3: broken',
      });
      await expect(spawner.run('no-such-program-tgstream', [])).rejects.toMatchObject({
        code: 'BENCH_SPAWN_FAILED',
        message: expect.stringContaining(
          'no-such-program-tgstream could not run (ENOENT)',
        ) as unknown,
      });
      // The helper is still there after a failure.
      await expect(spawner.run('true', [])).resolves.toMatchObject({ stdout: '' });
    });
  });

  it('names a program killed by a signal', async () => {
    await withSpawner(async (spawner) => {
      await expect(spawner.run('sh', ['-c', 'kill -9 $$'])).rejects.toMatchObject({
        code: 'BENCH_SPAWN_FAILED',
        message: 'sh was killed by SIGKILL',
      });
    });
  });

  it('fails a run written to a helper that has just died, without failing this process', async () => {
    const spawner = await startSpawner();
    process.kill(spawner.pid, 'SIGKILL');
    // Dead (a zombie), and this process not yet told, as it has not let its events run: the
    // write meets a closed pipe.
    const until = Date.now() + 5000;
    while (stateOf(spawner.pid) !== 'Z' && Date.now() < until);
    expect(stateOf(spawner.pid)).toBe('Z');
    const failed = await spawner.run('true', []).catch((e: unknown) => e);
    expect(failed).toMatchObject({
      code: 'BENCH_SPAWNER_EXITED',
      message: expect.stringContaining('exited (SIGKILL)') as unknown,
      cause: { code: 'EPIPE' },
    });
    await spawner.close();
  });

  it('stops a helper that answers something else, failing the run', async () => {
    await withStub(
      "process.stdin.on('data', () => process.stdout.write('not json\\n'));\n",
      async (spawner) => {
        await expect(spawner.run('true', [])).rejects.toMatchObject({
          code: 'BENCH_SPAWNER_UNUSABLE',
          message: expect.stringContaining(
            'answered a line of 8 characters that is not {id, ms, stdout} or {id, error}',
          ) as unknown,
          cause: expect.any(SyntaxError) as unknown,
        });
        await expect(spawner.run('true', [])).rejects.toMatchObject({
          code: 'BENCH_SPAWNER_UNUSABLE',
        });
        // Stopped: the stub is gone.
        await expect.poll(() => isRunning(spawner.pid), { timeout: 3000 }).toBe(false);
      },
    );
  });

  it('stops a helper that answers a run it was not given', async () => {
    await withStub(
      "process.stdin.on('data', () => process.stdout.write(JSON.stringify({ id: 999, ms: 1, stdout: '' }) + '\\n'));\n",
      async (spawner) => {
        await expect(spawner.run('true', [])).rejects.toMatchObject({
          code: 'BENCH_SPAWNER_UNUSABLE',
          message: expect.stringContaining('an answer to no run it was given') as unknown,
        });
        await expect.poll(() => isRunning(spawner.pid), { timeout: 3000 }).toBe(false);
      },
    );
  });

  it('fails the runs of a helper that cannot load, naming why', async () => {
    const spawner = await startSpawner('/nonexistent-tgstream-helper.mjs');
    await expect(spawner.run('true', [])).rejects.toMatchObject({
      code: 'BENCH_SPAWNER_EXITED',
      message: expect.stringMatching(/exited \(1\).*Cannot find module/s) as unknown,
    });
    await spawner.close();
  });

  it('fails a run still waiting when the helper is closed', async () => {
    const spawner = await startSpawner();
    const waiting = expect(spawner.run('sleep', ['30'])).rejects.toMatchObject({
      code: 'BENCH_SPAWNER_EXITED',
      message: "the bench's spawning helper was closed",
    });
    const started = Date.now();
    await spawner.close();
    await waiting;
    // The helper stopped its program instead of waiting for it (or for close's kill at 5 s).
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops its programs when it is stopped by SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-term-'));
    const pidFile = join(dir, 'pid');
    const spawner = await startSpawner();
    try {
      const waiting = expect(
        spawner.run('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]),
      ).rejects.toMatchObject({
        code: 'BENCH_SPAWNER_EXITED',
        message: expect.stringContaining('(143)') as unknown,
      });
      const program = await pidWrittenTo(pidFile);
      expect(isRunning(program)).toBe(true);
      process.kill(spawner.pid, 'SIGTERM');
      await waiting;
      await expect.poll(() => isRunning(program), { timeout: 3000 }).toBe(false);
    } finally {
      await spawner.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops what its programs started when it is closed, even a program that ignores SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-group-'));
    const pidFile = join(dir, 'pid');
    const spawner = await startSpawner();
    const waiting = expect(
      spawner.run('sh', ['-c', `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`]),
    ).rejects.toMatchObject({ code: 'BENCH_SPAWNER_EXITED' });
    try {
      const grandchild = await pidWrittenTo(pidFile);
      expect(isRunning(grandchild)).toBe(true);
      const started = Date.now();
      await spawner.close();
      await waiting;
      expect(Date.now() - started).toBeLessThan(3000);
      await expect.poll(() => isRunning(grandchild), { timeout: 3000 }).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a program that prints more than it keeps', async () => {
    await withSpawner(async (spawner) => {
      await expect(spawner.run('head', ['-c', '70000000', '/dev/zero'])).rejects.toMatchObject({
        code: 'BENCH_SPAWN_FAILED',
        message: 'head printed more than 67108864 bytes and was stopped',
      });
    });
  });

  it('fails the runs waiting, and any later one, once the helper is gone', async () => {
    const spawner = await startSpawner();
    // SIGKILL leaves the helper no time to stop its programs: a short one.
    const waiting = spawner.run('sleep', ['1']);
    process.kill(spawner.pid, 'SIGKILL');
    await expect(waiting).rejects.toMatchObject({
      code: 'BENCH_SPAWNER_EXITED',
      message: expect.stringContaining('SIGKILL') as unknown,
    });
    await expect(spawner.run('true', [])).rejects.toMatchObject({ code: 'BENCH_SPAWNER_EXITED' });
    await spawner.close();
  });

  it.skipIf(!hasKcat)('gives kcatProduce the time kcat took in the helper', async () => {
    const spawner = await startSpawner();
    const kafka = startEmbeddedKafka();
    const dir = mkdtempSync(join(tmpdir(), 'spawner-kcat-'));
    try {
      const topic = uniqueTopic('spawned');
      kafka.createTopic(topic, 1);
      const file = join(dir, 'lines.tsv');
      writeKcatFile(file, 2000);
      const rate = await kcatProduce(
        kafka.bootstrapServers,
        file,
        2000,
        { topic, partition: 0 },
        spawner,
      );
      expect(rate).toBeGreaterThan(0);
      expect(Number.isFinite(rate)).toBe(true);
      const read = spawnSync(
        'kcat',
        ['-C', '-b', kafka.bootstrapServers, '-t', topic, '-e', '-q'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(read.stdout.trim().split('\n')).toHaveLength(2000);
      // A file that is not there: kcat fails at once, and says so through the helper.
      await expect(
        kcatProduce('127.0.0.1:1', '/nonexistent-tgstream-file', 10, { topic: 't' }, spawner),
      ).rejects.toMatchObject({
        code: 'BENCH_SPAWN_FAILED',
        message: expect.stringMatching(/^kcat /) as unknown,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      kafka.stop();
      await spawner.close();
    }
  });
});
