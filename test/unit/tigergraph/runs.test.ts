/** Loading-job runs: finding a 3.x run without an id, listing, adopting, abort and resume. */
import { describe, expect, it } from 'vitest';
import { createTigerGraphClient, type LoadingJobRun } from '../../../lib/tigergraph/index.ts';
import { routedFetch, type Call } from './fake-tigergraph-http.ts';

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
/** RUN LOADING JOB's documented output. */
const started = (id: string, job = 'load_company'): string =>
  `Kick off the following job, i.e.\n  JobName: ${job}, jobid: ${id}\n  Loading log: '/home/tigergraph/tigergraph/logs/restpp/restpp_loader_logs/G/${id}.log'`;
const gsqlOf = (c: Call): string => decodeURIComponent(c.body ?? '');

describe('3.x start: GSQL RUN LOADING JOB', () => {
  it('runs the job with the topic-partition configuration inline and takes the jobid it prints', async () => {
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': { body: started('G_m1.1523663024967') } });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      auth: { username: 'u', password: 'p' },
    });
    expect(await client.startLoadingJob({ ...RUN, streaming: true })).toEqual([
      'G_m1.1523663024967',
    ]);
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]?.headers.authorization).toMatch(/^Basic /);
    expect(gsqlOf(f.calls[0] as Call)).toBe(
      'USE GRAPH G\nRUN LOADING JOB -noprint load_company USING f1="$k1:{\\"topic\\":\\"t\\",\\"partition_list\\":[{\\"partition\\":0,\\"start_offset\\":0}]}", EOF="false"',
    );
  });

  it('EOF mode and default_start_offset go into the GSQL as section 5.2 writes them', async () => {
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': { body: started('G_m1.1') } });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await client.startLoadingJob({ ...RUN, partitions: [], defaultStartOffset: 5 });
    expect(gsqlOf(f.calls[0] as Call)).toContain(
      'f1="$k1:{\\"topic\\":\\"t\\",\\"partition_list\\":[],\\"default_start_offset\\":5}", EOF="true"',
    );
  });

  it('refuses names that would change the GSQL text before calling', async () => {
    const f = routedFetch({});
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(
      client.startLoadingJob({ ...RUN, filename: 'f1="x", EOF' }),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_NAME_INVALID', retriable: false });
    await expect(client.startLoadingJob({ ...RUN, job: 'j USING' })).rejects.toMatchObject({
      code: 'TIGERGRAPH_NAME_INVALID',
    });
    expect(f.calls).toHaveLength(0);
  });

  it('a topic with quotes stays inside the GSQL string', async () => {
    const f = routedFetch({ 'POST /gsqlserver/gsql/file': { body: started('G_m1.1') } });
    await createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch }).startLoadingJob({
      ...RUN,
      topic: 'a"b\\c',
    });
    expect(gsqlOf(f.calls[0] as Call)).toContain('\\"topic\\":\\"a\\\\\\"b\\\\\\\\c\\"');
  });

  it('without a jobid line, finds the newest run of the job that started at or after the call', async () => {
    let call = 0;
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': () => ({
        body:
          ++call === 1
            ? 'Kick off the following job (the console text changed)'
            : show(
                ['G.load_company.kafka.m1.0000000000999', 'RUNNING'],
                ['G.load_person.kafka.m1.0000000001000', 'RUNNING'],
                ['G.load_company.kafka.m1.0000000001000', 'RUNNING'],
              ),
      }),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 1000,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.load_company.kafka.m1.0000000001000']);
    expect(gsqlOf(f.calls[1] as Call)).toBe('USE GRAPH G\nSHOW LOADING STATUS ALL');
  });

  it('without a jobid line and no such run listed, looks again, then fails quoting the answer', async () => {
    const waits: number[] = [];
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => ({
        body: gsqlOf(c).includes('RUN LOADING JOB')
          ? 'Semantic Check Fails: the data source k1 does not exist'
          : show(['G.load_company.kafka.m1.0000000004999', 'RUNNING']),
      }),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 5000,
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

  it('accepts runs within clockSkewMs before the call', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': (c) => ({
        body: gsqlOf(c).includes('RUN LOADING JOB')
          ? ''
          : show(['G.load_company.kafka.m1.0000000004900', 'RUNNING']),
      }),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 5000,
      clockSkewMs: 200,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.load_company.kafka.m1.0000000004900']);
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
      { jobId: 'G.load_company.kafka.m1.1700000000002', status: 'FINISHED', startTime: 1700000000002 },
    ]);
    expect(
      await client.listRuns('G', 'load_company', undefined, new Set(['G_m1.1700000000001'])),
    ).toEqual([
      { jobId: 'G_m1.1700000000001', status: 'ABORTED', startTime: 1700000000001 },
      { jobId: 'G.load_company.kafka.m1.1700000000002', status: 'FINISHED', startTime: 1700000000002 },
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
      'POST /gsqlserver/gsql/file': { body: 'ok' },
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
