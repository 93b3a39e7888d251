import { afterEach, describe, expect, it, vi } from 'vitest';
import { TigerStreamError } from '../../../lib/errors/index.ts';
import { invocationDeadline, retry } from '../../../lib/errors/retry.ts';

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

describe('invocationDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is the time Lambda gives less the margin, and its signal aborts then with AbortSignal.timeout's reason", () => {
    vi.useFakeTimers();
    const { deadline, signal } = invocationDeadline(
      { getRemainingTimeInMillis: () => 5000 },
      1_000,
      2000,
      900_000,
    );
    expect(deadline).toBe(4_000);
    vi.advanceTimersByTime(2999);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect(signal.reason).toMatchObject({
      name: 'TimeoutError',
      message: 'The operation was aborted due to timeout',
    });
  });

  it('takes the fallback without a Lambda context, and fires at once when the margin is all the time left', () => {
    vi.useFakeTimers();
    expect(invocationDeadline({}, 0, 100, 60_000).deadline).toBe(59_900);
    const late = invocationDeadline({ getRemainingTimeInMillis: () => 50 }, 0, 100, 60_000);
    expect(late.deadline).toBe(-50);
    vi.advanceTimersByTime(1);
    expect(late.signal.aborted).toBe(true);
  });

  it('never fires once disposed, and leaves no timer behind', () => {
    vi.useFakeTimers();
    const before = vi.getTimerCount();
    const { signal, dispose } = invocationDeadline(
      { getRemainingTimeInMillis: () => 840_000 },
      0,
      2000,
      900_000,
    );
    expect(vi.getTimerCount()).toBe(before + 1);
    dispose();
    expect(vi.getTimerCount()).toBe(before);
    vi.advanceTimersByTime(900_000);
    expect(signal.aborted).toBe(false);
  });
});
