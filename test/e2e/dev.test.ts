/**
 * The local dev loop as a user runs it: `tgstream dev` left running, Debian's kcat producing to
 * it, `tgstream run` streaming the records into the emulator, curl reading the vertices; and
 * `tgstream invoke` running one Lambda event file through the handler.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.ts';

const hasKcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0;
if (!hasKcat)
  console.warn(
    'kcat is not installed (apt-get install kcat): the tgstream dev + kcat test is skipped',
  );

const tgstream = (args: string[], input?: string) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tgstream.js'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin.end(input);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });

/** The example connector file with its three addresses pointed at the dev stack. */
function connectorAt(where: { bootstrapServers: string; tigergraphUrl: string }): string {
  const text = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8')
    .replace(
      /^source\.cluster\.bootstrap\.servers=.*$/m,
      `source.cluster.bootstrap.servers=${where.bootstrapServers}`,
    )
    .replace(
      /^target\.cluster\.bootstrap\.servers=.*$/m,
      `target.cluster.bootstrap.servers=${where.bootstrapServers}`,
    )
    .replace(/^tigergraph\.url=.*$/m, `tigergraph.url=${where.tigergraphUrl}`);
  const file = join(mkdtempSync(join(tmpdir(), 'tgstream-dev-')), 'dev.properties');
  writeFileSync(file, text);
  return file;
}

describe('tgstream dev', () => {
  let dev: ChildProcessWithoutNullStreams;
  let where: { bootstrapServers: string; schemaRegistryUrl: string; tigergraphUrl: string };
  beforeAll(async () => {
    dev = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/tgstream.js'),
        'dev',
        '--c',
        'infra/connectors/company.properties',
        '--json',
      ],
      { cwd: ROOT },
    );
    const [first] = (await once(createInterface({ input: dev.stdout }), 'line')) as [string];
    where = JSON.parse(first) as typeof where;
  }, 60_000);
  afterAll(() => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  it('prints one JSON line with where the broker, the registry stand-in and the emulator listen', async () => {
    expect(Object.keys(where).sort()).toEqual([
      'bootstrapServers',
      'schemaRegistryUrl',
      'tigergraphUrl',
    ]);
    expect(where.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+$/);
    // The registry stand-in answers as Confluent's does: register a schema, read it by id.
    const registered = await fetch(`${where.schemaRegistryUrl}/subjects/companies-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: '"string"' }),
    });
    const { id } = (await registered.json()) as { id: number };
    const schema = await fetch(`${where.schemaRegistryUrl}/schemas/ids/${id}`);
    expect(((await schema.json()) as { schema: string }).schema).toBe('"string"');
    const tg = await fetch(`${where.tigergraphUrl}/restpp/graph/Company_Graph/vertices/Company`);
    expect(tg.status).toBe(200);
  });

  it.skipIf(!hasKcat)(
    'kcat produces to it, tgstream run streams the records into the emulator, curl shows the vertices',
    async () => {
      const lines = Array.from({ length: 12 }, (_, i) =>
        JSON.stringify({ company: `Kcat ${i}`, employee_num: i }),
      );
      for (const partition of [0, 1, 2]) {
        const kcat = spawnSync(
          'kcat',
          ['-P', '-b', where.bootstrapServers, '-t', 'companies', '-p', String(partition)],
          {
            input: `${lines.filter((_, i) => i % 3 === partition).join('\n')}\n`,
            encoding: 'utf8',
          },
        );
        expect(kcat.status, kcat.stderr).toBe(0);
      }
      const run = await tgstream([
        'run',
        '--c',
        connectorAt(where),
        '--eof',
        '--json',
        '--session-timeout-ms',
        '6000',
      ]);
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        records: 12,
        loaded: 12,
        rejected: 0,
        objectsLoaded: 12,
      });
      const curl = spawnSync(
        'curl',
        ['-sf', `${where.tigergraphUrl}/graph/Company_Graph/vertices/Company`],
        {
          encoding: 'utf8',
        },
      );
      expect(curl.status).toBe(0);
      const ids = (JSON.parse(curl.stdout) as { results: { v_id: string }[] }).results.map(
        (v) => v.v_id,
      );
      expect(ids.sort()).toEqual(
        lines.map((l) => (JSON.parse(l) as { company: string }).company).sort(),
      );
    },
    120_000,
  );

  it('stops cleanly on Ctrl-C (SIGINT), exit 0', async () => {
    dev.kill('SIGINT');
    const [code] = (await once(dev, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('tgstream invoke', () => {
  const event = (name: string): string => join(ROOT, 'test/fixtures', name);

  it('runs one Lambda event file through the handler on the embedded stack and prints the batch result', async () => {
    // errors.tolerance=all: the records TigerGraph rejects are counted, and the batch succeeds.
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-invoke-'));
    writeFileSync(
      join(dir, 'all.properties'),
      readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8').replace(
        '[connector_1]',
        'errors.tolerance=all\n[connector_1]',
      ),
    );
    const r = await tgstream([
      'invoke',
      '--event',
      event('events/powertools-ts-kafka-json-pretty.json'),
      '--c',
      join(dir, 'all.properties'),
      '--embedded',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(result).sort()).toEqual(
      [
        'deadLettered',
        'loaded',
        'objectsLoaded',
        'objectsRejected',
        'records',
        'rejected',
        'tombstones',
      ].sort(),
    );
    // Three JSON values without the loading job's "company" field: each one record, rejected.
    expect(result).toEqual({
      records: 3,
      loaded: 0,
      rejected: 3,
      deadLettered: 0,
      tombstones: 0,
      objectsLoaded: 0,
      objectsRejected: 3,
    });
  }, 60_000);

  it('under errors.tolerance=none (the default) records TigerGraph rejects fail the invocation: exit 1 and TIGERGRAPH_RECORDS_REJECTED', async () => {
    const r = await tgstream([
      'invoke',
      '--event',
      event('events/powertools-ts-kafka-json-pretty.json'),
      '--c',
      'infra/connectors/company.properties',
      '--embedded',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[TIGERGRAPH_RECORDS_REJECTED]');
    expect(r.stderr).toContain("TigerGraph's loading job load_company rejected");
  }, 60_000);

  it('exits 1 with the error code when the handler throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-invoke-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ eventSource: 'aws:sqs', records: {} }));
    const r = await tgstream([
      'invoke',
      '--event',
      join(dir, 'bad.json'),
      '--c',
      'infra/connectors/company.properties',
      '--embedded',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[EVENT_MALFORMED]');
    expect(r.stderr).toContain('found "aws:sqs"');
  }, 60_000);

  it('exits 2 naming the file when the event file cannot be read or is not JSON', async () => {
    const missing = await tgstream([
      'invoke',
      '--event',
      'no/such.json',
      '--c',
      'infra/connectors/company.properties',
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--event: cannot read no/such.json');
    expect(missing.stderr).toContain('[CONFIG_EVENT_FILE_UNREADABLE]');
    const usage = await tgstream(['invoke', '--c', 'infra/connectors/company.properties']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('invoke needs --event FILE');
  });
});
