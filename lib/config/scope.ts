/**
 * How a key rule is applied: the scope a connector's keys are read from (global keys
 * overridden by its section), the problems it collects, and what each kind of check accepts
 * and how its message says what is allowed. The rows themselves are in rules.ts.
 */
import type { Entry } from './parse.ts';
import { REDACTED, isSecretKey } from './secrets.ts';

export type Severity = 'error' | 'warning';
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
  readonly code: string;
  readonly severity: Severity;
}

/** What a key's value must be; `code` names the violation. */
export type Check =
  | {
      readonly kind: 'oneOf';
      readonly allowed: readonly string[];
      /** Class names are case-sensitive (Java loads them so); other choices are not. */
      readonly exact?: boolean;
      readonly code: string;
    }
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly code: string }
  | { readonly kind: 'bool'; readonly code: string }
  | {
      readonly kind: 'pattern';
      readonly test: (value: string) => boolean;
      /** What is allowed, for the message. */
      readonly allowed: string;
      readonly code: string;
    };

/** Reads values of one connector's scope (global keys overridden by its section). */
export class Scope {
  readonly map = new Map<string, Entry>();
  readonly used = new Set<string>();
  constructor(
    readonly file: string,
    readonly sectionLine: number,
    readonly problems: Problem[],
  ) {}

  entry(key: string): Entry | undefined {
    this.used.add(key);
    return this.map.get(key);
  }
  get(key: string): string | undefined {
    return this.entry(key)?.value;
  }
  /** The trimmed value, or undefined when the key is absent or empty. */
  value(key: string): string | undefined {
    const v = this.get(key)?.trim();
    return v === '' ? undefined : v;
  }
  line(key: string): number {
    return this.map.get(key)?.line ?? this.sectionLine;
  }
  report(key: string, code: string, message: string, severity: Severity = 'error'): void {
    this.problems.push({ file: this.file, line: this.line(key), key, message, code, severity });
  }
  /** What the user wrote, safe to print (a login inside a URL, `//user:password@`, hidden). */
  found(key: string): string {
    const v = this.map.get(key)?.value;
    if (v === undefined) return 'nothing';
    if (isSecretKey(key) && v !== '') return REDACTED;
    return v === '' ? 'an empty value' : `"${v.replace(/\/\/[^\s/@]*@/g, `//${REDACTED}@`)}"`;
  }
  required(key: string, code: string, what: string): string | undefined {
    const v = this.value(key);
    if (v === undefined) this.report(key, code, `is required: ${what}`);
    return v;
  }
  /** A choice among `allowed` (case-insensitive); reports anything else, returns `fallback` then. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T, code: string): T {
    const v = this.value(key);
    if (v === undefined) return fallback;
    const match = matchChoice(allowed, v, false);
    if (match === undefined)
      this.report(key, code, `found ${this.found(key)}; allowed: ${allowed.join(', ')}`);
    return match ?? fallback;
  }
}

export const matchChoice = <T extends string>(
  allowed: readonly T[],
  value: string,
  exact: boolean,
): T | undefined =>
  allowed.find((a) => (exact ? a === value : a.toLowerCase() === value.toLowerCase()));

export const parseInteger = (raw: string): number => (/^-?\d+$/.test(raw) ? Number(raw) : NaN);

/** Whether a (trimmed, non-empty) value passes a check. */
export function passes(check: Check, value: string): boolean {
  switch (check.kind) {
    case 'oneOf':
      return matchChoice(check.allowed, value, check.exact === true) !== undefined;
    case 'bool':
      return matchChoice(['true', 'false'], value, false) !== undefined;
    case 'int': {
      const n = parseInteger(value);
      return Number.isSafeInteger(n) && n >= check.min && n <= check.max;
    }
    case 'pattern':
      return check.test(value);
  }
}

/** What a check allows, as the messages say it. */
export function allowedText(check: Check): string {
  switch (check.kind) {
    case 'oneOf':
      return check.allowed.join(', ');
    case 'bool':
      return 'true, false';
    case 'int':
      return `an integer from ${check.min} to ${check.max}`;
    case 'pattern':
      return check.allowed;
  }
}
