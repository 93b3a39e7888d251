import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeKafkaEvent } from '../../../lib/event/index.ts';
import {
  ROUND_RECORDS,
  kcatLine,
  lazyEvents,
  writeEventFile,
  writeKcatFile,
  type EventFile,
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

/** Runs `test` with a path for an event file in a fresh directory, removed afterwards. */
const inScratch = (test: (file: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-events-'));
  try {
    test(join(dir, 'events.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Runs `test` with an event file of `list`, closed afterwards. */
const withEvents = (
  file: string,
  list: readonly (() => unknown)[],
  test: (events: EventFile) => void,
): void => {
  const events = writeEventFile(file, list);
  try {
    test(events);
  } finally {
    events.close();
  }
};

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

  it('writes each event as the JSON of what its function builds, and reads each back alone', () =>
    inScratch((file) => {
      const list = lazyEvents('companies-stream', 5, 6, 3);
      withEvents(file, list, (events) => {
        expect(events.count).toBe(2);
        // The second first: each is read from where it was written, not in sequence.
        const read = [1, 0].map((i) => decodeKafkaEvent(JSON.parse(events.text(i))));
        const built = list.map((build) => decodeKafkaEvent(build()));
        const strip = (b: ReturnType<typeof decodeKafkaEvent>) =>
          b.records.map(({ timestamp: _t, ...r }) => ({
            ...r,
            key: r.key?.toString(),
            value: r.value?.toString(),
          }));
        // The same records (timestamps aside: each build stamps its own).
        expect(read.map(strip)).toEqual([built[1], built[0]].map((b) => strip(b!)));
        expect(read[1]?.records.map((r) => r.offset)).toEqual([5, 6, 7]);
      });
    }));

  it('names an event it does not hold, and deletes its file when closed, once', () =>
    inScratch((file) => {
      withEvents(file, lazyEvents('companies-stream', 0, 4, 2), (events) => {
        expect(() => events.text(2)).toThrow(
          expect.objectContaining({
            code: 'BENCH_EVENT_OUT_OF_RANGE',
            message: expect.stringContaining('holds 2 event(s): no event 2') as string,
          }),
        );
        expect(existsSync(file)).toBe(true);
        events.close();
        expect(existsSync(file)).toBe(false);
        expect(() => events.text(0)).toThrow(
          expect.objectContaining({ code: 'BENCH_EVENT_OUT_OF_RANGE' }),
        );
        // Closing again (withEvents does) does nothing.
      });
    }));

  it('closes and deletes its file when building an event fails, and passes the error on', () =>
    inScratch((file) => {
      // Open file descriptors, as Linux lists them (the suite runs on Linux).
      const open = () => readdirSync('/proc/self/fd').length;
      const before = open();
      const failing = [
        ...lazyEvents('companies-stream', 0, 2, 2),
        () => {
          throw new Error('no event');
        },
      ];
      expect(() => writeEventFile(file, failing)).toThrow('no event');
      expect(open()).toBe(before);
      expect(existsSync(file)).toBe(false);
    }));

  it('says which event a file cut short ends inside', () =>
    inScratch((file) => {
      withEvents(file, lazyEvents('companies-stream', 0, 4, 2), (events) => {
        const first = Buffer.byteLength(events.text(0));
        truncateSync(file, first + 10);
        expect(() => events.text(1)).toThrow(
          expect.objectContaining({
            code: 'BENCH_EVENT_FILE_SHORT',
            message: expect.stringContaining(
              `ends at byte ${first + 10}, inside event 1`,
            ) as string,
          }),
        );
      });
    }));

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
