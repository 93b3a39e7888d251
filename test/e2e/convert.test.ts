import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ROOT, exampleConnectorWith } from '../helpers/fixtures.ts';

const V1 = {
  type: 'record',
  name: 'Company',
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'long' },
    { name: 'ceo', type: ['null', 'string'] },
  ],
};
const type = avro.Type.forSchema(V1 as avro.Schema, { wrapUnions: true });
const connector = (converter: string, extra: string): string =>
  exampleConnectorWith(
    'value.converter=org.apache.kafka.connect.converters.ByteArrayConverter',
    `value.converter=${converter}\n${extra}`,
    `${converter}.properties`,
  );
const convert = (file: string, input: string) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/tgstream.js'), 'convert', '--c', file], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
const line = (offset: number, value: Buffer | null, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    topic: 'companies',
    partition: 0,
    offset,
    timestamp: 1_700_000_000_000,
    key: Buffer.from(`k${offset}`).toString('base64'),
    value: value === null ? null : value.toString('base64'),
    headers: [{ trace: [116, -61, -87] }],
    ...extra,
  });

describe('tgstream convert', () => {
  const noRegistry = connector(
    'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry',
    `value.converter.schemas=${JSON.stringify(V1)}`,
  );

  it('writes one converted line per record in order, skips tombstones, exits 0', () => {
    const input = [
      line(1, type.toBuffer({ company: 'TigerGraph', employee_num: 346, ceo: null })),
      line(2, null),
      line(3, type.toBuffer({ company: 'Apple', employee_num: 373704, ceo: { string: 'Tim' } })),
    ].join('\n');
    const r = convert(noRegistry, input);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      '{"company":"TigerGraph","employee_num":346}\n{"company":"Apple","employee_num":373704,"ceo":"Tim"}\n',
    );
  });

  it('writes a JSON error line per record that cannot be converted and exits 3', () => {
    const input = [
      line(1, Buffer.from([0xff, 0xff])),
      line(2, type.toBuffer({ company: 'Ok', employee_num: 1, ceo: null })),
      '{not json',
      JSON.stringify({ topic: 't', partition: 0, offset: 'x', timestamp: 0 }),
    ].join('\n');
    const r = convert(noRegistry, input);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('{"company":"Ok","employee_num":1}\n');
    const errors = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(errors[0]).toMatchObject({
      topic: 'companies',
      partition: 0,
      offset: 1,
      code: 'CONVERT_AVRO_TRUNCATED',
    });
    expect(errors[1]).toMatchObject({ line: 3, code: 'CONVERT_INPUT_NOT_JSON' });
    expect(errors[2]).toMatchObject({ topic: 't', offset: null, code: 'EVENT_RECORD_MALFORMED' });
    expect(errors[2]?.message).toContain('offset: expected a non-negative integer');
  });

  it('passes bytes through with the ByteArrayConverter (JSON lines stay as they are)', () => {
    const r = convert(
      join(ROOT, 'infra/connectors/company.properties'),
      line(1, Buffer.from('{"company":"Raw","employee_num":1}')),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"company":"Raw","employee_num":1}\n');
  });

  it('needs no tigergraph.* key: a mirror-only file converts, and so does an incomplete one', () => {
    const example = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-e2e-'));
    const mirrorOnly = join(dir, 'mirror-only.properties');
    writeFileSync(mirrorOnly, example.replace(/^tigergraph\..*\n/gm, ''));
    const incomplete = join(dir, 'incomplete.properties');
    writeFileSync(incomplete, example.replace(/^tigergraph\.graph=.*\n/m, ''));
    for (const file of [mirrorOnly, incomplete]) {
      const r = convert(file, line(1, Buffer.from('{"company":"Raw","employee_num":1}')));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('{"company":"Raw","employee_num":1}\n');
    }
  });

  it('exits 2 for a bad configuration', () => {
    const r = convert(
      connector('com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter', ''),
      '',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[CONFIG_SCHEMA_REGISTRY_URL_MISSING]');
  });
});
