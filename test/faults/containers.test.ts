/**
 * Fault suite, Lambda containers: one killed in the middle of a batch (the batch is delivered
 * again to a new container), two containers streaming the same connector at once, and a
 * container recycled mid-stream (streaming runs, shared through the run registry as SSM does).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  aroundSend,
  sourceRecords,
  startFaultEnv,
  type Containers,
  type FaultEnv,
} from './harness.ts';
import { batchesOf, deliver, stream } from './esm.ts';
import { SETTLE_MS, expectNothingLost, settle } from './scenario.ts';

const SCENARIO_TIMEOUT_MS = 120_000;

let env: FaultEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

/** What a container's runtime dying looks like from inside the handler. */
class ContainerKilled extends Error {}

describe('fault suite: Lambda containers', () => {
  it(
    'the handler killed mid-batch and the batch delivered again',
    async () => {
      env = await startFaultEnv();
      const e = env;
      const sources = sourceRecords(e, 25);
      let killDuringProduce = false;
      let killWhileWaiting = false;
      const containers: Containers = e.containers({
        // Killed half-way through the produce: the first half of the batch is in the target.
        delivery: aroundSend(async (send, records) => {
          if (!killDuringProduce) return send();
          killDuringProduce = false;
          await send(records.slice(0, Math.ceil(records.length / 2)));
          containers.kill();
          throw new ContainerKilled('the container died while producing');
        }),
        // Killed while its EOF run loads: the run goes on without it.
        tigergraph: (inner) => ({
          ...inner,
          getProgress: (graph, jobId, signal) => {
            if (!killWhileWaiting) return inner.getProgress(graph, jobId, signal);
            killWhileWaiting = false;
            containers.kill();
            return Promise.reject(new ContainerKilled('the container died waiting for its run'));
          },
        }),
      });
      const deliveries = await stream(e, containers, batchesOf(sources, 15), (i) => ({
        before: (attempt) => {
          if (attempt !== 1) return;
          killDuringProduce = i === 1;
          killWhileWaiting = i === 3;
        },
      }));
      const verdict = await settle('handler killed mid-batch', e, sources, deliveries);
      expect(containers.started(), 'a new container after each kill').toBe(3);
      expectNothingLost(verdict);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'two containers streaming the same connector at once',
    async () => {
      env = await startFaultEnv();
      const e = env;
      const sources = sourceRecords(e, 30);
      const [a, b] = [e.containers(), e.containers()];
      // The mapping's pollers: one has partitions 0 and 2, the other partition 1; each batch
      // of partition 1's last ten is handed to both at once, as a rebalance can.
      const ofA = sources.filter((r) => r.partition !== 1);
      const ofB = sources.filter((r) => r.partition === 1);
      const handedOver = ofB.slice(-10);
      const deliveries = (
        await Promise.all([
          stream(e, a, batchesOf(ofA, 10)),
          stream(e, b, batchesOf(ofB.slice(0, -10), 5)),
        ])
      ).flat();
      deliveries.push(
        ...(await Promise.all([deliver(e, a, handedOver), deliver(e, b, handedOver)])),
      );
      expectNothingLost(await settle('two containers at once', e, sources, deliveries));
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a container recycled mid-stream (streaming run)',
    async () => {
      env = await startFaultEnv({ settings: { 'tigergraph.loading.eof': 'false' } });
      const e = env;
      const sources = sourceRecords(e, 25);
      const containers = e.containers();
      const deliveries = await stream(e, containers, batchesOf(sources, 15), (i) => ({
        before: async (attempt) => {
          // Lambda shuts the container down between invocations; the next one starts cold.
          if (attempt === 1 && (i === 2 || i === 4)) await containers.recycle();
        },
      }));
      const verdict = await settle('container recycled mid-stream', e, sources, deliveries, {
        settleMs: SETTLE_MS.streaming,
      });
      expect(containers.started()).toBe(3);
      expect(
        e.tg.runs().filter((r) => r.status === 'RUNNING'),
        'one streaming run, adopted by each new container',
      ).toHaveLength(1);
      expectNothingLost(verdict);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
