/**
 * TigerGraph emulator: a TEST DOUBLE, not TigerGraph. It answers the endpoints TigerStream
 * calls with the documented shapes and REST-xxxx codes (see shared/reference/
 * tigergraph-loading.md): /requesttoken, /ddl/{graph}, GET /graph/{graph}/vertices/{type},
 * the 3.x loading-job start/progress under /gsqlserver and the 4.x /gsql/v1 equivalents,
 * and GSQL text for setting up a schema. Kafka loading jobs read the data source's topic
 * with librdkafka, in EOF or streaming mode, one job at a time (TigerGraph's default).
 * Point `tigergraph.url` at a real TigerGraph to use one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { LocalError, isTigerStreamError, messageOf } from '../errors/index.ts';
import { GraphStore, emptyStats, type LoadStats } from './graph-store.ts';
import { listPartitions, readPartitions, type PartitionStart } from './rdkafka-reader.ts';

export interface EmulatorOptions {
  /** Replaces every data source's `broker` (the embedded broker's bootstrap string). */
  readonly kafkaBootstrapOverride?: string;
  /** When set, RESTPP endpoints need `Authorization: Bearer <token>` from /requesttoken. */
  readonly secret?: string;
  /** When set, GSQL endpoints need HTTP basic auth with these credentials. */
  readonly gsqlCredentials?: { readonly username: string; readonly password: string };
  /** GSQL to run at start (schema, data sources, loading jobs). */
  readonly gsql?: string;
}

export interface InjectedFault {
  /** Matched against `METHOD path` (e.g. `POST /gsqlserver/gsql/loading-jobs`). */
  readonly match: RegExp;
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  /** How many requests fail (default 1). */
  times?: number;
}

export type JobStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'ABORTED';
export interface JobRun {
  readonly id: string;
  readonly jobName: string;
  readonly graph: string;
  readonly streaming: boolean;
  status: JobStatus;
  readonly startTime: number;
  endTime: number;
  stats: LoadStats;
  error?: string;
}

export interface TigerGraphEmulator {
  readonly url: string;
  readonly store: GraphStore;
  runGsql(text: string): string[];
  injectFault(fault: InjectedFault): void;
  clearFaults(): void;
  /** Every loading-job run started so far, oldest first. */
  runs(): readonly JobRun[];
  /** Resolves once no run is queued or in EOF progress. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const VERSION = { edition: 'enterprise', api: 'v2', schema: 0 };

interface Reply {
  status: number;
  body: unknown;
}
const ok = (body: Record<string, unknown>): Reply => ({
  status: 200,
  body: { version: VERSION, error: false, message: '', ...body },
});
const fail = (status: number, code: string, message: string): Reply => ({
  status,
  body: { version: VERSION, error: true, message, results: [], code },
});

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });

interface JobRequest {
  name: string;
  streaming?: boolean;
  dataSources?: {
    filename: string;
    name: string;
    config?: {
      topic?: string;
      partition_list?: { partition: number; start_offset?: number }[];
      default_start_offset?: number;
    };
  }[];
}

/**
 * Starts the emulator on 127.0.0.1 (an ephemeral port).
 *
 * @example
 * const tg = await startTigerGraphEmulator({ gsql, kafkaBootstrapOverride: kafka.bootstrapServers });
 * // tigergraph.url = tg.url
 */
export async function startTigerGraphEmulator(
  options: EmulatorOptions = {},
): Promise<TigerGraphEmulator> {
  const store = new GraphStore();
  if (options.gsql) store.runGsql(options.gsql);
  const faults: InjectedFault[] = [];
  const runs: JobRun[] = [];
  const tokens = new Set<string>();
  const abort = new AbortController();
  let queue: Promise<void> = Promise.resolve();
  let seq = 0;

  const startRun = (graph: string, request: JobRequest): JobRun => {
    const job = store.jobs.get(request.name);
    if (!job || job.graph !== graph)
      throw new LocalError(
        'TG_JOB_NOT_FOUND',
        `Loading job ${request.name} does not exist in graph ${graph}`,
      );
    const run: JobRun = {
      id: `${graph}.${job.name}.kafka.m1.${Date.now()}${String(++seq).padStart(4, '0')}`,
      jobName: job.name,
      graph,
      streaming: request.streaming === true,
      status: 'RUNNING',
      startTime: Date.now(),
      endTime: 0,
      stats: emptyStats(),
    };
    runs.push(run);
    const sources = request.dataSources ?? [];
    const execute = async (): Promise<void> => {
      for (const ds of sources) {
        const source = store.dataSources.get(ds.name);
        if (!source)
          throw new LocalError('TG_DATA_SOURCE_NOT_FOUND', `data source ${ds.name} does not exist`);
        if (!(ds.filename in job.filenames))
          throw new LocalError(
            'TG_FILENAME_NOT_FOUND',
            `job ${job.name} has no filename variable ${ds.filename}`,
          );
        const sourceConfig = JSON.parse(source.config || '{}') as {
          broker?: string;
          kafka_config?: Record<string, string>;
        };
        const broker = options.kafkaBootstrapOverride ?? sourceConfig.broker;
        const topic = ds.config?.topic;
        if (!broker || !topic)
          throw new LocalError(
            'TG_DATA_SOURCE_INVALID',
            `data source ${ds.name} needs a broker and the run a topic`,
          );
        const listed = ds.config?.partition_list ?? [];
        const partitions: PartitionStart[] =
          listed.length > 0
            ? listed.map((p) => ({ partition: p.partition, startOffset: p.start_offset ?? -1 }))
            : (await listPartitions(broker, topic)).map((partition) => ({
                partition,
                startOffset: ds.config?.default_start_offset ?? -1,
              }));
        await readPartitions({
          bootstrapServers: broker,
          topic,
          partitions,
          eof: !run.streaming,
          signal: abort.signal,
          ...(sourceConfig.kafka_config ? { kafkaConfig: sourceConfig.kafka_config } : {}),
          onMessage: (m) => {
            // UNDOCUMENTED: whether TigerGraph's Kafka loader splits one message's value at
            // line breaks is not in the reference (tigergraph-loading.md documents `eol` for
            // /ddl only). The emulator splits as /ddl does, the stricter reading: TigerStream
            // sends JSON as one compact line, so its own records never depend on it.
            if (m.value)
              store.loadLines(
                job.name,
                ds.filename,
                m.value.toString('utf8').split('\n'),
                run.stats,
              );
          },
        });
      }
    };
    const finish = (error?: unknown): void => {
      run.endTime = Date.now();
      if (error === undefined)
        run.status = abort.signal.aborted && run.streaming ? 'ABORTED' : 'FINISHED';
      else {
        run.status = 'FAILED';
        run.error = messageOf(error);
      }
    };
    if (run.streaming) execute().then(() => finish(), finish);
    else queue = queue.then(execute).then(() => finish(), finish);
    return run;
  };

  const progress = (run: JobRun): Record<string, unknown> => ({
    overall: {
      id: run.id,
      jobName: run.jobName,
      status: run.status,
      progress: run.status === 'RUNNING' ? 0 : 100,
      startTime: run.startTime,
      endTime: run.endTime,
      duration: (run.endTime || Date.now()) - run.startTime,
      statistics: {
        fileLevel: {
          validLine: run.stats.validLine,
          rejectLine: run.stats.rejectLine,
          invalidJson: run.stats.invalidJson,
          notEnoughToken: run.stats.notEnoughToken,
        },
        objectLevel: { vertex: run.stats.vertex, edge: run.stats.edge },
      },
      ...(run.error ? { error: run.error } : {}),
    },
    workers: [],
  });

  const basicOk = (req: IncomingMessage): boolean => {
    const creds = options.gsqlCredentials;
    if (!creds) return true;
    const header = req.headers.authorization ?? '';
    return (
      header === `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
    );
  };
  const bearerOk = (req: IncomingMessage): boolean => {
    if (options.secret === undefined) return true;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return m !== null && tokens.has(m[1] as string);
  };

  const route = async (req: IncomingMessage, url: URL): Promise<Reply> => {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/restpp(?=\/)/, '');
    const q = url.searchParams;
    const isGsql = path.startsWith('/gsqlserver/') || path.startsWith('/gsql/v1/');
    if (isGsql && !basicOk(req))
      return fail(401, 'REST-10016', 'Access Denied: wrong user name or password');
    if (!isGsql && path !== '/requesttoken' && path !== '/echo' && !bearerOk(req))
      return fail(
        401,
        'REST-10016',
        "Access Denied because the input token = '' is empty or too short",
      );

    if (method === 'GET' && (path === '/echo' || path === '/version'))
      return ok({
        message: 'Hello GSQL (TigerGraph emulator: a test double, not TigerGraph)',
        code: 'REST-0000',
      });

    if (method === 'POST' && path === '/requesttoken') {
      if (options.secret === undefined)
        return fail(
          404,
          'REST-1000',
          'Endpoint is not found from url = /requesttoken, please use GET /endpoints to list all valid endpoints.',
        );
      const body = JSON.parse((await readBody(req)) || '{}') as { secret?: string };
      if (body.secret !== options.secret)
        return fail(401, 'REST-10016', 'Access Denied: the secret is not valid');
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      return {
        status: 200,
        body: {
          code: 'REST-0000',
          expiration: Math.floor(Date.now() / 1000) + 2_592_000,
          error: false,
          message: 'Generate new token successfully.',
          token,
        },
      };
    }

    let m = /^\/ddl\/([^/]+)$/.exec(path);
    if (method === 'POST' && m) {
      const graph = decodeURIComponent(m[1] as string);
      if (!store.graphs.has(graph)) return fail(404, 'REST-1004', `Graph ${graph} does not exist`);
      const tag = q.get('tag') ?? '';
      const job = store.jobs.get(tag);
      if (!job || job.graph !== graph)
        return fail(400, 'REST-30000', `Loading job ${tag} does not exist in graph ${graph}`);
      const filename = q.get('filename') ?? '';
      const body = await readBody(req);
      // TigerGraph answers an unknown filename variable with no error and empty results.
      if (!(filename in job.filenames)) return ok({ results: [], code: 'REST-0000' });
      const statistics = store.loadLines(tag, filename, body.split('\n'));
      return ok({ results: [{ sourceFileName: 'Online_POST', statistics }], code: 'REST-0000' });
    }

    m = /^\/graph\/([^/]+)\/vertices\/([^/]+)$/.exec(path);
    if (method === 'GET' && m) {
      const graph = decodeURIComponent(m[1] as string);
      const type = decodeURIComponent(m[2] as string);
      if (!store.graphs.has(graph)) return fail(404, 'REST-1004', `Graph ${graph} does not exist`);
      if (!store.graphs.get(graph)?.has(type) || !store.vertexTypes.has(type))
        return fail(400, 'REST-2004', `Vertex type ${type} is not valid in graph ${graph}`);
      const limit = Number(q.get('limit') ?? Infinity);
      const list = store
        .listVertices(graph, type)
        .slice(0, Number.isFinite(limit) ? limit : undefined);
      return ok({
        results: list.map((v) => ({ v_id: v.id, v_type: type, attributes: v.attributes })),
      });
    }

    const isStart3 =
      method === 'POST' && path === '/gsqlserver/gsql/loading-jobs' && q.get('action') === 'start';
    const isRun4 = method === 'POST' && path === '/gsql/v1/loading-jobs/run';
    if (isStart3 || isRun4) {
      const graph = q.get('graph') ?? '';
      if (!store.graphs.has(graph)) return fail(404, 'REST-1004', `Graph ${graph} does not exist`);
      const requests = JSON.parse(await readBody(req)) as JobRequest[];
      if (!Array.isArray(requests))
        return fail(400, 'REST-30000', 'The body must be a JSON array of loading jobs');
      const started = requests.map((r) => startRun(graph, r));
      return {
        status: 200,
        body: {
          error: false,
          message: `Successfully ran loading job(s): [${started.map((r) => r.jobName).join(', ')}]`,
          jobIds: started.map((r) => r.id),
        },
      };
    }

    const isProgress3 =
      method === 'GET' &&
      path === '/gsqlserver/gsql/loading-jobs' &&
      q.get('action') === 'getprogress';
    m = /^\/gsql\/v1\/loading-jobs\/status\/([^/]+)$/.exec(path);
    if (isProgress3 || (method === 'GET' && m)) {
      const id = m ? decodeURIComponent(m[1] as string) : (q.get('jobId') ?? q.get('jobIds') ?? '');
      const run = runs.find((r) => r.id === id);
      if (!run) return fail(404, 'REST-30000', `Loading job id ${id} is not found`);
      return ok({ results: [progress(run)] });
    }

    if (method === 'POST' && (path === '/gsqlserver/gsql/file' || path === '/gsql/v1/statements')) {
      const raw = await readBody(req);
      const text =
        path.endsWith('/file') && !raw.includes('\n')
          ? decodeURIComponent(raw.replace(/\+/g, ' '))
          : raw;
      return { status: 200, body: store.runGsql(text).join('\n') };
    }
    return fail(
      404,
      'REST-1000',
      `Endpoint is not found from url = ${url.pathname}, please use GET /endpoints to list all valid endpoints.`,
    );
  };

  const server: Server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = `${req.method ?? 'GET'} ${url.pathname}`;
    const fault = faults.find((f) => f.match.test(key));
    const reply: Promise<Reply> = fault
      ? readBody(req).then(() => {
          fault.times = (fault.times ?? 1) - 1;
          if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
          return fail(fault.status, fault.code, fault.message ?? `Injected fault ${fault.code}`);
        })
      : route(req, url).catch((error: unknown) =>
          isTigerStreamError(error)
            ? fail(400, 'REST-30000', error.message)
            : error instanceof SyntaxError
              ? fail(400, 'REST-2001', `Invalid JSON payload: ${error.message}`)
              : fail(500, 'REST-12000', messageOf(error)),
        );
    void reply.then(({ status, body }) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    store,
    runGsql: (text) => store.runGsql(text),
    injectFault: (fault) => faults.push({ ...fault, times: fault.times ?? 1 }),
    clearFaults: () => {
      faults.length = 0;
    },
    runs: () => runs,
    idle: () => queue,
    stop: async () => {
      abort.abort();
      await queue;
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
