/**
 * The client against the emulator in both loading-job dialects (3.x /gsqlserver, 4.x
 * /gsql/v1) and both kinds of credentials (secret; user and password), on the embedded
 * broker: EOF and streaming runs, a run's status by id, abort and resume, token expiry and
 * refusal. For 3.x the emulator answers failed GSQL commands as a real GSQL server does, HTTP
 * 200 console text: the client knows a refusal by the missing documented success word.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEmbeddedKafka,
  startTigerGraphEmulator,
  type EmbeddedKafka,
  type RequestRecord,
  type TigerGraphEmulator,
} from '../../lib/local/index.ts';
import {
  createTigerGraphClient,
  type LoadingJobRun,
  type TigerGraphAuth,
} from '../../lib/tigergraph/index.ts';
import { COMPANY_GSQL, produce, uniqueTopic } from '../helpers/embedded.ts';

const GRAPH = 'Company_Graph';
const TOKEN_SECONDS = 2;
const CREDENTIALS = {
  secret: { server: { secret: 'tiger-secret-1234' }, client: { secret: 'tiger-secret-1234' } },
  password: {
    server: { username: 'tigergraph', password: 'tiger-pw' },
    client: { username: 'tigergraph', password: 'tiger-pw' },
  },
} as const;
type Kind = keyof typeof CREDENTIALS;
const COMBOS: [3 | 4, Kind][] = [
  [3, 'secret'],
  [3, 'password'],
  [4, 'secret'],
  [4, 'password'],
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

let kafka: EmbeddedKafka;
beforeAll(() => {
  kafka = startEmbeddedKafka();
});
afterAll(() => {
  kafka.stop();
});

describe.each(COMBOS)('TigerGraph %i.x dialect, %s credentials', (version, kind) => {
  let tg: TigerGraphEmulator;
  const tokenPath = version === 4 ? '/gsql/v1/tokens' : '/restpp/requesttoken';
  const client = (auth: TigerGraphAuth = CREDENTIALS[kind].client) =>
    createTigerGraphClient({ url: tg.url, version, auth });
  const since = (mark: number): readonly RequestRecord[] => tg.requests().slice(mark);
  const tokenRequests = (records: readonly RequestRecord[]) =>
    records.filter((r) => r.path === tokenPath);
  const names = async (prefix: string): Promise<string[]> =>
    (await client().listVertices(GRAPH, 'Company'))
      .map((v) => v.v_id)
      .filter((id) => id.startsWith(prefix))
      .sort();
  const topicWith = async (values: string[]): Promise<string> => {
    const topic = uniqueTopic('tgd');
    kafka.createTopic(topic, 2);
    await produce(
      kafka.bootstrapServers,
      topic,
      values.map((company, i) => ({
        value: JSON.stringify({ company, employee_num: i }),
        partition: i % 2,
      })),
    );
    return topic;
  };
  /** How each dialect refuses a run that cannot resume (4.x: the emulator's UNDOCUMENTED 409). */
  const REFUSED = version === 3 ? 'TIGERGRAPH_GSQL_REFUSED' : 'TIGERGRAPH_HTTP_409';
  const run = (topic: string, streaming: boolean): LoadingJobRun => ({
    graph: GRAPH,
    job: 'load_company',
    filename: 'f1',
    dataSource: 'k1',
    topic,
    partitions: [
      { partition: 0, start_offset: -2 },
      { partition: 1, start_offset: -2 },
    ],
    streaming,
  });

  beforeAll(async () => {
    tg = await startTigerGraphEmulator({
      gsql: COMPANY_GSQL('unused'),
      kafkaBootstrapOverride: kafka.bootstrapServers,
      tokenLifetimeSeconds: TOKEN_SECONDS,
      gsqlErrorsAsText: version === 3,
      ...CREDENTIALS[kind].server,
    });
  });
  afterAll(async () => {
    await tg.stop();
  });

  it('an EOF run loads the topic, reaches FINISHED, is listed, and cannot run again', async () => {
    const topic = await topicWith(['eof-a', 'eof-b', 'eof-c']);
    const tgc = client();
    const mark = tg.requests().length;
    const ids = await tgc.startLoadingJob(run(topic, false));
    expect(ids).toHaveLength(1);
    const id = ids[0] as string;
    // 3.x runs the job in GSQL and reads the jobid it prints.
    expect(since(mark).some((r) => r.path === '/gsqlserver/gsql/file')).toBe(version === 3);
    const progress = await until(
      'progress',
      () => tgc.getProgress(GRAPH, id),
      (p) => p.status !== 'RUNNING',
    );
    expect(progress).toMatchObject({
      jobId: id,
      status: 'FINISHED',
      counts: { validLines: 3, validObjects: 3, rejectedObjects: 0 },
    });
    // Asked by its id (3.x SHOW LOADING STATUS <id>: ALL lists active runs only).
    expect(await tgc.runStatus(GRAPH, id)).toMatchObject({
      status: 'FINISHED',
      counts: { validLines: 3, validObjects: 3 },
    });
    expect(await names('eof-')).toEqual(['eof-a', 'eof-b', 'eof-c']);
    await expect(tgc.resumeRun(GRAPH, id)).rejects.toMatchObject({
      code: REFUSED,
      retriable: false,
    });
  });

  it('a streaming run is aborted, then resumed under its id without loading anything twice', async () => {
    const topic = await topicWith(['str-a', 'str-b']);
    const tgc = client();
    const [id] = await tgc.startLoadingJob(run(topic, true));
    await until(
      'first records',
      () => names('str-'),
      (n) => n.length === 2,
    );
    expect(tg.runs().filter((r) => r.streaming && r.status === 'RUNNING')).toHaveLength(1);

    await tgc.abortRun(GRAPH, id as string);
    expect((await tgc.runStatus(GRAPH, id as string)).status).toBe('ABORTED');
    await produce(kafka.bootstrapServers, topic, [
      { value: '{"company":"str-c","employee_num":3}', partition: 0 },
      { value: '{"company":"str-d","employee_num":4}', partition: 1 },
    ]);
    await sleep(500);
    expect(await names('str-')).toEqual(['str-a', 'str-b']);

    await tgc.resumeRun(GRAPH, id as string);
    expect((await tgc.runStatus(GRAPH, id as string)).status).toBe('RUNNING');
    await until(
      'records after the resume',
      () => names('str-'),
      (n) => n.length === 4,
    );
    const progress = await until(
      'four lines',
      () => tgc.getProgress(GRAPH, id as string),
      (p) => p.counts.validLines >= 4,
    );
    await sleep(200);
    expect((await tgc.getProgress(GRAPH, id as string)).counts.validLines).toBe(4);
    expect(progress.jobId).toBe(id);
    const runs = (await tgc.listRuns(GRAPH, 'load_company')).filter((r) => r.jobId === id);
    expect(runs).toEqual([expect.objectContaining({ jobId: id, status: 'RUNNING' })]);
    await expect(tgc.resumeRun(GRAPH, id as string)).rejects.toMatchObject({ code: REFUSED });
    await tgc.abortRun(GRAPH, id as string);
    // Aborting an ended run is refused too (3.x: no ABORT_SUCCESS in the answer).
    await expect(tgc.abortRun(GRAPH, id as string)).rejects.toMatchObject({ code: REFUSED });
  });

  it('renews a token before it expires, and once after REST-10016, with one request in flight', async () => {
    const tgc = client();
    let mark = tg.requests().length;
    await tgc.listVertices(GRAPH, 'Company');
    await tgc.listVertices(GRAPH, 'Company');
    expect(tokenRequests(since(mark))).toHaveLength(1);

    mark = tg.requests().length;
    await sleep(TOKEN_SECONDS * 1000 + 100);
    await tgc.listVertices(GRAPH, 'Company');
    expect(tokenRequests(since(mark))).toHaveLength(1);
    expect(since(mark).filter((r) => r.status === 401)).toEqual([]);

    tg.revokeTokens();
    mark = tg.requests().length;
    await expect(tgc.listVertices(GRAPH, 'Company')).resolves.toBeInstanceOf(Array);
    expect(since(mark).map((r) => `${r.path} ${r.status}`)).toEqual([
      `/restpp/graph/${GRAPH}/vertices/Company 401`,
      `${tokenPath} 200`,
      `/restpp/graph/${GRAPH}/vertices/Company 200`,
    ]);

    const fresh = client();
    mark = tg.requests().length;
    await Promise.all(Array.from({ length: 5 }, () => fresh.listVertices(GRAPH, 'Company')));
    expect(tokenRequests(since(mark))).toHaveLength(1);
  });

  it('refused credentials fail with TIGERGRAPH_REST_10016, not retriable, after one renewal attempt', async () => {
    const wrong: TigerGraphAuth =
      kind === 'secret'
        ? { token: 'stale-token-0123456789', secret: 'not-the-secret' }
        : { token: 'stale-token-0123456789', username: 'tigergraph', password: 'not-the-password' };
    const mark = tg.requests().length;
    await expect(client(wrong).listVertices(GRAPH, 'Company')).rejects.toMatchObject({
      code: 'TIGERGRAPH_REST_10016',
      retriable: false,
    });
    expect(since(mark).map((r) => `${r.path} ${r.status}`)).toEqual([
      `/restpp/graph/${GRAPH}/vertices/Company 401`,
      `${tokenPath} 401`,
    ]);
  });
});
