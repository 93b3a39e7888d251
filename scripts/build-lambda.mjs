#!/usr/bin/env node
// Bundles the Lambda handler (dist/stream.mjs) and the IaC generator serverless.yml reads
// (dist/infra.cjs). The AWS SDK v3 is provided by the nodejs22.x runtime.
import { build } from 'esbuild';

await build({
  entryPoints: ['functions/stream.ts'],
  outfile: 'dist/stream.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: ['@aws-sdk/*'],
  // kafkajs is CommonJS; give its require() calls a real require in the ESM bundle.
  banner: {
    js: "import { createRequire as __tgsCreateRequire } from 'node:module'; const require = __tgsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

await build({
  entryPoints: ['infra/index.ts'],
  outfile: 'dist/infra.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
});
