/**
 * Loading-job runs: the 3.x start (with and without its jobid line), a run's status by id,
 * listing, adopting, abort and resume, in both dialects.
 */
import { describe, expect, it } from 'vitest';
import { createTigerGraphClient, type LoadingJobRun } from '../../../lib/tigergraph/index.ts';
import { routedFetch, type Call, type FakeReply } from './fake-tigergraph-http.ts';

const RUN: LoadingJobRun = {
  graph: 'G',
  job: 'load_company',
  filename: 'f1',
  dataSource: 'k1',
  topic: 't',
  partitions: [{ partition: 0, start_offset: 0 }],
  streaming: false,
};
/** SHOW LOADING STATUS ALL in gsql-ref 3.9's documented form (reference section 2.1). */
const show = (...runs: [id: string, status: string][]): string =>
  runs
    .map(
      ([id, status]) =>
        `Job "${id}" loading status\n[${status}] m1 ( Finished: 0 / Total: 1 )\n  [LOADING] f1\n  +----+\n  | FILENAME | LINES |\n  +----+`,
    )
    .join('\n\n');
/** ABORT LOADING JOB's documented output (gsql-ref 3.9 "Managing and Inspecting a Loading Job"). */
const ABORTED_TEXT = [
  'Job "G_m1.1519111662589" loading status',
  '[ABORT_SUCCESS] m1',
  '[SUMMARY] Finished: 0 / Total: 2',
  ' +--------------------------------------------------------------------------------------------------+',
  ' |         FILENAME |     LINES |   OBJECTS |   ERRORS |  AVG SPEED |  DURATION|',
  ' | /home/tigergraph/data.csv |       6 |      3 |     2 |   60 l/s |   0.10 s|',
  ' |/home/tigergraph/data1.csv |       6 |      3 |     2 |   60 l/s |   0.10 s|',
  ' +--------------------------------------------------------------------------------------------------+',
].join('\n');
/** RESUME LOADING JOB's documented output. */
const RESUMED_TEXT = '[RESUME_SUCCESS] m1\n[MESSAGE] The current job got resummed';
/** The documented status of a run on two machines (one table each). */
const DOC_RUNNING = [
  'Job "demo_graph_m1.1523663024967" loading status',
  '[RUNNING] m1 ( Finished: 3 / Total: 4 )',
  ' [LOADING] /data/output/company.data',
  ' [=============            ] 20%, 200 kl/s',
  ' +--------------------------------------------------------------------------------------+',
  ' |         FILENAME |  LINES |  OBJECTS |  ERRORS |  AVG SPEED |  DURATION|',
  ' |/data/output/company.data |    6 |     3 |    2 |   60 l/s |   0.10 s|',
  ' +--------------------------------------------------------------------------------------+',
  '[RUNNING] m2 ( Finished: 1 / Total: 2 )',
  ' +--------------------------------------------------------------------------------------+',
  ' |         FILENAME |  LINES |  OBJECTS |  ERRORS |  AVG SPEED |  DURATION|',
  ' |/data/output/company.data |    6 |     3 |    2 |   60 l/s |   0.10 s|',
  ' +--------------------------------------------------------------------------------------+',
].join('\n');
/** RUN LOADING JOB's documented output. */
const started = (id: string, job = 'load_company'): string =>
  `Kick off the following job, i.e.\n  JobName: ${job}, jobid: ${id}\n  Loading log: '/home/tigergraph/tigergraph/logs/restpp/restpp_loader_logs/G/${id}.log'`;
const gsqlOf = (c: Call): string => decodeURIComponent(c.body ?? '');
/** The GSQL calls that ran a loading job. */
const runCalls = (calls: Call[]): string[] =>
  calls.map(gsqlOf).filter((g) => g.includes('RUN LOADING JOB'));
/** Answers RUN LOADING JOB with `run`, anything else (SHOW LOADING STATUS ALL) with `show`. */
const gsqlServer = (run: (n: number) => string, show: (n: number) => string = () => '') => {
  let runs = 0;
  let shows = 0;
  return (c: Call) => ({
    body: gsqlOf(c).includes('RUN LOADING JOB') ? run(++runs) : show(++shows),
  });
};

describe('3.x start: GSQL RUN LOADING JOB', () => {
  it('runs the job with the topic-partition configuration inline and takes the jobid it prints', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': gsqlServer((n) => started(`G_m1.152366302496${n}`)),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      auth: { username: 'u', password: 'p' },
    });
    expect(await client.startLoadingJob({ ...RUN, streaming: true })).toEqual([
      'G_m1.1523663024961',
    ]);
    // The active runs are listed before the first start, in case the answer has no jobid.
    expect(f.calls.map(gsqlOf)).toEqual([
      'USE GRAPH G\nSHOW LOADING STATUS ALL',
      'USE GRAPH G\nRUN LOADING JOB -noprint load_company USING f1="$k1:{\\"topic\\":\\"t\\",\\"partition_list\\":[{\\"partition\\":0,\\"start_offset\\":0}]}", EOF="false"',
    ]);
    expect(f.calls[0]?.headers.authorization).toMatch(/^Basic /);
    // This server prints the jobid: later starts do not list first.
    expect(await client.startLoadingJob(RUN)).toEqual(['G_m1.1523663024962']);
    expect(f.calls).toHaveLength(3);
  });

  it('EOF mode and default_start_offset go into the GSQL as section 5.2 writes them', async () => {
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': gsqlServer(() => started('G_m1.1')) });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await client.startLoadingJob({ ...RUN, partitions: [], defaultStartOffset: 5 });
    expect(runCalls(f.calls)[0]).toContain(
      'f1="$k1:{\\"topic\\":\\"t\\",\\"partition_list\\":[],\\"default_start_offset\\":5}", EOF="true"',
    );
  });

  it('refuses names that would change the GSQL text before calling', async () => {
    const f = routedFetch({});
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(client.startLoadingJob({ ...RUN, filename: 'f1="x", EOF' })).rejects.toMatchObject(
      { code: 'TIGERGRAPH_NAME_INVALID', retriable: false },
    );
    await expect(client.startLoadingJob({ ...RUN, job: 'j USING' })).rejects.toMatchObject({
      code: 'TIGERGRAPH_NAME_INVALID',
    });
    expect(f.calls).toHaveLength(0);
  });

  it('a topic with quotes stays inside the GSQL string', async () => {
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': gsqlServer(() => started('G_m1.1')) });
    await createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch }).startLoadingJob({
      ...RUN,
      topic: 'a"b\\c',
    });
    expect(runCalls(f.calls)[0]).toContain('\\"topic\\":\\"a\\\\\\"b\\\\\\\\c\\"');
  });

  it('without a jobid line, the run is the one documented id that appeared in SHOW LOADING STATUS ALL meanwhile', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': gsqlServer(
        () => 'Kick off the following job (the console text changed)',
        // Before: a user's run of another job. After: that one and the new run, whose
        // documented id names no job (section 2.1).
        (n) =>
          n === 1
            ? show(['G_m1.1700000000001', 'RUNNING'])
            : show(['G_m1.1700000000001', 'RUNNING'], ['G_m1.1700000000009', 'RUNNING']),
      ),
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect(await client.startLoadingJob({ ...RUN, streaming: true })).toEqual([
      'G_m1.1700000000009',
    ]);
    expect(f.calls.map(gsqlOf)).toEqual([
      'USE GRAPH G\nSHOW LOADING STATUS ALL',
      expect.stringContaining('RUN LOADING JOB'),
      'USE GRAPH G\nSHOW LOADING STATUS ALL',
    ]);
  });

  it('without a jobid line, looks again while no run appeared, then fails quoting the answer', async () => {
    const waits: number[] = [];
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': gsqlServer(
        () => 'Semantic Check Fails: the data source k1 does not exist',
        () => show(['G_m1.1700000000001', 'RUNNING']),
      ),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      sleep: (ms: number) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const error = await client.startLoadingJob(RUN).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_JOB_ID_MISSING', retriable: false });
    expect((error as Error).message).toContain('the data source k1 does not exist');
    expect(waits).toEqual([50, 100, 200, 400]);
  });

  it('without a jobid line, several runs that appeared meanwhile are not guessed between', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': gsqlServer(
        () => '',
        (n) =>
          n === 1 ? '' : show(['G_m1.1700000000002', 'RUNNING'], ['G_m1.1700000000003', 'RUNNING']),
      ),
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(client.startLoadingJob(RUN)).rejects.toMatchObject({
      code: 'TIGERGRAPH_JOB_ID_AMBIGUOUS',
      details: { ids: 'G_m1.1700000000002,G_m1.1700000000003' },
    });
  });

  it("without a jobid line, an id that names another job is not this start's run", async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': gsqlServer(
        () => '',
        (n) =>
          n === 1
            ? ''
            : show(
                ['G.load_other.kafka.m1.17000000000010001', 'RUNNING'],
                ['G_m1.1700000000004', 'RUNNING'],
              ),
      ),
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect(await client.startLoadingJob(RUN)).toEqual(['G_m1.1700000000004']);
  });

  it('starts of one client run one at a time, so two starts without jobid lines each find their own run', async () => {
    const active: string[] = [];
    let n = 0;
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => {
        if (gsqlOf(c).includes('RUN LOADING JOB')) active.push(`G_m1.170000000000${++n}`);
        return {
          body: gsqlOf(c).includes('RUN')
            ? 'started'
            : show(...active.map((id): [string, string] => [id, 'RUNNING'])),
        };
      },
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    const [a, b] = await Promise.all([client.startLoadingJob(RUN), client.startLoadingJob(RUN)]);
    expect([a, b]).toEqual([['G_m1.1700000000001'], ['G_m1.1700000000002']]);
  });

  it('a refused RUN (an HTTP error) is the coded HTTP error', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': { status: 409, body: { error: true, message: 'running' } },
    });
    await expect(
      createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch }).startLoadingJob(RUN),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_HTTP_409', retriable: false });
  });
});

describe('4.x start', () => {
  it('an answer without jobIds is TIGERGRAPH_JOB_ID_MISSING (section 2.2 documents them)', async () => {
    const f = routedFetch({
      'POST /gsql/v1/loading-jobs/run': { body: { error: false, message: 'ok' } },
    });
    await expect(
      createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch }).startLoadingJob(RUN),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_JOB_ID_MISSING', retriable: false });
  });

  it('takes the jobIds of the answer without listing', async () => {
    const f = routedFetch({
      'POST /gsql/v1/loading-jobs/run': { body: { error: false, jobIds: ['G.x'] } },
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.x']);
    expect(f.calls).toHaveLength(1);
  });

  it('a second streaming run refused with HTTP 409 adopts the running run of the job', async () => {
    const f = routedFetch({
      'POST /gsql/v1/loading-jobs/run': { status: 409, body: { error: true, message: 'running' } },
      'GET /gsql/v1/loading-jobs/status': {
        body: {
          error: false,
          results: [
            { overall: { id: 'G.load_company.a', status: 'ABORTED', startTime: 1 } },
            { overall: { id: 'G.live', jobName: 'load_company', status: 'RUNNING', startTime: 2 } },
          ],
        },
      },
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch });
    expect(await client.startLoadingJob({ ...RUN, streaming: true })).toEqual(['G.live']);
    await expect(client.startLoadingJob(RUN)).rejects.toMatchObject({
      code: 'TIGERGRAPH_HTTP_409',
    });
  });
});

describe('listRuns, abortRun, resumeRun', () => {
  it('4.x lists from /gsql/v1/loading-jobs/status by jobName, or by the id prefix without one', async () => {
    const f = routedFetch({
      'GET /gsql/v1/loading-jobs/status': {
        body: {
          error: false,
          results: [
            {
              overall: {
                id: 'G.load_company.jdbc.all.1',
                startTime: 10,
                progress: 100,
                endTime: 11,
              },
            },
            { overall: { id: 'G_m1.2', jobName: 'load_company', status: 'PAUSED', startTime: 20 } },
            { overall: { id: 'G_m1.3', jobName: 'load_person', status: 'RUNNING' } },
          ],
        },
      },
    });
    const runs = await createTigerGraphClient({
      url: 'http://tg',
      version: 4,
      fetch: f.fetch,
    }).listRuns('G', 'load_company');
    expect(f.calls[0]?.url).toBe('http://tg/gsql/v1/loading-jobs/status?graph=G');
    expect(runs).toEqual([
      { jobId: 'G.load_company.jdbc.all.1', status: 'FINISHED', startTime: 10 },
      { jobId: 'G_m1.2', status: 'PAUSED', startTime: 20 },
    ]);
  });

  it('3.x reads the documented SHOW LOADING STATUS: runs whose id names the job, or known ids', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': {
        body: `Using graph 'G'\n${show(
          ['G.load_company.kafka.m1.1700000000002', 'FINISHED'],
          ['G_m1.1700000000001', 'ABORTED'],
          ['G_m1.1700000000003', 'RUNNING'],
          ['G.load_person.kafka.m1.1700000000004', 'RUNNING'],
        )}\nsomething else`,
      },
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect(await client.listRuns('G', 'load_company')).toEqual([
      {
        jobId: 'G.load_company.kafka.m1.1700000000002',
        status: 'FINISHED',
        startTime: 1700000000002,
      },
    ]);
    expect(
      await client.listRuns('G', 'load_company', undefined, new Set(['G_m1.1700000000001'])),
    ).toEqual([
      { jobId: 'G_m1.1700000000001', status: 'ABORTED', startTime: 1700000000001 },
      {
        jobId: 'G.load_company.kafka.m1.1700000000002',
        status: 'FINISHED',
        startTime: 1700000000002,
      },
    ]);
  });

  it('3.x knows the runs it started itself, though their ids name no job', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => ({
        body: gsqlOf(c).includes('RUN LOADING JOB')
          ? started('G_m1.1700000000005')
          : show(['G_m1.1700000000005', 'RUNNING'], ['G_m1.1700000000006', 'RUNNING']),
      }),
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await client.startLoadingJob({ ...RUN, streaming: true });
    expect(await client.listRuns('G', 'load_company')).toEqual([
      { jobId: 'G_m1.1700000000005', status: 'RUNNING', startTime: 1700000000005 },
    ]);
  });

  it('3.x: a run over several machines is RUNNING while any machine runs, FAILED before ABORTED', async () => {
    const text = [
      'Job "G.load_company.x.1700000000001" loading status',
      '[FINISHED] m1 ( Finished: 1 / Total: 1 )',
      '[RUNNING] m2 ( Finished: 0 / Total: 1 )',
      'Job "G.load_company.x.1700000000002" loading status',
      '[ABORTED] m1 ( Finished: 0 / Total: 1 )',
      '[FAILED] m2 ( Finished: 0 / Total: 1 )',
      'Job "G.load_company.x.1700000000003" loading status',
      '[FINISHED] m1 ( Finished: 1 / Total: 1 )',
      '[FINISHED] m2 ( Finished: 1 / Total: 1 )',
      'Job "G.load_company.x" loading status',
    ].join('\n');
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': { body: text } });
    const runs = await createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
    }).listRuns('G', 'load_company');
    expect(runs.map((r) => [r.status, r.startTime])).toEqual([
      ['UNKNOWN', undefined],
      ['RUNNING', 1700000000001],
      ['FAILED', 1700000000002],
      ['FINISHED', 1700000000003],
    ]);
  });

  it('3.x aborts and resumes with GSQL text; 4.x with the path endpoints', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => ({
        body: gsqlOf(c).includes('ABORT') ? ABORTED_TEXT : RESUMED_TEXT,
      }),
      'GET /gsql/v1/loading-jobs/abort/G.j.1': { body: { error: false } },
      'GET /gsql/v1/loading-jobs/resume/G.j.1': { body: { error: false } },
    });
    const v3 = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      auth: { username: 'u', password: 'p' },
    });
    await v3.abortRun('G', 'G.j.1');
    await v3.resumeRun('G', 'G.j.1');
    const v4 = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch });
    await v4.abortRun('G', 'G.j.1');
    await v4.resumeRun('G', 'G.j.1');
    expect(f.calls.map((c) => (c.path.endsWith('/file') ? gsqlOf(c) : c.url))).toEqual([
      'USE GRAPH G\nABORT LOADING JOB G.j.1',
      'USE GRAPH G\nRESUME LOADING JOB G.j.1',
      'http://tg/gsql/v1/loading-jobs/abort/G.j.1?graph=G',
      'http://tg/gsql/v1/loading-jobs/resume/G.j.1?graph=G',
    ]);
    expect(f.calls[0]?.headers.authorization).toMatch(/^Basic /);
  });

  it('3.x: an abort or resume GSQL does not confirm (a real server answers errors as HTTP 200 text) is refused', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': { body: 'Job "G_m1.1" is not found' },
    });
    const v3 = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    for (const call of [() => v3.abortRun('G', 'G_m1.1'), () => v3.resumeRun('G', 'G_m1.1')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIGERGRAPH_GSQL_REFUSED', retriable: false });
      expect((error as Error).message).toContain('is not found');
    }
  });

  it('refuses a job id or graph that would change the GSQL text', async () => {
    const f = routedFetch({});
    const v3 = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(v3.abortRun('G', 'x\nDROP ALL')).rejects.toMatchObject({
      code: 'TIGERGRAPH_NAME_INVALID',
      retriable: false,
    });
    await expect(v3.listRuns('G; DROP', 'j')).rejects.toMatchObject({
      code: 'TIGERGRAPH_NAME_INVALID',
    });
    expect(f.calls).toHaveLength(0);
  });

  it('3.x runStatus asks SHOW LOADING STATUS <id> and reads its words and table (section 2.1)', async () => {
    const blocks: Record<string, string> = {
      'G_m1.1700000000001': ABORTED_TEXT.replace('G_m1.1519111662589', 'G_m1.1700000000001'),
      'G_m1.1700000000002': [
        'Job "G_m1.1700000000002" loading status',
        '[RESUME_SUCCESS] m1 ( Finished: 0 / Total: 1 )',
        '  +------+',
        '  |   TOPIC PARTITION |   LOADED MESSAGES |   AVG SPEED |   DURATION |   LOADED SIZE|',
        '  |             t:0   |              1500 |     51 kl/s |     2.90 s |       2.94 MB|',
        '  |             t:1   |                25 |     51 kl/s |     2.90 s |       2.94 MB|',
        '  +------+',
      ].join('\n'),
      'G_m1.1700000000003': DOC_RUNNING.replace(
        /demo_graph_m1\.1523663024967/g,
        'G_m1.1700000000003',
      ),
    };
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => ({
        body: blocks[/SHOW LOADING STATUS (\S+)/.exec(gsqlOf(c))?.[1] ?? ''] ?? 'Job id not found',
      }),
    });
    const v3 = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect(await v3.runStatus('G', 'G_m1.1700000000001')).toMatchObject({
      status: 'ABORTED',
      startTime: 1700000000001,
      counts: { validLines: 12, validObjects: 6, rejectedLines: 4 },
    });
    expect(await v3.runStatus('G', 'G_m1.1700000000002')).toMatchObject({
      status: 'RUNNING',
      counts: { validLines: 1525 },
    });
    expect(await v3.runStatus('G', 'G_m1.1700000000003')).toMatchObject({
      status: 'RUNNING',
      counts: { validLines: 12, validObjects: 6, rejectedLines: 4 },
    });
    expect((await v3.runStatus('G', 'G_m1.9')).status).toBe('UNKNOWN');
    expect(gsqlOf(f.calls[0] as Call)).toBe('USE GRAPH G\nSHOW LOADING STATUS G_m1.1700000000001');
  });

  it('3.x runStatus: an id the GSQL server answers HTTP 404 for is UNKNOWN; other errors reach the caller', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) =>
        gsqlOf(c).includes('G_m1.404')
          ? { status: 404, body: { error: true, message: 'Loading job id G_m1.404 is not found' } }
          : { status: 503, body: { error: true, message: 'busy' } },
    });
    const v3 = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect((await v3.runStatus('G', 'G_m1.404')).status).toBe('UNKNOWN');
    await expect(v3.runStatus('G', 'G_m1.5')).rejects.toMatchObject({
      code: 'TIGERGRAPH_HTTP_503',
      retriable: true,
    });
  });

  it('4.x runStatus asks status/{id}: a word, no word (section 2.2 sample), nothing, or an unknown id', async () => {
    const answers: Record<string, FakeReply> = {
      a: { body: { error: false, results: [{ overall: { id: 'a', status: 'ABORT_SUCCESS' } }] } },
      b: { body: { error: false, results: [{ overall: { id: 'b', startTime: 5, endTime: 0 } }] } },
      c: { body: { error: false, results: [{ overall: { id: 'c', startTime: 5, endTime: 9 } }] } },
      d: { body: { error: false, results: [] } },
      e: { status: 404, body: { error: true, message: 'Loading job id e is not found' } },
    };
    const f = routedFetch(
      Object.fromEntries(
        Object.entries(answers).map(([id, r]) => [`GET /gsql/v1/loading-jobs/status/${id}`, r]),
      ),
    );
    const v4 = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch });
    const statuses = [];
    for (const id of Object.keys(answers)) statuses.push((await v4.runStatus('G', id)).status);
    expect(statuses).toEqual(['ABORTED', 'RUNNING', 'FINISHED', 'UNKNOWN', 'UNKNOWN']);
    expect((await v4.runStatus('G', 'b')).startTime).toBe(5);
  });

  it('getProgress reports PAUSED', async () => {
    const f = routedFetch({
      'GET /gsql/v1/loading-jobs/status/j1': {
        body: { error: false, results: [{ overall: { id: 'j1', status: 'PAUSED' } }] },
      },
    });
    const progress = await createTigerGraphClient({
      url: 'http://tg',
      version: 4,
      fetch: f.fetch,
    }).getProgress('G', 'j1');
    expect(progress.status).toBe('PAUSED');
  });
});
