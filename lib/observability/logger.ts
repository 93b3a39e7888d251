/**
 * Structured JSON logs, one object per line, with service and connector keys. Every line
 * passes through a redactor so no secret value reaches a log.
 */
export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly service?: string;
  readonly fields?: Record<string, unknown>;
  /** Where lines go (default: process.stdout, as Lambda expects). */
  readonly write?: (line: string) => void;
  readonly redact?: (text: string) => string;
  readonly now?: () => Date;
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

/** Creates a logger. @example createLogger({ service: 'tigerstream', fields: { connector } }) */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const redact = options.redact ?? ((t: string) => t);
  const now = options.now ?? (() => new Date());
  const base = { service: options.service ?? 'tigerstream', ...options.fields };
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LOG_LEVELS[level] < threshold) return;
    const entry: Record<string, unknown> = {
      level: level.toUpperCase(),
      timestamp: now().toISOString(),
      message,
      ...base,
    };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = serializeError(v);
    write(redact(JSON.stringify(entry)));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...options.fields, ...fields } }),
  };
}

/** A logger that drops everything (for tests that assert nothing about logs). */
export const silentLogger = (): Logger => createLogger({ level: 'silent' });
