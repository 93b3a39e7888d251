/**
 * The emulator's store, one behaviour per test: schema, loading counters (reference section
 * 1.3), coercion (the UNDOCUMENTED choices of lib/local/EMULATOR.md), WHERE, upsert, edges.
 */
import { describe, expect, it } from 'vitest';
import { GraphStore } from '../../../lib/local/index.ts';
import { coerce, type LoadStats } from '../../../lib/local/graph-store.ts';

const SCHEMA = `
CREATE VERTEX Person (primary_id name STRING, age INT, score DOUBLE, vip BOOL, born DATETIME)
CREATE VERTEX Company (primary_id id UINT, label STRING) WITH primary_id_as_attribute="true"
CREATE DIRECTED EDGE works_at (FROM Person, TO Company, since INT) WITH REVERSE_EDGE="staff"
CREATE UNDIRECTED EDGE knows (FROM Person, TO Person, weight FLOAT)
CREATE GRAPH G (Person, Company, works_at, knows)
`;

const store = (job: string, more = ''): GraphStore => {
  const s = new GraphStore({ maxTokenBytes: 64 });
  s.runGsql(`${SCHEMA}${more}\nUSE GRAPH G\n${job}`);
  return s;
};
const load = (s: GraphStore, lines: string[], job = 'j', file = 'f'): LoadStats =>
  s.loadLines(job, file, lines);
const vertex = (s: GraphStore, type: string, id: string) =>
  s.listVertices('G', type).find((v) => v.id === id)?.attributes;

const PERSON_JOB = `CREATE LOADING JOB j FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", $"age", $"score", $"vip", $"born") USING JSON_FILE="true";
}`;

describe('GraphStore: line-level counters (section 1.3)', () => {
  it('counts a line that is not one JSON object as invalidJson and rejectLine, and skips it', () => {
    const s = store(PERSON_JOB);
    const stats = load(s, ['{"name":"a"}', 'not json', '[1,2]', '42', '', '{"name":"b"}']);
    expect(stats).toMatchObject({ validLine: 2, invalidJson: 3, rejectLine: 3 });
    expect(s.listVertices('G', 'Person').map((v) => v.id)).toEqual(['a', 'b']);
  });

  it('counts a token over the size limit as oversizeToken and rejects the line', () => {
    const s = store(PERSON_JOB);
    const stats = load(s, [JSON.stringify({ name: 'x'.repeat(65) }), '{"name":"ok"}']);
    expect(stats).toMatchObject({ validLine: 1, oversizeToken: 1, rejectLine: 1 });
  });

  it('measures a token in UTF-8 bytes: 32 two-byte characters (64 bytes) load, 33 (66 bytes) and 17 four-byte ones (68 bytes) are oversize', () => {
    const s = store(PERSON_JOB);
    const stats = load(s, [
      JSON.stringify({ name: 'é'.repeat(32) }),
      JSON.stringify({ name: 'é'.repeat(33) }),
      JSON.stringify({ name: '😀'.repeat(17) }),
      JSON.stringify({ name: '😀'.repeat(16), age: 2 ** 53 - 1 }),
    ]);
    expect(stats).toMatchObject({ validLine: 2, oversizeToken: 2, rejectLine: 2 });
  });

  it('measures a number token by its text: 25 characters are oversize at a limit of 24, not at 25', () => {
    const lines = [
      JSON.stringify({ name: 'n' }).replace('}', ',"score":-0.0000012345678901234567}'),
    ];
    expect(String(-0.0000012345678901234567)).toHaveLength(25);
    const at = (maxTokenBytes: number): LoadStats => {
      const s = new GraphStore({ maxTokenBytes });
      s.runGsql(`${SCHEMA}\nUSE GRAPH G\n${PERSON_JOB}`);
      return s.loadLines('j', 'f', lines);
    };
    expect(at(24)).toMatchObject({ validLine: 0, oversizeToken: 1 });
    expect(at(25)).toMatchObject({ validLine: 1, oversizeToken: 0 });
  });

  it('counts a CSV line with fewer tokens than the job reads as notEnoughToken', () => {
    const s = store(`CREATE LOADING JOB c FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($0, $1, _, _, _) USING SEPARATOR="|";
}`);
    const stats = s.loadLines('c', 'f', ['a|1', 'b', 'c|3|extra']);
    expect(stats).toMatchObject({ validLine: 2, notEnoughToken: 1, rejectLine: 1 });
    expect(vertex(s, 'Person', 'c')).toMatchObject({ age: 3 });
  });

  it('splits CSV with QUOTE="double" keeping separators inside quotes', () => {
    const s = store(`CREATE LOADING JOB c FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Company VALUES ($0, $1) USING QUOTE="double";
}`);
    s.loadLines('c', 'f', ['7,"Acme, ""Inc"""']);
    expect(vertex(s, 'Company', '7')).toEqual({ id: 7, label: 'Acme, "Inc"' });
  });
});

describe('GraphStore: object-level counters (section 1.3)', () => {
  it('counts a missing, empty or null primary id as noIdFound', () => {
    const s = store(PERSON_JOB);
    const stats = load(s, ['{"age":1}', '{"name":""}', '{"name":null}']);
    expect(stats.vertex).toEqual([
      expect.objectContaining({ typeName: 'Person', noIdFound: 3, validObject: 0 }),
    ]);
  });

  it('counts an id that does not fit the id type as invalidPrimaryId', () => {
    const s = store(`CREATE LOADING JOB c FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Company VALUES ($"id", $"label") USING JSON_FILE="true";
}`);
    const stats = s.loadLines('c', 'f', ['{"id":"x"}', '{"id":-1}', '{"id":"12"}']);
    expect(stats.vertex[0]).toMatchObject({ invalidPrimaryId: 2, validObject: 1 });
    expect(vertex(s, 'Company', '12')).toEqual({ id: 12, label: '' });
  });

  it('counts an attribute that does not fit its type as invalidAttribute and drops that object only', () => {
    const s = store(PERSON_JOB);
    const stats = load(s, [
      '{"name":"a","age":"old"}',
      '{"name":"b","vip":"maybe"}',
      '{"name":"c"}',
    ]);
    expect(stats.vertex[0]).toMatchObject({ invalidAttribute: 2, validObject: 1 });
    expect(stats.validLine).toBe(3);
  });

  it('loads missing fields as the type defaults (section 1.2)', () => {
    const s = store(PERSON_JOB);
    load(s, ['{"name":"a"}']);
    expect(vertex(s, 'Person', 'a')).toEqual({
      age: 0,
      score: 0,
      vip: false,
      born: '1970-01-01 00:00:00',
    });
  });

  it('reads nested fields $"a":"b" (section 1.2)', () => {
    const s = store(`CREATE LOADING JOB n FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"who":"name", $"who":"info":"age", _, _, _) USING JSON_FILE="true";
}`);
    s.loadLines('n', 'f', ['{"who":{"name":"n1","info":{"age":41}}}', '{"who":"flat"}']);
    expect(vertex(s, 'Person', 'n1')).toMatchObject({ age: 41 });
    expect(s.listVertices('G', 'Person')).toHaveLength(1);
  });
});

describe('GraphStore: attribute coercion (UNDOCUMENTED choices, EMULATOR.md)', () => {
  it('coerces the number -0 to 0 for INT and UINT', () => {
    expect(Object.is(coerce('INT', -0), 0)).toBe(true);
    expect(Object.is(coerce('UINT', -0), 0)).toBe(true);
  });

  it.each([
    ['INT', 42, 42],
    ['INT', ' -7 ', -7],
    ['INT', '1.5', undefined],
    ['INT', 1.5, undefined],
    ['INT', true, undefined],
    ['INT', '9223372036854775808', undefined],
    ['INT', -(2 ** 53) + 1, -(2 ** 53) + 1],
    ['INT', 2 ** 60, 2 ** 60],
    ['UINT', -1, undefined],
    ['UINT', 2 ** 53 - 1, 2 ** 53 - 1],
    ['UINT', '18446744073709551616', undefined],
    ['UINT', '18446744073709551615', 2 ** 64],
    ['FLOAT', '2.5', 2.5],
    ['FLOAT', 1e39, undefined],
    ['DOUBLE', 1e39, 1e39],
    ['DOUBLE', 'NaN', NaN],
    ['DOUBLE', '-Infinity', -Infinity],
    ['DOUBLE', 'abc', undefined],
    ['DOUBLE', '1e999', undefined],
    ['BOOL', 'TRUE', true],
    ['BOOL', 0, false],
    ['BOOL', 'yes', undefined],
    ['STRING', 12, '12'],
    ['STRING', { a: 1 }, '{"a":1}'],
    ['STRING', null, undefined],
    ['DATETIME', '2024-02-29 13:45:10', '2024-02-29 13:45:10'],
    ['DATETIME', '2024-02-29T13:45:10.123Z', '2024-02-29 13:45:10'],
    ['DATETIME', '2024-03-01T01:00:00+02:00', '2024-02-29 23:00:00'],
    ['DATETIME', '2024/03/01', '2024-03-01 00:00:00'],
    ['DATETIME', 1_700_000_000, '2023-11-14 22:13:20'],
    ['DATETIME', '1700000000', '2023-11-14 22:13:20'],
    ['DATETIME', '2023-02-29 00:00:00', undefined],
    ['DATETIME', '2024-01-01 24:00:00', undefined],
    ['DATETIME', 'yesterday', undefined],
  ] as const)('%s from %j → %j', (type, value, expected) => {
    expect(coerce(type, value)).toEqual(expected);
  });
});

describe('GraphStore: WHERE on LOAD statements', () => {
  const job = `CREATE LOADING JOB w FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", $"age", _, _, _) WHERE $"age" >= 18 AND $"kind" != "bot",
       TO VERTEX Company VALUES ($"cid", $"name") WHERE $"cid" IS NUMERIC
       USING JSON_FILE="true";
}`;

  it('counts passedCondition and failedCondition per target and loads only what passes', () => {
    const s = store(job);
    const stats = s.loadLines('w', 'f', [
      '{"name":"adult","age":30,"cid":"1"}',
      '{"name":"child","age":"9","cid":"x"}',
      '{"name":"bot","age":40,"kind":"bot"}',
    ]);
    expect(stats.vertex).toEqual([
      expect.objectContaining({
        typeName: 'Person',
        passedCondition: 1,
        failedCondition: 2,
        validObject: 1,
      }),
      expect.objectContaining({
        typeName: 'Company',
        passedCondition: 1,
        failedCondition: 2,
        validObject: 1,
      }),
    ]);
    // Every target of the child's and the bot's line failed: the line is a failedConditionLine.
    expect(stats).toMatchObject({ validLine: 3, failedConditionLine: 2 });
    expect(s.listVertices('G', 'Person').map((v) => v.id)).toEqual(['adult']);
  });

  it('supports OR, NOT, parentheses, IN, IS EMPTY and to_int', () => {
    const s = store(`CREATE LOADING JOB w FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", _, _, _, _)
    WHERE NOT ($"tag" IS EMPTY) AND ($"tag" IN ("a", "b") OR to_int($"n") > 9) USING JSON_FILE="true";
}`);
    s.loadLines('w', 'f', [
      '{"name":"p1","tag":"a"}',
      '{"name":"p2","tag":"z","n":"10"}',
      '{"name":"p3","tag":"z","n":"9"}',
      '{"name":"p4"}',
    ]);
    expect(s.listVertices('G', 'Person').map((v) => v.id)).toEqual(['p1', 'p2']);
  });

  it('compares as strings when either side is not numeric', () => {
    const s = store(`CREATE LOADING JOB w FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", _, _, _, _) WHERE $"name" > "m" USING JSON_FILE="true";
}`);
    s.loadLines('w', 'f', ['{"name":"alice"}', '{"name":"zed"}']);
    expect(s.listVertices('G', 'Person').map((v) => v.id)).toEqual(['zed']);
  });
});

describe('GraphStore: upsert and several LOAD statements per file', () => {
  it('replaces a vertex on its primary id; _ keeps the stored attribute', () => {
    const s = store(`CREATE LOADING JOB u FOR GRAPH G {
  DEFINE FILENAME f;
  DEFINE FILENAME g;
  LOAD f TO VERTEX Person VALUES ($"name", $"age", $"score", _, _) USING JSON_FILE="true";
  LOAD g TO VERTEX Person VALUES ($"name", _, $"score", _, _) USING JSON_FILE="true";
}`);
    s.loadLines('u', 'f', ['{"name":"a","age":1,"score":1.5}', '{"name":"a","age":2}']);
    expect(vertex(s, 'Person', 'a')).toMatchObject({ age: 2, score: 0 });
    s.loadLines('u', 'g', ['{"name":"a","score":9}']);
    expect(vertex(s, 'Person', 'a')).toMatchObject({ age: 2, score: 9 });
    expect(s.listVertices('G', 'Person')).toHaveLength(1);
  });

  it('runs every LOAD of a file on each line, vertices and edges, each with its own counters', () => {
    const s = store(`CREATE LOADING JOB m FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", $"age", _, _, _) USING JSON_FILE="true";
  LOAD f TO VERTEX Company VALUES ($"company", $"company_name") USING JSON_FILE="true";
  LOAD f TO EDGE works_at VALUES ($"name", $"company", $"since") USING JSON_FILE="true";
}`);
    const stats = s.loadLines('m', 'f', [
      '{"name":"a","age":3,"company":5,"company_name":"Five","since":2020}',
      '{"name":"b","age":4}',
    ]);
    expect(stats.vertex).toEqual([
      expect.objectContaining({ typeName: 'Person', validObject: 2 }),
      expect.objectContaining({ typeName: 'Company', validObject: 1, noIdFound: 1 }),
    ]);
    expect(stats.edge).toEqual([
      expect.objectContaining({ typeName: 'works_at', validObject: 1, noIdFound: 1 }),
    ]);
  });

  it('refuses LOAD statements of one file with different USING clauses (section 1.2)', () => {
    expect(() =>
      store(`CREATE LOADING JOB x FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name", _, _, _, _) USING JSON_FILE="true";
  LOAD f TO VERTEX Company VALUES ($"id", _) USING JSON_FILE="true", EOL="\\n";
}`),
    ).toThrow(/must have the same USING clause/);
  });

  it('refuses VALUES of the wrong length and mixed field kinds', () => {
    expect(() =>
      store(`CREATE LOADING JOB x FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Person VALUES ($"name") USING JSON_FILE="true";
}`),
    ).toThrow(/VALUES has 1 values, the type takes 5/);
    expect(() =>
      store(`CREATE LOADING JOB x FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO VERTEX Company VALUES ($0, $1) USING JSON_FILE="true";
}`),
    ).toThrow(/reads \$"field", not positional/);
  });
});

describe('GraphStore: edges', () => {
  const job = `CREATE LOADING JOB e FOR GRAPH G {
  DEFINE FILENAME f;
  LOAD f TO EDGE works_at VALUES ($"p", $"c", $"since") USING JSON_FILE="true";
  LOAD f TO EDGE knows VALUES ($"p", $"q", $"w") USING JSON_FILE="true";
}`;

  it('loads a DIRECTED edge with its reverse edge and creates missing end vertices', () => {
    const s = store(job);
    const stats = s.loadLines('e', 'f', ['{"p":"ann","c":"7","since":2019}']);
    expect(stats.edge[0]).toMatchObject({ typeName: 'works_at', validObject: 1 });
    expect(vertex(s, 'Company', '7')).toEqual({ id: 7, label: '' });
    expect(s.listEdges('G', 'Person', 'ann')).toEqual([
      {
        e_type: 'works_at',
        directed: true,
        from_type: 'Person',
        from_id: 'ann',
        to_type: 'Company',
        to_id: '7',
        attributes: { since: 2019 },
      },
    ]);
    expect(s.listEdges('G', 'Company', '7')).toEqual([
      expect.objectContaining({ e_type: 'staff', from_id: '7', to_type: 'Person', to_id: 'ann' }),
    ]);
    expect(s.graphs.get('G')?.has('staff')).toBe(true);
  });

  it('lists an UNDIRECTED edge from either end as one edge, upserted on its ends', () => {
    const s = store(job);
    s.loadLines('e', 'f', ['{"p":"a","q":"b","w":1}', '{"p":"b","q":"a","w":2}']);
    expect(s.countEdges('knows')).toBe(1);
    expect(s.listEdges('G', 'Person', 'b', { edgeType: 'knows' })).toEqual([
      expect.objectContaining({
        directed: false,
        from_id: 'b',
        to_id: 'a',
        attributes: { weight: 2 },
      }),
    ]);
    expect(s.listEdges('G', 'Person', 'a', { edgeType: '_' })).toHaveLength(1);
  });

  it('counts an edge end that does not fit its vertex id type as invalidPrimaryId', () => {
    const s = store(job);
    const stats = s.loadLines('e', 'f', ['{"p":"a","c":"not-a-number"}', '{"c":"1"}']);
    expect(stats.edge[0]).toMatchObject({ invalidPrimaryId: 1, noIdFound: 1, validObject: 0 });
  });

  it('filters by edge type, target type and target id, normalising ids to the id type', () => {
    const s = store(job);
    s.loadLines('e', 'f', [
      '{"p":"a","c":"1","since":1}',
      '{"p":"a","c":"2","since":2}',
      '{"p":"a","q":"z","w":1}',
    ]);
    expect(s.listEdges('G', 'Person', 'a')).toHaveLength(3);
    expect(s.listEdges('G', 'Person', 'a', { edgeType: 'works_at' })).toHaveLength(2);
    expect(
      s.listEdges('G', 'Person', 'a', {
        edgeType: 'works_at',
        targetType: 'Company',
        targetId: '02',
      }),
    ).toEqual([expect.objectContaining({ to_id: '2', attributes: { since: 2 } })]);
  });

  it('answers a missing vertex or unknown types with named errors', () => {
    const s = store(job);
    expect(() => s.listEdges('G', 'Person', 'nobody')).toThrow(
      expect.objectContaining({ code: 'TG_VERTEX_NOT_FOUND' }),
    );
    expect(() => s.listEdges('G', 'Nope', 'a')).toThrow(
      expect.objectContaining({ code: 'TG_VERTEX_TYPE_NOT_FOUND' }),
    );
    s.loadLines('e', 'f', ['{"p":"a","q":"b"}']);
    expect(() => s.listEdges('G', 'Person', 'a', { edgeType: 'nope' })).toThrow(
      expect.objectContaining({ code: 'TG_EDGE_TYPE_NOT_FOUND' }),
    );
    expect(() => s.listEdges('H', 'Person', 'a')).toThrow(
      expect.objectContaining({ code: 'TG_GRAPH_NOT_FOUND' }),
    );
  });
});

describe('GraphStore: GSQL run control', () => {
  it('hands SHOW/ABORT/RESUME (dotted job ids) to the emulator and refuses them alone', () => {
    const s = store(PERSON_JOB);
    const seen: unknown[] = [];
    const out = s.runGsql(
      'USE GRAPH G\nABORT LOADING JOB G.j.kafka.m1.1700000000000\nSHOW LOADING STATUS ALL',
      (c, graph) => {
        seen.push({ ...c, graph });
        return [`did ${c.action}`];
      },
    );
    expect(out).toEqual(["Using graph 'G'", 'did abort', 'did show']);
    expect(seen).toEqual([
      { kind: 'loadingControl', action: 'abort', jobId: 'G.j.kafka.m1.1700000000000', graph: 'G' },
      { kind: 'loadingControl', action: 'show', jobId: undefined, graph: 'G' },
    ]);
    expect(() => s.runGsql('RESUME LOADING JOB x')).toThrow(/need the emulator/);
    expect(() => s.runGsql('RESUME LOADING JOB ALL', () => [])).toThrow(
      /expected a loading job id/,
    );
  });

  it('refuses REVERSE_EDGE on an undirected edge', () => {
    expect(() =>
      new GraphStore().runGsql(
        'CREATE VERTEX A (primary_id id STRING)\nCREATE UNDIRECTED EDGE e (FROM A, TO A) WITH REVERSE_EDGE="r"',
      ),
    ).toThrow(/only a DIRECTED edge/);
  });
});

describe('GraphStore: one vertex by id (GET /graph/{g}/vertices/{type}/{id})', () => {
  it('answers the vertex as listed, nothing for an id it does not hold, and names unknown types', () => {
    const s = store(PERSON_JOB);
    load(s, ['{"name":"a","age":1}', '{"name":"b","age":2}']);
    expect(s.getVertex('G', 'Person', 'b')).toEqual(
      s.listVertices('G', 'Person').find((v) => v.id === 'b'),
    );
    expect(s.getVertex('G', 'Person', 'b')).toMatchObject({ id: 'b', attributes: { age: 2 } });
    expect(s.getVertex('G', 'Person', 'c')).toBeUndefined();
    expect(() => s.getVertex('G', 'Nope', 'a')).toThrow(
      expect.objectContaining({ code: 'TG_VERTEX_TYPE_NOT_FOUND' }),
    );
    expect(() => s.getVertex('H', 'Person', 'a')).toThrow(
      expect.objectContaining({ code: 'TG_GRAPH_NOT_FOUND' }),
    );
  });
});
