/**
 * The end of every fault scenario: read back what landed, count it, save the report row,
 * print what the failed invocations said, and assert: nothing lost, order kept, and only the
 * records that cannot be delivered dead-lettered.
 */
import { expect } from 'vitest';
import type { KafkaRecord } from '../../lib/event/index.ts';
import { account, readLanded, type Verdict } from './accounting.ts';
import type { Delivered } from './esm.ts';
import { idOf, type FaultEnv } from './harness.ts';
import { saveRow } from './report.ts';

/** How long a scenario waits for late loads before counting (a streaming run loads on its own). */
export const SETTLE_MS = { eof: 5_000, streaming: 20_000 } as const;

export interface SettleOptions {
  /** Records that cannot be delivered and belong in the dead-letter topic. */
  readonly poison?: readonly string[];
  readonly settleMs?: number;
}

/** One line per batch that needed more than one attempt: its attempts and their errors. */
function attemptsSummary(deliveries: readonly Delivered[]): string[] {
  return deliveries.flatMap((d, i) =>
    d.errors.length === 0
      ? []
      : [
          `  batch ${i}: ${d.succeeded ? `delivered at attempt ${d.attempts}` : `GIVEN UP after ${d.attempts} attempts`}`,
          ...[...new Set(d.errors)].map(
            (e) => `    ${d.errors.filter((x) => x === e).length}x ${e}`,
          ),
        ],
  );
}

/** Counts the scenario, saves its row and prints its failed attempts; see the file comment. */
export async function settle(
  scenario: string,
  env: FaultEnv,
  sources: readonly KafkaRecord[],
  deliveries: readonly Delivered[],
  options: SettleOptions = {},
): Promise<Verdict> {
  const poison = new Set(options.poison ?? []);
  const expected = sources.map((r) => idOf(r.partition, r.offset)).filter((id) => !poison.has(id));
  const landed = await readLanded(env, expected, options.settleMs ?? SETTLE_MS.eof);
  const verdict = account(scenario, sources, landed);
  saveRow(verdict.row);
  const summary = attemptsSummary(deliveries);
  const runs = new Map<string, number>();
  for (const r of env.tg.runs()) runs.set(r.status, (runs.get(r.status) ?? 0) + 1);
  console.log(
    [
      `[faults] ${scenario}: ${JSON.stringify(verdict.row)}`,
      `  loading-job runs: ${[...runs].map(([status, n]) => `${n} ${status}`).join(', ') || 'none'}`,
      ...(summary.length > 0 ? ['  redelivered batches:', ...summary] : []),
    ].join('\n'),
  );
  return verdict;
}

/** The suite's invariants: nothing lost, order kept, and exactly the poison dead-lettered. */
export function expectNothingLost(verdict: Verdict, poison: readonly string[] = []): void {
  expect.soft(verdict.lostIds, 'records neither loaded nor dead-lettered').toEqual([]);
  expect.soft(verdict.row.lost).toBe(0);
  expect.soft(verdict.orderProblems, 'per-partition order in the target topic').toEqual([]);
  expect
    .soft(
      [...verdict.deadLetteredIds].sort(),
      'dead-lettered records (only those that cannot be delivered)',
    )
    .toEqual([...poison].sort());
}
