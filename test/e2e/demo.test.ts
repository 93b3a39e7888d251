import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, exampleConnectorWith } from '../helpers/fixtures.ts';

const tgstream = (args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin', 'tgstream.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('npm start (tgstream demo) end to end', () => {
  it('--json prints one JSON summary with every record accounted for', () => {
    const r = tgstream(['demo', '--json', '--records', '3000']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      records: 3000,
      produced: 3000,
      loaded: 3000,
      rejected: 0,
      deadLettered: 0,
      tombstones: 0,
      vertices: 3000,
      accounted: true,
    });
    expect(typeof summary.seconds).toBe('number');
    expect(summary.seconds).toBeGreaterThan(0);
    expect(r.stderr).toContain('read 3000/3000');
  });

  it('--avro streams Confluent-framed Avro through the schema registry stand-in', () => {
    const r = tgstream(['demo', '--avro', '--json', '--records', '1000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('schema registry stand-in at http://127.0.0.1:');
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 1000,
      produced: 1000,
      loaded: 1000,
      rejected: 0,
      vertices: 1000,
      accounted: true,
    });
  });

  it('prints a summary a person reads at a glance', () => {
    const r = tgstream(['demo', '--records', '500', '--partitions', '2']);
    expect(r.status, r.stderr).toBe(0);
    for (const row of [
      /records read\s+500/,
      /produced\s+500/,
      /loaded\s+500/,
      /rejected\s+0/,
      /dead-lettered\s+0/,
      /seconds\s+\d+\.\d\d/,
      /records\/second\s+\d+/,
      /500 Company vertices/,
    ])
      expect(r.stdout).toMatch(row);
    expect(r.stdout).toContain('OK: all 500 records accounted for');
  });

  it('counts records TigerGraph rejects and still accounts for all of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-e2e-'));
    // A loading job that reads a field the records do not have: every object has no id.
    const gsql = readFileSync(join(ROOT, 'infra/examples/company.gsql'), 'utf8').replace(
      '$"company"',
      '$"name"',
    );
    writeFileSync(join(dir, 'bad.gsql'), gsql);
    const r = tgstream(['demo', '--json', '--records', '200', '--gsql', join(dir, 'bad.gsql')]);
    expect(r.status, r.stderr).toBe(0);
    // The demo runs errors.tolerance=all with a dead-letter topic: the EOF runs' sums say every
    // object was rejected, and posting the lines again to /ddl singles each record out.
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 200,
      loaded: 0,
      rejected: 0,
      deadLettered: 200,
      vertices: 0,
      accounted: true,
    });
  });

  it('exits non-zero when records are unaccounted for (the graph holds fewer than were counted loaded)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-e2e-'));
    // Every record upserts the same vertex: 100 loaded, 1 vertex in the graph.
    const gsql = readFileSync(join(ROOT, 'infra/examples/company.gsql'), 'utf8').replace(
      'VALUES ($"company", $"employee_num")',
      'VALUES ("one and the same", $"employee_num")',
    );
    writeFileSync(join(dir, 'same.gsql'), gsql);
    const r = tgstream(['demo', '--records', '100', '--gsql', join(dir, 'same.gsql')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED: records are unaccounted for');
  });

  it.each([
    // Half the bad records are JSON without an id (an object rejected), half not JSON. In
    // kafka mode the EOF run reports sums; the lines are posted again to /ddl to single the
    // rejected records out and dead-letter them.
    ['kafka', { loaded: 1990, rejected: 0, deadLettered: 10, objectsRejected: 5 }],
    ['direct', { loaded: 1990, rejected: 0, deadLettered: 10, objectsRejected: 5 }],
    ['mirror-only', { loaded: 2000, rejected: 0, deadLettered: 0 }],
  ] as const)('--mode %s --bad 10 accounts for every record', (mode, counts) => {
    const r = tgstream(['demo', '--mode', mode, '--records', '2000', '--bad', '10', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, number | string | boolean>;
    expect(summary).toMatchObject({
      mode,
      records: 2000,
      ...counts,
      tombstones: 0,
      bad: 10,
      vertices: 1990,
      accounted: true,
    });
    if (mode === 'mirror-only') {
      expect(r.stderr).toContain('your loading job load_company');
      // Started and stopped in GSQL, as the reference page's user does (section 2.1).
      expect(r.stderr).toMatch(
        /in GSQL: RUN LOADING JOB -noprint load_company USING f1=".*", EOF="false"/,
      );
      expect(r.stderr).toMatch(/in GSQL: ABORT LOADING JOB Company_Graph_m1\.\d{13}/);
    }
  });

  it('--avro --bad dead-letters the records that do not decode', () => {
    const r = tgstream(['demo', '--avro', '--records', '1000', '--bad', '7', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 1000,
      loaded: 993,
      deadLettered: 7,
      vertices: 993,
      accounted: true,
    });
  });

  it('--mirror-only is --mode mirror-only', () => {
    const r = tgstream(['demo', '--mirror-only', '--records', '300', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'mirror-only', loaded: 300, vertices: 300 });
  });

  it('refuses an unknown --mode, naming the allowed ones', () => {
    const r = tgstream(['demo', '--mode', 'sideways']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      '--mode must be one of kafka, direct, mirror-only, found "sideways"',
    );
  });

  it('refuses more records than the embedded broker holds, naming the limit, before seeding any', () => {
    const r = tgstream(['demo', '--records', '200000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      '--records 200000 is more than the embedded broker holds for 3 partition(s)',
    );
    expect(r.stderr).toContain('allowed: up to 120000 (40000 per partition), or more --partitions');
    expect(r.stderr).not.toContain('seeding');
  });

  it('rejects a bad option with exit 2 and the usage', () => {
    const r = tgstream(['demo', '--recrods', '5']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --recrods');
  });

  it('rejects an invalid connector file with exit 2, naming file, line, key and code', () => {
    const file = exampleConnectorWith(
      'value.converter=org.apache.kafka.connect.converters.ByteArrayConverter',
      'value.converter=Avro',
      'bad.properties',
    );
    const r = tgstream(['run', '--c', file, '--eof']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /bad\.properties:\d+ value\.converter: found "Avro"; allowed: .* \[CONFIG_VALUE_CONVERTER_UNKNOWN\]/,
    );
  });
});
