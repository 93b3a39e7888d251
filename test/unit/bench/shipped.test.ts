import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIPPED_DIR, shippedPipeline } from '../../../bench/shipped.ts';

describe('shippedPipeline (the handler code the pipeline bench measures)', () => {
  it('is lib/pipeline bundled as the Lambda bundle is: its handler factory, the runtime-provided SDK left out', async () => {
    const pipeline = await shippedPipeline();
    expect(typeof pipeline.createStreamHandler).toBe('function');
    expect(typeof pipeline.memoryRunRegistry).toBe('function');
    const text = readFileSync(join(SHIPPED_DIR, 'pipeline.mjs'), 'utf8');
    // The Lambda options' banner (kafkajs's require() in an ES module), as dist/stream.mjs has.
    expect(text.startsWith('import { createRequire as __tgsCreateRequire }')).toBe(true);
    // Imported from the runtime, as dist/stream.mjs does, not bundled.
    expect(text.includes('"@aws-sdk/client-ssm"')).toBe(true);
    // Whitespace minified: thousands of characters a line, where the sources have tens.
    expect(text.length / text.split('\n').length).toBeGreaterThan(1000);
  }, 60_000);
});
