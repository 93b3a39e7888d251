import { describe, expect, it } from 'vitest';
import { decodeKafkaEvent } from '../../../lib/event/index.ts';
import { ROUND_RECORDS, kcatLine, lazyEvents } from '../../../bench/pipeline.ts';

/** The records of lazyEvents' events, each as the line kcat's file would hold for it. */
const asKcatLines = (events: (() => unknown)[]) =>
  events.flatMap((build) =>
    decodeKafkaEvent(build()).records.map((r) => ({
      line: `${r.key?.toString() ?? ''}\t${r.value?.toString() ?? ''}\n`,
      partition: r.partition,
      offset: r.offset,
    })),
  );

describe('the pipeline bench: the handler and kcat send the same lines', () => {
  it("gives record n kcat's line n mod ROUND_RECORDS, across the wrap, at ever higher offsets", () => {
    const first = ROUND_RECORDS - 2;
    const got = asKcatLines(lazyEvents('companies-stream', first, 4, 2));
    expect(got.map((r) => r.line)).toEqual([
      kcatLine(ROUND_RECORDS - 2),
      kcatLine(ROUND_RECORDS - 1),
      kcatLine(0),
      kcatLine(1),
    ]);
    expect(got.map((r) => r.offset)).toEqual([first, first + 1, first + 2, first + 3]);
  });

  it('spreads records over partitions: record n in partition n mod partitions, at offset n div partitions', () => {
    const got = asKcatLines(lazyEvents('companies-direct', 12, 6, 6, 6));
    expect(got.map((r) => [r.partition, r.offset]).sort((a, b) => a[0]! - b[0]!)).toEqual(
      [0, 1, 2, 3, 4, 5].map((p) => [p, 2]),
    );
    expect(new Set(got.map((r) => r.line))).toEqual(
      new Set([12, 13, 14, 15, 16, 17].map((n) => kcatLine(n))),
    );
  });

  it("kcat's line is its key, a tab and the JSON value, one line", () => {
    expect(kcatLine(7)).toBe('c7\t{"company":"Company 7","employee_num":7}\n');
  });
});
