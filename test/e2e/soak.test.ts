/**
 * The soak (`npm run soak`) in small: 20,000 records through `tgstream run` (without `--eof`:
 * kcat feeds the topic while it runs, and it is stopped with SIGINT once every record is
 * loaded) on `tgstream dev`; every record must be loaded and the heap must stay flat.
 * The full million is run by hand (README, Benchmarks).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.ts';

const hasKcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0;
if (!hasKcat)
  console.warn('kcat is not installed (apt-get install kcat): the soak smoke test is skipped');

interface SoakJson {
  records: number;
  run: { exitCode: number; invocations: number; recordsPerSecond: number; loaded: number };
  memory: { peakRssMb: number; heap: { samples: number; flat: boolean; growthMb: number } };
  verified: { vertices: number; missing: number; ok: boolean };
  samples: { invocation: number; heapUsedMb: number }[];
}

describe('npm run soak, small', () => {
  it.skipIf(!hasKcat)(
    'streams 20,000 records in 500-record invocations, loads every one, and reports a flat heap',
    async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'tgstream-soak-test-')), 'soak.json');
      const { status, stdout, stderr } = await new Promise<{
        status: number | null;
        stdout: string;
        stderr: string;
      }>((done) => {
        const child = spawn(
          process.execPath,
          [
            '--expose-gc',
            join(ROOT, 'bin/run-ts.js'),
            'bench/soak.ts',
            '--records',
            '20000',
            '--sample-every',
            '2',
            '--out',
            out,
          ],
          { cwd: ROOT },
        );
        let o = '';
        let e = '';
        child.stdout.on('data', (d: Buffer) => (o += d.toString()));
        child.stderr.on('data', (d: Buffer) => (e += d.toString()));
        child.on('close', (code) => done({ status: code, stdout: o, stderr: e }));
      });
      expect(status, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toContain('OK: every record loaded; heap flat');
      const report = JSON.parse(readFileSync(out, 'utf8')) as SoakJson;
      expect(report.verified).toEqual({
        distinctIdsSeeded: 20_000,
        vertices: 20_000,
        missing: 0,
        ok: true,
      });
      expect(report.run.loaded).toBe(20_000);
      expect(report.run.invocations).toBeGreaterThanOrEqual(40);
      expect(report.run.recordsPerSecond).toBeGreaterThan(0);
      expect(report.memory.peakRssMb).toBeGreaterThan(0);
      expect(report.memory.heap.flat).toBe(true);
      expect(report.samples.length).toBe(report.memory.heap.samples);
      expect(report.samples.length).toBeGreaterThanOrEqual(20);
    },
    90_000,
  );
});
