/**
 * The TigerGraph emulator's catalog and data: schema objects from GSQL, vertices and edges
 * in memory, and loading of JSON lines through a job's LOAD statements with TigerGraph's
 * statistics counters (validLine, invalidJson, validObject, noIdFound, invalidAttribute...).
 */
import { LocalError } from '../errors/index.ts';
import {
  parseGsql,
  type Attribute,
  type AttributeType,
  type DataSource,
  type EdgeType,
  type LoadingJob,
  type ValueExpr,
  type VertexType,
} from './gsql.ts';

export type AttributeValue = string | number | boolean;

export interface ObjectStats {
  typeName: string;
  validObject: number;
  noIdFound: number;
  invalidAttribute: number;
  invalidPrimaryId: number;
  invalidSecondaryId: number;
  incorrectFixedBinaryLength: number;
}
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

const objectStats = (list: ObjectStats[], typeName: string): ObjectStats => {
  let s = list.find((x) => x.typeName === typeName);
  if (!s) {
    s = {
      typeName,
      validObject: 0,
      noIdFound: 0,
      invalidAttribute: 0,
      invalidPrimaryId: 0,
      invalidSecondaryId: 0,
      incorrectFixedBinaryLength: 0,
    };
    list.push(s);
  }
  return s;
};

const DEFAULTS: Record<AttributeType, AttributeValue> = {
  STRING: '',
  INT: 0,
  UINT: 0,
  FLOAT: 0,
  DOUBLE: 0,
  BOOL: false,
  DATETIME: '1970-01-01 00:00:00',
};

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?Z?$/;

/** Converts one JSON value to an attribute type; undefined when it does not fit. */
export function coerce(type: AttributeType, value: unknown): AttributeValue | undefined {
  if (value === undefined) return DEFAULTS[type];
  switch (type) {
    case 'STRING':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
    case 'INT':
    case 'UINT': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || (type === 'UINT' && n < 0))
        return undefined;
      return n;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && !Number.isNaN(n) ? n : undefined;
    }
    case 'BOOL':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      return undefined;
    case 'DATETIME': {
      if (typeof value === 'number' && Number.isInteger(value))
        return new Date(value * 1000).toISOString().slice(0, 19).replace('T', ' ');
      if (typeof value !== 'string') return undefined;
      const m = DATETIME.exec(value.trim());
      if (!m) return undefined;
      return `${m[1]}-${m[2]}-${m[3]} ${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}`;
    }
  }
}

const resolveField = (line: Record<string, unknown>, expr: ValueExpr): unknown => {
  if (expr.kind === 'literal') return expr.value;
  if (expr.kind === 'skip') return undefined;
  let current: unknown = line;
  for (const key of expr.path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
};

export interface Vertex {
  readonly id: string;
  readonly attributes: Record<string, AttributeValue>;
}

/** Schema, data sources, loading jobs and data of the emulator. */
export class GraphStore {
  readonly vertexTypes = new Map<string, VertexType>();
  readonly edgeTypes = new Map<string, EdgeType>();
  readonly graphs = new Map<string, Set<string>>();
  readonly dataSources = new Map<string, DataSource>();
  readonly jobs = new Map<string, LoadingJob>();
  private readonly vertices = new Map<string, Map<string, Record<string, AttributeValue>>>();
  private readonly edges = new Map<string, Map<string, Record<string, AttributeValue>>>();

  /** Runs GSQL DDL; returns one message line per statement, as the GSQL shell prints. */
  runGsql(text: string): string[] {
    const out: string[] = [];
    let graph: string | undefined;
    for (const s of parseGsql(text)) {
      switch (s.kind) {
        case 'vertex':
          this.vertexTypes.set(s.name, s);
          out.push(`Successfully created vertex types: [${s.name}].`);
          break;
        case 'edge':
          for (const end of [s.from, s.to])
            if (!this.vertexTypes.has(end))
              throw ddlError(`edge ${s.name} refers to vertex type ${end}, which does not exist`);
          this.edgeTypes.set(s.name, s);
          out.push(`Successfully created edge types: [${s.name}].`);
          break;
        case 'graph': {
          const types = s.types.includes('*')
            ? [...this.vertexTypes.keys(), ...this.edgeTypes.keys()]
            : s.types;
          for (const t of types)
            if (!this.vertexTypes.has(t) && !this.edgeTypes.has(t))
              throw ddlError(`graph ${s.name} names type ${t}, which does not exist`);
          this.graphs.set(s.name, new Set(types));
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
      }
    }
    return out;
  }

  private checkJob(job: LoadingJob): void {
    const members = this.graphs.get(job.graph);
    if (!members)
      throw ddlError(`loading job ${job.name} is for graph ${job.graph}, which does not exist`);
    for (const load of job.loads) {
      if (!members.has(load.target))
        throw ddlError(
          `loading job ${job.name} loads ${load.targetKind} ${load.target}, which is not in graph ${job.graph}`,
        );
      if ((load.using.JSON_FILE ?? '').toLowerCase() !== 'true')
        throw ddlError(
          `loading job ${job.name}: the emulator loads JSON lines only; add USING JSON_FILE="true"`,
        );
    }
  }

  /** Loads JSON lines through the LOAD statements of `job` that read `filename`. */
  loadLines(
    jobName: string,
    filename: string,
    lines: Iterable<string>,
    stats: LoadStats = emptyStats(),
  ): LoadStats {
    const job = this.jobs.get(jobName);
    if (!job) throw new LocalError('TG_JOB_NOT_FOUND', `loading job ${jobName} does not exist`);
    const loads = job.loads.filter((l) => l.filename === filename);
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        line = undefined;
      }
      if (typeof line !== 'object' || line === null || Array.isArray(line)) {
        stats.invalidJson++;
        stats.rejectLine++;
        continue;
      }
      stats.validLine++;
      for (const load of loads) {
        const values = load.values.map((v) => resolveField(line as Record<string, unknown>, v));
        if (load.targetKind === 'vertex')
          this.loadVertex(load.target, values, objectStats(stats.vertex, load.target));
        else this.loadEdge(load.target, values, objectStats(stats.edge, load.target));
      }
    }
    return stats;
  }

  private loadVertex(typeName: string, values: unknown[], stats: ObjectStats): void {
    const type = this.vertexTypes.get(typeName) as VertexType;
    const id = coerce(type.primaryId.type, values[0]);
    if (values[0] === undefined || values[0] === '') {
      stats.noIdFound++;
      return;
    }
    if (id === undefined) {
      stats.invalidPrimaryId++;
      return;
    }
    const attributes = this.attributes(type.attributes, values.slice(1));
    if (!attributes) {
      stats.invalidAttribute++;
      return;
    }
    if (type.primaryIdAsAttribute) attributes[type.primaryId.name] = id;
    const table = this.vertices.get(typeName) ?? new Map<string, Record<string, AttributeValue>>();
    this.vertices.set(typeName, table);
    table.set(String(id), { ...table.get(String(id)), ...attributes });
    stats.validObject++;
  }

  private loadEdge(typeName: string, values: unknown[], stats: ObjectStats): void {
    const type = this.edgeTypes.get(typeName) as EdgeType;
    const [from, to] = values;
    if (from === undefined || from === '' || to === undefined || to === '') {
      stats.noIdFound++;
      return;
    }
    const attributes = this.attributes(type.attributes, values.slice(2));
    if (!attributes) {
      stats.invalidAttribute++;
      return;
    }
    for (const [vertexType, id] of [
      [type.from, from],
      [type.to, to],
    ] as const) {
      const table =
        this.vertices.get(vertexType) ?? new Map<string, Record<string, AttributeValue>>();
      this.vertices.set(vertexType, table);
      // TigerGraph creates missing endpoints with default attributes.
      if (!table.has(idText(id)))
        table.set(
          idText(id),
          this.attributes((this.vertexTypes.get(vertexType) as VertexType).attributes, []) ?? {},
        );
    }
    const table = this.edges.get(typeName) ?? new Map<string, Record<string, AttributeValue>>();
    this.edges.set(typeName, table);
    table.set(`${idText(from)}\u0000${idText(to)}`, attributes);
    stats.validObject++;
  }

  private attributes(
    declared: readonly Attribute[],
    values: unknown[],
  ): Record<string, AttributeValue> | undefined {
    const result: Record<string, AttributeValue> = {};
    for (const [i, attr] of declared.entries()) {
      const v = coerce(attr.type, values[i]);
      if (v === undefined) return undefined;
      result[attr.name] = v;
    }
    return result;
  }

  /** Vertices of a type in a graph, in insertion order. */
  listVertices(graph: string, typeName: string): Vertex[] {
    const members = this.graphs.get(graph);
    if (!members) throw new LocalError('TG_GRAPH_NOT_FOUND', `graph ${graph} does not exist`);
    if (!members.has(typeName) || !this.vertexTypes.has(typeName))
      throw new LocalError(
        'TG_VERTEX_TYPE_NOT_FOUND',
        `vertex type ${typeName} is not in graph ${graph}`,
      );
    return [
      ...(
        this.vertices.get(typeName) ?? new Map<string, Record<string, AttributeValue>>()
      ).entries(),
    ].map(([id, attributes]) => ({ id, attributes }));
  }

  countEdges(typeName: string): number {
    return this.edges.get(typeName)?.size ?? 0;
  }
}

/** A vertex id from a JSON value: strings as they are, anything else as JSON text. */
const idText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const ddlError = (message: string): LocalError => new LocalError('GSQL_SEMANTIC_ERROR', message);
