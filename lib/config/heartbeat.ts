/**
 * When a connector writes MirrorMaker 2's heartbeats, and how often: `emit.heartbeats.enabled`
 * (not `false`) and `emit.heartbeats.interval.seconds` (set, and not negative: MirrorMaker 2
 * reads a negative interval, its documented -1, as "off"). A scheduled function writes them
 * (functions/heartbeat.ts); its schedule is an EventBridge rate in whole minutes, at least one
 * minute, so an interval is rounded down to whole minutes and never below one. The one reading
 * of these keys for validation (warning {@link HEARTBEAT_ROUNDED}) and for the IaC.
 */
import type { ConnectorConfig } from './schema.ts';
import type { Scope } from './scope.ts';

export const HEARTBEATS_ENABLED_KEY = 'emit.heartbeats.enabled';
export const HEARTBEATS_INTERVAL_KEY = 'emit.heartbeats.interval.seconds';
/** EventBridge's finest rate: `rate(1 minute)`. */
export const MIN_SCHEDULE_SECONDS = 60;
/** Warning code: an interval below a minute runs once a minute. */
export const HEARTBEAT_ROUNDED = 'CONFIG_HEARTBEAT_INTERVAL_ROUNDED';

/** How often the heartbeat function runs, for the IaC's schedule. */
export interface HeartbeatSchedule {
  /** The interval as configured. */
  readonly intervalSeconds: number;
  /** Whole minutes between runs, at least 1. */
  readonly rateMinutes: number;
  /** The EventBridge schedule expression, e.g. `rate(1 minute)` (singular for 1, as AWS requires). */
  readonly expression: string;
}

/**
 * A whole number of seconds other than 0: positive is the interval, negative (MirrorMaker 2's
 * -1) turns heartbeats off; `undefined` for anything else (`0`, `5.5`, `5s`).
 */
export function parseHeartbeatInterval(raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  if (!/^-?\d+$/.test(text)) return undefined;
  const seconds = Number(text);
  return Number.isSafeInteger(seconds) && seconds !== 0 ? seconds : undefined;
}

const enabled = (settings: Readonly<Record<string, string>>): boolean =>
  settings[HEARTBEATS_ENABLED_KEY]?.trim().toLowerCase() !== 'false';

/**
 * The heartbeat schedule of a connector, or `undefined` when it writes no heartbeats
 * (`emit.heartbeats.enabled=false`, a negative `emit.heartbeats.interval.seconds`, or no valid
 * one). Pure.
 *
 * @example
 * heartbeatScheduleFor(config); // emit.heartbeats.interval.seconds=5 → { intervalSeconds: 5, rateMinutes: 1, expression: 'rate(1 minute)' }
 */
export function heartbeatScheduleFor(
  config: Pick<ConnectorConfig, 'settings'>,
): HeartbeatSchedule | undefined {
  if (!enabled(config.settings)) return undefined;
  const intervalSeconds = parseHeartbeatInterval(config.settings[HEARTBEATS_INTERVAL_KEY]);
  if (intervalSeconds === undefined || intervalSeconds < 0) return undefined;
  const rateMinutes = Math.max(1, Math.floor(intervalSeconds / MIN_SCHEDULE_SECONDS));
  return Object.freeze({
    intervalSeconds,
    rateMinutes,
    expression: `rate(${rateMinutes} minute${rateMinutes === 1 ? '' : 's'})`,
  });
}

/**
 * Warning {@link HEARTBEAT_ROUNDED}: heartbeats are on and asked for more often than once a
 * minute, which the schedule cannot do. (A value that is not a positive whole number is an
 * error of its row in rules.ts.)
 */
export function warnHeartbeatIntervalRounded(scope: Scope): void {
  const settings: Record<string, string> = {};
  for (const key of [HEARTBEATS_ENABLED_KEY, HEARTBEATS_INTERVAL_KEY]) {
    const value = scope.value(key);
    if (value !== undefined) settings[key] = value;
  }
  const schedule = heartbeatScheduleFor({ settings });
  if (schedule === undefined || schedule.intervalSeconds >= MIN_SCHEDULE_SECONDS) return;
  scope.report(
    HEARTBEATS_INTERVAL_KEY,
    HEARTBEAT_ROUNDED,
    `is ${schedule.intervalSeconds} second(s), but the heartbeat function runs on a schedule whose shortest rate is one minute (EventBridge), so heartbeats are written once a minute; allowed without this warning: ${MIN_SCHEDULE_SECONDS} or more, or emit.heartbeats.enabled=false`,
    'warning',
  );
}
