// The bench's spawning helper (bench/spawner.ts): reads one JSON request a line on standard input,
// {id, file, args}, runs the program to completion and answers on standard output with
// {id, ms, stdout}, or {id, error} saying how it failed and the end of its standard error.
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAX_OUTPUT = 64 * 1024 * 1024;

/** How a run failed, from execFile's error. */
const failure = (file, error) =>
  error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'
    ? `${file} printed more than ${MAX_OUTPUT} bytes and was stopped`
    : typeof error.code === 'number'
      ? `${file} exited with ${error.code}`
      : error.signal
        ? `${file} was killed by ${error.signal}`
        : `${file} could not run (${error.code ?? error.message})`;

/** Programs still running: stopped when the bench closes the helper's input. */
const running = new Set();

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const { id, file, args } = JSON.parse(line);
  const started = process.hrtime.bigint();
  let child;
  try {
    child = execFile(file, args, { maxBuffer: MAX_OUTPUT }, (error, stdout, stderr) => {
      running.delete(child);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const tail = stderr.trim() === '' ? '' : `: ${stderr.trim().slice(-500)}`;
      const answer =
        error === null ? { id, ms, stdout } : { id, error: `${failure(file, error)}${tail}` };
      process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
  } catch (error) {
    // Refused before it started (arguments too long, a bad option): this run fails, not the rest.
    process.stdout.write(`${JSON.stringify({ id, error: failure(file, error) })}\n`);
    return;
  }
  running.add(child);
});
const stopAll = () => {
  for (const child of running) child.kill();
};
input.on('close', stopAll);
// Stopped by a signal: its programs are stopped first, not left running without it.
process.on('SIGTERM', () => {
  stopAll();
  process.exit(143);
});
