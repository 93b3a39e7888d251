/**
 * The Kafka event-source mapping as the fault suite drives it: batches delivered in order by a
 * poller; a batch whose invocation fails (or outlives its function timeout, which kills the
 * container) is delivered again, up to a bounded number of attempts.
 */
import type { Context } from 'aws-lambda';
import { messageOf } from '../../lib/errors/index.ts';
import { encodeKafkaEvent, type KafkaRecord } from '../../lib/event/index.ts';
import type { Containers, FaultEnv } from './harness.ts';

/** Attempts per batch, the first included, as the event-source mapping's retries bound them. */
export const ESM_ATTEMPTS = 6;
/** The function timeout an invocation gets unless a scenario gives it less. */
export const FUNCTION_TIMEOUT_MS = 30_000;
/** The mapping's wait before delivering a failed batch again: 250 ms doubling to 2 s. */
const redeliveryDelay = (attempt: number): number => Math.min(2000, 250 * 2 ** (attempt - 1));

/** The records in batches of `size`, in offset order (a batch spans partitions, as the ESM's do). */
export const batchesOf = (records: readonly KafkaRecord[], size: number): KafkaRecord[][] =>
  Array.from({ length: Math.ceil(records.length / size) }, (_, i) =>
    records.slice(i * size, (i + 1) * size),
  );

/** What the event-source mapping saw of one batch. */
export interface Delivered {
  readonly attempts: number;
  readonly succeeded: boolean;
  /** `CODE: message` of each failed attempt. */
  readonly errors: string[];
}

export interface DeliverOptions {
  /** The function timeout of attempt `n` (default FUNCTION_TIMEOUT_MS). */
  readonly timeoutMs?: (attempt: number) => number;
  /** Runs before attempt `n` (fault switches). */
  readonly before?: (attempt: number) => void | Promise<void>;
  /** Runs after a failed attempt `n`. */
  readonly after?: (attempt: number) => void | Promise<void>;
}

class FunctionTimeout extends Error {
  readonly code = 'LAMBDA_FUNCTION_TIMEOUT';
}

const describe = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? code : 'ERROR'}: ${messageOf(error).slice(0, 200)}`;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Delivers one batch as the event-source mapping does: invoke; when the invocation throws or
 * outlives its function timeout (the container is then killed), deliver it again, up to
 * ESM_ATTEMPTS attempts in all.
 */
export async function deliver(
  env: FaultEnv,
  containers: Containers,
  batch: readonly KafkaRecord[],
  options: DeliverOptions = {},
): Promise<Delivered> {
  const event = JSON.parse(
    JSON.stringify(
      encodeKafkaEvent(batch, {
        eventSource: 'SelfManagedKafka',
        bootstrapServers: env.kafka.bootstrapServers,
      }),
    ),
  ) as unknown;
  const errors: string[] = [];
  for (let attempt = 1; attempt <= ESM_ATTEMPTS; attempt++) {
    await options.before?.(attempt);
    const timeoutMs = options.timeoutMs?.(attempt) ?? FUNCTION_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: `${batch[0]?.partition ?? 0}-${batch[0]?.offset ?? 0}-${attempt}`,
      functionName: 'tigerstream-faults',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    } as unknown as Context;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        containers.current()(event, context),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            reject(new FunctionTimeout(`Task timed out after ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
      return { attempts: attempt, succeeded: true, errors };
    } catch (error) {
      errors.push(describe(error));
      if (error instanceof FunctionTimeout) containers.kill();
      await options.after?.(attempt);
      await sleep(redeliveryDelay(attempt));
    } finally {
      clearTimeout(timer);
    }
  }
  return { attempts: ESM_ATTEMPTS, succeeded: false, errors };
}

/** Delivers batches one after another (one poller); `options(i)` sets up batch i's faults. */
export async function stream(
  env: FaultEnv,
  containers: Containers,
  batches: readonly (readonly KafkaRecord[])[],
  options: (index: number) => DeliverOptions = () => ({}),
): Promise<Delivered[]> {
  const out: Delivered[] = [];
  for (const [i, batch] of batches.entries())
    out.push(await deliver(env, containers, batch, options(i)));
  return out;
}
