/** The CLI's view of the terminal, injected so commands can be tested. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Asks a question and returns the answer; undefined when there is no terminal to ask. */
  readonly ask?: (question: string) => Promise<string>;
}

/** Streams {@link closeQuietlyOnEpipe} already watches (processIo may be built more than once). */
const watched = new WeakSet<NodeJS.WritableStream>();

/**
 * Makes a reader that closes the pipe early (`tgstream convert ... | head -n 1`) end the
 * process quietly. A write to a closed pipe fails with EPIPE, which on a stream with no 'error'
 * listener is thrown with a stack trace. A Unix tool would die of SIGPIPE, which Node ignores;
 * so, as that tool would, stop: exit at once with the code set so far (0 unless a command set
 * one). Nobody reads what is left, and an endless input (`kcat -C ... | tgstream convert`)
 * would otherwise be converted into the void for ever. Other stream errors stay fatal.
 */
export function closeQuietlyOnEpipe(stream: NodeJS.WritableStream): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode);
  });
}

export const processIo = (): CliIo => {
  // stderr too: `tgstream convert ... 2>&1 | head` closes both.
  closeQuietlyOnEpipe(process.stdout);
  closeQuietlyOnEpipe(process.stderr);
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: process.stderr.isTTY,
    env: process.env,
    cwd: process.cwd(),
    ...(process.stdin.isTTY
      ? {
          ask: async (question: string) => {
            const { createInterface } = await import('node:readline/promises');
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            try {
              return await rl.question(question);
            } finally {
              rl.close();
            }
          },
        }
      : {}),
  };
};

/** Exit codes: 0 ok, 1 failed (records unaccounted, run failed), 2 bad usage or config, 3 records not converted. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_CONVERTED: 3 } as const;

export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag` (booleans listed in `booleans`). */
export function parseArgs(argv: readonly string[], booleans: ReadonlySet<string>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) flags.set(name, a.slice(eq + 1));
    else if (booleans.has(name)) flags.set(name, true);
    else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--'))
      flags.set(name, argv[++i] as string);
    else flags.set(name, true);
  }
  return { positional, flags };
}
