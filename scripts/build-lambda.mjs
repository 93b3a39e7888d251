#!/usr/bin/env node
// Bundles the Lambda handler (dist/stream.mjs) and the IaC generator serverless.yml reads
// (dist/infra.cjs). `serverless package` builds both itself (infra/serverless.cjs); this script
// is for the tests and benchmarks that want the bundle alone.
import { build } from 'esbuild';
import { createRequire } from 'node:module';

const { lambda, infra } = createRequire(import.meta.url)('./build-options.cjs');
await build(lambda);
await build(infra);
