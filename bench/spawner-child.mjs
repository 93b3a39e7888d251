// The bench's spawning helper (bench/spawner.ts): reads one JSON request a line on standard input,
// {id, file, args}, runs the program to completion and answers on standard output with
// {id, ms, stdout}, or {id, error} saying how it failed and the end of its standard error.
// Each program runs in a process group of its own, so stopping it stops what it started too.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAX_OUTPUT = 64 * 1024 * 1024;

/** Programs still running: stopped when the bench closes the helper's input or stops it. */
const running = new Set();

/** Stops program `child` with whatever it started (its process group). */
const stopGroup = (child) => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/** Runs one request and writes its answer. */
const runRequest = ({ id, file, args }) => {
  const answer = (fields) => process.stdout.write(`${JSON.stringify({ id, ...fields })}\n`);
  const started = process.hrtime.bigint();
  let child;
  try {
    child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (error) {
    // Refused before it started (arguments too long, a bad option): this run fails, not the rest.
    answer({ error: `${file} could not run (${error.code ?? error.message})` });
    return;
  }
  const out = [];
  let outBytes = 0;
  let err = '';
  let tooMuch = false;
  let failedToStart;
  child.stdout.on('data', (d) => {
    outBytes += d.length;
    if (outBytes > MAX_OUTPUT) {
      tooMuch = true;
      stopGroup(child);
    } else out.push(d);
  });
  child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-2000)));
  child.on('error', (error) => (failedToStart = error));
  running.add(child);
  child.on('close', (code, signal) => {
    running.delete(child);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const tail = err.trim() === '' ? '' : `: ${err.trim().slice(-500)}`;
    if (failedToStart !== undefined)
      answer({
        error: `${file} could not run (${failedToStart.code ?? failedToStart.message})${tail}`,
      });
    else if (tooMuch)
      answer({ error: `${file} printed more than ${MAX_OUTPUT} bytes and was stopped${tail}` });
    else if (code === 0) answer({ ms, stdout: Buffer.concat(out).toString() });
    else if (code !== null) answer({ error: `${file} exited with ${code}${tail}` });
    else answer({ error: `${file} was killed by ${signal}${tail}` });
  });
};

/** Stops every program still running. */
const stopAll = () => {
  for (const child of running) stopGroup(child);
};

// The bench gone (a closed pipe): nothing left to tell it.
process.stdout.on('error', () => undefined);

const input = createInterface({ input: process.stdin });
input.on('line', (line) => runRequest(JSON.parse(line)));
input.on('close', () => {
  stopAll();
  process.exit(0);
});
// Stopped by a signal: its programs are stopped first, not left running without it.
process.on('SIGTERM', () => {
  stopAll();
  process.exit(143);
});
