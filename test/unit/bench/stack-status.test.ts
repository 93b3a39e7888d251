import { describe, expect, it } from 'vitest';
import { linesCounted } from '../../../bench/stack.ts';

/** A run as the emulator's `GET /gsql/v1/loading-jobs/status` lists it (captured shape). */
const run = (jobName: string, status: string, validLine: number, rejectLine: number) => ({
  overall: {
    id: `Company_Graph_m1.${validLine}`,
    jobName,
    progress: 0,
    startTime: 1796493034315,
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

describe("the pipeline bench's catch-up check: lines a streaming job's runs have counted", () => {
  it('counts valid and rejected lines of the running run of the job only', () => {
    const answer = {
      error: false,
      message: '',
      results: [
        run('load_stream', 'RUNNING', 105_000, 3),
        run('load_stream', 'ABORTED', 7, 0),
        run('load_eof', 'RUNNING', 50, 0),
        run('load_eof', 'FINISHED', 1000, 0),
      ],
    };
    expect(linesCounted(answer, 'load_stream')).toBe(105_003);
    expect(linesCounted(answer, 'load_eof')).toBe(50);
  });

  it('takes the run that has counted fewest when two of the job are running (each reads the whole topic)', () => {
    const answer = {
      results: [run('load_stream', 'RUNNING', 9_000, 0), run('load_stream', 'RUNNING', 4_000, 1)],
    };
    expect(linesCounted(answer, 'load_stream')).toBe(4_001);
  });

  it('is 0 while no run of the job is running (a run that has not started reads nothing)', () => {
    expect(linesCounted({ results: [run('load_stream', 'FINISHED', 10, 0)] }, 'load_stream')).toBe(
      0,
    );
    expect(linesCounted({}, 'load_stream')).toBe(0);
  });
});
