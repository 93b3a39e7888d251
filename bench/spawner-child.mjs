// The bench's spawning helper (bench/spawner.ts): reads one JSON request a line on standard input,
// {id, file, args}, runs the program to completion and answers on standard output with
// {id, ms, stdout}, or {id, error} naming its exit code and the end of its standard error.
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';

createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, file, args } = JSON.parse(line);
  const started = process.hrtime.bigint();
  execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const answer =
      error === null
        ? { id, ms, stdout }
        : {
            id,
            error: `${file} ${typeof error.code === 'number' ? `exited with ${error.code}` : `could not run (${error.code ?? error.signal ?? error.message})`}${stderr.trim() === '' ? '' : `: ${stderr.trim().slice(-500)}`}`,
          };
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
