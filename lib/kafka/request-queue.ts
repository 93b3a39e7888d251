/**
 * kafkajs 2.2.4's request queue without its idle timer loop. Every connection's queue re-arms a
 * timer each time it checks for pending requests, whether or not any are pending, and with no
 * throttling in effect arms it for a negative delay, which Node runs after 1 ms: each open
 * connection wakes the process about a thousand times a second for as long as it is open
 * (kafkajs issues #1556 and #1704, open; kafkajs is no longer released). In the stream
 * function that is CPU the invocation is billed for (in a CPU profile of the pipeline bench on
 * Node 22, about 35 us an invocation of 1,000 records) and, in `tgstream` commands, a process
 * woken every millisecond while it waits (kafkajs's request timeout check, every 100 ms per
 * connection, stays).
 *
 * Once {@link installQuietRequestQueue} has run, a queue arms that timer only while requests
 * wait in it: after the throttle the broker asked for ends, else after kafkajs's own 10 ms.
 * A queue with nothing pending has nothing to check: a request pushed later, and every response,
 * checks the queue as kafkajs does.
 */
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs's interval for re-checking requests that wait (its CHECK_PENDING_REQUESTS_INTERVAL). */
export const PENDING_CHECK_MS = 10;

// A registered symbol: a second copy of this module (a test runner's isolation) sees the mark.
const INSTALLED = Symbol.for('tigerstream.request-queue.installed');

/** What the replacement reads and writes of kafkajs's RequestQueue. */
interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}

const proto = RequestQueue.prototype as unknown as {
  scheduleCheckPendingRequests?: (this: Queue) => void;
  [INSTALLED]?: boolean;
};

/**
 * Replaces kafkajs's `scheduleCheckPendingRequests` (once per process); false when this kafkajs
 * has no such method (its own then runs).
 */
export function installQuietRequestQueue(): boolean {
  if (proto[INSTALLED] === true) return true;
  if (typeof proto.scheduleCheckPendingRequests !== 'function') return false;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: Queue): void {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottled > 0 ? untilUnthrottled : PENDING_CHECK_MS,
    );
  };
  Object.defineProperty(proto, INSTALLED, { value: true });
  return true;
}
