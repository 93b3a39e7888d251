import type { CliIo } from '../../lib/cli/io.ts';
import { ROOT } from './fixtures.ts';

/** A CliIo that records what a command prints. */
export const captureIo = (options: { ask?: (q: string) => Promise<string>; cwd?: string } = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    env: {},
    cwd: options.cwd ?? ROOT,
    ...(options.ask ? { ask: options.ask } : {}),
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
};
