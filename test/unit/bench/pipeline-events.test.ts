import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeKafkaEvent } from '../../../lib/event/index.ts';
import {
  ROUND_RECORDS,
  eventTexts,
  kcatLine,
  lazyEvents,
  writeKcatFile,
} from '../../../bench/pipeline.ts';

/** The records of lazyEvents' events, in order, each with the line kcat's file would hold for it. */
const asKcatLines = (events: (() => unknown)[]) =>
  events.flatMap((build) =>
    decodeKafkaEvent(build()).records.map((r) => ({
      line: `${r.key?.toString() ?? ''}\t${r.value?.toString() ?? ''}\n`,
      partition: r.partition,
      offset: r.offset,
    })),
  );

/** What record n of a run over `partitions` partitions must be. */
const expected = (n: number, partitions: number) => ({
  line: kcatLine(n % ROUND_RECORDS),
  partition: n % partitions,
  offset: Math.floor(n / partitions),
});

const byCoordinates = (a: { partition: number; offset: number }, b: typeof a) =>
  a.partition - b.partition || a.offset - b.offset;

describe('the pipeline bench: the handler and kcat send the same lines', () => {
  it("gives record n kcat's line n mod ROUND_RECORDS, across a wrap inside a batch, at ever higher offsets", () => {
    // Batches of 4 from ROUND_RECORDS - 3: the wrap falls between the third and fourth record
    // of the first batch.
    const first = ROUND_RECORDS - 3;
    const got = asKcatLines(lazyEvents('companies-stream', first, 8, 4));
    expect(got).toEqual(Array.from({ length: 8 }, (_, i) => expected(first + i, 1)));
    expect(got[3]?.line).toBe(kcatLine(0));
  });

  it('puts record n in partition n mod partitions at offset n div partitions, with its own line', () => {
    // 12 records over 6 partitions from record 10, in batches of 4 (not 6, so that a batch size
    // taken for the partition count shows): two offsets per partition.
    const got = asKcatLines(lazyEvents('companies-direct', 10, 12, 4, 6));
    expect(got.sort(byCoordinates)).toEqual(
      Array.from({ length: 12 }, (_, i) => expected(10 + i, 6)).sort(byCoordinates),
    );
  });

  it('writes each event as the JSON bytes of what its function builds, one buffer an event', () => {
    const list = lazyEvents('companies-stream', 5, 6, 3);
    const texts = eventTexts(list);
    expect(texts).toHaveLength(2);
    const fromBytes = texts.map((t) => decodeKafkaEvent(JSON.parse(t.toString('utf8'))));
    // Each built again: the same records (timestamps aside: each build stamps its own).
    const built = list.map((build) => decodeKafkaEvent(build()));
    const strip = (b: ReturnType<typeof decodeKafkaEvent>) =>
      b.records.map(({ timestamp: _t, ...r }) => ({
        ...r,
        key: r.key?.toString(),
        value: r.value?.toString(),
      }));
    expect(fromBytes.map(strip)).toEqual(built.map(strip));
    expect(fromBytes.flatMap((b) => b.records.map((r) => r.offset))).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it("kcat's line is its key, a tab and the JSON value, one line", () => {
    expect(kcatLine(7)).toBe('c7\t{"company":"Company 7","employee_num":7}\n');
  });
});

describe('writeKcatFile', () => {
  it("holds kcat's line of every record of a round, in order, each once", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcat-file-'));
    try {
      const file = join(dir, 'lines.tsv');
      writeKcatFile(file);
      const lines = readFileSync(file, 'utf8').split(/(?<=\n)/);
      expect(lines).toHaveLength(ROUND_RECORDS);
      lines.forEach((line, n) => {
        if (line !== kcatLine(n)) expect(line).toBe(kcatLine(n));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
