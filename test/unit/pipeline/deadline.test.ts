/** The Lambda deadline and EOF runs: no run the time left cannot cover; given-up runs aborted. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/observability/index.ts';
import {
  ABORT_TIMEOUT_MS,
  FIRST_RUN_ESTIMATE_MS,
  abortGivenUp,
  checkTimeForRun,
  createRunTimes,
} from '../../../lib/pipeline/deadline.ts';
import type { Loader, PipelineDeps } from '../../../lib/pipeline/common.ts';
import { FakeDelivery, FakeTigerGraph, testConfig } from '../../helpers/fakes.ts';

const logged = () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { logger, lines };
};
const depsAt = (now: number, deadline: number | undefined, runTimes = createRunTimes()) => {
  const delivery = new FakeDelivery({});
  return {
    config: testConfig(),
    converter: undefined as never,
    delivery,
    logger: logged().logger,
    now: () => now,
    ...(deadline === undefined ? {} : { deadline }),
    runTimes,
  } as unknown as PipelineDeps;
};

describe('the time an EOF run is taken to need', () => {
  it('is the first estimate until a run finished, then the longest of the last twenty', () => {
    const t = createRunTimes();
    expect(t.estimateMs()).toBe(FIRST_RUN_ESTIMATE_MS);
    t.record(800);
    t.record(1200);
    t.record(900);
    expect(t.estimateMs()).toBe(1200);
    for (let i = 0; i < 20; i++) t.record(100);
    expect(t.estimateMs()).toBe(100);
  });

  it('refuses to start a run the time left cannot cover, with a retriable coded error', () => {
    const error = (() => {
      try {
        checkTimeForRun(depsAt(10_000, 10_000 + FIRST_RUN_ESTIMATE_MS - 1), 'load_company');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({
      code: 'TIGERGRAPH_DEADLINE_TOO_CLOSE',
      retriable: true,
      details: {
        job: 'load_company',
        leftMs: FIRST_RUN_ESTIMATE_MS - 1,
        neededMs: FIRST_RUN_ESTIMATE_MS,
      },
    });
    expect((error as Error).message).toContain("Raise the function's timeout");
    // Enough time, or no deadline at all (tgstream run without a timeout): no error.
    expect(() =>
      checkTimeForRun(depsAt(10_000, 10_000 + FIRST_RUN_ESTIMATE_MS), 'j'),
    ).not.toThrow();
    expect(() => checkTimeForRun(depsAt(10_000, undefined), 'j')).not.toThrow();
    // A container that has seen short runs starts one closer to the deadline.
    const seen = createRunTimes();
    seen.record(300);
    expect(() => checkTimeForRun(depsAt(0, 400, seen), 'j')).not.toThrow();
    expect(() => checkTimeForRun(depsAt(0, 299, seen), 'j')).toThrow(/299 ms are left/);
  });
});

describe('a run given up at the deadline', () => {
  const loaderWith = (abort: FakeTigerGraph['abortRun']): Loader => {
    const tg = new FakeTigerGraph(new FakeDelivery({}));
    tg.abortRun = abort;
    return { client: tg, settings: testConfig().tigergraph as Loader['settings'] };
  };

  it('is aborted with a timeout of its own, even after the handler signal fired', async () => {
    const calls: { graph: string; id: string; signal: AbortSignal | undefined }[] = [];
    const loader = loaderWith((graph, id, signal) => {
      calls.push({ graph, id, signal });
      return Promise.resolve();
    });
    const { logger, lines } = logged();
    await expect(abortGivenUp({ ...depsAt(0, 1), logger }, loader, ['r1', 'r2'])).resolves.toEqual({
      aborted: ['r1', 'r2'],
      notAborted: [],
    });
    expect(calls.map((c) => [c.graph, c.id])).toEqual([
      [loader.settings.graph, 'r1'],
      [loader.settings.graph, 'r2'],
    ]);
    expect(calls[0]?.signal?.aborted).toBe(false);
    expect(ABORT_TIMEOUT_MS).toBeLessThan(2000); // inside the handler's default 2 s margin
    expect(
      lines.filter(
        (l) => l.message === 'Aborted the loading run given up at the invocation deadline',
      ),
    ).toHaveLength(2);
  });

  it('a failed abort is logged with the run id and returned as not aborted, not thrown', async () => {
    const loader = loaderWith(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const { logger, lines } = logged();
    await expect(abortGivenUp({ ...depsAt(0, 1), logger }, loader, ['r9'])).resolves.toEqual({
      aborted: [],
      notAborted: ['r9'],
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'Could not abort the loading run given up at the invocation deadline',
        jobId: 'r9',
        error: 'connect ECONNREFUSED',
      }),
    );
  });
});
