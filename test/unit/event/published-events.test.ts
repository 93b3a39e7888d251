/**
 * Every fixture in test/fixtures/events mirrors the shape of a sample Kafka event that AWS or
 * Powertools publishes (see SOURCES.md there). Each one must decode to what its JSON says.
 * Expected values come from the file itself, read here with code that is independent of the
 * decoder (atob for base64, `& 0xff` for signed bytes), and from the literal table below.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeKafkaEvent, isKafkaEvent, type KafkaRecord } from '../../../lib/event/index.ts';
import { ROOT } from '../../helpers/fixtures.ts';

const DIR = join(ROOT, 'test', 'fixtures', 'events');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The fixture JSON as written (only what the tests read). */
interface FixtureRecord {
  topic: string;
  partition: number | string;
  offset: number;
  timestamp: number;
  key?: string | null;
  value?: string | null;
  headers?: Record<string, number[]>[] | null;
}
interface FixtureEvent {
  eventSource: string;
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, FixtureRecord[]>;
}

const read = (file: string): FixtureEvent =>
  JSON.parse(readFileSync(join(DIR, file), 'utf8')) as FixtureEvent;

/** Base64 to bytes without Buffer (the decoder uses Buffer). */
const base64Bytes = (text: string): number[] => Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (bytes: Iterable<number>): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const utf8 = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString());

interface ExpectedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: number[] | null;
  value: number[] | null;
  headers: [string, number[]][];
}

/** What the fixture says each record is, in topic/partition/offset order (event order on ties). */
function expectedRecords(event: FixtureEvent): ExpectedRecord[] {
  const list = Object.values(event.records)
    .flat()
    .map((r) => ({
      topic: r.topic,
      partition: typeof r.partition === 'string' ? Number.parseInt(r.partition, 10) : r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key == null ? null : base64Bytes(r.key),
      value: r.value == null ? null : base64Bytes(r.value),
      headers: (r.headers ?? []).flatMap((h) =>
        Object.entries(h).map(([k, bytes]): [string, number[]] => [k, bytes.map((b) => b & 0xff)]),
      ),
    }));
  return list
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        (a.r.topic === b.r.topic ? 0 : a.r.topic < b.r.topic ? -1 : 1) ||
        a.r.partition - b.r.partition ||
        a.r.offset - b.r.offset ||
        a.i - b.i,
    )
    .map(({ r }) => r);
}

const coordinates = (records: readonly KafkaRecord[]): string[] =>
  records.map((r) => `${r.topic}/${r.partition}@${r.offset}`);

interface Expectation {
  eventSource: string;
  hasArn: boolean;
  /** `topic/partition@offset` of each decoded record, in order. */
  coordinates: string[];
  /** Each key as UTF-8 text; null where the event has none. */
  keys: (string | null)[];
  /** Each value as UTF-8 text (text payloads), or the hex of its first bytes (binary ones). */
  values?: (string | null)[];
  valuePrefixes?: string[];
  /** Selected headers of the first record, as hex. */
  headersHex?: [string, string][];
}

const MSK_ARN_PREFIX = /^arn:aws:kafka:eu-central-1:111122223333:cluster\//;

/** What a user sees for each fixture, written out by hand from the fixture. */
const EXPECTED: Record<string, Expectation | { error: string }> = {
  'lambda-go-msk-signed-header-bytes.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['account-events/0@0'],
    keys: ['3f0b8e52-9c1d-4a7e-8f26-d41c0b7a9e13'],
    values: ['3f0b8e52-9c1d-4a7e-8f26-d41c0b7a9e13'],
    headersHex: [['checksum', '74c3a9007f80ff']],
  },
  'lambda-rust-msk.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['account-events/0@0'],
    keys: ['c6a2d9f4-1b3e-47d8-a5c0-7e9f1d2b3a48'],
    values: ['c6a2d9f4-1b3e-47d8-a5c0-7e9f1d2b3a48'],
    headersHex: [['content-kind', hex(Buffer.from('uuid-text'))]],
  },
  'lambda-dotnet-msk-binary-headers.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    // The group is named "graph-edges-0"; the record says partition 12, and that wins.
    coordinates: ['graph-edges/12@7340021'],
    keys: ['904712355'],
    values: ['Edge added between two accounts.'],
    headersHex: [
      ['SchemaVersion', '0000000000000005'],
      ['IsReplay', '01'],
      ['IsBackfill', '00'],
      ['ProducedAt', '0000019000c97e40'],
    ],
  },
  'lambda-dotnet-testtool-no-key.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph-edges/12@42'],
    keys: [null],
    values: ['Edge added between two accounts.'],
  },
  'lambda-dotnet-partition-as-string.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph-edges/0@42'],
    keys: [null],
    values: ['Edge removed.'],
  },
  'lambda-java-msk-no-key.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['people/0@15'],
    keys: [null],
    values: ['TigerStream says hi !!'],
  },
  // Lambda never sends header values as base64 text (see SOURCES.md): refuse, naming the field.
  'lambda-java-roundtrip-header-as-base64.json': {
    error:
      'records["people-01"][0].headers[0].origin: expected an array of bytes (-128..255), found "cGVvcGxlLXNlcnZpY2U="',
  },
  'powertools-msk-basic.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['people/0@15'],
    keys: ['person-7'],
    values: ['{"op":"upsert"}'],
    headersHex: [['origin', hex(Buffer.from('people-service'))]],
  },
  'powertools-python-msk-schema-metadata.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['people/0@15', 'people/0@15', 'people/0@15'],
    keys: ['person-7', null, null],
    values: ['{"op":"upsert","id":7}', '{"op":"upsert","id":8}', '{"op":"delete","id":9}'],
  },
  'powertools-python-self-managed-aws-prefix.json': {
    eventSource: 'aws:SelfManagedKafka',
    hasArn: false,
    coordinates: ['people/0@15'],
    keys: ['person-7'],
    values: ['{"op":"upsert"}'],
  },
  'powertools-ts-self-managed.json': {
    eventSource: 'SelfManagedKafka',
    hasArn: false,
    coordinates: ['people/0@15'],
    keys: ['person-7'],
    values: ['{"op":"upsert"}'],
  },
  'powertools-ts-kafka-json-pretty.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@16', 'accounts/0@17'],
    keys: ['acc-7', null, null],
    values: Array<string>(3).fill(
      '{\n  "vertex": "Account",\n  "id": "acc-7",\n  "balance": 1250.5\n}',
    ),
  },
  'powertools-ts-kafka-avro.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@16', 'accounts/0@17'],
    keys: ['7', '7', null],
    // Avro: zig-zag long 501 = ea 07, then the string length 5 * 2 = 0a and "Grace".
    valuePrefixes: ['ea070a4772616365', 'ec0708416c616e', 'ee070c45647367'],
  },
  'powertools-ts-kafka-protobuf.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@16', 'accounts/0@17'],
    keys: ['7', '7', null],
    // Protobuf: field 1 varint (08) 501 = f5 03, field 2 string (12) of 5 bytes "Grace".
    valuePrefixes: ['08f503120547726163', '08f6031204416c616e', '08f703'],
  },
  'powertools-ts-kafka-protobuf-confluent.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['ledger_proto/0@7340032', 'ledger_proto/0@7340033', 'ledger_proto/0@7340034'],
    keys: [
      '0d4f6a8c-2e1b-4c3d-9f8e-7a6b5c4d3e2f',
      '1e5a7b9d-3f2c-4d4e-8a9f-8b7c6d5e4f3a',
      '2f6b8cae-4a3d-4e5f-9bac-9c8d7e6f5a4b',
    ],
    valuePrefixes: ['020408d804', '020408d904', '020408da04'],
  },
  'powertools-ts-kafka-protobuf-glue.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['ledger_glue/0@18'],
    keys: ['7'],
    valuePrefixes: ['0108bc05'],
  },
  'powertools-dotnet-kafka-protobuf-glue.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: [
      'ledger_glue/0@5120000',
      'ledger_glue/0@5120001',
      'ledger_glue/0@5120002',
      'ledger_glue/0@5120003',
    ],
    keys: ['a101', 'a205', 'a333', 'a480'],
    valuePrefixes: ['0108a006', '0108a106', '0108a206', '0108a306'],
  },
  'powertools-ts-msk-serverless-avro-glue.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph-vertices/3@0'],
    keys: ['501'],
    // Glue wire format: version 03, compression 00, then the schema-version UUID.
    valuePrefixes: ['0300e4f5a6b7c8d94e0f9a1b3c4d5e6f7a8b'],
  },
  'powertools-ts-msk-serverless-json.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph-vertices/5@0'],
    keys: ['501'],
    values: ['{"vertex": "Person", "name": "Ada Lovelace"}'],
  },
  'powertools-ts-msk-serverless-protobuf.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph-vertices/5@1'],
    keys: ['501'],
    valuePrefixes: ['0809120341646119'],
  },
  'powertools-java-kafka-json-same-offset.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@15', 'accounts/0@15'],
    keys: ['7', '7', null],
    values: [
      '{"id":"acc-1","owner":"Ada","balance":10}',
      '{"id":"acc-2","owner":"Alan","balance":20.5}',
      '{"id":"acc-3","owner":"Grace","balance":30.25}',
    ],
  },
  'powertools-java-kafka-protobuf-framing.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@16', 'accounts/0@17', 'accounts/0@18'],
    keys: ['7', '7', null, '7'],
    valuePrefixes: ['082a', '00082a', '040200082a', '01082a'],
  },
  'powertools-java-two-topics-no-headers.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['graph1/0@15', 'graph2/0@15'],
    keys: [null, null],
    values: ['{"id":7, "type":"Person", "age":36}', '{"id":8, "type":"Company", "employees":120}'],
  },
  'powertools-ts-kafka-tombstones-null-headers.json': {
    eventSource: 'aws:kafka',
    hasArn: true,
    coordinates: ['accounts/0@15', 'accounts/0@16', 'accounts/0@17'],
    keys: ['acc-7', 'acc-7', 'acc-8'],
    values: [null, null, '{\n  "vertex": "Account",\n  "id": "acc-8"\n}'],
  },
};

describe('published sample events (test/fixtures/events)', () => {
  it('has an expectation and a SOURCES.md row for every fixture, and no stale ones', () => {
    expect(FILES.length).toBeGreaterThan(20);
    expect(Object.keys(EXPECTED).sort()).toEqual(FILES);
    const sources = readFileSync(join(DIR, 'SOURCES.md'), 'utf8');
    const listed = [...sources.matchAll(/^\| `([^`]+\.json)` \|/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(FILES);
  });

  describe.each(FILES)('%s', (file) => {
    const event = read(file);
    const expectation = EXPECTED[file];

    if (expectation !== undefined && 'error' in expectation) {
      it('is refused with EVENT_MALFORMED naming the field', () => {
        expect(isKafkaEvent(event)).toBe(false);
        expect(() => decodeKafkaEvent(event)).toThrow(
          expect.objectContaining({
            code: 'EVENT_MALFORMED',
            message: `Not a Kafka event-source mapping event: ${expectation.error}`,
          }),
        );
      });
      return;
    }

    it('decodes to exactly the records its JSON holds', () => {
      expect(isKafkaEvent(event)).toBe(true);
      const batch = decodeKafkaEvent(event);
      const expected = expectedRecords(event);
      expect(batch.eventSource).toBe(event.eventSource);
      expect(batch.eventSourceArn).toBe(event.eventSourceArn);
      expect(batch.bootstrapServers).toBe(event.bootstrapServers);
      expect(batch.records).toHaveLength(expected.length);
      batch.records.forEach((r, i) => {
        const want = expected[i]!;
        expect(typeof r.partition).toBe('number');
        expect(typeof r.offset).toBe('number');
        expect({ topic: r.topic, partition: r.partition, offset: r.offset }).toEqual({
          topic: want.topic,
          partition: want.partition,
          offset: want.offset,
        });
        expect(r.timestamp).toBe(want.timestamp);
        expect(r.key === null ? null : [...r.key]).toEqual(want.key);
        expect(r.value === null ? null : [...r.value]).toEqual(want.value);
        expect(r.headers.map((h) => [h.key, [...h.value]])).toEqual(want.headers);
      });
    });

    it('shows a user what the published sample shows', () => {
      if (expectation === undefined || 'error' in expectation) throw new Error('no expectation');
      const batch = decodeKafkaEvent(event);
      expect(batch.eventSource).toBe(expectation.eventSource);
      if (expectation.hasArn) expect(batch.eventSourceArn).toMatch(MSK_ARN_PREFIX);
      else expect(batch.eventSourceArn).toBeUndefined();
      expect(batch.bootstrapServers).toMatch(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
      expect(coordinates(batch.records)).toEqual(expectation.coordinates);
      expect(batch.records.map((r) => utf8(r.key))).toEqual(expectation.keys);
      if (expectation.values !== undefined)
        expect(batch.records.map((r) => utf8(r.value))).toEqual(expectation.values);
      const prefixes = expectation.valuePrefixes;
      if (prefixes !== undefined)
        expect(
          batch.records.map((r, i) =>
            hex(r.value?.subarray(0, (prefixes[i]?.length ?? 0) / 2) ?? []),
          ),
        ).toEqual(prefixes);
      for (const [name, value] of expectation.headersHex ?? [])
        expect(batch.records[0]!.headers.find((h) => h.key === name)?.value.toString('hex')).toBe(
          value,
        );
    });
  });
});
