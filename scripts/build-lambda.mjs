#!/usr/bin/env node
// Bundles the Lambda handlers (dist/stream.mjs, dist/heartbeat.mjs) and the IaC generator
// serverless.yml reads (dist/infra.cjs). `serverless package` builds them itself
// (infra/serverless.cjs); this script is for the tests and benchmarks that want the bundles alone.
import { build } from 'esbuild';
import { createRequire } from 'node:module';

const { lambda, infra } = createRequire(import.meta.url)('./build-options.cjs');
await build(lambda);
await build(infra);
