/**
 * `npm run soak [-- --records N --batch-size B --partitions P --sample-every K
 * --max-heap-growth-mb M --out FILE]`: a million records (by default) through `tgstream run`
 * on the embedded default, the example connector's kafka mode (EOF loading runs), while kcat
 * feeds the source topic. Prints and writes bench/soak.json: records per second, peak memory,
 * the heap after garbage collection across the invocations and whether it stayed flat, and
 * whether every record was loaded. Exit 0 only when nothing was lost and the heap stayed flat.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { formatSamples } from './soak-figures.ts';
import { runSoak } from './soak-run.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '500' },
    partitions: { type: 'string', default: '3' },
    'sample-every': { type: 'string', default: '10' },
    'max-heap-growth-mb': { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/soak.json' },
  },
});
const int = (name: keyof typeof values, min: number, max: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(
      `soak: --${name} must be an integer from ${min} to ${max}, found ${values[name]}`,
    );
    process.exit(2);
  }
  return n;
};
const records = int('records', 1000, 9_999_999);
const batchSize = int('batch-size', 1, 10_000);
const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();

const machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  exposeGc: process.execArgv.includes('--expose-gc'),
};
const loadBefore = loadavg();
const uptimeBefore = uptime();
console.log(`TigerStream soak: node ${machine.node}, ${machine.cpus} x ${machine.model}`);
console.log(`before: ${uptimeBefore}`);
const report = await runSoak({
  records,
  batchSize,
  partitions: int('partitions', 1, 100),
  sampleEvery: int('sample-every', 1, 10_000),
  maxHeapGrowthMb: Number(values['max-heap-growth-mb']),
  say: (line) => console.log(line),
});
const uptimeAfter = uptime();
const loads = report.samples.map((s) => s.load1);
// The log's temporary path is printed when the run starts; it does not belong in the figures.
const { samples, logFile: _logFile, ...figures } = report;
const out = {
  date: new Date().toISOString(),
  machine,
  mode: 'kafka (EOF loading runs), infra/connectors/company.properties',
  load: {
    before: loadBefore.map((x) => Math.round(x * 100) / 100),
    duringMin: Math.min(...loads),
    duringMax: Math.max(...loads),
    uptimeBefore,
    uptimeAfter,
  },
  ...figures,
  samples,
};
writeFileSync(values.out, `${JSON.stringify(out, null, 2)}\n`);

const h = report.memory.heap;
const r = report.run;
const ok = report.verified.ok && r.exitCode === 0 && report.sourceTopicRecords === records;
console.log(`
records            ${records} fed by kcat (source topic holds ${report.sourceTopicRecords}); graph: ${report.verified.vertices} vertices, ${report.verified.missing} seeded ids missing
run                ${r.seconds} s, ${r.recordsPerSecond} records/s (steady ${r.steadyRecordsPerSecond}), ${r.invocations} invocations of at most ${report.batchSize}, ${r.failedAttempts} failed attempts, forced GC ${r.forcedGcSeconds} s; stopped: ${r.stoppedBecause}
outcome            ${r.records} read, ${r.loaded} loaded, ${r.rejected} rejected, ${r.deadLettered} dead-lettered
peak RSS           ${report.memory.peakRssMb} MB (after an invocation: ${report.memory.peakRssSampledMb} MB); tgstream dev process ${report.memory.stackPeakRssMb ?? '?'} MB
heap after GC      ${h.samples} samples, ${h.warmUpSamples} warm-up; first 10% median ${h.firstMedianMb} MB, last 10% ${h.lastMedianMb} MB, growth ${h.growthMb} MB (bound ${h.boundMb}), slope ${h.slopeMbPer1000Invocations} MB per 1000 invocations (last half ${h.lastHalfSlopeMbPer1000Invocations}), range ${h.minMb}-${h.maxMb} MB
load average       during ${out.load.duringMin}-${out.load.duringMax}; after: ${uptimeAfter}

${formatSamples(samples)}

${ok ? 'OK: every record loaded' : 'FAILED: records lost'}; ${h.flat ? 'heap flat' : 'HEAP GREW'}; wrote ${values.out}`);
process.exitCode = ok && h.flat ? 0 : 1;
