/**
 * kafkajs's request queue with its idle timer loop removed (lib/kafka/request-queue.ts), on
 * kafkajs's own RequestQueue under fake timers: kafkajs's version re-arms a 1 ms check forever
 * with nothing pending; the replacement arms none when idle and still sends requests that wait
 * (behind max in-flight requests, or a broker's throttle) when they can go.
 */
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PENDING_CHECK_MS, installQuietRequestQueue } from '../../../lib/kafka/request-queue.ts';

const require = createRequire(import.meta.url);

interface Queue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  push(request: unknown): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number | null): void;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  new (options: object): Queue;
  prototype: { scheduleCheckPendingRequests: () => void };
};

// kafkajs's own, kept before the replacement goes in, for the control.
const kafkajsOwn = RequestQueue.prototype.scheduleCheckPendingRequests;
const installed = installQuietRequestQueue();

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const queue = (maxInFlightRequests: number | null = null): Queue =>
  new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silent,
  });

/** Pushes request `correlationId`; `sent` counts its sends, `answered` its responses. */
const push = (q: Queue, correlationId: number) => {
  const sent = vi.fn();
  const answered = vi.fn();
  q.push({
    entry: {
      correlationId,
      apiName: 'Produce',
      apiKey: 0,
      apiVersion: 3,
      resolve: answered,
      reject: vi.fn(),
    },
    expectResponse: true,
    sendRequest: sent,
  });
  return { sent, answered };
};

beforeEach(() => {
  vi.useFakeTimers();
  return () => vi.useRealTimers();
});
afterEach(() => vi.clearAllTimers());

describe('kafkajs 2.2.4 request queue (the reason for the replacement)', () => {
  it('checks for pending requests every millisecond with none pending, forever', () => {
    const q = queue();
    // kafkajs's own scheduling on this instance (the prototype holds the replacement).
    q.scheduleCheckPendingRequests = kafkajsOwn;
    const checks = vi.spyOn(q, 'checkPendingRequests');
    q.checkPendingRequests();
    vi.advanceTimersByTime(100);
    expect(q.pending).toHaveLength(0);
    expect(checks.mock.calls.length).toBeGreaterThanOrEqual(100);
    expect(vi.getTimerCount()).toBe(1);
  });
});

describe('installQuietRequestQueue', () => {
  it('is installed, once', () => {
    expect(installed).toBe(true);
    const replacement = RequestQueue.prototype.scheduleCheckPendingRequests;
    expect(replacement).not.toBe(kafkajsOwn);
    expect(installQuietRequestQueue()).toBe(true);
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(replacement);
  });

  it('arms no timer when nothing is pending', () => {
    const q = queue();
    const checks = vi.spyOn(q, 'checkPendingRequests');
    q.checkPendingRequests();
    const { sent, answered } = push(q, 1);
    expect(sent).toHaveBeenCalledOnce();
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(answered).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    // The explicit call and the one fulfilling the response: no timer ran one.
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('sends a request held behind max in-flight requests when the one before is answered, and then goes quiet', () => {
    const q = queue(1);
    const first = push(q, 1);
    const second = push(q, 2);
    expect(first.sent).toHaveBeenCalledOnce();
    expect(second.sent).not.toHaveBeenCalled();
    // It waits: the queue keeps checking at kafkajs's interval.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5 * PENDING_CHECK_MS);
    expect(second.sent).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(second.sent).toHaveBeenCalledOnce();
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    expect(second.answered).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(PENDING_CHECK_MS);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer however many requests wait, checking every 10 ms while they do', () => {
    const q = queue(1);
    const checks = vi.spyOn(q, 'checkPendingRequests');
    push(q, 1);
    const held = [push(q, 2), push(q, 3), push(q, 4)];
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5 * PENDING_CHECK_MS);
    expect(checks).toHaveBeenCalledTimes(5);
    expect(vi.getTimerCount()).toBe(1);
    for (const h of held) expect(h.sent).not.toHaveBeenCalled();
  });

  it('clears its timer when the connection destroys the queue with requests waiting', () => {
    const q = queue(1);
    push(q, 1);
    push(q, 2);
    expect(vi.getTimerCount()).toBe(1);
    q.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends a request held by the broker's throttle when the throttle ends, not before", () => {
    const q = queue();
    // 55 ms: kafkajs's 10 ms checks would send it at 60.
    q.maybeThrottle(55);
    const held = push(q, 7);
    expect(held.sent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(54);
    expect(held.sent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(held.sent).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(PENDING_CHECK_MS);
    expect(vi.getTimerCount()).toBe(0);
  });
});
