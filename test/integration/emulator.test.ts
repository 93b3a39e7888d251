import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGsql, startTigerGraphEmulator } from '../../lib/local/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { produce, startEnv, type Env } from '../helpers/embedded.ts';

describe('GSQL subset', () => {
  it('parses the reference example with its escaped JSON strings', () => {
    const [vertex, graph, , job] =
      parseGsql(`CREATE VERTEX Company (primary_id name STRING, employee_num INT)
CREATE GRAPH Company_Graph (Company)
CREATE DATA_SOURCE KAFKA k1 = "{\\"broker\\":\\"localhost:30002\\"}" FOR GRAPH Company_Graph
CREATE LOADING JOB load_company FOR GRAPH Company_Graph {
  DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"Hello.t\\",\\"default_start_offset\\":-2}";
  LOAD f1 TO VERTEX Company VALUES ($"company", $"employee_num") USING JSON_FILE="true";
}`);
    expect(vertex).toMatchObject({
      kind: 'vertex',
      name: 'Company',
      primaryId: { name: 'name', type: 'STRING' },
      attributes: [{ name: 'employee_num', type: 'INT' }],
    });
    expect(graph).toEqual({ kind: 'graph', name: 'Company_Graph', types: ['Company'] });
    expect(job).toMatchObject({
      kind: 'loadingJob',
      job: {
        name: 'load_company',
        filenames: { f1: '$k1:{"topic":"Hello.t","default_start_offset":-2}' },
        loads: [
          {
            filename: 'f1',
            targetKind: 'vertex',
            target: 'Company',
            values: [
              { kind: 'field', path: ['company'] },
              { kind: 'field', path: ['employee_num'] },
            ],
            using: { JSON_FILE: 'true' },
          },
        ],
      },
    });
  });

  it('names the line of a syntax error', () => {
    expect(() => parseGsql('CREATE VERTEX A (primary_id id STRING)\nCREATE GRAPH G (A\n')).toThrow(
      'GSQL line 2: expected ")"',
    );
    expect(() => parseGsql('CREATE VERTEX A (primary_id id LIST)')).toThrow(
      /attribute type LIST is not supported by the emulator/,
    );
  });
});

describe('TigerGraph emulator', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv({ partitions: 2 });
  });
  afterAll(async () => {
    await env.stop();
  });
  const client = () => createTigerGraphClient({ url: env.tg.url, version: 3 });

  it('loads posted JSON lines through /ddl and answers the documented statistics', async () => {
    const body = [
      '{"company":"A","employee_num":1}',
      'not json',
      '{"employee_num":2}',
      '{"company":"B","employee_num":"many"}',
      '{"company":"C","employee_num":"3"}',
    ].join('\n');
    const response = await fetch(
      `${env.tg.url}/restpp/ddl/Company_Graph?tag=load_company&filename=f1`,
      { method: 'POST', body },
    );
    const json = (await response.json()) as {
      error: boolean;
      code: string;
      results: { statistics: Record<string, unknown> }[];
    };
    expect(json.error).toBe(false);
    expect(json.code).toBe('REST-0000');
    expect(json.results[0]?.statistics).toMatchObject({
      validLine: 4,
      rejectLine: 1,
      invalidJson: 1,
      vertex: [{ typeName: 'Company', validObject: 2, noIdFound: 1, invalidAttribute: 1 }],
    });
    const vertices = await client().listVertices('Company_Graph', 'Company');
    expect(vertices).toEqual(
      expect.arrayContaining([
        { v_id: 'A', v_type: 'Company', attributes: { employee_num: 1 } },
        { v_id: 'C', v_type: 'Company', attributes: { employee_num: 3 } },
      ]),
    );
  });

  it('answers errors with REST codes: unknown graph, unknown vertex type, unknown filename (empty results)', async () => {
    const ddl = (path: string) =>
      fetch(`${env.tg.url}${path}`, { method: 'POST', body: '{}' }).then(async (r) => ({
        status: r.status,
        ...((await r.json()) as { code: string; results: unknown[] }),
      }));
    expect(await ddl('/restpp/ddl/Nope?tag=load_company&filename=f1')).toMatchObject({
      status: 404,
      code: 'REST-1004',
    });
    expect(await ddl('/restpp/ddl/Company_Graph?tag=load_company&filename=f9')).toMatchObject({
      status: 200,
      results: [],
    });
    const v = await fetch(`${env.tg.url}/restpp/graph/Company_Graph/vertices/Person`);
    expect(((await v.json()) as { code: string }).code).toBe('REST-2004');
  });

  it('runs a loading job in EOF mode from the start offsets it is given, one partition list per run', async () => {
    await produce(env.kafka.bootstrapServers, env.target, [
      { value: '{"company":"P0-0","employee_num":1}', partition: 0 },
      { value: '{"company":"P0-1","employee_num":2}', partition: 0 },
      { value: '{"company":"P1-0","employee_num":3}', partition: 1 },
    ]);
    const tg = client();
    const [id] = await tg.startLoadingJob({
      graph: 'Company_Graph',
      job: 'load_company',
      filename: 'f1',
      dataSource: 'k1',
      topic: env.target,
      partitions: [{ partition: 0, start_offset: 1 }],
      streaming: false,
    });
    await env.tg.idle();
    const progress = await tg.getProgress('Company_Graph', id as string);
    expect(progress).toMatchObject({
      status: 'FINISHED',
      counts: { validLines: 1, validObjects: 1, rejectedObjects: 0 },
    });
    const names = (await tg.listVertices('Company_Graph', 'Company')).map((v) => v.v_id);
    expect(names).toContain('P0-1');
    expect(names).not.toContain('P0-0');
    expect(names).not.toContain('P1-0');
  });
});

describe('TigerGraph emulator with RESTPP authentication', () => {
  it('answers REST-10016 without a token and accepts the token from /requesttoken', async () => {
    const tg = await startTigerGraphEmulator({
      secret: 'abc123',
      gsql: 'CREATE VERTEX V (primary_id id STRING)\nCREATE GRAPH G (V)',
    });
    try {
      const denied = await fetch(`${tg.url}/restpp/graph/G/vertices/V`);
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { code: string }).code).toBe('REST-10016');
      const vertices = await createTigerGraphClient({
        url: tg.url,
        version: 3,
        auth: { secret: 'abc123' },
      }).listVertices('G', 'V');
      expect(vertices).toEqual([]);
      await expect(
        createTigerGraphClient({ url: tg.url, version: 3, auth: { secret: 'wrong' } }).listVertices(
          'G',
          'V',
        ),
      ).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_10016' });
    } finally {
      await tg.stop();
    }
  });
});
