/** A loading job's own default_start_offset, read from its definition (reference section 5.2). */
import { describe, expect, it } from 'vitest';
import {
  createTigerGraphClient,
  definedFilename,
  jobDefaultStartOffset,
} from '../../../lib/tigergraph/index.ts';
import { routedFetch, type Call } from './fake-tigergraph-http.ts';

/** A job as section 5.2 writes its inline configuration. */
const job = (filename: string): string =>
  `CREATE LOADING JOB load_company FOR GRAPH G {\n  DEFINE FILENAME f0;\n  DEFINE FILENAME f1 = ${filename};\n  LOAD f1 TO VERTEX company VALUES ($"name") USING JSON_FILE="true";\n}`;

describe("a loading job's own default_start_offset", () => {
  it('is read from the inline JSON of its DEFINE FILENAME, escapes and all', () => {
    const text = job(
      '"$k1:{\\"topic\\":\\"zzz\\",\\"default_start_offset\\":2,\\"partition_list\\":[]}"',
    );
    expect(definedFilename(text, 'f1')).toBe(
      '$k1:{"topic":"zzz","default_start_offset":2,"partition_list":[]}',
    );
    expect(jobDefaultStartOffset(text, 'f1')).toBe(2);
    expect(
      jobDefaultStartOffset(job('"$k1:{\\"topic\\":\\"t\\",\\"default_start_offset\\":-2}"'), 'f1'),
    ).toBe(-2);
  });

  it('is absent when the job sets none, names a file, a topic alone, or has no such variable', () => {
    expect(jobDefaultStartOffset(job('"$k1:{\\"topic\\":\\"t\\"}"'), 'f1')).toBeUndefined();
    expect(jobDefaultStartOffset(job('"$k1:/home/tigergraph/topic.json"'), 'f1')).toBeUndefined();
    expect(jobDefaultStartOffset(job('"$k1:companies"'), 'f1')).toBeUndefined();
    expect(jobDefaultStartOffset(job('"$k1:{not json}"'), 'f1')).toBeUndefined();
    expect(
      jobDefaultStartOffset(job('"$k1:{\\"default_start_offset\\":-3}"'), 'f1'),
    ).toBeUndefined();
    expect(
      jobDefaultStartOffset(job('"$k1:{\\"default_start_offset\\":1.5}"'), 'f1'),
    ).toBeUndefined();
    expect(definedFilename(job('"x"'), 'f0')).toBeUndefined();
    expect(definedFilename(job('"x"'), 'f9')).toBeUndefined();
    // An unclosed string is no value.
    expect(definedFilename('DEFINE FILENAME f1 = "$k1:{', 'f1')).toBeUndefined();
  });

  it('3.x asks GSQL SHOW JOB; 4.x reads results.jobContent of the job info call', async () => {
    const text = job('"$k1:{\\"topic\\":\\"t\\",\\"default_start_offset\\":7}"');
    const v3 = routedFetch({ 'POST /gsqlserver/gsql/file': { body: text } });
    const c3 = createTigerGraphClient({ url: 'http://tg', version: 3, fetch: v3.fetch });
    expect(jobDefaultStartOffset(await c3.jobDefinition('G', 'load_company'), 'f1')).toBe(7);
    expect(decodeURIComponent((v3.calls[0] as Call).body ?? '')).toBe(
      'USE GRAPH G\nSHOW JOB load_company',
    );

    const v4 = routedFetch({
      'GET /gsql/v1/loading-jobs/load_company': {
        body: { error: false, message: '', results: { jobName: 'load_company', jobContent: text } },
      },
    });
    const c4 = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: v4.fetch });
    expect(jobDefaultStartOffset(await c4.jobDefinition('G', 'load_company'), 'f1')).toBe(7);
    expect((v4.calls[0] as Call).url).toContain('/gsql/v1/loading-jobs/load_company?graph=G');
    // An answer without jobContent is an empty definition, not a crash.
    const empty = routedFetch({
      'GET /gsql/v1/loading-jobs/load_company': { body: { error: false } },
    });
    const ce = createTigerGraphClient({ url: 'http://tg', version: 4, fetch: empty.fetch });
    expect(await ce.jobDefinition('G', 'load_company')).toBe('');
  });
});
