/**
 * Loading statistics: TigerGraph's counters (reference section 1.3) summed into the counts
 * TigerStream accounts with.
 */

/** Counters summed over a response's statistics, in both documented shapes. */
export interface LoadCounts {
  readonly validLines: number;
  readonly rejectedLines: number;
  readonly validObjects: number;
  readonly rejectedObjects: number;
  /** Objects a WHERE condition of the job left out (`failedCondition`): not rejections. */
  readonly filteredObjects: number;
}
/** Counts of nothing loaded. */
export const NO_COUNTS: LoadCounts = Object.freeze({
  validLines: 0,
  rejectedLines: 0,
  validObjects: 0,
  rejectedObjects: 0,
  filteredObjects: 0,
});

/** The sum of two sets of counts. */
export const addLoadCounts = (a: LoadCounts, b: LoadCounts): LoadCounts => ({
  validLines: a.validLines + b.validLines,
  rejectedLines: a.rejectedLines + b.rejectedLines,
  validObjects: a.validObjects + b.validObjects,
  rejectedObjects: a.rejectedObjects + b.rejectedObjects,
  filteredObjects: a.filteredObjects + b.filteredObjects,
});

const FILE_VALID = new Set(['validLine']);
/** Object counters that are not rejections: a failed WHERE condition is the job's own filter. */
const OBJECT_NOT_REJECTED = new Set([
  'validObject',
  'passedCondition',
  'failedCondition',
  'typeName',
]);
const FILE_IGNORED = new Set([
  'validLine',
  'vertex',
  'edge',
  'deleteVertex',
  'deleteEdge',
  'parsingStatistics',
  'fileLevel',
  'objectLevel',
  'lineData',
  'invalidAttributeLinesData',
]);

/** A finite number, or 0. */
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Sums TigerGraph statistics. Accepts the flat 3.9 `/ddl` shape
 * (`{validLine, rejectLine, invalidJson, ..., vertex:[...], edge:[...]}`) and the aggregated
 * shape (`{fileLevel:{...}, objectLevel:{vertex:[...], edge:[...]}}`, also under
 * `parsingStatistics`). Any non-zero counter other than valid ones counts as rejected,
 * as TigerGraph's own Spark connector does, except lines and objects a WHERE condition of the
 * loading job filtered out (`failedConditionLine`, `failedCondition`): that is the job's intent.
 */
export function sumStatistics(statistics: unknown): LoadCounts {
  const s = (statistics ?? {}) as Record<string, unknown>;
  const inner = (s.parsingStatistics ?? s) as Record<string, unknown>;
  const fileLevel = (inner.fileLevel ?? inner) as Record<string, unknown>;
  const objectLevel = (inner.objectLevel ?? inner) as Record<string, unknown>;
  let validLines = 0;
  let rejectedLines = 0;
  for (const [k, v] of Object.entries(fileLevel)) {
    if (FILE_VALID.has(k)) validLines += num(v);
    else if (!FILE_IGNORED.has(k) && k !== 'failedConditionLine' && k !== 'rejectLine')
      rejectedLines += num(v);
  }
  // rejectLine counts lines that other file-level counters (invalidJson, ...) already count.
  rejectedLines = Math.max(rejectedLines, num(fileLevel.rejectLine));
  let validObjects = 0;
  let rejectedObjects = 0;
  let filteredObjects = 0;
  for (const kind of ['vertex', 'edge']) {
    const list = objectLevel[kind];
    if (!Array.isArray(list)) continue;
    for (const o of list as Record<string, unknown>[]) {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'validObject') validObjects += num(v);
        else if (k === 'failedCondition') filteredObjects += num(v);
        else if (!OBJECT_NOT_REJECTED.has(k)) rejectedObjects += num(v);
      }
    }
  }
  return { validLines, rejectedLines, validObjects, rejectedObjects, filteredObjects };
}
