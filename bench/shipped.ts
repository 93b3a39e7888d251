/**
 * The stream handler's code as the Lambda bundle ships it: lib/pipeline built with the options
 * packaging builds dist/stream.mjs with (scripts/build-options.cjs: bundled, minified syntax and
 * whitespace, the runtime-provided AWS SDK clients left out), so the pipeline bench measures the
 * compiled code Lambda runs rather than the TypeScript sources tsx compiles module by module.
 * Written under .cache/ (inside the project, so the bundle finds node_modules as dist/ does).
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What the bench takes from the bundle. */
export type ShippedPipeline = typeof import('../lib/pipeline/index.ts');

const { lambda, root } = createRequire(import.meta.url)('../scripts/build-options.cjs') as {
  lambda: Record<string, unknown>;
  root: string;
};

/** Where the bench's bundle goes (git ignores .cache/). */
export const SHIPPED_DIR = join(root, '.cache', 'bench-pipeline');

/**
 * Builds lib/pipeline with the Lambda bundle's options and imports it.
 *
 * @example
 * const { createStreamHandler } = await shippedPipeline();
 */
export async function shippedPipeline(): Promise<ShippedPipeline> {
  await build({
    ...lambda,
    entryPoints: { pipeline: join(root, 'lib', 'pipeline', 'index.ts') },
    outdir: SHIPPED_DIR,
    // One file: the bench imports it once (the functions' split chunks serve cold starts).
    splitting: false,
    chunkNames: undefined,
  });
  return (await import(pathToFileURL(join(SHIPPED_DIR, 'pipeline.mjs')).href)) as ShippedPipeline;
}
