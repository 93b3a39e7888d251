import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactJsonLines, createConverter } from '../../../lib/convert/index.ts';
import { MAX_JSON_DEPTH, isCompactJson, scanJsonLines } from '../../../lib/convert/json-line.ts';
import type { KafkaRecord } from '../../../lib/event/index.ts';
import { isTigerStreamError } from '../../../lib/errors/index.ts';

const lines = (text: string): string[] | undefined =>
  compactJsonLines(Buffer.from(text))?.map((b) => b.toString());
const line = (text: string): string | undefined => {
  const all = lines(text);
  return all?.length === 1 ? all[0] : undefined;
};

describe('compactJsonLines', () => {
  it('makes a pretty-printed object one line and keeps strings and numbers byte for byte', () => {
    expect(line('{\n  "id" : 12345678901234567890,\n\t"s": "a b\\n\\"c\\" }"\r\n}\n')).toBe(
      '{"id":12345678901234567890,"s":"a b\\n\\"c\\" }"}',
    );
    expect(line(' [ 1 , {"a" : [ ] } ] ')).toBe('[1,{"a":[]}]');
  });

  it('returns the same buffer when there is nothing to remove', () => {
    const value = Buffer.from('{"a":1}');
    expect(compactJsonLines(value)?.[0]).toBe(value);
  });

  it.each([
    ['plain text', 'hello\nworld'],
    ['CSV', 'a,b\n1,2'],
    ['a scalar', '42'],
    ['an unterminated string', '{"a": "b}'],
    ['unbalanced brackets', '{"a": [1, 2}'],
    ['text after the value', '{"a":1} trailing'],
    ['words in braces', '{hello world}'],
    ['words in brackets', '[a b]'],
    ['an assignment in braces', '{ key = some value }'],
    ['an unquoted key', '{a: 1}'],
    ['a bad escape', '{"a":"\\x"}'],
    ['a bad number', '{"a": 01}'],
    ['a trailing comma', '{"a": 1,}'],
    ['a raw line break inside a string', '{"a":"x\ny"}'],
    ['binary bytes', '\u0000\u0001\n'],
  ])('is not JSON for %s', (_name, text) => {
    expect(line(text)).toBeUndefined();
  });

  it('splits JSON Lines into one compact line per value', () => {
    expect(lines('{"a": 1}\n{"b": [2, 3]}\n\n[4]\n')).toEqual(['{"a":1}', '{"b":[2,3]}', '[4]']);
  });

  it('splits values that follow one another with no whitespace between them', () => {
    expect(lines('{"a":1}[2]{}')).toEqual(['{"a":1}', '[2]', '{}']);
    expect(lines('{"a":1}{"b": 2}')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives one compact line per value of any JSON Lines text, whatever separates them (property)', () => {
    const value = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.constantFrom(0, 2), fc.constantFrom('', '\n', ' \r\n', '\t')), {
          minLength: 1,
          maxLength: 5,
        }),
        (parts) => {
          const text = parts
            .map(([v, indent, sep]) => JSON.stringify(v, null, indent) + sep)
            .join('');
          expect(lines(text)).toEqual(parts.map(([v]) => JSON.stringify(v)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('removes whitespace wherever JSON allows it, around any strings (property)', () => {
    // Strings of any code units (escapes, non-ASCII, lone surrogates as JSON.stringify writes
    // them); whitespace of every kind before the value and around each structural character.
    const value = fc.oneof(
      fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ stringUnit: 'binary' })),
      fc.array(fc.jsonValue({ stringUnit: 'binary' })),
    );
    const space = fc.array(fc.constantFrom(' ', '\t', '\n', '\r'), { maxLength: 2 });
    fc.assert(
      fc.property(value, fc.infiniteStream(space), (v, spaces) => {
        const compact = JSON.stringify(v);
        const ws = (): string => (spaces.next().value as string[]).join('');
        let text = ws();
        let inString = false;
        for (let i = 0; i < compact.length; i++) {
          const c = compact[i] as string;
          if (inString) {
            text += c;
            if (c === '\\') text += compact[++i] as string;
            else if (c === '"') inString = false;
          } else if (c === '"') {
            text += c;
            inString = true;
          } else text += '{}[]:,'.includes(c) ? `${ws()}${c}${ws()}` : c;
        }
        expect(lines(text)).toEqual([compact]);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses nesting deeper than its bound instead of recursing without end', () => {
    expect(line(`${'['.repeat(600)}${']'.repeat(600)}`)).toBeUndefined();
    expect(line(`${'['.repeat(100)}${']'.repeat(100)}`)).toBe(
      `${'['.repeat(100)}${']'.repeat(100)}`,
    );
  });

  it('equals JSON.stringify for any JSON object or array, however it was indented', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue())),
        fc.constantFrom(0, 1, 2, 4, '\t'),
        (value, indent) => {
          const pretty = JSON.stringify(value, null, indent);
          expect(line(pretty)).toBe(JSON.stringify(value));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ByteArrayConverter and line breaks', () => {
  const record = (value: string | Buffer): KafkaRecord => ({
    topic: 't',
    partition: 1,
    offset: 7,
    timestamp: 0,
    timestampType: 'CREATE_TIME',
    key: null,
    value: Buffer.from(value),
    headers: [],
  });
  const converter = (delivery: 'kafka' | 'direct' | 'mirror-only') =>
    createConverter({
      valueConverter: 'bytes',
      schemaRegistryUrl: undefined,
      settings: {},
      tigergraph: delivery === 'mirror-only' ? undefined : { delivery },
    });
  const protobuf = Buffer.from([0x0a, 0x02, 0x41, 0x42, 0x10, 0x0a]);

  it('delivers a pretty-printed JSON value as one compact line in both modes', async () => {
    for (const mode of ['kafka', 'direct'] as const) {
      const out = await (await converter(mode)).convert(record('{\n  "a": 1\n}'));
      expect(out).toEqual({ kind: 'values', values: [Buffer.from('{"a":1}')] });
    }
  });

  it('drops one line ending after single-line text instead of refusing it', async () => {
    for (const mode of ['kafka', 'direct'] as const) {
      const c = await converter(mode);
      expect(await c.convert(record('a,b,c\n'))).toEqual({
        kind: 'values',
        values: [Buffer.from('a,b,c')],
      });
      expect(await c.convert(record('a,b,c\r\n'))).toEqual({
        kind: 'values',
        values: [Buffer.from('a,b,c')],
      });
      await expect(Promise.resolve().then(() => c.convert(record('a\n\n')))).rejects.toMatchObject({
        code: 'CONVERT_VALUE_MULTILINE',
      });
    }
  });

  it('a mirror-only connector mirrors a non-JSON value with a line break unchanged', async () => {
    const out = await (await converter('mirror-only')).convert(record(protobuf));
    expect(out).toEqual({ kind: 'values', values: [protobuf] });
  });

  it.each(['kafka', 'direct'] as const)(
    'with the loader called (%s mode) it is a record-level error with its own code and coordinates',
    async (mode) => {
      const c = await converter(mode);
      let error: unknown;
      try {
        await c.convert(record(protobuf));
      } catch (e) {
        error = e;
      }
      expect(isTigerStreamError(error) && error.code).toBe('CONVERT_VALUE_MULTILINE');
      expect(error).toMatchObject({
        retriable: false,
        details: { topic: 't', partition: 1, offset: 7 },
        message: expect.stringContaining('t/1@7') as unknown,
      });
      // A single-line text value still passes in direct mode.
      expect(await c.convert(record('a,b,c'))).toEqual({
        kind: 'values',
        values: [Buffer.from('a,b,c')],
      });
    },
  );
});

describe('isCompactJson (the fast path of compactJsonLines)', () => {
  const compactValue = fc.oneof(
    fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ stringUnit: 'binary' })),
    fc.array(fc.jsonValue({ stringUnit: 'binary' })),
  );

  it('accepts every object or array JSON.stringify writes, which the scanner gives back unchanged (property)', () => {
    fc.assert(
      fc.property(compactValue, (v) => {
        const text = Buffer.from(JSON.stringify(v));
        expect(isCompactJson(text)).toBe(true);
        const scanned = scanJsonLines(text);
        expect(scanned).toHaveLength(1);
        expect(scanned?.[0]).toBe(text);
        expect(compactJsonLines(text)?.[0]).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('never accepts a text the scanner would change or refuse, under random edits (property)', () => {
    // Edits from bytes that matter to the grammar: structure, digits and signs, letters of the
    // literals, whitespace, quotes and escapes, control and non-ASCII bytes.
    const byte = fc.constantFrom(
      ...Buffer.from('{}[]:,"\\/-+.0123456789eEtrufalsnbx \t\n\r'),
      0x00,
      0x1f,
      0x7f,
      0xc3,
      0xff,
    );
    const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), byte);
    fc.assert(
      fc.property(compactValue, fc.array(edit, { minLength: 1, maxLength: 3 }), (v, edits) => {
        const bytes = [...Buffer.from(JSON.stringify(v))];
        for (const [kind, at, b] of edits) {
          const i = bytes.length === 0 ? 0 : at % (bytes.length + (kind === 'insert' ? 1 : 0));
          if (kind === 'insert') bytes.splice(i, 0, b);
          else if (kind === 'delete') bytes.splice(i, 1);
          else bytes[i] = b;
        }
        const text = Buffer.from(bytes);
        const scanned = scanJsonLines(text);
        if (isCompactJson(text)) {
          expect(scanned).toHaveLength(1);
          expect(scanned?.[0]).toBe(text);
        }
        expect(compactJsonLines(text)).toEqual(scanned);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['a leading zero', '{"a":01}'],
    ['a trailing comma', '{"a":1,}'],
    ['a bad escape', '{"a":"\\x"}'],
    ['a short unicode escape', '["\\u12"]'],
    ['a bare dot', '[1.]'],
    ['a dot first', '[.5]'],
    ['a lone minus', '[-]'],
    ['an exponent without digits', '[1e+]'],
    ['a cut literal', '[tru]'],
    ['a literal of another case', '[Null]'],
    ['a key without a value', '{"a"}'],
    ['a colon without a value', '{"a":}'],
    ['a lone comma', '{,}'],
    ['a comma first', '[,1]'],
    ['a number key', '{1:2}'],
    ['a string at the top', '"a"'],
    ['a number at the top', '1'],
    ['a control byte in a string', '["a\u0001"]'],
    ['unbalanced brackets', '[{]}'],
    ['an unclosed array', '[1,2'],
    ['text after the value', '[1]x'],
    ['two values', '{"a":1}{"b":2}'],
    ['a space', '[1, 2]'],
    ['a final line break', '{"a":1}\n'],
    ['nothing', ''],
  ])('leaves %s to the scanner', (_name, text) => {
    const value = Buffer.from(text, 'latin1');
    expect(isCompactJson(value)).toBe(false);
    expect(compactJsonLines(value)).toEqual(scanJsonLines(value));
  });

  it("accepts nesting up to the scanner's bound and leaves deeper nesting to it", () => {
    const nested = (n: number): Buffer => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);
    expect(isCompactJson(nested(MAX_JSON_DEPTH))).toBe(true);
    expect(scanJsonLines(nested(MAX_JSON_DEPTH))).toHaveLength(1);
    expect(isCompactJson(nested(MAX_JSON_DEPTH + 1))).toBe(false);
    expect(scanJsonLines(nested(MAX_JSON_DEPTH + 1))).toBeUndefined();
  });
});
