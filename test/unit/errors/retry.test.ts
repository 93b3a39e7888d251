import { describe, expect, it } from 'vitest';
import { TigerStreamError } from '../../../lib/errors/index.ts';
import { retry } from '../../../lib/errors/retry.ts';

const flaky = (failures: number, retriable = true) => {
  let calls = 0;
  return {
    fn: () => {
      calls++;
      if (calls <= failures)
        return Promise.reject(new TigerStreamError('X_FAILED', `failure ${calls}`, { retriable }));
      return Promise.resolve(`ok after ${calls}`);
    },
    calls: () => calls,
  };
};

describe('retry', () => {
  const noSleep = { sleep: () => Promise.resolve(), random: () => 1 };

  it('retries retriable failures with capped exponential delays', async () => {
    const delays: number[] = [];
    const f = flaky(4);
    const result = await retry(f.fn, {
      ...noSleep,
      policy: { maxAttempts: 6, initialDelayMs: 100, maxDelayMs: 500, factor: 2 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    expect(result).toBe('ok after 5');
    expect(delays).toEqual([100, 200, 400, 500]);
  });

  it('adds jitter between half and all of the capped delay', async () => {
    const delays: number[] = [];
    await retry(flaky(1).fn, {
      sleep: () => Promise.resolve(),
      random: () => 0,
      policy: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 500, factor: 2 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    expect(delays).toEqual([50]);
  });

  it('does not retry a non-retriable error', async () => {
    const f = flaky(1, false);
    await expect(retry(f.fn, noSleep)).rejects.toMatchObject({ code: 'X_FAILED' });
    expect(f.calls()).toBe(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const f = flaky(10);
    await expect(
      retry(f.fn, {
        ...noSleep,
        policy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
      }),
    ).rejects.toThrow('failure 3');
    expect(f.calls()).toBe(3);
  });

  it('stops before a delay that would pass the deadline', async () => {
    const f = flaky(10);
    await expect(
      retry(f.fn, {
        ...noSleep,
        now: () => 1000,
        deadline: 1050,
        policy: { maxAttempts: 9, initialDelayMs: 100, maxDelayMs: 100, factor: 1 },
      }),
    ).rejects.toMatchObject({
      code: 'RETRY_DEADLINE_EXCEEDED',
      retriable: true,
    });
    expect(f.calls()).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const abort = new AbortController();
    const promise = retry(flaky(10).fn, {
      policy: { maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, factor: 1 },
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 20);
    await expect(promise).rejects.toMatchObject({ code: 'RETRY_ABORTED' });
  });
});
