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
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 200,
      loaded: 0,
      rejected: 200,
      vertices: 0,
      accounted: true,
    });
  });

  it('exits non-zero when records are unaccounted for (loads not waited for)', () => {
    const file = exampleConnectorWith(
      '[connector_1]',
      'tigergraph.loading.wait=false\n[connector_1]',
      'nowait.properties',
    );
    const r = tgstream(['demo', '--records', '100', '--c', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED: records are unaccounted for');
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
