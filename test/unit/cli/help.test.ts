/** Every command takes --help or -h: the usage on stdout, exit 0, nothing run. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../lib/cli/index.ts';
import { captureIo } from '../../helpers/cli.ts';

describe('--help and -h after a command', () => {
  for (const argv of [
    ['dev', '--help'],
    ['invoke', '-h'],
    ['run', '--help'],
    ['demo', '--help'],
    ['connector', 'status', '--help'],
    ['convert', '-h'],
  ])
    it(argv.join(' '), async () => {
      const { io, stdout, stderr } = captureIo();
      expect(await runCli(argv, io)).toBe(0);
      expect(stdout()).toContain('tgstream');
      expect(stderr()).toBe('');
    });

  it('no command at all still prints the usage and exits 2', async () => {
    const { io } = captureIo();
    expect(await runCli([], io)).toBe(2);
  });
});
