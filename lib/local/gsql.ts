/**
 * The GSQL subset the TigerGraph emulator understands: CREATE VERTEX / EDGE (DIRECTED,
 * UNDIRECTED, WITH REVERSE_EDGE) / GRAPH, CREATE DATA_SOURCE KAFKA (and SET), USE GRAPH,
 * CREATE LOADING JOB with DEFINE FILENAME and LOAD ... TO VERTEX|EDGE ... VALUES ($"field",
 * $"a":"b", $0, "literal", _) [WHERE condition] USING ..., and the run-control commands
 * RUN LOADING JOB [-noprint ...] job [USING f="...", EOF="..."], SHOW LOADING STATUS, ABORT
 * LOADING JOB, RESUME LOADING JOB, SHOW JOB (reference section 2.1).
 */
import { LocalError } from '../errors/index.ts';

export const ATTRIBUTE_TYPES = [
  'STRING',
  'INT',
  'UINT',
  'FLOAT',
  'DOUBLE',
  'BOOL',
  'DATETIME',
] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface Attribute {
  readonly name: string;
  readonly type: AttributeType;
}
export interface VertexType {
  readonly kind: 'vertex';
  readonly name: string;
  readonly primaryId: Attribute;
  /** Attributes after the primary id, in declaration order. */
  readonly attributes: readonly Attribute[];
  /** `primary_id x` is not stored as an attribute unless WITH primary_id_as_attribute="true". */
  readonly primaryIdAsAttribute: boolean;
}
export interface EdgeType {
  readonly kind: 'edge';
  readonly name: string;
  readonly directed: boolean;
  readonly from: string;
  readonly to: string;
  readonly attributes: readonly Attribute[];
  /** `WITH REVERSE_EDGE="name"` on a DIRECTED edge: the reverse type loaded with each edge. */
  readonly reverseEdge?: string | undefined;
}
/** One value expression of a LOAD statement: a JSON field path, a CSV column, a literal, `_`. */
export type ValueExpr =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'column'; readonly index: number }
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'skip' };
export const COMPARISONS = ['==', '!=', '<', '>', '<=', '>='] as const;
export type Comparison = (typeof COMPARISONS)[number];
/** An operand of a WHERE condition: a value, or `to_int(...)` / `to_float(...)` of one. */
export type Operand = ValueExpr | { readonly kind: 'number'; readonly operand: Operand };
/** The WHERE condition of a LOAD target. */
export type Condition =
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly operand: Condition }
  | {
      readonly kind: 'compare';
      readonly op: Comparison;
      readonly left: Operand;
      readonly right: Operand;
    }
  | { readonly kind: 'in'; readonly operand: Operand; readonly values: readonly Operand[] }
  | { readonly kind: 'is'; readonly operand: Operand; readonly test: 'NUMERIC' | 'EMPTY' };
export interface LoadStatement {
  readonly filename: string;
  readonly targetKind: 'vertex' | 'edge';
  readonly target: string;
  readonly values: readonly ValueExpr[];
  readonly where?: Condition | undefined;
  readonly using: Readonly<Record<string, string>>;
}
/** SHOW LOADING STATUS / ABORT / RESUME LOADING JOB (`jobId` undefined is ALL), RUN, SHOW JOB. */
export type LoadingControl =
  | {
      readonly kind: 'loadingControl';
      readonly action: 'show' | 'abort' | 'resume';
      readonly jobId: string | undefined;
    }
  | RunLoadingJob
  | {
      readonly kind: 'loadingControl';
      /** `SHOW JOB <job>`: the job's definition. */
      readonly action: 'showJob';
      readonly job: string;
    };
/** `RUN LOADING JOB [-options] job [USING name="value", ...]` (section 2.1). */
export interface RunLoadingJob {
  readonly kind: 'loadingControl';
  readonly action: 'run';
  readonly job: string;
  /** Options as written, lower-cased without the dash (`noprint`, `dryrun`, `n`, ...). */
  readonly options: Readonly<Record<string, string>>;
  /** USING clauses by name as written (filename variables, EOF, CONCURRENCY, BATCH_SIZE). */
  readonly using: Readonly<Record<string, string>>;
}
/** RUN LOADING JOB options that take a value (section 2.1). */
const RUN_OPTIONS_WITH_VALUE = new Set(['n', 'max_percent_error', 'max_error']);
export interface LoadingJob {
  readonly name: string;
  readonly graph: string;
  /** filename variable → its DEFINE FILENAME value ('' when none). */
  readonly filenames: Readonly<Record<string, string>>;
  readonly loads: readonly LoadStatement[];
}
export interface DataSource {
  readonly name: string;
  readonly type: 'KAFKA';
  readonly config: string;
  readonly graph: string | undefined;
}
export type Statement =
  | VertexType
  | EdgeType
  | { readonly kind: 'graph'; readonly name: string; readonly types: readonly string[] }
  | { readonly kind: 'dataSource'; readonly source: DataSource }
  | { readonly kind: 'setDataSource'; readonly name: string; readonly config: string }
  | { readonly kind: 'useGraph'; readonly name: string | undefined }
  | LoadingControl
  | {
      readonly kind: 'loadingJob';
      readonly job: LoadingJob;
      readonly forGraph: string | undefined;
    };

type Token =
  | { t: 'word'; v: string; line: number }
  | { t: 'string'; v: string; line: number }
  | { t: 'field'; v: string; line: number }
  | { t: 'column'; v: string; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'number'; v: string; line: number };

const gsqlError = (line: number, message: string): LocalError =>
  new LocalError('GSQL_SYNTAX_ERROR', `GSQL line ${line}: ${message}`, { details: { line } });

function readQuoted(text: string, start: number, line: number): { value: string; end: number } {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      value += text.charAt(++i);
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else {
      value += c ?? '';
    }
  }
  throw gsqlError(line, 'a string is not closed with "');
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length;) {
    const c = text[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (
      c === '#' ||
      (c === '/' && text[i + 1] === '/') ||
      (c === '-' && text[i + 1] === '-')
    ) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      line += text.slice(i, stop).split('\n').length - 1;
      i = stop;
    } else if (c === '"') {
      const { value, end } = readQuoted(text, i, line);
      tokens.push({ t: 'string', v: value, line });
      i = end;
    } else if (c === '$' && text[i + 1] === '"') {
      const { value, end } = readQuoted(text, i + 1, line);
      tokens.push({ t: 'field', v: value, line });
      i = end;
    } else if (c === '$' && /[0-9]/.test(text[i + 1] ?? '')) {
      const m = /^[0-9]+/.exec(text.slice(i + 1)) as RegExpExecArray;
      tokens.push({ t: 'column', v: m[0], line });
      i += 1 + m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      // Dotted words are loading-job ids (`G.job.kafka.m1.1700000000000`, reference section 2.1).
      const m = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/.exec(
        text.slice(i),
      ) as RegExpExecArray;
      tokens.push({ t: 'word', v: m[0], line });
      i += m[0].length;
    } else if (c === '-' && /[A-Za-z]/.test(text[i + 1] ?? '')) {
      // RUN LOADING JOB options: -noprint, -dryrun, -n, -max_error ... (section 2.1).
      const m = /^-[A-Za-z_]+/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'word', v: m[0], line });
      i += m[0].length;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i));
      if (!m) throw gsqlError(line, `unexpected "${c}"`);
      tokens.push({ t: 'number', v: m[0], line });
      i += m[0].length;
    } else if (/^(==|!=|<>|<=|>=)/.test(text.slice(i, i + 2))) {
      const op = text.slice(i, i + 2);
      tokens.push({ t: 'punct', v: op === '<>' ? '!=' : op, line });
      i += 2;
    } else if ('(){},;=:*<>$'.includes(c)) {
      tokens.push({ t: 'punct', v: c, line });
      i++;
    } else throw gsqlError(line, `unexpected "${c}"`);
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }
  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private line(): number {
    return (this.peek() ?? this.tokens[this.tokens.length - 1])?.line ?? 1;
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return t?.t === 'word' && t.v.toUpperCase() === word;
  }
  private isPunct(p: string): boolean {
    const t = this.peek();
    return t?.t === 'punct' && t.v === p;
  }
  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.i++;
    return true;
  }
  private acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.i++;
    return true;
  }
  private expectWord(word: string): void {
    if (!this.acceptWord(word))
      throw gsqlError(this.line(), `expected ${word}, found ${this.describe()}`);
  }
  private expectPunct(p: string): void {
    if (!this.acceptPunct(p))
      throw gsqlError(this.line(), `expected "${p}", found ${this.describe()}`);
  }
  private describe(): string {
    const t = this.peek();
    return t === undefined ? 'the end of the text' : `"${t.v}"`;
  }
  private name(what: string): string {
    const t = this.peek();
    if (t?.t !== 'word') throw gsqlError(this.line(), `expected ${what}, found ${this.describe()}`);
    this.i++;
    return t.v;
  }
  private string(what: string): string {
    const t = this.peek();
    if (t?.t !== 'string')
      throw gsqlError(this.line(), `expected ${what} in double quotes, found ${this.describe()}`);
    this.i++;
    return t.v;
  }
  private attributeType(): AttributeType {
    const line = this.line();
    const word = this.name('an attribute type').toUpperCase();
    if (!(ATTRIBUTE_TYPES as readonly string[]).includes(word))
      throw gsqlError(
        line,
        `attribute type ${word} is not supported by the emulator; use one of ${ATTRIBUTE_TYPES.join(', ')}`,
      );
    this.acceptWord('COMPRESS');
    if (this.acceptWord('DEFAULT')) this.i++;
    return word as AttributeType;
  }
  /** `WITH a="b", c="d"` options, returned lower-cased by key. */
  private withOptions(): Record<string, string> {
    const options: Record<string, string> = {};
    if (!this.acceptWord('WITH')) return options;
    do {
      const key = this.name('an option name').toLowerCase();
      this.expectPunct('=');
      const t = this.peek();
      this.i++;
      options[key] = t?.v ?? '';
    } while (this.acceptPunct(','));
    return options;
  }

  statement(): Statement | undefined {
    if (this.acceptPunct(';')) return undefined;
    const line = this.line();
    if (this.acceptWord('USE')) {
      if (this.acceptWord('GLOBAL')) return { kind: 'useGraph', name: undefined };
      this.expectWord('GRAPH');
      return { kind: 'useGraph', name: this.name('a graph name') };
    }
    if (this.acceptWord('SET')) {
      const name = this.name('a data source name');
      this.expectPunct('=');
      return { kind: 'setDataSource', name, config: this.string('the data source configuration') };
    }
    if (this.acceptWord('SHOW')) {
      if (this.acceptWord('JOB'))
        return { kind: 'loadingControl', action: 'showJob', job: this.name('a loading job name') };
      this.expectWord('LOADING');
      this.expectWord('STATUS');
      return { kind: 'loadingControl', action: 'show', jobId: this.jobIdOrAll(true) };
    }
    if (this.acceptWord('RUN')) {
      this.expectWord('LOADING');
      this.expectWord('JOB');
      return this.runLoadingJob();
    }
    for (const [word, action] of [
      ['ABORT', 'abort'],
      ['RESUME', 'resume'],
    ] as const)
      if (this.acceptWord(word)) {
        this.expectWord('LOADING');
        this.expectWord('JOB');
        return { kind: 'loadingControl', action, jobId: this.jobIdOrAll(action === 'abort') };
      }
    if (!this.acceptWord('CREATE'))
      throw gsqlError(
        line,
        `expected a statement (CREATE, USE, SET, RUN, SHOW, ABORT, RESUME), found ${this.describe()}`,
      );
    if (this.acceptWord('VERTEX')) return this.vertex();
    if (this.isWord('UNDIRECTED') || this.isWord('DIRECTED') || this.isWord('EDGE'))
      return this.edge();
    if (this.acceptWord('GRAPH')) {
      const name = this.name('a graph name');
      this.expectPunct('(');
      const types: string[] = [];
      if (this.acceptPunct('*')) types.push('*');
      else if (!this.isPunct(')'))
        do types.push(this.name('a vertex or edge type'));
        while (this.acceptPunct(','));
      this.expectPunct(')');
      return { kind: 'graph', name, types };
    }
    if (this.acceptWord('DATA_SOURCE')) {
      const type = this.name('the data source type KAFKA').toUpperCase();
      if (type !== 'KAFKA')
        throw gsqlError(
          line,
          `data source type ${type} is not supported by the emulator; use KAFKA`,
        );
      const name = this.name('a data source name');
      const config = this.acceptPunct('=') ? this.string('the data source configuration') : '';
      const graph = this.acceptWord('FOR')
        ? (this.expectWord('GRAPH'), this.name('a graph name'))
        : undefined;
      return { kind: 'dataSource', source: { name, type: 'KAFKA', config, graph } };
    }
    if (this.acceptWord('LOADING')) {
      this.expectWord('JOB');
      return this.loadingJob();
    }
    throw gsqlError(line, `CREATE ${this.describe()} is not supported by the emulator`);
  }

  /** After RUN LOADING JOB: options, the job's name, USING clauses. */
  private runLoadingJob(): RunLoadingJob {
    const options: Record<string, string> = {};
    for (let t = this.peek(); t?.t === 'word' && t.v.startsWith('-'); t = this.peek()) {
      this.i++;
      const option = t.v.slice(1).toLowerCase();
      const parts: string[] = [];
      // `-n 1,100`, `-max_error 10`, `-max_percent_error 5`
      if (RUN_OPTIONS_WITH_VALUE.has(option))
        do {
          parts.push(this.peek()?.v ?? '');
          this.i++;
        } while (option === 'n' && this.acceptPunct(','));
      options[option] = parts.join(',');
    }
    const job = this.name('a loading job name');
    const using: Record<string, string> = {};
    if (this.acceptWord('USING'))
      do {
        const key = this.name('a filename variable or EOF, CONCURRENCY, BATCH_SIZE');
        this.expectPunct('=');
        const t = this.peek();
        if (t?.t !== 'string' && t?.t !== 'number')
          throw gsqlError(this.line(), `expected a value for ${key}, found ${this.describe()}`);
        this.i++;
        using[key] = t.v;
      } while (this.acceptPunct(','));
    return { kind: 'loadingControl', action: 'run', job, options, using };
  }

  /** A loading-job id (a word, possibly dotted, or a quoted string), or ALL where allowed. */
  private jobIdOrAll(allowAll: boolean): string | undefined {
    if (allowAll && this.acceptWord('ALL')) return undefined;
    const t = this.peek();
    if ((t?.t !== 'word' && t?.t !== 'string') || this.isWord('ALL'))
      throw gsqlError(
        this.line(),
        `expected a loading job id${allowAll ? ' or ALL' : ''}, found ${this.describe()}`,
      );
    this.i++;
    return t.v;
  }

  private vertex(): VertexType {
    const name = this.name('a vertex type name');
    this.expectPunct('(');
    let primaryId: Attribute | undefined;
    let primaryKey = false;
    const attributes: Attribute[] = [];
    do {
      if (this.acceptWord('PRIMARY_ID')) {
        primaryId = { name: this.name('the primary id name'), type: this.attributeType() };
      } else {
        const attr = { name: this.name('an attribute name'), type: this.attributeType() };
        if (this.acceptWord('PRIMARY')) {
          this.expectWord('KEY');
          primaryId = attr;
          primaryKey = true;
        } else attributes.push(attr);
      }
    } while (this.acceptPunct(','));
    this.expectPunct(')');
    const options = this.withOptions();
    if (!primaryId) throw gsqlError(this.line(), `vertex ${name} has no PRIMARY_ID`);
    // `name TYPE PRIMARY KEY` declares an attribute that is also the id (GSQL's DDL reference;
    // not in tigergraph-loading.md): it is stored like primary_id_as_attribute="true".
    const asAttribute =
      primaryKey || (options.primary_id_as_attribute ?? '').toLowerCase() === 'true';
    return { kind: 'vertex', name, primaryId, attributes, primaryIdAsAttribute: asAttribute };
  }

  private edge(): EdgeType {
    const directed = this.acceptWord('DIRECTED');
    if (!directed) this.acceptWord('UNDIRECTED');
    this.expectWord('EDGE');
    const name = this.name('an edge type name');
    this.expectPunct('(');
    this.expectWord('FROM');
    const from = this.name('the source vertex type');
    this.expectPunct(',');
    this.expectWord('TO');
    const to = this.name('the target vertex type');
    const attributes: Attribute[] = [];
    while (this.acceptPunct(','))
      attributes.push({ name: this.name('an attribute name'), type: this.attributeType() });
    this.expectPunct(')');
    const reverseEdge = this.withOptions().reverse_edge;
    if (reverseEdge !== undefined && !directed)
      throw gsqlError(this.line(), `edge ${name}: only a DIRECTED edge can have a REVERSE_EDGE`);
    return { kind: 'edge', name, directed, from, to, attributes, reverseEdge };
  }

  private loadingJob(): Statement {
    const name = this.name('a loading job name');
    let forGraph: string | undefined;
    if (this.acceptWord('FOR')) {
      this.expectWord('GRAPH');
      forGraph = this.name('a graph name');
    }
    this.expectPunct('{');
    const filenames: Record<string, string> = {};
    const loads: LoadStatement[] = [];
    while (!this.acceptPunct('}')) {
      if (this.done()) throw gsqlError(this.line(), `loading job ${name} is not closed with "}"`);
      if (this.acceptPunct(';')) continue;
      if (this.acceptWord('DEFINE')) {
        this.expectWord('FILENAME');
        const variable = this.name('a filename variable');
        filenames[variable] = this.acceptPunct('=') ? this.string('the file name') : '';
        continue;
      }
      this.expectWord('LOAD');
      const filename = this.name('a filename variable');
      if (!(filename in filenames))
        throw gsqlError(this.line(), `LOAD uses ${filename}, which no DEFINE FILENAME defines`);
      const targets: {
        targetKind: 'vertex' | 'edge';
        target: string;
        values: ValueExpr[];
        where: Condition | undefined;
      }[] = [];
      do {
        this.expectWord('TO');
        const targetKind = this.acceptWord('VERTEX') ? 'vertex' : (this.expectWord('EDGE'), 'edge');
        const target = this.name(`a ${targetKind} type`);
        this.expectWord('VALUES');
        const values = this.values();
        const where = this.acceptWord('WHERE') ? this.condition() : undefined;
        targets.push({ targetKind, target, values, where });
      } while (this.acceptPunct(','));
      const using: Record<string, string> = {};
      if (this.acceptWord('USING')) {
        do {
          const key = this.name('a USING option').toUpperCase();
          this.expectPunct('=');
          using[key] = this.string(`the value of ${key}`);
        } while (this.acceptPunct(','));
      }
      this.acceptPunct(';');
      for (const t of targets) loads.push({ filename, ...t, using });
    }
    return { kind: 'loadingJob', job: { name, graph: forGraph ?? '', filenames, loads }, forGraph };
  }

  private values(): ValueExpr[] {
    this.expectPunct('(');
    const values: ValueExpr[] = [];
    do {
      const value = this.value(true);
      if (!value)
        throw gsqlError(
          this.line(),
          `expected $"field", $n, a literal or _ in VALUES, found ${this.describe()}`,
        );
      values.push(value);
    } while (this.acceptPunct(','));
    this.expectPunct(')');
    return values;
  }

  /** `$"a":"b"` (nested JSON field, reference section 1.2), `$0`, a literal, or `_`. */
  private value(allowSkip: boolean): ValueExpr | undefined {
    const t = this.peek();
    if (t?.t === 'field') {
      this.i++;
      const path = [t.v];
      while (this.isPunct(':') && this.tokens[this.i + 1]?.t === 'string') {
        this.i++;
        path.push(this.string('a nested field name'));
      }
      return { kind: 'field', path };
    }
    if (t?.t === 'column') {
      this.i++;
      return { kind: 'column', index: Number(t.v) };
    }
    if (t?.t === 'string' || t?.t === 'number') {
      this.i++;
      return { kind: 'literal', value: t.v };
    }
    if (allowSkip && t?.t === 'word' && t.v === '_') {
      this.i++;
      return { kind: 'skip' };
    }
    return undefined;
  }

  /** WHERE: OR over AND over NOT over comparisons, IN lists, IS [NOT] NUMERIC|EMPTY. */
  private condition(): Condition {
    let left = this.conjunction();
    while (this.acceptWord('OR')) left = { kind: 'or', left, right: this.conjunction() };
    return left;
  }
  private conjunction(): Condition {
    let left = this.negation();
    while (this.acceptWord('AND')) left = { kind: 'and', left, right: this.negation() };
    return left;
  }
  private negation(): Condition {
    if (this.acceptWord('NOT')) return { kind: 'not', operand: this.negation() };
    if (this.acceptPunct('(')) {
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const operand = this.operand();
    if (this.acceptWord('IS')) {
      const negated = this.acceptWord('NOT');
      const test = this.name('NUMERIC or EMPTY').toUpperCase();
      if (test !== 'NUMERIC' && test !== 'EMPTY')
        throw gsqlError(this.line(), `expected NUMERIC or EMPTY after IS, found ${test}`);
      const is: Condition = { kind: 'is', operand, test };
      return negated ? { kind: 'not', operand: is } : is;
    }
    const negated = this.acceptWord('NOT');
    if (this.acceptWord('IN')) {
      this.expectPunct('(');
      const values: Operand[] = [];
      do values.push(this.operand());
      while (this.acceptPunct(','));
      this.expectPunct(')');
      const inList: Condition = { kind: 'in', operand, values };
      return negated ? { kind: 'not', operand: inList } : inList;
    }
    if (negated) throw gsqlError(this.line(), `expected IN after NOT, found ${this.describe()}`);
    const t = this.peek();
    const op = t?.t === 'punct' ? (t.v === '=' ? '==' : t.v) : '';
    if (!(COMPARISONS as readonly string[]).includes(op))
      throw gsqlError(
        this.line(),
        `expected a comparison (${COMPARISONS.join(' ')}), IN or IS in WHERE, found ${this.describe()}`,
      );
    this.i++;
    return { kind: 'compare', op: op as Comparison, left: operand, right: this.operand() };
  }
  private operand(): Operand {
    const t = this.peek();
    if (t?.t === 'word' && /^to_(int|float)$/i.test(t.v) && this.tokens[this.i + 1]?.v === '(') {
      this.i += 2;
      const operand = this.operand();
      this.expectPunct(')');
      return { kind: 'number', operand };
    }
    const value = this.value(false);
    if (!value) throw gsqlError(this.line(), `expected a value in WHERE, found ${this.describe()}`);
    return value;
  }
}

/** Parses GSQL text into statements. @throws LocalError `GSQL_SYNTAX_ERROR` with the line. */
export function parseGsql(text: string): Statement[] {
  const parser = new Parser(tokenize(text));
  const statements: Statement[] = [];
  while (!parser.done()) {
    const statement = parser.statement();
    if (statement) statements.push(statement);
  }
  return statements;
}

/**
 * A loading job as GSQL text, for `SHOW JOB` and 4.x's `jobContent`. UNDOCUMENTED: the
 * emulator keeps no source text, so it writes the header and the DEFINE FILENAME statements
 * (what TigerStream reads of a job) and the number of LOAD statements as a comment.
 */
export function jobText(job: LoadingJob): string {
  const quote = (v: string): string => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return [
    `CREATE LOADING JOB ${job.name} FOR GRAPH ${job.graph} {`,
    ...Object.entries(job.filenames).map(
      ([variable, value]) =>
        `  DEFINE FILENAME ${variable}${value === '' ? '' : ` = ${quote(value)}`};`,
    ),
    `  // ${job.loads.length} LOAD statement(s)`,
    '}',
  ].join('\n');
}
