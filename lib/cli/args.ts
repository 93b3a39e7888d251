/** Command-line flags: read, checked against what a command allows, errors that show the usage. */
import type { ParsedArgs } from './io.ts';

export const flag = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
};

export const intFlag = (
  args: ParsedArgs,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number => {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, found "${raw}"`);
  return n;
};

/** Bad usage: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export const checkFlags = (args: ParsedArgs, allowed: readonly string[]): void => {
  for (const name of args.flags.keys())
    if (!allowed.includes(name))
      throw new UsageError(
        `unknown option --${name}; allowed: ${allowed.map((a) => `--${a}`).join(', ')}`,
      );
};
