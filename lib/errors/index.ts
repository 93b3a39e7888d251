/**
 * Typed errors. Every error TigerStream raises carries a SCREAMING_SNAKE `code` naming the
 * subject and the rule, whether it is `retriable`, the foreign `cause` it wraps, and
 * structured `details` (coordinates such as topic/partition/offset, never payload bytes or
 * secrets).
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | undefined>>;

export interface TigerStreamErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/** Base class of every error TigerStream raises on purpose. */
export class TigerStreamError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: TigerStreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }

  /** A JSON-safe view for logs and `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...this.details,
    };
  }
}

/** Connector configuration is missing, malformed or contradictory. */
export class ConfigError extends TigerStreamError {}
/** The Lambda event is not a Kafka event-source mapping event. */
export class EventError extends TigerStreamError {}
/** One record could not be converted (a record-level error). */
export class ConvertError extends TigerStreamError {}
/** Producing to the target Kafka cluster failed. */
export class DeliveryError extends TigerStreamError {}
/** A TigerGraph endpoint answered with an error or could not be reached. */
export class TigerGraphError extends TigerStreamError {}
/** A connector lifecycle call (SSM, the event-source mapping) failed. */
export class ControlError extends TigerStreamError {}
/** The embedded broker, emulator or local runner failed. */
export class LocalError extends TigerStreamError {}

/** True when `error` is one of ours. */
export const isTigerStreamError = (error: unknown): error is TigerStreamError =>
  error instanceof TigerStreamError;

/** The message of any thrown value, for wrapping foreign errors. */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
