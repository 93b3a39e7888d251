/**
 * `tgstream connector status` shows the loading job's run and its progress, asked of the
 * TigerGraph emulator; AWS (SSM, the event-source mapping) through aws-sdk-client-mock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { runCli } from '../../lib/cli/index.ts';
import { toStored, withSettings, type ConnectorConfig } from '../../lib/config/index.ts';
import { encodeKafkaEvent } from '../../lib/event/index.ts';
import { silentLogger } from '../../lib/observability/index.ts';
import { createStreamHandler, ssmRunRegistry } from '../../lib/pipeline/index.ts';
import { createTigerGraphClient } from '../../lib/tigergraph/index.ts';
import { captureIo } from '../helpers/cli.ts';
import { startEnv, type Env } from '../helpers/embedded.ts';

describe('tgstream connector status with the loading job', () => {
  const ssm = mockClient(SSMClient);
  const lambda = mockClient(LambdaClient);
  let env: Env;
  const deps = () => ({
    ssm: new SSMClient({ region: 'us-east-1' }),
    lambda: new LambdaClient({ region: 'us-east-1' }),
  });
  /** The connector's parameters, and the run the handler records (run-registry.ts) kept as SSM would. */
  const store = (config: ConnectorConfig) => {
    ssm.reset();
    const runs = new Map<string, string>();
    ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
      if (input.Name === '/tgstream/dev/company-stream/config')
        return { Parameter: { Type: 'String', Value: JSON.stringify(toStored(config).stored) } };
      const value = runs.get(input.Name);
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Type: 'String', Value: value } };
    });
    ssm
      .on(PutParameterCommand)
      .callsFake((input: { Name: string; Value: string; Overwrite?: boolean }) => {
        if (runs.has(input.Name) && input.Overwrite !== true)
          throw new ParameterAlreadyExists({ message: 'exists', $metadata: {} });
        runs.set(input.Name, input.Value);
        return {};
      });
    // The run registry's generations under runs/<key>; nothing else is listed by path here.
    ssm.on(GetParametersByPathCommand).callsFake((input: { Path: string }) => ({
      Parameters: [...runs]
        .filter(([name]) => name.startsWith(`${input.Path}/`))
        .map(([Name, Value]) => ({ Name, Value })),
    }));
    return runs;
  };
  beforeAll(async () => {
    env = await startEnv({ partitions: 1, settings: { 'tigergraph.loading.eof': 'false' } });
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [{ UUID: 'uuid-1', State: 'Enabled', LastProcessingResult: 'OK' }],
    });
  });
  afterAll(async () => {
    ssm.restore();
    lambda.restore();
    await env.stop();
  });

  it('shows "no run yet" before the first batch, then the run the registry holds and its progress', async () => {
    const runs = store(env.config);
    const before = captureIo();
    expect(await runCli(['connector', 'status', 'company-stream'], before.io, deps())).toBe(0);
    expect(before.stdout()).toBe(
      'company-stream: RUNNING (OK) mapping uuid-1\n  loading job load_company (streaming) in Company_Graph: no run yet\n',
    );

    const handler = createStreamHandler({
      loadConfig: () => Promise.resolve(env.config),
      logger: silentLogger(),
      // As functions/stream.ts: the run is recorded under the connector's SSM path.
      runRegistry: ssmRunRegistry(deps().ssm, '/tgstream/dev/company-stream'),
    });
    const event = encodeKafkaEvent(
      [0, 1].map((offset) => ({
        topic: env.source,
        partition: 0,
        offset,
        timestamp: Date.now(),
        timestampType: 'CREATE_TIME',
        key: null,
        value: Buffer.from(JSON.stringify({ company: `S${offset}`, employee_num: 1 })),
        headers: [],
      })),
      { eventSource: 'SelfManagedKafka', bootstrapServers: 'x:1' },
    );
    const { jobIds } = await handler(event, {
      awsRequestId: 'r',
      getRemainingTimeInMillis: () => 30_000,
    } as unknown as Context);
    await handler.close();
    const until = Date.now() + 10_000;
    while ((env.tg.runs()[0]?.stats.validLine ?? 0) < 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));

    const after = captureIo();
    expect(await runCli(['connector', 'status', 'company-stream'], after.io, deps())).toBe(0);
    expect(after.stdout()).toMatch(
      new RegExp(
        `^company-stream: RUNNING \\(OK\\) mapping uuid-1\\n  loading job load_company \\(streaming\\) in Company_Graph: run ${jobIds[0]?.replace(/\./g, '\\.')} RUNNING since \\d{4}-\\d\\d-\\d\\dT[^;]+; lines loaded 2, rejected 0; objects loaded 2, rejected 0\\n$`,
      ),
    );
    const json = captureIo();
    await runCli(['connector', 'status', 'company-stream', '--json'], json.io, deps());
    expect(JSON.parse(json.stdout())).toMatchObject({
      loadingJob: {
        job: 'load_company',
        mode: 'streaming',
        run: { jobId: jobIds[0], status: 'RUNNING', validLines: 2 },
      },
    });
    // The handler recorded the run under the connector's path, generation 1, with its time.
    const recorded = runs.get(
      `/tgstream/dev/company-stream/runs/Company_Graph.load_company.${env.target}/g1`,
    );
    expect(recorded).toMatch(/^run:\d+:/);
    expect(recorded?.endsWith(`:${jobIds[0] ?? ''}`)).toBe(true);

    // Stopped, the run is no longer in SHOW LOADING STATUS ALL (active runs only): status
    // still shows it, by the id the registry holds.
    await createTigerGraphClient({ url: env.tg.url, version: 3 }).abortRun(
      'Company_Graph',
      jobIds[0] as string,
    );
    const stopped = captureIo();
    await runCli(['connector', 'status', 'company-stream'], stopped.io, deps());
    expect(stopped.stdout()).toContain(`run ${jobIds[0]} ABORTED since`);
  });

  it('says when a container is starting the run, and when that start is stale', async () => {
    const runs = store(env.config);
    const name = `/tgstream/dev/company-stream/runs/Company_Graph.load_company.${env.target}/g1`;
    runs.set(name, 'starting:req-1.ab12cd34:1700000000000');
    const { io, stdout } = captureIo();
    await runCli(['connector', 'status', 'company-stream'], io, deps());
    expect(stdout()).toContain(
      'loading job load_company (streaming) in Company_Graph: a stale start (since 2023-11-14T22:13:20.000Z): the container that was starting its run stopped before recording one',
    );
    const fresh = Date.now() - 1000;
    runs.set(name, `starting:req-1.ab12cd34:${String(fresh)}`);
    const again = captureIo();
    await runCli(['connector', 'status', 'company-stream'], again.io, deps());
    expect(again.stdout()).toContain(
      `loading job load_company (streaming) in Company_Graph: a container is starting its run (since ${new Date(fresh).toISOString()})`,
    );
  });

  it('says why when TigerGraph cannot be asked, and still reports the connector', async () => {
    store(withSettings(env.config, { 'tigergraph.url': 'http://127.0.0.1:9' }));
    const { io, stdout } = captureIo();
    expect(await runCli(['connector', 'status', 'company-stream'], io, deps())).toBe(0);
    expect(stdout()).toContain('company-stream: RUNNING (OK) mapping uuid-1\n');
    expect(stdout()).toContain(
      'loading job load_company (streaming) in Company_Graph: could not be read:',
    );
    expect(stdout()).toContain('[TIGERGRAPH_UNREACHABLE]');
  });
});
