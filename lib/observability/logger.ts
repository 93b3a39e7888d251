/**
 * Structured JSON logs through Powertools for AWS Lambda's Logger: one object per line with
 * service and connector keys, and the Lambda context (request id, function name, cold start)
 * once `injectLambdaContext` runs. Every string value passes through a redactor, so no secret
 * reaches a log line, whatever field it hides in (message, error, cause).
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';

export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** The logging port lib/ code receives. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (it shares this one's Lambda context). */
  child(fields: Record<string, unknown>): Logger;
}

/** A {@link Logger} that also hands out the Powertools instance, for its middy middleware. */
export interface PowertoolsBackedLogger extends Logger {
  readonly powertools: PowertoolsLogger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly service?: string;
  readonly fields?: Record<string, unknown>;
  /** Where lines go (default: Powertools' own console on stdout/stderr, as Lambda expects). */
  readonly write?: (line: string) => void;
  readonly redact?: (text: string) => string;
}

const serializeError = (value: unknown): unknown => {
  if (!(value instanceof Error)) return value;
  const withCode = value as Error & {
    code?: unknown;
    retriable?: unknown;
    details?: Record<string, unknown>;
  };
  return {
    name: value.name,
    message: value.message,
    ...(withCode.code === undefined ? {} : { code: withCode.code }),
    ...(withCode.retriable === undefined ? {} : { retriable: withCode.retriable }),
    ...(withCode.details ?? {}),
    ...(value.cause === undefined ? {} : { cause: serializeError(value.cause) }),
  };
};

/** Parses POWERTOOLS_LOG_LEVEL / LOG_LEVEL style values. */
export const parseLogLevel = (value: string | undefined, fallback: LogLevel = 'info'): LogLevel => {
  const v = (value ?? '').toLowerCase();
  return v in LOG_LEVELS ? (v as LogLevel) : v === 'critical' ? 'error' : fallback;
};

/**
 * Powertools' Logger writing through an injected writer (the CLI's stderr, a test's buffer)
 * when one is given; Powertools has no writer option, and `printLog` is its documented
 * extension point for subclasses.
 */
class WritingLogger extends PowertoolsLogger {
  readonly #write: ((line: string) => void) | undefined;
  constructor(options: ConstructorOptions, write: ((line: string) => void) | undefined) {
    super(options);
    this.#write = write;
  }
  protected override printLog(logLevel: number, log: LogItem): void {
    if (this.#write === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.#write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
  protected override createLogger(options?: ConstructorOptions): PowertoolsLogger {
    return new WritingLogger(options ?? {}, this.#write);
  }
}

const wrap = (pt: PowertoolsLogger, fields: Record<string, unknown>): PowertoolsBackedLogger => {
  // Errors become plain objects with our code, retriable flag and coordinates (Powertools'
  // own error formatting keeps name, message and stack only).
  const extra = (more?: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...fields };
    for (const [k, v] of Object.entries(more ?? {})) out[k] = serializeError(v);
    return out;
  };
  return {
    powertools: pt,
    debug: (m, f) => pt.debug(m, extra(f)),
    info: (m, f) => pt.info(m, extra(f)),
    warn: (m, f) => pt.warn(m, extra(f)),
    error: (m, f) => pt.error(m, extra(f)),
    // Children share the instance, so the context injected per invocation reaches them all.
    child: (more) => wrap(pt, { ...fields, ...more }),
  };
};

/**
 * Creates a logger backed by Powertools' Logger.
 *
 * @example createLogger({ service: 'tigerstream', fields: { connector }, redact: (t) => secrets.redact(t) })
 */
export function createLogger(options: LoggerOptions = {}): PowertoolsBackedLogger {
  const redact = options.redact;
  const pt = new WritingLogger(
    {
      serviceName: options.service ?? 'tigerstream',
      logLevel: (options.level ?? 'info').toUpperCase() as ConstructorOptions['logLevel'],
      ...(options.fields === undefined ? {} : { persistentKeys: options.fields }),
      ...(redact === undefined
        ? {}
        : {
            jsonReplacerFn: (_key: string, value: unknown): unknown =>
              typeof value === 'string' ? redact(value) : value,
          }),
    },
    options.write,
  );
  return wrap(pt, {});
}

/** A logger that drops everything (for tests that assert nothing about logs). */
export const silentLogger = (): Logger => createLogger({ level: 'silent' });
