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
const show = (...runs: [id: string, job: string, status: string, start: number][]): string =>
  runs
    .map(
      ([id, job, status, start]) =>
        `JobId: ${id}, JobName: ${job}, Status: ${status}, StartTime: ${start}, EndTime: 0`,
    )
    .join('\n');
const gsqlOf = (c: Call): string => decodeURIComponent(c.body ?? '');
const noSleep = (): Promise<void> => Promise.resolve();

describe('3.x start without a job id in the answer', () => {
  it('finds the newest run of the job that started at or after the call, with SHOW LOADING STATUS ALL', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': { body: { error: false, message: 'started' } },
      'POST /gsqlserver/gsql/file': {
        body: show(
          ['G.old', 'load_company', 'RUNNING', 999],
          ['G.other', 'load_person', 'RUNNING', 1000],
          ['G.new', 'load_company', 'RUNNING', 1000],
        ),
      },
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 1000,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.new']);
    expect(f.calls[1]?.path).toBe('/gsqlserver/gsql/file');
    expect(gsqlOf(f.calls[1] as Call)).toBe('USE GRAPH G\nSHOW LOADING STATUS ALL');
  });

  it('does not hand the same run to two starts', async () => {
    let listing = show(['G.a', 'load_company', 'RUNNING', 1000]);
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': { body: { error: false, message: 'started' } },
      'POST /gsqlserver/gsql/file': () => ({ body: listing }),
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 1000,
      sleep: noSleep,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.a']);
    listing = show(
      ['G.a', 'load_company', 'RUNNING', 1000],
      ['G.b', 'load_company', 'RUNNING', 1000],
    );
    expect(await client.startLoadingJob(RUN)).toEqual(['G.b']);
  });

  it('looks again while the run is not listed, then fails not retriable', async () => {
    let looks = 0;
    const waits: number[] = [];
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': { body: { error: false, message: 'started' } },
      'POST /gsqlserver/gsql/file': () => ({
        body: ++looks < 3 ? '' : show(['G.late', 'load_company', 'RUNNING', 5000]),
      }),
    });
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      return Promise.resolve();
    };
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 5000,
      sleep,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.late']);
    expect(waits).toEqual([50, 100]);
    const none = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: routedFetch({
        'POST /gsqlserver/gsql/loading-jobs': { body: { error: false } },
        'POST /gsqlserver/gsql/file': { body: show(['G.before', 'load_company', 'RUNNING', 4999]) },
      }).fetch,
      now: () => 5000,
      sleep: noSleep,
    });
    await expect(none.startLoadingJob(RUN)).rejects.toMatchObject({
      code: 'TIGERGRAPH_JOB_ID_MISSING',
      retriable: false,
    });
  });

  it('accepts runs within clockSkewMs before the call', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': { body: { error: false } },
      'POST /gsqlserver/gsql/file': { body: show(['G.skewed', 'load_company', 'RUNNING', 4900]) },
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      fetch: f.fetch,
      now: () => 5000,
      clockSkewMs: 200,
    });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.skewed']);
  });

  it('still takes job ids when the answer has them, without listing', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': { body: { error: false, jobIds: ['G.x'] } },
    });
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    expect(await client.startLoadingJob(RUN)).toEqual(['G.x']);
    expect(f.calls).toHaveLength(1);
  });
});

describe('a second streaming run refused with HTTP 409', () => {
  it.each([3, 4] as const)('version %i adopts the running run of the job', async (version) => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': {
        status: 409,
        body: { error: true, message: 'running' },
      },
      'POST /gsql/v1/loading-jobs/run': { status: 409, body: { error: true, message: 'running' } },
      'POST /gsqlserver/gsql/file': {
        body: show(
          ['G.done', 'load_company', 'ABORTED', 1],
          ['G.live', 'load_company', 'RUNNING', 2],
        ),
      },
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
    const client = createTigerGraphClient({ url: 'http://tg', version, fetch: f.fetch });
    expect(await client.startLoadingJob({ ...RUN, streaming: true })).toEqual(['G.live']);
  });

  it('an EOF start refused with 409 is an error', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/loading-jobs': {
        status: 409,
        body: { error: true, message: 'running' },
      },
    });
    await expect(
      createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch }).startLoadingJob(RUN),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_HTTP_409', retriable: false });
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

  it('3.x skips text lines in other forms', async () => {
    const f = routedFetch({
      'POST /gsqlserver/gsql/file': {
        body: `Using graph 'G'\n${show(['G.1', 'load_company', 'FINISHED', 3])}\nsomething else`,
      },
    });
    expect(
      await createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch }).listRuns(
        'G',
        'load_company',
      ),
    ).toEqual([{ jobId: 'G.1', status: 'FINISHED', startTime: 3 }]);
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
