/**
 * The fault suite's report: each scenario saves its row as it ends, into this run's own
 * directory (global-setup.ts provides it; other vitest runs in the same tree have theirs); the
 * global teardown gathers the rows into reports/faults.json and prints them as a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where this run's scenario rows go (one file each; test files run in worker processes). */
    faultsRowsDir: string;
  }
}

/** One scenario's outcome, counted per source record (see accounting.ts). */
export interface FaultRow {
  readonly scenario: string;
  readonly records: number;
  readonly loaded: number;
  readonly deadLettered: number;
  readonly duplicates: number;
  readonly lost: number;
}

export const REPORTS_DIR = resolve(import.meta.dirname, '../../reports');
export const REPORT_PATH = join(REPORTS_DIR, 'faults.json');
/** Parent of each run's rows directory. */
export const ROWS_ROOT = join(REPORTS_DIR, '.faults');

let saved = 0;

/** Saves a scenario's row for the report, in the order scenarios end. */
export function saveRow(row: FaultRow): void {
  const dir = inject('faultsRowsDir');
  mkdirSync(dir, { recursive: true });
  const name = `${String(Date.now())}-${String(process.pid)}-${String(++saved).padStart(3, '0')}.json`;
  writeFileSync(join(dir, name), JSON.stringify(row));
}

const COLUMNS = ['scenario', 'records', 'loaded', 'deadLettered', 'duplicates', 'lost'] as const;

/** The rows as a plain-text table, numbers right-aligned. */
export function formatTable(rows: readonly FaultRow[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => String(r[c])));
  const widths = COLUMNS.map((c, i) =>
    Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0)))
      .join(' | ');
  return [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join(
    '\n',
  );
}
