import { describe, expect, it } from 'vitest';
import { classify, createTigerGraphClient, sumStatistics } from '../../../lib/tigergraph/index.ts';

type Call = {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
};

/** A fetch that answers from a list and records what was asked. */
const fakeFetch = (replies: { status: number; body: unknown }[]) => {
  const calls: Call[] = [];
  const impl = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({
      url: url instanceof Request ? url.url : url.toString(),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
    });
    const reply = replies.shift();
    if (!reply) return Promise.reject(new TypeError('fetch failed: connection refused'));
    return Promise.resolve(
      new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
        status: reply.status,
      }),
    );
  };
  return { fetch: impl, calls };
};

const DDL_39 = {
  version: { edition: 'enterprise', api: 'v2', schema: 0 },
  error: false,
  message: '',
  results: [
    {
      sourceFileName: 'Online_POST',
      statistics: {
        validLine: 7927,
        rejectLine: 2,
        failedConditionLine: 0,
        notEnoughToken: 0,
        invalidJson: 2,
        oversizeToken: 0,
        vertex: [
          {
            typeName: 'company',
            validObject: 7920,
            noIdFound: 3,
            invalidAttribute: 4,
            invalidPrimaryId: 0,
            invalidSecondaryId: 0,
            incorrectFixedBinaryLength: 0,
          },
        ],
        edge: [],
        deleteVertex: [],
        deleteEdge: [],
      },
    },
  ],
  code: 'REST-0000',
};

describe('sumStatistics', () => {
  it('reads the flat 3.9 /ddl shape', () => {
    expect(sumStatistics(DDL_39.results[0]?.statistics)).toEqual({
      validLines: 7927,
      rejectedLines: 2,
      validObjects: 7920,
      rejectedObjects: 7,
      filteredObjects: 0,
    });
  });
  it('reads the aggregated fileLevel/objectLevel shape, also under parsingStatistics', () => {
    const stats = {
      fileLevel: { validLine: 8, rejectLine: 1, badCharacter: 1 },
      objectLevel: {
        vertex: [{ typeName: 'Post', validObject: 6, invalidAttribute: 1, noIdFound: 1 }],
        edge: [{ typeName: 'Likes', validObject: 3, passedCondition: 3, failedCondition: 4 }],
      },
    };
    // Objects a WHERE condition filtered out are not rejections.
    expect(sumStatistics(stats)).toEqual({
      validLines: 8,
      rejectedLines: 1,
      validObjects: 9,
      rejectedObjects: 2,
      filteredObjects: 4,
    });
    expect(sumStatistics({ parsingStatistics: stats })).toEqual(sumStatistics(stats));
  });
});

describe('classify', () => {
  // A refused token is renewed once inside the client; refused again, retrying cannot help.
  it.each([
    [200, 'REST-10016', false],
    [401, undefined, false],
    [200, 'REST-2001', false],
    [503, undefined, true],
    [429, undefined, true],
    [400, undefined, false],
    [404, 'REST-1004', false],
    [502, undefined, true],
    [599, undefined, true],
  ])('HTTP %i %s → retriable %s', (status, code, retriable) => {
    expect(classify(status, code).retriable).toBe(retriable);
  });
});

describe('createTigerGraphClient', () => {
  it('starts an EOF run with GSQL RUN LOADING JOB on the 3.x GSQL server, with basic auth', async () => {
    const f = fakeFetch([
      // SHOW LOADING STATUS ALL first: the active runs, should the answer carry no jobid.
      { status: 200, body: '' },
      {
        status: 200,
        body: 'Kick off the following job, i.e.\n  JobName: load_company, jobid: G_m1.1523663024967\n',
      },
    ]);
    const client = createTigerGraphClient({
      url: 'http://tg:14240/',
      version: 3,
      auth: { username: 'tigergraph', password: 'pw' },
      fetch: f.fetch,
    });
    const ids = await client.startLoadingJob({
      graph: 'G',
      job: 'load_company',
      filename: 'f1',
      dataSource: 'k1',
      topic: 'hello.companies',
      partitions: [{ partition: 0, start_offset: 42 }],
      streaming: false,
    });
    expect(ids).toEqual(['G_m1.1523663024967']);
    expect(f.calls[1]?.url).toBe('http://tg:14240/gsqlserver/gsql/file');
    expect(f.calls[1]?.headers.authorization).toBe(
      `Basic ${Buffer.from('tigergraph:pw').toString('base64')}`,
    );
    expect(decodeURIComponent(f.calls[0]?.body ?? '')).toBe('USE GRAPH G\nSHOW LOADING STATUS ALL');
    expect(decodeURIComponent(f.calls[1]?.body ?? '')).toBe(
      'USE GRAPH G\nRUN LOADING JOB -noprint load_company USING f1="$k1:{\\"topic\\":\\"hello.companies\\",\\"partition_list\\":[{\\"partition\\":0,\\"start_offset\\":42}]}", EOF="true"',
    );
  });

  it('uses the 4.x run and status endpoints for version 4', async () => {
    const f = fakeFetch([
      { status: 200, body: { error: false, jobIds: ['j1'] } },
      {
        status: 200,
        body: {
          error: false,
          results: [
            {
              overall: {
                id: 'j1',
                progress: 100,
                endTime: 5,
                statistics: {
                  fileLevel: { validLine: 3 },
                  objectLevel: { vertex: [{ typeName: 'V', validObject: 3 }] },
                },
              },
            },
          ],
        },
      },
    ]);
    const client = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: f.fetch });
    await client.startLoadingJob({
      graph: 'G',
      job: 'j',
      filename: 'f',
      dataSource: 'k',
      topic: 't',
      partitions: [],
      streaming: false,
    });
    const progress = await client.getProgress('G', 'j1');
    expect(f.calls.map((c) => c.url)).toEqual([
      'http://tg/gsql/v1/loading-jobs/run?graph=G',
      'http://tg/gsql/v1/loading-jobs/status/j1?graph=G',
    ]);
    expect(progress).toEqual({
      jobId: 'j1',
      status: 'FINISHED',
      counts: {
        validLines: 3,
        rejectedLines: 0,
        validObjects: 3,
        rejectedObjects: 0,
        filteredObjects: 0,
      },
      error: undefined,
    });
  });

  it('gets a RESTPP token from the secret once and sends it as a bearer token', async () => {
    const f = fakeFetch([
      { status: 200, body: { code: 'REST-0000', error: false, token: 'tok1' } },
      { status: 200, body: DDL_39 },
      { status: 200, body: DDL_39 },
    ]);
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's3cret' },
      fetch: f.fetch,
    });
    await client.postDdl('G', 'job', 'f1', '{"a":1}');
    await client.postDdl('G', 'job', 'f1', '{"a":1}');
    expect(f.calls.map((c) => c.url)).toEqual([
      'http://tg/restpp/requesttoken',
      'http://tg/restpp/ddl/G?tag=job&filename=f1&ack=all',
      'http://tg/restpp/ddl/G?tag=job&filename=f1&ack=all',
    ]);
    expect(f.calls[1]?.headers.authorization).toBe('Bearer tok1');
  });

  it('maps errors to codes with retriable from the table', async () => {
    const f = fakeFetch([
      { status: 503, body: 'Service Unavailable' },
      {
        status: 200,
        body: { error: true, message: 'Graph G does not exist', code: 'REST-1004', results: [] },
      },
    ]);
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(client.postDdl('G', 'j', 'f', 'x')).rejects.toMatchObject({
      code: 'TIGERGRAPH_HTTP_503',
      retriable: true,
    });
    await expect(client.postDdl('G', 'j', 'f', 'x')).rejects.toMatchObject({
      code: 'TIGERGRAPH_REST_1004',
      retriable: false,
    });
    await expect(client.postDdl('G', 'j', 'f', 'x')).rejects.toMatchObject({
      code: 'TIGERGRAPH_UNREACHABLE',
      retriable: true,
    });
  });

  it('treats an empty /ddl results array as a failure (unknown filename variable)', async () => {
    const f = fakeFetch([
      { status: 200, body: { error: false, message: '', results: [], code: 'REST-0000' } },
    ]);
    const client = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: f.fetch });
    await expect(client.postDdl('G', 'j', 'nope', 'x')).rejects.toMatchObject({
      code: 'TIGERGRAPH_DDL_EMPTY_RESULTS',
      retriable: false,
    });
  });
});
