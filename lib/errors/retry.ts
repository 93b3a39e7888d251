import { TigerStreamError, messageOf } from './index.ts';

/** Settings of {@link retry}; injected, never switched on NODE_ENV. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Delay multiplier per attempt. */
  readonly factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  factor: 2,
});

export interface RetryDeps {
  readonly policy?: RetryPolicy;
  /** Aborted when the Lambda deadline is near; no attempt starts after it. */
  readonly signal?: AbortSignal;
  /** Epoch ms after which no new attempt starts (the Lambda deadline less a margin). */
  readonly deadline?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Decides whether an error is worth another attempt (default: `error.retriable`). */
  readonly isRetriable?: (error: unknown) => boolean;
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const abortError = (signal?: AbortSignal): TigerStreamError =>
  new TigerStreamError(
    'RETRY_ABORTED',
    'Stopped retrying: the invocation was aborted (deadline reached)',
    {
      retriable: true,
      cause: signal?.reason,
    },
  );

const defaultIsRetriable = (error: unknown): boolean =>
  error instanceof TigerStreamError ? error.retriable : false;

/**
 * Capped exponential backoff with full jitter. The one retry helper of the project.
 *
 * @example
 * await retry(() => loader.start(job), { signal, deadline: ctx.deadline });
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  deps: RetryDeps = {},
): Promise<T> {
  const policy = deps.policy ?? DEFAULT_RETRY_POLICY;
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? sleep;
  const random = deps.random ?? Math.random;
  const isRetriable = deps.isRetriable ?? defaultIsRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetriable(error) || deps.signal?.aborted) throw error;
      const cap = Math.min(
        policy.maxDelayMs,
        policy.initialDelayMs * policy.factor ** (attempt - 1),
      );
      const delayMs = Math.round(cap / 2 + (random() * cap) / 2);
      if (deps.deadline !== undefined && now() + delayMs >= deps.deadline) {
        throw new TigerStreamError(
          'RETRY_DEADLINE_EXCEEDED',
          `Gave up after ${attempt} attempt(s): the next retry would pass the invocation deadline (last error: ${messageOf(error)})`,
          { retriable: true, cause: error },
        );
      }
      deps.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs, deps.signal);
    }
  }
}

/** An invocation's deadline and its signal; see {@link invocationDeadline}. */
export interface InvocationDeadline {
  /** Epoch ms: the time Lambda gives the invocation, less the margin. */
  readonly deadline: number;
  /** Aborted at the deadline, with a `TimeoutError` DOMException as its reason. */
  readonly signal: AbortSignal;
  /**
   * Stops the signal's timer (it then never fires); call it when the invocation ends, however
   * it ends.
   */
  readonly dispose: () => void;
}

/**
 * An invocation's deadline (epoch ms: the time Lambda gives it, less `marginMs` kept for the
 * error to surface) and the signal that fires then. Without a Lambda context (a local run that
 * gives none), `fallbackMs` stands for the time left.
 *
 * Not `AbortSignal.timeout`: its timer stays in Node's timer list for the whole timeout (up to
 * the function's 14 minutes), released only when a full garbage collection finds the signal
 * unreachable, so a warm container kept a timer, a weak reference and a signal per invocation
 * in its old generation. This timer is cleared by {@link InvocationDeadline.dispose}; the reason
 * it aborts with is the one `AbortSignal.timeout` gives.
 */
export function invocationDeadline(
  context: { getRemainingTimeInMillis?: () => number },
  started: number,
  marginMs: number,
  fallbackMs: number,
): InvocationDeadline {
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : fallbackMs;
  const deadline = started + remaining - marginMs;
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    Math.max(1, deadline - started),
  );
  // Like AbortSignal.timeout's, it does not keep a local process alive.
  timer.unref();
  return { deadline, signal: controller.signal, dispose: () => clearTimeout(timer) };
}
