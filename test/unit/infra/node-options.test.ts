/**
 * The functions' NODE_OPTIONS: the stream function's young generation is sized as Lambda's
 * Node.js bootstrap sizes it, and Node 22 (nodejs22.x) accepts the options from the environment.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  FUNCTION_NODE_OPTIONS,
  STREAM_MEMORY_MB,
  semiSpaceMbFor,
  streamNodeOptions,
} from '../../../infra/connector-stack.ts';
import { node22Path } from '../../helpers/node22.ts';

describe("the stream function's NODE_OPTIONS", () => {
  it("sizes a semi-space as Lambda's bootstrap does: a tenth of the memory, halved, in whole MB", () => {
    expect(semiSpaceMbFor(1024)).toBe(51);
    expect(semiSpaceMbFor(128)).toBe(6);
    // 1,769 MB: 176 for the young generation, 88 a semi-space (not 88.45 rounded).
    expect(semiSpaceMbFor(1769)).toBe(88);
    expect(semiSpaceMbFor(10_240)).toBe(512);
  });

  it('keeps the source maps and adds the semi-space of the memory the function is given', () => {
    // What the deployed stream function gets (its 1,024 MB).
    expect(streamNodeOptions(STREAM_MEMORY_MB)).toBe(
      '--enable-source-maps --max-semi-space-size=51',
    );
    expect(streamNodeOptions(2048)).toBe(`${FUNCTION_NODE_OPTIONS} --max-semi-space-size=102`);
  });

  it('is accepted by Node 22 from the environment, and takes effect', () => {
    // Node refuses a flag NODE_OPTIONS may not carry (exit 9, "is not allowed in NODE_OPTIONS").
    // The young generation's size shows in what V8 commits for it once allocation fills it.
    const newSpaceMb = (nodeOptions: string): number => {
      const child = spawnSync(
        node22Path(),
        [
          '-e',
          `const v8 = require('node:v8'); let keep = []; let most = 0;
           for (let i = 0; i < 3e6; i++) {
             keep.push({ i, a: [i] }); if (keep.length > 200000) keep = [];
             if (i % 5000 === 0) most = Math.max(most, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
           }
           console.log(most / 1048576);`,
        ],
        { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: nodeOptions } },
      );
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      return Number(child.stdout.trim());
    };
    expect(newSpaceMb(streamNodeOptions(STREAM_MEMORY_MB))).toBeGreaterThan(
      newSpaceMb(FUNCTION_NODE_OPTIONS),
    );
  }, 60_000);
});
