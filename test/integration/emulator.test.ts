import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  parseGsql,
  startTigerGraphEmulator,
  type TigerGraphEmulator,
} from '../../lib/local/index.ts';
import { readPartitions } from '../../lib/local/rdkafka-reader.ts';
import { loadRdKafka, type RdKafka } from '../../lib/local/rdkafka.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { COMPANY_GSQL, produce, produceSends, startEnv, type Env } from '../helpers/embedded.ts';

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

  it('answers one vertex by id (GET /graph/{g}/vertices/{type}/{id}), REST-30000 for an id it does not hold', async () => {
    await fetch(`${env.tg.url}/restpp/ddl/Company_Graph?tag=load_company&filename=f1`, {
      method: 'POST',
      body: '{"company":"One","employee_num":7}',
    }).then((r) => r.arrayBuffer());
    const get = (id: string) =>
      fetch(`${env.tg.url}/restpp/graph/Company_Graph/vertices/Company/${id}`).then(async (r) => ({
        status: r.status,
        ...((await r.json()) as { code?: string; results?: unknown[] }),
      }));
    expect(await get('One')).toMatchObject({
      status: 200,
      results: [{ v_id: 'One', v_type: 'Company', attributes: { employee_num: 7 } }],
    });
    expect(await get('Nobody')).toMatchObject({ status: 400, code: 'REST-30000' });
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

  it("reads a topic in slices of at most 1,000 messages, each handed over (onDrained) before the thread's other work runs", async () => {
    await produceSends(
      env.kafka.bootstrapServers,
      env.source,
      Array.from({ length: 5 }, (_, send) =>
        Array.from({ length: 1000 }, (_, i) => ({ partition: 1, value: `${send}.${i}` })),
      ),
    );
    // Event-loop turns: a streaming run catching up must leave the HTTP server room to answer.
    let turns = 0;
    let reading = true;
    const tick = (): void => {
      turns++;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    let read = 0;
    const slices: { messages: number; turns: number }[] = [];
    try {
      await readPartitions({
        bootstrapServers: env.kafka.bootstrapServers,
        topic: env.source,
        partitions: [{ partition: 1, startOffset: -2 }],
        eof: true,
        onMessage: () => read++,
        onDrained: () => {
          slices.push({ messages: read - slices.reduce((n, s) => n + s.messages, 0), turns });
        },
      });
    } finally {
      reading = false;
    }
    expect(read).toBe(5000);
    expect(slices.reduce((n, s) => n + s.messages, 0)).toBe(5000);
    expect(Math.max(...slices.map((s) => s.messages))).toBeLessThanOrEqual(1000);
    for (let i = 1; i < slices.length; i++)
      expect(slices[i]?.turns).toBeGreaterThan(slices[i - 1]?.turns ?? 0);
  });

  it("fails a read with librdkafka's error, naming the topic and partition (an offset out of range with auto.offset.reset=error)", async () => {
    const topic = 'reader-out-of-range';
    env.kafka.createTopic(topic, 1);
    await produce(env.kafka.bootstrapServers, topic, [{ partition: 0, value: 'only' }]);
    const read: string[] = [];
    const error = await readPartitions({
      bootstrapServers: env.kafka.bootstrapServers,
      topic,
      partitions: [{ partition: 0, startOffset: 1_000 }],
      eof: true,
      kafkaConfig: { 'auto.offset.reset': 'error' },
      onMessage: (m) => read.push(String(m.value)),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LOCAL_KAFKA_READ_FAILED' });
    expect((error as Error).message).toMatch(/^Reading reader-out-of-range\[0\] failed: .*offset/i);
    expect(read).toEqual([]);
  });

  /** Reads partition 0 of `topic` from its start with `rdkafka`; resolves with what it threw. */
  const readFailing = (rdkafka: RdKafka, topic = env.source): Promise<unknown> =>
    readPartitions({
      bootstrapServers: env.kafka.bootstrapServers,
      topic,
      partitions: [{ partition: 0, startOffset: -2 }],
      eof: true,
      rdkafka,
      onMessage: () => undefined,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );

  it("fails a read when librdkafka's consumer queue refuses a batch read (rd_kafka_consume_batch_queue answers -1)", async () => {
    const topic = 'reader-queue-refuses';
    env.kafka.createTopic(topic, 1);
    await produce(env.kafka.bootstrapServers, topic, [{ partition: 0, value: 'v' }]);
    const rdkafka: RdKafka = {
      ...loadRdKafka(),
      consumeBatchQueue: (() => -1) as unknown as RdKafka['consumeBatchQueue'],
    };
    const error = await readFailing(rdkafka, topic);
    expect(error).toMatchObject({ code: 'LOCAL_KAFKA_READ_FAILED' });
    expect((error as Error).message).toBe(
      "Reading reader-queue-refuses failed: librdkafka's consumer queue refused a batch read",
    );
  });

  it('makes no consumer when the message copier cannot be made (the library lacks the message struct)', async () => {
    const real = loadRdKafka();
    const kafkaNew = vi.fn(real.kafkaNew as (...a: unknown[]) => unknown);
    const rdkafka = { ...real, message: undefined, kafkaNew } as unknown as RdKafka;
    expect(await readFailing(rdkafka)).toBeInstanceOf(Error);
    expect(kafkaNew).not.toHaveBeenCalled();
  });

  it('fails with LOCAL_KAFKA_ASSIGN_FAILED when librdkafka refuses the assignment, and destroys the consumer', async () => {
    const real = loadRdKafka();
    let destroyed = 0;
    const destroy = Object.assign(
      (...a: unknown[]) => (real.destroy as (...b: unknown[]) => unknown)(...a),
      {
        async: (...a: unknown[]) => {
          destroyed++;
          (real.destroy as unknown as { async: (...b: unknown[]) => void }).async(...a);
        },
      },
    );
    const rdkafka = {
      ...real,
      assign: () => -186,
      destroy,
    } as unknown as RdKafka;
    const error = await readFailing(rdkafka);
    expect(error).toMatchObject({ code: 'LOCAL_KAFKA_ASSIGN_FAILED' });
    expect((error as Error).message).toMatch(new RegExp(`^Assigning ${env.source} failed: `));
    expect(destroyed).toBe(1);
  });

  it('stops at the message whose handling fails: the ones before it are handed over (onDrained), the rest of the batch freed, the error passed on', async () => {
    const topic = 'reader-handler-fails';
    env.kafka.createTopic(topic, 1);
    await produce(
      env.kafka.bootstrapServers,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `m${i}` })),
    );
    // librdkafka's destroy waits until every message read is freed: one left unfreed after the
    // failure would hang this read until the test times out.
    const read: string[] = [];
    const drained: string[][] = [];
    const error = await readPartitions({
      bootstrapServers: env.kafka.bootstrapServers,
      topic,
      partitions: [{ partition: 0, startOffset: -2 }],
      eof: true,
      onMessage: (m) => {
        if (String(m.value) === 'm3') throw new Error('cannot load m3');
        read.push(String(m.value));
      },
      onDrained: () => drained.push(read.splice(0)),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('cannot load m3');
    expect(drained.flat()).toEqual(['m0', 'm1', 'm2']);
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

const EDGE_GSQL = `
CREATE VERTEX Person (primary_id name STRING, age INT)
CREATE VERTEX Company (primary_id name STRING)
CREATE DIRECTED EDGE works_at (FROM Person, TO Company, since INT) WITH REVERSE_EDGE="employs"
CREATE UNDIRECTED EDGE knows (FROM Person, TO Person)
CREATE GRAPH G (*)
CREATE LOADING JOB people FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", $"age") WHERE $"age" >= 18,
       TO EDGE works_at VALUES ($"name", $"job":"company", $"job":"since"),
       TO EDGE knows VALUES ($"name", $"friend")
       USING JSON_FILE="true";
}`;

describe('TigerGraph emulator: edges through /ddl and GET /graph/{g}/edges', () => {
  let tg: TigerGraphEmulator;
  beforeAll(async () => {
    tg = await startTigerGraphEmulator({ gsql: EDGE_GSQL });
  });
  afterAll(async () => {
    await tg.stop();
  });
  const get = async (path: string) => {
    const r = await fetch(`${tg.url}${path}`);
    return { status: r.status, ...((await r.json()) as { code?: string; results: unknown[] }) };
  };

  it('loads edges of both kinds with WHERE counters and lists them per the built-in endpoint', async () => {
    const body = [
      '{"name":"ann","age":30,"job":{"company":"acme","since":2020},"friend":"bob"}',
      '{"name":"kid","age":9,"friend":"ann"}',
    ].join('\n');
    const r = await fetch(`${tg.url}/restpp/ddl/G?tag=people&filename=f`, { method: 'POST', body });
    const json = (await r.json()) as { results: { statistics: Record<string, unknown> }[] };
    expect(json.results[0]?.statistics).toMatchObject({
      validLine: 2,
      vertex: [{ typeName: 'Person', validObject: 1, passedCondition: 1, failedCondition: 1 }],
      edge: [
        { typeName: 'works_at', validObject: 1, noIdFound: 1 },
        { typeName: 'knows', validObject: 2 },
      ],
    });
    expect(await get('/restpp/graph/G/edges/Person/ann/works_at')).toMatchObject({
      status: 200,
      results: [
        {
          e_type: 'works_at',
          directed: true,
          from_type: 'Person',
          from_id: 'ann',
          to_type: 'Company',
          to_id: 'acme',
          attributes: { since: 2020 },
        },
      ],
    });
    expect((await get('/restpp/graph/G/edges/Company/acme')).results).toEqual([
      expect.objectContaining({ e_type: 'employs', to_id: 'ann' }),
    ]);
    // The undirected edge from kid is listed from ann's side too.
    const annKnows = await get('/restpp/graph/G/edges/Person/ann/knows/Person');
    expect(annKnows.results.map((e) => (e as { to_id: string }).to_id).sort()).toEqual([
      'bob',
      'kid',
    ]);
    expect((await get('/restpp/graph/G/edges/Person/ann/_/Person/bob')).results).toHaveLength(1);
    expect((await get('/restpp/graph/G/edges/Person/ann?limit=1')).results).toHaveLength(1);
  });

  it('answers unknown edge types REST-2005, unknown vertex types REST-2004, a missing vertex an error', async () => {
    expect(await get('/restpp/graph/G/edges/Person/ann/nope')).toMatchObject({
      status: 400,
      code: 'REST-2005',
    });
    expect(await get('/restpp/graph/G/edges/Nope/ann')).toMatchObject({
      status: 400,
      code: 'REST-2004',
    });
    expect(await get('/restpp/graph/G/edges/Person/nobody')).toMatchObject({
      status: 400,
      error: true,
    });
    expect(await get('/restpp/graph/H/edges/Person/ann')).toMatchObject({
      status: 404,
      code: 'REST-1004',
    });
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TigerGraph emulator: 3.x and 4.x loading-job answers (sections 2.1, 2.2)', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv({ partitions: 1 });
    await produce(env.kafka.bootstrapServers, env.target, [
      { value: '{"company":"X","employee_num":1}', partition: 0 },
    ]);
  });
  afterAll(async () => {
    await env.stop();
  });
  const JOB = (streaming: boolean) =>
    JSON.stringify([
      {
        name: 'load_company',
        streaming,
        dataSources: [
          {
            filename: 'f1',
            name: 'k1',
            path: '',
            config: { topic: env.target, partition_list: [{ partition: 0, start_offset: -2 }] },
          },
        ],
      },
    ]);
  const call = async (method: string, path: string, body?: string) => {
    const r = await fetch(`${env.tg.url}${path}`, { method, ...(body ? { body } : {}) });
    const text = await r.text();
    return {
      status: r.status,
      text,
      json: (r.headers.get('content-type') ?? '').includes('json')
        ? (JSON.parse(text) as Record<string, unknown>)
        : undefined,
    };
  };
  const gsql = (text: string) =>
    call('POST', '/gsqlserver/gsql/file', encodeURIComponent(`USE GRAPH Company_Graph\n${text}`));

  it('3.x start answers a message without jobIds; 4.x run answers jobIds', async () => {
    const v3 = await call(
      'POST',
      '/gsqlserver/gsql/loading-jobs?graph=Company_Graph&action=start',
      JOB(false),
    );
    expect(v3.status).toBe(200);
    expect(Object.keys(v3.json ?? {}).sort()).toEqual(['error', 'message']);
    expect(v3.json).toMatchObject({ error: false });
    expect(v3.json?.message).toContain('load_company');
    const v4 = await call('POST', '/gsql/v1/loading-jobs/run?graph=Company_Graph', JOB(false));
    expect(v4.json).toMatchObject({
      error: false,
      message: 'Successfully ran loading job(s): [load_company]',
      jobIds: [env.tg.runs().at(-1)?.id],
    });
    await env.tg.idle();
  });

  it('RUN LOADING JOB prints the documented start lines and a <graph>_m1.<ms> id; EOF mode by default', async () => {
    const before = env.tg.runs().length;
    const config = JSON.stringify({ topic: env.target, default_start_offset: -2 });
    const eof = await gsql(
      `RUN LOADING JOB -noprint load_company USING f1="$k1:${config.replace(/"/g, '\\"')}"`,
    );
    expect(eof.status).toBe(200);
    const id = /JobName: load_company, jobid: (\S+)/.exec(eof.text)?.[1];
    expect(id).toMatch(/^Company_Graph_m1\.\d{13}$/);
    expect(eof.text).toContain(`restpp_loader_logs/Company_Graph/${id}.log`);
    expect(env.tg.runs()).toHaveLength(before + 1);
    expect(env.tg.runs().at(-1)).toMatchObject({ id, streaming: false });
    await env.tg.idle();
    expect(env.tg.runs().at(-1)).toMatchObject({ status: 'FINISHED' });
    expect(env.tg.runs().at(-1)?.stats.validLine).toBe(1);
    // A topic alone after the data source (section 5.2), EOF="false": a streaming run.
    const streaming = await gsql(
      `RUN LOADING JOB -noprint load_company USING f1="$k1:${env.target}", EOF="false"`,
    );
    const streamingId = /jobid: (\S+)/.exec(streaming.text)?.[1] as string;
    expect(env.tg.runs().at(-1)).toMatchObject({
      id: streamingId,
      streaming: true,
      status: 'RUNNING',
    });
    expect(streamingId > (id as string)).toBe(true);
    expect((await gsql(`ABORT LOADING JOB ${streamingId}`)).status).toBe(200);
  });

  it("answers a job's definition: 3.x SHOW JOB, 4.x results.jobContent (section 2.2)", async () => {
    const shown = await gsql('SHOW JOB load_company');
    expect(shown.status).toBe(200);
    const define = `DEFINE FILENAME f1 = "$k1:{\\"topic\\":\\"${env.target}\\",\\"default_start_offset\\":-2}";`;
    expect(shown.text).toContain('CREATE LOADING JOB load_company FOR GRAPH Company_Graph {');
    expect(shown.text).toContain(define);
    const info = await call('GET', '/gsql/v1/loading-jobs/load_company?graph=Company_Graph');
    expect(info.json).toMatchObject({ error: false, results: { jobName: 'load_company' } });
    expect(shown.text).toContain((info.json?.results as { jobContent: string }).jobContent);
    const missing = await call('GET', '/gsql/v1/loading-jobs/nope?graph=Company_Graph');
    expect(missing.status).toBe(400);
    expect((await gsql('SHOW JOB nope')).status).toBe(400);
  });

  it('RUN LOADING JOB refuses a filename that is not Kafka, bad JSON and an unknown job', async () => {
    const file = await gsql('RUN LOADING JOB load_company USING f1="/data/company.csv"');
    expect(file.status).toBe(400);
    expect(file.json?.message).toContain(
      'filename variable f1 of load_company is "/data/company.csv": the emulator runs Kafka jobs only',
    );
    const notJson = await gsql('RUN LOADING JOB load_company USING f1="$k1:{nope"');
    expect(notJson.text).toContain('is not valid JSON');
    const unknown = await gsql('RUN LOADING JOB load_nothing USING f1="$k1:t"');
    expect(unknown.text).toContain('Loading job load_nothing does not exist');
  });

  it('SHOW LOADING STATUS <id> prints the documented block of any run, ALL those of the active runs; 4.x status without ids lists the graph', async () => {
    await env.tg.idle();
    const first = env.tg.runs()[0];
    expect(first?.status).toBe('FINISHED');
    const one = (await gsql(`SHOW LOADING STATUS ${first?.id}`)).text.split('\n');
    const head = one.indexOf(`Job "${first?.id}" loading status`);
    expect(one[head + 1]).toBe('[FINISHED] m1 ( Finished: 1 / Total: 1 )');
    expect(
      one.some((l) => /^\s*\|\s+FILENAME \|\s+LINES \|\s+OBJECTS \|\s+ERRORS \|/.test(l)),
    ).toBe(true);
    // Every run has ended: ALL lists the active ones only (the 3.10 Kafka page leaves out
    // FINISHED runs; gsql-ref 3.9 "a list of active job IDs").
    expect(env.tg.runs().some((r) => r.status === 'RUNNING')).toBe(false);
    expect((await gsql('SHOW LOADING STATUS ALL')).text).toContain(
      'There are no loading job runs.',
    );
    const list = await call('GET', '/gsql/v1/loading-jobs/status?graph=Company_Graph');
    expect((list.json?.results as unknown[]).length).toBe(env.tg.runs().length);
  });

  it('queues a second streaming run of a running job until the first stops (section 1.5); pauses, resumes and aborts by id', async () => {
    const first = await call('POST', '/gsql/v1/loading-jobs/run?graph=Company_Graph', JOB(true));
    const id = (first.json?.jobIds as string[])[0] as string;
    const until = Date.now() + 5000;
    const byId = (runId: string) => env.tg.runs().find((r) => r.id === runId);
    while ((byId(id)?.stats.validLine ?? 0) < 1 && Date.now() < until) await sleep(20);
    expect(byId(id)?.stats.validLine).toBe(1);
    const second = await call('POST', '/gsql/v1/loading-jobs/run?graph=Company_Graph', JOB(true));
    const queued = (second.json?.jobIds as string[])[0] as string;
    expect(byId(queued)?.status).toBe('RUNNING');
    await sleep(300);
    expect(byId(queued)?.stats.validLine).toBe(0);
    const paused = await call(
      'GET',
      `/gsql/v1/loading-jobs/abort?graph=Company_Graph&jobIds=${id}&isPause=true`,
    );
    expect(paused.json?.message).toBe(`Successfully paused loading job(s): [${id}]`);
    expect(byId(id)?.status).toBe('PAUSED');
    // The first run stopped: the queued one reads now.
    while ((byId(queued)?.stats.validLine ?? 0) < 1 && Date.now() < until + 5000) await sleep(20);
    expect(byId(queued)?.stats.validLine).toBe(1);
    // ABORT prints the documented block: `[ABORT_SUCCESS] m1` and a summary.
    const aborted = (await gsql(`ABORT LOADING JOB ${queued}`)).text.split('\n');
    expect(aborted.slice(1, 4)).toEqual([
      `Job "${queued}" loading status`,
      '[ABORT_SUCCESS] m1',
      '[SUMMARY] Finished: 0 / Total: 1',
    ]);
    // ALL lists the active runs: the paused one, not the aborted one.
    const active = (await gsql('SHOW LOADING STATUS ALL')).text;
    expect(active).toContain(`Job "${id}" loading status\n[PAUSED] m1`);
    expect(active).not.toContain(queued);
    // An aborted run still shows by its id.
    expect((await gsql(`SHOW LOADING STATUS ${queued}`)).text).toContain(
      `Job "${queued}" loading status\n[ABORT_SUCCESS] m1 ( Finished: 0 / Total: 1 )`,
    );
    // RESUME prints the documented lines; the run shows RESUME_SUCCESS while it runs.
    expect((await gsql(`RESUME LOADING JOB ${id}`)).text).toBe(
      "Using graph 'Company_Graph'\n[RESUME_SUCCESS] m1\n[MESSAGE] The current job got resummed",
    );
    expect(byId(id)?.status).toBe('RUNNING');
    expect((await gsql(`SHOW LOADING STATUS ${id}`)).text).toContain('[RESUME_SUCCESS] m1 (');
    expect((await gsql('ABORT LOADING JOB ALL')).text).toContain(`Job "${id}" loading status`);
    expect(byId(id)?.status).toBe('ABORTED');
    expect((await gsql('ABORT LOADING JOB nope.1')).status).toBe(404);
  });

  it('with gsqlErrorsAsText answers a failed GSQL command as a real server does: HTTP 200 text', async () => {
    const tg = await startTigerGraphEmulator({
      gsql: COMPANY_GSQL(env.target),
      gsqlErrorsAsText: true,
    });
    try {
      const r = await fetch(`${tg.url}/gsqlserver/gsql/file`, {
        method: 'POST',
        body: encodeURIComponent('USE GRAPH Company_Graph\nRESUME LOADING JOB nope.1'),
      });
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('Loading job id nope.1 is not found');
    } finally {
      await tg.stop();
    }
  });
});

describe('TigerGraph emulator with a GSQL user', () => {
  it('needs basic auth on GSQL, a token on RESTPP (from basic auth and a graph), and answers no GET /requesttoken', async () => {
    const tg = await startTigerGraphEmulator({
      username: 'tigergraph',
      password: 'pw',
      gsql: 'CREATE VERTEX V (primary_id id STRING)\nCREATE GRAPH G (V)',
    });
    const basic = `Basic ${Buffer.from('tigergraph:pw').toString('base64')}`;
    try {
      const gsqlDenied = await fetch(`${tg.url}/gsqlserver/gsql/file`, {
        method: 'POST',
        body: 'USE GRAPH G',
      });
      expect(gsqlDenied.status).toBe(401);
      const gsqlOk = await fetch(`${tg.url}/gsqlserver/gsql/file`, {
        method: 'POST',
        body: 'USE GRAPH G',
        headers: { authorization: basic },
      });
      expect(gsqlOk.status).toBe(200);
      expect((await fetch(`${tg.url}/restpp/graph/G/vertices/V`)).status).toBe(401);
      const noGraph = await fetch(`${tg.url}/restpp/requesttoken`, {
        method: 'POST',
        body: '{}',
        headers: { authorization: basic },
      });
      expect(noGraph.status).toBe(404);
      const issued = (await (
        await fetch(`${tg.url}/restpp/requesttoken`, {
          method: 'POST',
          body: '{"graph":"G"}',
          headers: { authorization: basic },
        })
      ).json()) as { results: { token: string }; expiration: number };
      expect(issued.expiration).toBeGreaterThan(Date.now() / 1000);
      const vertices = await fetch(`${tg.url}/restpp/graph/G/vertices/V`, {
        headers: { authorization: `Bearer ${issued.results.token}` },
      });
      expect(vertices.status).toBe(200);
      const viaGet = await fetch(`${tg.url}/restpp/requesttoken?secret=x`);
      expect(((await viaGet.json()) as { code: string }).code).toBe('REST-1000');
      // 4.x GSQL also takes the token as a bearer (section 4.2).
      const status = await fetch(`${tg.url}/gsql/v1/loading-jobs/status?graph=G`, {
        headers: { authorization: `Bearer ${issued.results.token}` },
      });
      expect(status.status).toBe(200);
    } finally {
      await tg.stop();
    }
  });
});
