/**
 * The TigerGraph emulator's catalog and data: schema objects from GSQL, vertices and edges
 * in memory, and loading of lines through a job's LOAD statements with TigerGraph's
 * statistics counters. Section numbers refer to shared/reference/tigergraph-loading.md;
 * every choice the reference leaves open is marked UNDOCUMENTED here and listed in
 * lib/local/EMULATOR.md.
 *
 * Over the ~300-line aim: coercion, loading and the edge index share the stored rows; the
 * split (coercion and WHERE evaluation into files of their own) is noted in EMULATOR.md.
 */
import { LocalError } from '../errors/index.ts';
import {
  parseGsql,
  type Attribute,
  type AttributeType,
  type Condition,
  type DataSource,
  type EdgeType,
  type LoadStatement,
  type LoadingControl,
  type LoadingJob,
  type Operand,
  type ValueExpr,
  type VertexType,
} from './gsql.ts';

export type AttributeValue = string | number | boolean;

/** Object-level counters of one vertex or edge type (section 1.3). */
export interface ObjectStats {
  typeName: string;
  validObject: number;
  noIdFound: number;
  invalidAttribute: number;
  invalidPrimaryId: number;
  invalidSecondaryId: number;
  incorrectFixedBinaryLength: number;
  /** Present when a LOAD target of this type has a WHERE condition (section 1.3, aggregated keys). */
  passedCondition?: number;
  failedCondition?: number;
}
/** The flat 3.9 `/ddl` statistics (section 1.3). */
export interface LoadStats {
  validLine: number;
  rejectLine: number;
  failedConditionLine: number;
  notEnoughToken: number;
  invalidJson: number;
  oversizeToken: number;
  vertex: ObjectStats[];
  edge: ObjectStats[];
  deleteVertex: ObjectStats[];
  deleteEdge: ObjectStats[];
}

export const emptyStats = (): LoadStats => ({
  validLine: 0,
  rejectLine: 0,
  failedConditionLine: 0,
  notEnoughToken: 0,
  invalidJson: 0,
  oversizeToken: 0,
  vertex: [],
  edge: [],
  deleteVertex: [],
  deleteEdge: [],
});

const objectStats = (list: ObjectStats[], load: LoadStatement): ObjectStats => {
  let s = list.find((x) => x.typeName === load.target);
  if (!s) {
    s = {
      typeName: load.target,
      validObject: 0,
      noIdFound: 0,
      invalidAttribute: 0,
      invalidPrimaryId: 0,
      invalidSecondaryId: 0,
      incorrectFixedBinaryLength: 0,
    };
    list.push(s);
  }
  if (load.where) {
    s.passedCondition ??= 0;
    s.failedCondition ??= 0;
  }
  return s;
};

/** Missing fields load as the type's default (section 1.2). */
const DEFAULTS: Record<AttributeType, AttributeValue> = {
  STRING: '',
  INT: 0,
  UINT: 0,
  FLOAT: 0,
  DOUBLE: 0,
  BOOL: false,
  DATETIME: '1970-01-01 00:00:00',
};

/**
 * UNDOCUMENTED: the size at which a token is "oversize" (section 1.3 names the counter and
 * `OutputTokenBufferSize`, not its default). The emulator takes 16,000 bytes.
 */
export const DEFAULT_MAX_TOKEN_BYTES = 16_000;
/** The longest text JavaScript prints a number as ("-0.0000012345678901234567"). */
const LONGEST_NUMBER_TEXT = 25;

const INTEGER_RANGE = {
  INT: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT: [0n, 2n ** 64n - 1n],
} as const;
const FLOAT_MAX = 3.4028234663852886e38;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE: Readonly<Record<string, number>> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};
const DATETIME =
  /^(\d{4})([-/])(\d{2})\2(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const formatDatetime = (d: Date): string =>
  `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

/**
 * UNDOCUMENTED (INT, UINT): JSON integers and integer strings (trimmed, optional sign) in the
 * 64-bit range load; fractions ("1.5", 1.5), booleans, out-of-range values and, for UINT,
 * negative values are invalid attributes, not truncated or wrapped. Values beyond 2^53 keep
 * the JavaScript number's precision only (the emulator's own limit).
 */
function integer(type: 'INT' | 'UINT', value: unknown): number | undefined {
  // A safe integer is in INT's range; in UINT's when not negative (no BigInt needed).
  if (typeof value === 'number' && Number.isSafeInteger(value))
    return type === 'UINT' && value < 0 ? undefined : value + 0; // + 0: -0 loads as 0
  let big: bigint;
  if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
  else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) big = BigInt(value.trim());
  else return undefined;
  const [min, max] = INTEGER_RANGE[type];
  return big < min || big > max ? undefined : Number(big);
}

/**
 * UNDOCUMENTED (FLOAT, DOUBLE): JSON numbers and numeric strings load; "NaN", "Infinity",
 * "-Infinity" (and "inf", any case) load as those values (TigerStream's Avro converter writes
 * them so, DESIGN.md section 3); a FLOAT beyond the 32-bit range, or a numeric string beyond
 * the 64-bit range, is an invalid attribute.
 */
function real(type: 'FLOAT' | 'DOUBLE', value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    const special = NON_FINITE[text.toLowerCase()];
    if (special !== undefined) return special;
    if (!NUMERIC.test(text)) return undefined;
    n = Number(text);
  } else return undefined;
  if (!Number.isFinite(n) || (type === 'FLOAT' && Math.abs(n) > FLOAT_MAX)) return undefined;
  return n;
}

/**
 * UNDOCUMENTED (DATETIME): accepted are `YYYY-MM-DD`, `YYYY-MM-DD hh:mm[:ss][.fff]` with a
 * space or `T`, `/` instead of `-`, an optional `Z` or `±hh[:]mm` offset (converted to UTC:
 * TigerGraph's DATETIME has no zone, section 3), and epoch seconds as a JSON integer or a
 * digit string. Fractions of a second are dropped; impossible dates (2023-02-30, hour 24)
 * are invalid attributes. Stored and answered as `YYYY-MM-DD hh:mm:ss`.
 */
function datetime(value: unknown): string | undefined {
  const epoch =
    typeof value === 'number' && Number.isInteger(value)
      ? value
      : typeof value === 'string' && /^-?\d+$/.test(value.trim())
        ? Number(value.trim())
        : undefined;
  if (epoch !== undefined) {
    const d = new Date(epoch * 1000);
    return Number.isNaN(d.getTime()) ? undefined : formatDatetime(d);
  }
  if (typeof value !== 'string') return undefined;
  const m = DATETIME.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 3, 4, 5, 6, 7].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number];
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    year === 0
  )
    return undefined;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) as RegExpExecArray;
    const minutes = (Number(z[2]) * 60 + Number(z[3])) * (z[1] === '-' ? -1 : 1);
    d.setTime(d.getTime() - minutes * 60_000);
  }
  return formatDatetime(d);
}

/**
 * Converts one JSON value (or CSV token) to an attribute type; undefined when it does not
 * fit, which TigerGraph counts as `invalidAttribute` (section 1.3). A missing value is the
 * type's default (section 1.2).
 *
 * UNDOCUMENTED: JSON `null` never fits (TigerGraph stores no NULL, section 1.2); STRING takes
 * numbers and booleans as their JSON text and objects or arrays as compact JSON; BOOL takes
 * true/false, 1/0 and the strings "true"/"false"/"1"/"0" in any case, nothing else.
 */
export function coerce(type: AttributeType, value: unknown): AttributeValue | undefined {
  if (value === undefined) return DEFAULTS[type];
  if (value === null) return undefined;
  switch (type) {
    case 'STRING':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
    case 'INT':
    case 'UINT':
      return integer(type, value);
    case 'FLOAT':
    case 'DOUBLE':
      return real(type, value);
    case 'BOOL': {
      if (typeof value === 'boolean') return value;
      const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
      const lower = text.trim().toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      return undefined;
    }
    case 'DATETIME':
      return datetime(value);
  }
}

/** One input line, parsed once for every LOAD statement that reads its file. */
type Line =
  | { readonly kind: 'json'; readonly object: Record<string, unknown> }
  | { readonly kind: 'csv'; readonly tokens: readonly string[] };

/** `_` in VALUES: the attribute keeps its stored value (or the default on a new object). */
const SKIP = Symbol('skip');

const resolve = (line: Line, expr: ValueExpr): unknown => {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'skip':
      return SKIP;
    case 'column':
      return line.kind === 'csv' ? line.tokens[expr.index] : undefined;
    case 'field': {
      if (line.kind !== 'json') return undefined;
      let current: unknown = line.object;
      for (const key of expr.path) {
        if (typeof current !== 'object' || current === null || Array.isArray(current))
          return undefined;
        current = (current as Record<string, unknown>)[key];
      }
      return current;
    }
  }
};

/** The text a WHERE condition compares: strings as they are, other JSON as its text, missing as "". */
const textOf = (v: unknown): string => {
  if (v === undefined || v === null || v === SKIP) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
};

function operandValue(line: Line, operand: Operand): { text: string; numeric: boolean } {
  if (operand.kind === 'number') {
    const inner = operandValue(line, operand.operand);
    return { text: inner.text, numeric: true };
  }
  return { text: textOf(resolve(line, operand)), numeric: false };
}

/**
 * UNDOCUMENTED (WHERE): operands compare as numbers when both look numeric (or one is
 * `to_int`/`to_float`), else as strings; a missing field is the empty string.
 */
function holds(line: Line, c: Condition): boolean {
  switch (c.kind) {
    case 'and':
      return holds(line, c.left) && holds(line, c.right);
    case 'or':
      return holds(line, c.left) || holds(line, c.right);
    case 'not':
      return !holds(line, c.operand);
    case 'is': {
      const { text } = operandValue(line, c.operand);
      return c.test === 'EMPTY' ? text === '' : NUMERIC.test(text.trim());
    }
    case 'in': {
      const { text } = operandValue(line, c.operand);
      return c.values.some((v) => operandValue(line, v).text === text);
    }
    case 'compare': {
      const a = operandValue(line, c.left);
      const b = operandValue(line, c.right);
      const numeric =
        a.numeric || b.numeric || (NUMERIC.test(a.text.trim()) && NUMERIC.test(b.text.trim()));
      const x: number | string = numeric ? Number(a.text) : a.text;
      const y: number | string = numeric ? Number(b.text) : b.text;
      switch (c.op) {
        case '==':
          return x === y;
        case '!=':
          return x !== y;
        case '<':
          return x < y;
        case '>':
          return x > y;
        case '<=':
          return x <= y;
        case '>=':
          return x >= y;
      }
    }
  }
}

/** Splits a CSV line on `separator`; with a quote character, quoted tokens keep separators. */
function splitCsv(text: string, separator: string, quote: string | undefined): string[] {
  if (quote === undefined) return text.split(separator);
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === quote && text.charAt(i + 1) === quote) token += text.charAt(++i);
      else if (c === quote) quoted = false;
      else token += c;
    } else if (c === quote && token === '') quoted = true;
    else if (text.startsWith(separator, i)) {
      tokens.push(token);
      token = '';
      i += separator.length - 1;
    } else token += c;
  }
  tokens.push(token);
  return tokens;
}

export interface Vertex {
  readonly id: string;
  readonly attributes: Record<string, AttributeValue>;
}
/** An edge as `GET /graph/{g}/edges/...` answers it (TigerGraph's built-in endpoints). */
export interface EdgeRecord {
  readonly e_type: string;
  readonly directed: boolean;
  readonly from_type: string;
  readonly from_id: string;
  readonly to_type: string;
  readonly to_id: string;
  readonly attributes: Record<string, AttributeValue>;
}
interface StoredEdge {
  readonly from: string;
  readonly to: string;
  attributes: Record<string, AttributeValue>;
}
type Row = Record<string, AttributeValue>;

export interface GraphStoreOptions {
  /** Tokens longer than this many UTF-8 bytes count as `oversizeToken` (section 1.3). */
  readonly maxTokenBytes?: number;
}
export interface LoadOptions {
  /** CSV separator, e.g. the `/ddl` `sep` parameter (section 1.1); default the job's SEPARATOR or ",". */
  readonly separator?: string | undefined;
}
/** Runs the run-control statements (SHOW/ABORT/RESUME) for the emulator; returns output lines. */
export type LoadingControlHandler = (
  statement: LoadingControl,
  graph: string | undefined,
) => string[];

const isTrue = (v: string | undefined): boolean => (v ?? '').toLowerCase() === 'true';
const ddlError = (message: string): LocalError => new LocalError('GSQL_SEMANTIC_ERROR', message);

/** Schema, data sources, loading jobs and data of the emulator. */
export class GraphStore {
  readonly vertexTypes = new Map<string, VertexType>();
  readonly edgeTypes = new Map<string, EdgeType>();
  readonly graphs = new Map<string, Set<string>>();
  readonly dataSources = new Map<string, DataSource>();
  readonly jobs = new Map<string, LoadingJob>();
  private readonly vertices = new Map<string, Map<string, Row>>();
  private readonly edges = new Map<string, Map<string, StoredEdge>>();
  private readonly maxTokenBytes: number;

  constructor(options: GraphStoreOptions = {}) {
    this.maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  }

  /**
   * Runs GSQL; returns one message line per statement, as the GSQL shell prints. SHOW LOADING
   * STATUS, ABORT and RESUME LOADING JOB go to `control` (the emulator's runs).
   */
  runGsql(text: string, control?: LoadingControlHandler): string[] {
    const out: string[] = [];
    let graph: string | undefined;
    for (const s of parseGsql(text)) {
      switch (s.kind) {
        case 'vertex':
          this.vertexTypes.set(s.name, s);
          out.push(`Successfully created vertex types: [${s.name}].`);
          break;
        case 'edge':
          this.createEdge(s);
          out.push(`Successfully created edge types: [${s.name}].`);
          break;
        case 'graph': {
          const types = s.types.includes('*')
            ? [...this.vertexTypes.keys(), ...this.edgeTypes.keys()]
            : s.types;
          for (const t of types)
            if (!this.vertexTypes.has(t) && !this.edgeTypes.has(t))
              throw ddlError(`graph ${s.name} names type ${t}, which does not exist`);
          // A graph with a directed edge also has its reverse edge type.
          const reverse = types.flatMap((t) => this.edgeTypes.get(t)?.reverseEdge ?? []);
          this.graphs.set(s.name, new Set([...types, ...reverse]));
          out.push(`The graph ${s.name} is created.`);
          break;
        }
        case 'dataSource':
          this.dataSources.set(s.source.name, s.source);
          out.push(`Data source "${s.source.name}" is created.`);
          break;
        case 'setDataSource': {
          const existing = this.dataSources.get(s.name);
          if (!existing) throw ddlError(`data source ${s.name} does not exist`);
          this.dataSources.set(s.name, { ...existing, config: s.config });
          out.push(`Data source "${s.name}" is set.`);
          break;
        }
        case 'useGraph':
          if (s.name !== undefined && !this.graphs.has(s.name))
            throw ddlError(`graph ${s.name} does not exist`);
          graph = s.name;
          out.push(`Using graph '${s.name ?? 'global'}'`);
          break;
        case 'loadingJob': {
          const jobGraph = s.forGraph ?? graph;
          if (jobGraph === undefined)
            throw ddlError(`loading job ${s.job.name} needs FOR GRAPH or a preceding USE GRAPH`);
          this.checkJob({ ...s.job, graph: jobGraph });
          this.jobs.set(s.job.name, { ...s.job, graph: jobGraph });
          out.push(`Successfully created loading jobs: [${s.job.name}].`);
          break;
        }
        case 'loadingControl':
          if (!control)
            throw new LocalError(
              'GSQL_NOT_SUPPORTED',
              'RUN LOADING JOB, SHOW LOADING STATUS, ABORT and RESUME LOADING JOB need the emulator, not the store alone',
            );
          out.push(...control(s, graph));
          break;
      }
    }
    return out;
  }

  private createEdge(s: EdgeType): void {
    for (const end of [s.from, s.to])
      if (!this.vertexTypes.has(end))
        throw ddlError(`edge ${s.name} refers to vertex type ${end}, which does not exist`);
    this.edgeTypes.set(s.name, s);
    // WITH REVERSE_EDGE: a directed type from the target to the source, loaded with each edge.
    if (s.reverseEdge !== undefined)
      this.edgeTypes.set(s.reverseEdge, {
        kind: 'edge',
        name: s.reverseEdge,
        directed: true,
        from: s.to,
        to: s.from,
        attributes: s.attributes,
      });
  }

  private checkJob(job: LoadingJob): void {
    const members = this.graphs.get(job.graph);
    if (!members)
      throw ddlError(`loading job ${job.name} is for graph ${job.graph}, which does not exist`);
    const usingByFile = new Map<string, string>();
    for (const load of job.loads) {
      const where = `loading job ${job.name}, LOAD ${load.filename} TO ${load.targetKind.toUpperCase()} ${load.target}`;
      const type =
        load.targetKind === 'vertex'
          ? this.vertexTypes.get(load.target)
          : this.edgeTypes.get(load.target);
      if (!members.has(load.target) || !type)
        throw ddlError(`${where}: ${load.target} is not a ${load.targetKind} type of ${job.graph}`);
      // UNDOCUMENTED (in the reference): VALUES must give the id(s) and every attribute.
      const expected = type.attributes.length + (type.kind === 'vertex' ? 1 : 2);
      if (load.values.length !== expected)
        throw ddlError(
          `${where}: VALUES has ${load.values.length} values, the type takes ${expected}`,
        );
      // All LOAD statements reading one source share one USING clause (section 1.2).
      const using = JSON.stringify(Object.entries(load.using).sort());
      if ((usingByFile.get(load.filename) ?? using) !== using)
        throw ddlError(`${where}: every LOAD of ${load.filename} must have the same USING clause`);
      usingByFile.set(load.filename, using);
      const json = isTrue(load.using.JSON_FILE);
      const kinds = [...load.values.map((v) => v.kind)];
      if (json && kinds.includes('column'))
        throw ddlError(`${where}: a JSON_FILE job reads $"field", not positional $n`);
      if (!json && kinds.includes('field'))
        throw ddlError(
          `${where}: the emulator reads CSV by position ($0, $1, ...) only; for $"name" add USING JSON_FILE="true"`,
        );
      if (!json && isTrue(load.using.HEADER))
        throw ddlError(`${where}: the emulator does not support HEADER="true"`);
    }
  }

  /**
   * Loads lines through the LOAD statements of `job` that read `filename`, counting as
   * section 1.3 describes: a file-level error skips the line for every LOAD; an object-level
   * error drops that object only.
   *
   * UNDOCUMENTED: `rejectLine` counts every line rejected at file level (invalidJson,
   * notEnoughToken, oversizeToken), not only REJECT_LINE_RULES; blank lines are skipped
   * uncounted; `failedConditionLine` counts a line when every LOAD target reading it has a
   * WHERE condition and all of them failed (the line is still a `validLine`); a target's WHERE
   * is evaluated before its primary id and attributes, so a filtered object is never also
   * counted as noIdFound or invalidAttribute.
   */
  loadLines(
    jobName: string,
    filename: string,
    lines: Iterable<string>,
    stats: LoadStats = emptyStats(),
    options: LoadOptions = {},
  ): LoadStats {
    const job = this.jobs.get(jobName);
    if (!job) throw new LocalError('TG_JOB_NOT_FOUND', `loading job ${jobName} does not exist`);
    const loads = job.loads.filter((l) => l.filename === filename);
    const using = loads[0]?.using ?? {};
    const json = isTrue(using.JSON_FILE);
    const separator = options.separator ?? using.SEPARATOR ?? ',';
    const quote =
      using.QUOTE?.toLowerCase() === 'double'
        ? '"'
        : using.QUOTE?.toLowerCase() === 'single'
          ? "'"
          : undefined;
    const columns = Math.max(
      -1,
      ...loads.flatMap((l) => l.values.map((v) => (v.kind === 'column' ? v.index : -1))),
    );
    for (const text of lines) {
      if (text.trim() === '') continue;
      const line = json
        ? this.parseJson(text)
        : { kind: 'csv' as const, tokens: splitCsv(text, separator, quote) };
      if (!line) {
        stats.invalidJson++;
        stats.rejectLine++;
        continue;
      }
      if (line.kind === 'csv' && line.tokens.length <= columns) {
        stats.notEnoughToken++;
        stats.rejectLine++;
        continue;
      }
      const values = loads.map((l) => l.values.map((v) => resolve(line, v)));
      if (values.some((row) => row.some((v) => this.oversize(v)))) {
        stats.oversizeToken++;
        stats.rejectLine++;
        continue;
      }
      stats.validLine++;
      let failed = 0;
      for (const [i, load] of loads.entries()) {
        const target = objectStats(load.targetKind === 'vertex' ? stats.vertex : stats.edge, load);
        if (load.where) {
          if (!holds(line, load.where)) {
            target.failedCondition = (target.failedCondition ?? 0) + 1;
            failed++;
            continue;
          }
          target.passedCondition = (target.passedCondition ?? 0) + 1;
        }
        const row = values[i] as unknown[];
        if (load.targetKind === 'vertex') this.loadVertex(load.target, row, target);
        else this.loadEdge(load.target, row, target);
      }
      if (failed > 0 && failed === loads.length) stats.failedConditionLine++;
    }
    return stats;
  }

  /** Whether a token's text is over maxTokenBytes (a string short enough is not measured). */
  private oversize(v: unknown): boolean {
    if (typeof v === 'string' && v.length * 3 <= this.maxTokenBytes) return false;
    if (typeof v === 'number' && this.maxTokenBytes >= LONGEST_NUMBER_TEXT) return false;
    return Buffer.byteLength(textOf(v)) > this.maxTokenBytes;
  }

  private parseJson(text: string): Line | undefined {
    try {
      const parsed: unknown = JSON.parse(text);
      // Each line must be one JSON object (section 1.2).
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? { kind: 'json', object: parsed as Record<string, unknown> }
        : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A primary id, or the counter it fails: missing or empty is `noIdFound`, one that does
   * not fit the id type `invalidPrimaryId` (section 1.3). UNDOCUMENTED: JSON null counts as
   * missing.
   */
  private primaryId(
    type: VertexType,
    value: unknown,
  ): { id: string } | { counter: 'noIdFound' | 'invalidPrimaryId' } {
    if (value === undefined || value === null || value === '' || value === SKIP)
      return { counter: 'noIdFound' };
    const id = coerce(type.primaryId.type, value);
    return id === undefined ? { counter: 'invalidPrimaryId' } : { id: String(id) };
  }

  private loadVertex(typeName: string, values: unknown[], stats: ObjectStats): void {
    const type = this.vertexTypes.get(typeName) as VertexType;
    const id = this.primaryId(type, values[0]);
    if ('counter' in id) {
      stats[id.counter]++;
      return;
    }
    const table = this.table(this.vertices, typeName);
    const attributes = this.attributes(type.attributes, values.slice(1), table.get(id.id));
    if (!attributes) {
      stats.invalidAttribute++;
      return;
    }
    if (type.primaryIdAsAttribute)
      attributes[type.primaryId.name] = coerce(type.primaryId.type, id.id) as AttributeValue;
    // Upsert on the primary id: a later line replaces the attributes it loads.
    table.set(id.id, attributes);
    stats.validObject++;
  }

  private loadEdge(typeName: string, values: unknown[], stats: ObjectStats): void {
    const type = this.edgeTypes.get(typeName) as EdgeType;
    const ends = [
      this.primaryId(this.vertexTypes.get(type.from) as VertexType, values[0]),
      this.primaryId(this.vertexTypes.get(type.to) as VertexType, values[1]),
    ];
    // UNDOCUMENTED: an edge end that is missing counts as noIdFound, one that does not fit its
    // vertex type's id as invalidPrimaryId (section 1.3 names the counters for vertices).
    const bad = ends.find((e) => 'counter' in e);
    if (bad && 'counter' in bad) {
      stats[bad.counter]++;
      return;
    }
    const [from, to] = ends.map((e) => ('id' in e ? e.id : '')) as [string, string];
    const table = this.table(this.edges, typeName);
    const key = this.edgeKey(type, from, to);
    const attributes = this.attributes(
      type.attributes,
      values.slice(2),
      table.get(key)?.attributes,
    );
    if (!attributes) {
      stats.invalidAttribute++;
      return;
    }
    // Missing end vertices are created with default attributes, as the upsert endpoint's
    // vertex_must_exist=false does (section 3).
    for (const [vertexType, id] of [
      [type.from, from],
      [type.to, to],
    ] as const) {
      const vertices = this.table(this.vertices, vertexType);
      if (!vertices.has(id)) {
        const vt = this.vertexTypes.get(vertexType) as VertexType;
        const row = this.attributes(vt.attributes, [], undefined) ?? {};
        if (vt.primaryIdAsAttribute)
          row[vt.primaryId.name] = coerce(vt.primaryId.type, id) as AttributeValue;
        vertices.set(id, row);
      }
    }
    const stored = table.get(key);
    if (stored) stored.attributes = attributes;
    else table.set(key, { from, to, attributes });
    if (type.reverseEdge !== undefined) {
      const reverse = this.table(this.edges, type.reverseEdge);
      reverse.set(`${to}\u0000${from}`, { from: to, to: from, attributes: { ...attributes } });
    }
    stats.validObject++;
  }

  /**
   * One key per edge: (from, to) for directed edges. UNDOCUMENTED: an UNDIRECTED edge between
   * two vertices of one type is one edge whichever end a line names first (it keeps the
   * orientation it was first loaded with).
   */
  private edgeKey(type: EdgeType, from: string, to: string): string {
    if (!type.directed && type.from === type.to && to < from) return `${to}\u0000${from}`;
    return `${from}\u0000${to}`;
  }

  private table<T>(tables: Map<string, Map<string, T>>, name: string): Map<string, T> {
    let table = tables.get(name);
    if (!table) {
      table = new Map<string, T>();
      tables.set(name, table);
    }
    return table;
  }

  private attributes(
    declared: readonly Attribute[],
    values: unknown[],
    existing: Row | undefined,
  ): Row | undefined {
    const result: Row = {};
    for (let i = 0; i < declared.length; i++) {
      const attr = declared[i] as Attribute;
      const raw = values[i];
      const kept = raw === SKIP ? existing?.[attr.name] : undefined;
      const v = kept ?? coerce(attr.type, raw === SKIP ? undefined : raw);
      if (v === undefined) return undefined;
      result[attr.name] = v;
    }
    return result;
  }

  private member(graph: string, typeName: string, kind: 'vertex' | 'edge'): void {
    const members = this.graphs.get(graph);
    if (!members) throw new LocalError('TG_GRAPH_NOT_FOUND', `graph ${graph} does not exist`);
    const known = kind === 'vertex' ? this.vertexTypes.has(typeName) : this.edgeTypes.has(typeName);
    if (!members.has(typeName) || !known)
      throw new LocalError(
        kind === 'vertex' ? 'TG_VERTEX_TYPE_NOT_FOUND' : 'TG_EDGE_TYPE_NOT_FOUND',
        `${kind} type ${typeName} is not in graph ${graph}`,
      );
  }

  /**
   * One vertex by id, or undefined: a look-up, not a scan (`GET /graph/{g}/vertices/{type}/{id}`
   * is how the latency bench polls, hundreds of times a second on a graph of 100,000s).
   */
  getVertex(graph: string, typeName: string, id: string): Vertex | undefined {
    this.member(graph, typeName, 'vertex');
    const attributes = this.vertices.get(typeName)?.get(id);
    return attributes === undefined ? undefined : { id, attributes };
  }

  /** Vertices of a type in a graph, in insertion order. */
  listVertices(graph: string, typeName: string): Vertex[] {
    this.member(graph, typeName, 'vertex');
    return [...(this.vertices.get(typeName) ?? new Map<string, Row>()).entries()].map(
      ([id, attributes]) => ({ id, attributes }),
    );
  }

  /**
   * The edges of one vertex, as `GET /graph/{g}/edges/{srcType}/{srcId}[/{edgeType}
   * [/{tgtType}[/{tgtId}]]]` lists them (TigerGraph's built-in endpoints; `_` is any edge
   * type). UNDOCUMENTED: a directed edge is listed from its source only (its reverse edge,
   * if any, from the target); an undirected edge from either end, with the asked vertex as
   * `from`.
   */
  listEdges(
    graph: string,
    sourceType: string,
    sourceId: string,
    filter: { edgeType?: string; targetType?: string; targetId?: string } = {},
  ): EdgeRecord[] {
    this.member(graph, sourceType, 'vertex');
    const source = this.vertexTypes.get(sourceType) as VertexType;
    const coerced = coerce(source.primaryId.type, sourceId);
    const id = coerced === undefined ? sourceId : String(coerced);
    if (coerced === undefined || !this.vertices.get(sourceType)?.has(id))
      throw new LocalError(
        'TG_VERTEX_NOT_FOUND',
        `vertex ${sourceType} ${JSON.stringify(sourceId)} does not exist in graph ${graph}`,
      );
    const anyType = filter.edgeType === undefined || filter.edgeType === '_';
    if (!anyType) this.member(graph, filter.edgeType as string, 'edge');
    let targetId = filter.targetId;
    if (filter.targetType !== undefined) {
      this.member(graph, filter.targetType, 'vertex');
      const target = this.vertexTypes.get(filter.targetType) as VertexType;
      if (targetId !== undefined) {
        const t = coerce(target.primaryId.type, targetId);
        targetId = t === undefined ? targetId : String(t);
      }
    }
    const members = this.graphs.get(graph) as Set<string>;
    const out: EdgeRecord[] = [];
    for (const [name, type] of this.edgeTypes) {
      if (!members.has(name) || (!anyType && name !== filter.edgeType)) continue;
      for (const edge of this.edges.get(name)?.values() ?? []) {
        const ends: [string, string, string, string][] = [];
        if (type.from === sourceType && edge.from === id)
          ends.push([type.from, edge.from, type.to, edge.to]);
        if (
          !type.directed &&
          type.to === sourceType &&
          edge.to === id &&
          !(type.from === type.to && edge.from === edge.to)
        )
          ends.push([type.to, edge.to, type.from, edge.from]);
        for (const [fromType, fromId, toType, toId] of ends) {
          if (filter.targetType !== undefined && toType !== filter.targetType) continue;
          if (targetId !== undefined && toId !== targetId) continue;
          out.push({
            e_type: name,
            directed: type.directed,
            from_type: fromType,
            from_id: fromId,
            to_type: toType,
            to_id: toId,
            attributes: { ...edge.attributes },
          });
        }
      }
    }
    return out;
  }

  countEdges(typeName: string): number {
    return this.edges.get(typeName)?.size ?? 0;
  }
}
