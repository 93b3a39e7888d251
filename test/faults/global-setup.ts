/**
 * Vitest global setup: gives this run a directory of its own for the fault scenarios' rows
 * (other vitest runs in the same tree get theirs), and after the tests, when fault scenarios
 * ran, writes reports/faults.json and prints the table. A run without fault scenarios leaves
 * the report alone.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPORT_PATH, ROWS_ROOT, formatTable, type FaultRow } from './report.ts';

export function setup(project: TestProject): () => void {
  const dir = join(ROWS_ROOT, `${String(process.pid)}-${String(Date.now())}`);
  project.provide('faultsRowsDir', dir);
  return () => {
    if (!existsSync(dir)) return;
    const rows = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FaultRow);
    rmSync(dir, { recursive: true, force: true });
    if (rows.length === 0) return;
    writeFileSync(REPORT_PATH, `${JSON.stringify(rows, null, 2)}\n`);
    console.log(`\nFault suite (${REPORT_PATH}):\n${formatTable(rows)}\n`);
  };
}
