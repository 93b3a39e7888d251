import { describe, expect, it } from 'vitest';
import { caughtUpMark } from '../../../bench/stack.ts';

/** A run as the emulator's `GET /gsql/v1/loading-jobs/status` lists it (captured shape). */
const run = (
  id: string,
  jobName: string,
  status: string,
  validLine: number,
  rejectLine = 0,
  startTime = 1796493034315,
) => ({
  overall: {
    id,
    jobName,
    progress: 0,
    startTime,
    status,
    endTime: 0,
    duration: 269,
    statistics: {
      fileLevel: {
        validLine,
        rejectLine,
        invalidJson: rejectLine,
        notEnoughToken: 0,
        tokenExceedsBuffer: 0,
        failedConditionLine: 0,
      },
      objectLevel: { vertex: [], edge: [] },
    },
  },
  workers: [],
});

const answer = (...results: ReturnType<typeof run>[]) => ({ error: false, message: '', results });

describe("the pipeline bench's catch-up check (caughtUpMark)", () => {
  it('passes a run seen before once it counted, valid and rejected, the lines produced since', () => {
    const last = { runId: 'r1', lines: 84_000, produced: 100_000 };
    const at = (valid: number, reject = 0) =>
      caughtUpMark(
        answer(run('r1', 'load_stream', 'RUNNING', valid, reject)),
        'load_stream',
        200_000,
        last,
      );
    expect(at(183_999)).toBeUndefined();
    expect(at(183_990, 10)).toEqual({ runId: 'r1', lines: 184_000, produced: 200_000 });
  });

  it("reads the job's one running run: not an ended one, however recent, nor another job's", () => {
    const status = answer(
      run('old', 'load_stream', 'ABORTED', 900_000, 0, 9),
      run('eof', 'load_eof', 'RUNNING', 900_000, 0, 3),
      run('r1', 'load_stream', 'RUNNING', 10, 0, 2),
    );
    expect(caughtUpMark(status, 'load_stream', 5_000, undefined)).toEqual({
      runId: 'r1',
      lines: 10,
      produced: 5_000,
    });
  });

  it('is never caught up while two runs of the job are running (the emulator queues the second)', () => {
    const last = { runId: 'r1', lines: 10, produced: 5_000 };
    const two = answer(
      run('r1', 'load_stream', 'RUNNING', 900_000, 0, 2),
      run('r2', 'load_stream', 'RUNNING', 0, 0, 5),
    );
    expect(caughtUpMark(two, 'load_stream', 5_000, last)).toBeUndefined();
    expect(caughtUpMark(two, 'load_stream', 0, undefined)).toBeUndefined();
  });

  it('waits for a new run (first, or a replacement) to count something: idle while connecting is not caught up', () => {
    const last = { runId: 'r1', lines: 84_000, produced: 100_000 };
    const replaced = (valid: number) =>
      caughtUpMark(
        answer(run('r2', 'load_stream', 'RUNNING', valid)),
        'load_stream',
        110_000,
        last,
      );
    expect(replaced(0)).toBeUndefined();
    expect(replaced(1)).toEqual({ runId: 'r2', lines: 1, produced: 110_000 });
  });

  it('is not caught up while lines were produced and no run of the job is running; with nothing produced it keeps the last mark', () => {
    expect(caughtUpMark(answer(), 'load_stream', 1_000, undefined)).toBeUndefined();
    const last = { runId: 'r1', lines: 5, produced: 0 };
    expect(caughtUpMark(answer(), 'load_stream', 0, last)).toBe(last);
    // A run that has counted nothing is caught up when nothing was produced.
    expect(
      caughtUpMark(answer(run('r1', 'load_stream', 'RUNNING', 0)), 'load_stream', 0, undefined),
    ).toEqual({ runId: 'r1', lines: 0, produced: 0 });
  });
});
