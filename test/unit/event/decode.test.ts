import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  decodeKafkaEvent,
  encodeKafkaEvent,
  isKafkaEvent,
  MAX_EVENT_RECORDS,
  MAX_JOINED_TEXT,
  parseRawRecord,
  type KafkaRecord,
} from '../../../lib/event/index.ts';
import { fixture } from '../../helpers/fixtures.ts';

const withRecords = (records: Record<string, unknown[]>, source = 'aws:kafka') => ({
  eventSource: source,
  bootstrapServers: 'b:9092',
  records,
});
const base = {
  topic: 't',
  partition: 0,
  offset: 1,
  timestamp: 1545084650987,
  timestampType: 'CREATE_TIME',
};

describe('decodeKafkaEvent', () => {
  it('decodes the documented MSK sample event', () => {
    const batch = decodeKafkaEvent(fixture('msk-event.json'));
    expect(batch.eventSource).toBe('aws:kafka');
    expect(batch.eventSourceArn).toMatch(/^arn:aws:kafka:us-east-1:123456789012:cluster\//);
    expect(batch.records).toHaveLength(1);
    const [r] = batch.records as [KafkaRecord];
    expect(r).toMatchObject({
      topic: 'mytopic',
      partition: 0,
      offset: 15,
      timestamp: 1545084650987,
      timestampType: 'CREATE_TIME',
    });
    expect(r.key?.toString()).toBe('recordKey');
    expect(r.value?.toString()).toBe('{"key":"value"}');
    expect(r.headers).toEqual([{ key: 'headerKey', value: Buffer.from('headerValue') }]);
  });

  it('decodes the documented self-managed sample event, which has no eventSourceArn', () => {
    const batch = decodeKafkaEvent(fixture('self-managed-event.json'));
    expect(batch.eventSource).toBe('SelfManagedKafka');
    expect(batch.eventSourceArn).toBeUndefined();
    expect(batch.records[0]?.value?.toString()).toBe('{"key":"value"}');
  });

  it('restores non-ASCII header values sent as negative signed bytes', () => {
    // "é" is 0xC3 0xA9 in UTF-8; Java sends the bytes signed: -61, -87.
    const batch = decodeKafkaEvent(
      withRecords({
        't-0': [{ ...base, value: '', headers: [{ name: [99, 97, 102, -61, -87] }] }],
      }),
    );
    expect(batch.records[0]?.headers[0]?.value.toString('utf8')).toBe('café');
  });

  it('keeps duplicate header keys, in order', () => {
    const batch = decodeKafkaEvent(
      withRecords({ 't-0': [{ ...base, headers: [{ h: [49] }, { h: [50] }, { other: [] }] }] }),
    );
    expect(batch.records[0]?.headers.map((h) => `${h.key}=${h.value.toString()}`)).toEqual([
      'h=1',
      'h=2',
      'other=',
    ]);
  });

  it('treats a missing or null key as no key and a missing or null value as a tombstone', () => {
    const batch = decodeKafkaEvent(
      withRecords({
        't-0': [
          { ...base, offset: 1 },
          { ...base, offset: 2, key: null, value: null },
        ],
      }),
    );
    expect(batch.records.map((r) => [r.key, r.value])).toEqual([
      [null, null],
      [null, null],
    ]);
  });

  it.each(['aws:kafka', 'SelfManagedKafka', 'aws:SelfManagedKafka'])(
    'accepts eventSource %s and reports it unchanged',
    (source) => {
      const batch = decodeKafkaEvent(withRecords({ 't-0': [base] }, source));
      expect(batch.eventSource).toBe(source);
      expect(batch.records).toHaveLength(1);
    },
  );

  it.each([
    ['0', 0],
    ['7', 7],
    ['012', 12],
    ['2147483647', 2147483647],
  ])('accepts partition "%s" as the number %d', (partition, expected) => {
    const batch = decodeKafkaEvent(withRecords({ 't-0': [{ ...base, partition }] }));
    expect(batch.records[0]?.partition).toBe(expected);
    expect(typeof batch.records[0]?.partition).toBe('number');
  });

  it('orders numeric-string partitions as numbers, not as text', () => {
    const batch = decodeKafkaEvent(
      withRecords({
        't-10': [{ ...base, partition: '10' }],
        't-9': [{ ...base, partition: '9' }],
        't-2': [{ ...base, partition: 2 }],
      }),
    );
    expect(batch.records.map((r) => r.partition)).toEqual([2, 9, 10]);
  });

  it.each([
    ['absent', {}],
    ['null', { headers: null }],
    ['[]', { headers: [] }],
  ])('decodes headers given as %s to no headers', (_shape, headers) => {
    const batch = decodeKafkaEvent(withRecords({ 't-0': [{ ...base, ...headers }] }));
    expect(batch.records[0]?.headers).toEqual([]);
  });

  it('keeps a value that is present but empty apart from a tombstone', () => {
    const batch = decodeKafkaEvent(
      withRecords({
        't-0': [
          { ...base, offset: 1, value: '' },
          { ...base, offset: 2, value: null },
          { ...base, offset: 3 },
        ],
      }),
    );
    expect(batch.records.map((r) => (r.value === null ? null : r.value.length))).toEqual([
      0,
      null,
      null,
    ]);
  });

  it('decodes a numeric-string partition exactly as the number (property)', () => {
    fc.assert(
      fc.property(fc.nat(100_000), (p) => {
        const asString = decodeKafkaEvent(withRecords({ t: [{ ...base, partition: String(p) }] }));
        const asNumber = decodeKafkaEvent(withRecords({ t: [{ ...base, partition: p }] }));
        expect(asString).toEqual(asNumber);
        expect(asString.records[0]?.partition).toBe(p);
      }),
    );
  });

  it('orders records by topic, partition and offset, whatever the event order', () => {
    const batch = decodeKafkaEvent(
      withRecords({
        'b-1': [{ ...base, topic: 'b', partition: 1, offset: 9 }],
        'a-1': [
          { ...base, topic: 'a', partition: 1, offset: 5 },
          { ...base, topic: 'a', partition: 1, offset: 3 },
        ],
        'a-0': [{ ...base, topic: 'a', partition: 0, offset: 7 }],
      }),
    );
    expect(batch.records.map((r) => `${r.topic}-${r.partition}@${r.offset}`)).toEqual([
      'a-0@7',
      'a-1@3',
      'a-1@5',
      'b-1@9',
    ]);
  });

  it('does not parse the partition from the records key (topic names may contain "-")', () => {
    const batch = decodeKafkaEvent(
      withRecords({ 'my-topic-2': [{ ...base, topic: 'my-topic', partition: 2 }] }),
    );
    expect(batch.records[0]).toMatchObject({ topic: 'my-topic', partition: 2 });
  });

  it.each([
    [null, 'the event is null, not an object'],
    [
      { eventSource: 'aws:sqs', records: {} },
      'eventSource: expected one of "aws:kafka", "SelfManagedKafka", "aws:SelfManagedKafka", found "aws:sqs"',
    ],
    [
      { eventSource: 'selfmanagedkafka', records: {} },
      'eventSource: expected one of "aws:kafka", "SelfManagedKafka", "aws:SelfManagedKafka", found "selfmanagedkafka"',
    ],
    [
      { records: {} },
      'eventSource: expected one of "aws:kafka", "SelfManagedKafka", "aws:SelfManagedKafka", found undefined',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: 'abc' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found "abc"',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: '-1' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found "-1"',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: '1.5' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found "1.5"',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: ' 1' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found " 1"',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: '' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found ""',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: '99999999999999999999' }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found "99999999999999999999"',
    ],
    [
      withRecords({ 't-0': [{ ...base, partition: -1 }] }),
      'records["t-0"][0].partition: expected a non-negative integer or a string of decimal digits, found number -1',
    ],
    [
      withRecords({ 't-0': [{ ...base, offset: '15' }] }),
      'records["t-0"][0].offset: expected a non-negative integer, found "15"',
    ],
    [
      withRecords({ 't-0': [{ ...base, headers: [{ h: 'aGVhZGVy' }] }] }),
      'records["t-0"][0].headers[0].h: expected an array of bytes (-128..255), found "aGVhZGVy"',
    ],
    [
      withRecords({ 't-0': [{ ...base, offset: 'x' }] }),
      'records["t-0"][0].offset: expected a non-negative integer, found "x"',
    ],
    [
      withRecords({ 't-0': [{ ...base, value: 'not base64!' }] }),
      'records["t-0"][0].value: expected base64 text, null or nothing, found text that is not base64',
    ],
    [
      withRecords({ 't-0': [{ ...base, headers: [{ h: [300] }] }] }),
      'records["t-0"][0].headers[0].h: expected an array of bytes (-128..255), found an array',
    ],
    [
      withRecords({ 't-0': {} as unknown as unknown[] }),
      'records["t-0"]: expected an array, found an object',
    ],
  ])('rejects a malformed event with a message naming the field: %#', (event, message) => {
    expect(isKafkaEvent(event)).toBe(false);
    expect(() => decodeKafkaEvent(event)).toThrow(
      expect.objectContaining({
        code: 'EVENT_MALFORMED',
        message: expect.stringContaining(message) as unknown,
      }),
    );
  });

  it.each([
    ['a space', 'ab c'],
    ['padding inside', 'a=bc'],
    ['a character outside both alphabets', 'abc$'],
    ['padding past two', 'abcd===='],
    ['a second padded group', 'YQ==YQ=='],
  ])('refuses a value with %s, though its length is a multiple of 4', (_what, value) => {
    expect(() => decodeKafkaEvent(withRecords({ 't-0': [{ ...base, value }] }))).toThrow(
      'records["t-0"][0].value: expected base64 text, null or nothing, found text that is not base64',
    );
  });

  it("decodes URL-safe base64 (`-`, `_`) to the bytes it stands for, as Node's decoder does", () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf]);
    const batch = decodeKafkaEvent(
      withRecords({ 't-0': [{ ...base, key: bytes.toString('base64url'), value: '-_-_' }] }),
    );
    expect(batch.records[0]?.key).toEqual(bytes);
    expect(batch.records[0]?.value).toEqual(Buffer.from('+/+/', 'base64'));
  });

  it('refuses text with a character above U+00FF, which Node would read as its low byte', () => {
    for (const value of ['\u0141AAA', '\u012b\u012f\u012b\u012f'])
      expect(() => decodeKafkaEvent(withRecords({ 't-0': [{ ...base, value }] }))).toThrow(
        'records["t-0"][0].value: expected base64 text, null or nothing, found text that is not base64',
      );
  });

  it(`refuses an event of more than ${MAX_EVENT_RECORDS.toLocaleString('en-US')} records, naming the count`, () => {
    const records = Array.from({ length: MAX_EVENT_RECORDS + 1 }, (_, offset) => ({
      ...base,
      offset,
    }));
    expect(() => decodeKafkaEvent(withRecords({ 't-0': records }))).toThrow(
      `records: ${MAX_EVENT_RECORDS + 1} records in one event, more than the ${MAX_EVENT_RECORDS} allowed`,
    );
    expect(decodeKafkaEvent(withRecords({ 't-0': records.slice(1) })).records).toHaveLength(
      MAX_EVENT_RECORDS,
    );
  });

  it('decodes keys and values with one decoder call: padded texts end where they should, every byte of the buffer written', () => {
    // The arena comes back full of 0xaa, as reused memory could: any byte the decoder did not
    // write would show through `.buffer`.
    const allocate = Buffer.allocUnsafeSlow.bind(Buffer);
    const spy = vi
      .spyOn(Buffer, 'allocUnsafeSlow')
      .mockImplementation((size: number) => allocate(size).fill(0xaa));
    try {
      const batch = decodeKafkaEvent(
        withRecords({
          't-0': [
            { ...base, key: 'YR==', value: 'YWI=' },
            { ...base, offset: 2, value: 'YWJj' },
          ],
        }),
      );
      const [a, b] = batch.records;
      expect(a?.key).toEqual(Buffer.from('YR==', 'base64'));
      expect(a?.value?.toString()).toBe('ab');
      expect(b?.value?.toString()).toBe('abc');
      // One buffer for all three: 3 bytes per 4 characters, each padding character's byte
      // holding what the text's last character leaves over (`R` leaves 0001: 0x10), never
      // what the memory held before.
      expect(spy).toHaveBeenCalledTimes(1);
      expect(b?.value?.buffer).toBe(a?.key?.buffer);
      expect(Buffer.from(a?.key?.buffer as ArrayBuffer)).toEqual(
        Buffer.from([0x61, 0x10, 0, 0x61, 0x62, 0, 0x61, 0x62, 0x63]),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it(`decodes text by text an event of more than ${MAX_JOINED_TEXT.toLocaleString('en-US')} base64 characters, which it does not join`, () => {
    // Nine values of 4 MiB of base64, each ending in `==`: joined, the buffer would hold two
    // bytes more for each; decoded apart, exactly their bytes.
    const bytes = Buffer.alloc(3 * 1024 * 1024 - 2, 7);
    const value = bytes.toString('base64');
    const records = Array.from({ length: 9 }, (_, i) => ({ ...base, offset: i, value }));
    expect(9 * value.length).toBeGreaterThan(MAX_JOINED_TEXT);
    const batch = decodeKafkaEvent(withRecords({ 't-0': records }));
    expect(batch.records).toHaveLength(9);
    expect(batch.records.every((r) => r.value?.equals(bytes) === true)).toBe(true);
    expect(batch.records[0]?.value?.buffer.byteLength).toBe(9 * bytes.length);
  });

  it('decodes text by text when one text is not base64, and names that record', () => {
    // Joined, the second text's `=` would stop the decoder for the third as well: the event
    // falls back to decoding each text apart, which finds the one at fault.
    const event = withRecords({
      't-0': [
        { ...base, value: 'YWJj' },
        { ...base, offset: 2, value: 'YW=j' },
        { ...base, offset: 3, value: 'YQ==' },
      ],
    });
    expect(() => decodeKafkaEvent(event)).toThrow('records["t-0"][1].value: expected base64 text');
  });

  it('names the first malformed record in event order, whichever check finds it', () => {
    // Record 0's value is not base64 (found while decoding); record 1's partition is wrong
    // (found before decoding): the message names record 0, as the full validation does.
    expect(() =>
      decodeKafkaEvent(
        withRecords({
          't-0': [
            { ...base, value: 'ab!d' },
            { ...base, offset: 2, partition: 'x' },
          ],
        }),
      ),
    ).toThrow('records["t-0"][0].value: expected base64 text');
  });

  it('accepts exactly the text the full validation accepts, with the bytes Buffer.from decodes (property)', () => {
    const text = fc
      .array(
        fc.constantFrom(
          // Characters above U+00FF whose low byte is a base64 character (Ł: A, ī: +, ɯ: /).
          ...'AZaz09+/-_= !$\n\u00e9\u0141\u012b\u026f'.split(''),
        ),
        { maxLength: 12 },
      )
      .map((chars) => chars.join(''))
      .filter((t) => t.length % 4 === 0);
    fc.assert(
      fc.property(text, (value) => {
        const event = withRecords({ 't-0': [{ ...base, value }] });
        let decoded: Buffer | null | undefined;
        try {
          decoded = decodeKafkaEvent(event).records[0]?.value;
        } catch {
          decoded = undefined;
        }
        expect(decoded !== undefined).toBe(isKafkaEvent(event));
        if (decoded !== undefined) expect(decoded).toEqual(Buffer.from(value, 'base64'));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly the events the full validation accepts, several records each, with the bytes Buffer.from decodes (property)', () => {
    // Texts that are mostly base64 (every padding), now and then with a character Node's
    // decoder skips or stops at, or one above U+00FF: joined into one decoder call, a bad text
    // must not shift or hide its neighbours' bytes.
    const good = fc.uint8Array({ maxLength: 7 }).chain((bytes) =>
      fc.constantFrom(
        Buffer.from(bytes).toString('base64'),
        Buffer.from(bytes)
          .toString('base64url')
          .padEnd(Math.ceil((bytes.length * 4) / 3 / 4) * 4, '='),
      ),
    );
    const bad = fc
      .tuple(good, fc.constantFrom(...'= !\n\u0141\u00e9'.split('')), fc.nat())
      .map(([t, c, at]) => {
        const i = t.length === 0 ? 0 : at % t.length;
        return `${t.slice(0, i)}${c}${t.slice(i + 1)}`;
      })
      .filter((t) => t.length % 4 === 0);
    const text = fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: bad, weight: 1 });
    const field = fc.option(text, { nil: null });
    fc.assert(
      fc.property(fc.array(fc.tuple(field, field), { minLength: 1, maxLength: 5 }), (pairs) => {
        const event = withRecords({
          't-0': pairs.map(([key, value], i) => ({ ...base, offset: i, key, value })),
        });
        let records: readonly KafkaRecord[] | undefined;
        try {
          records = decodeKafkaEvent(event).records;
        } catch {
          records = undefined;
        }
        expect(records !== undefined).toBe(isKafkaEvent(event));
        if (records !== undefined)
          pairs.forEach(([key, value], i) => {
            expect(records?.[i]?.key).toEqual(key === null ? null : Buffer.from(key, 'base64'));
            expect(records?.[i]?.value).toEqual(
              value === null ? null : Buffer.from(value, 'base64'),
            );
          });
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips any records through the ESM event encoding (property)', () => {
    const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
    const record = fc.record({
      topic: fc.constantFrom('orders', 'my-topic', 'a.b_c'),
      partition: fc.nat(20),
      offset: fc.nat(1_000_000),
      timestamp: fc.nat(2_000_000_000_000),
      timestampType: fc.constant('CREATE_TIME'),
      key: fc.option(bytes, { nil: null }),
      value: fc.option(bytes, { nil: null }),
      headers: fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'trace-id'), value: bytes }), {
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(record, {
          selector: (r) => `${r.topic}|${r.partition}|${r.offset}`,
          maxLength: 30,
        }),
        (records) => {
          const event = encodeKafkaEvent(records, {
            eventSource: 'SelfManagedKafka',
            bootstrapServers: 'x:1',
          });
          const decoded = decodeKafkaEvent(JSON.parse(JSON.stringify(event)));
          const sorted = [...records].sort((a, b) =>
            a.topic < b.topic
              ? -1
              : a.topic > b.topic
                ? 1
                : a.partition - b.partition || a.offset - b.offset,
          );
          expect(decoded.records).toEqual(sorted);
        },
      ),
    );
  });
});

describe('parseRawRecord', () => {
  it('accepts a numeric-string partition and returns it as a number', () => {
    const record = parseRawRecord({ ...base, partition: '3', key: null, headers: null });
    expect(record).toMatchObject({ partition: 3, key: null, value: null, headers: [] });
  });

  it('rejects a non-numeric partition with EVENT_RECORD_MALFORMED naming the field', () => {
    expect(() => parseRawRecord({ ...base, partition: 'p1' })).toThrow(
      expect.objectContaining({
        code: 'EVENT_RECORD_MALFORMED',
        message:
          'Not a Kafka record: partition: expected a non-negative integer or a string of decimal digits, found "p1"',
      }),
    );
  });
});
