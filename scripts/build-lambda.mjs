#!/usr/bin/env node
// Bundles the Lambda handlers (dist/stream.mjs, dist/heartbeat.mjs, their dist/chunks/) and the IaC generator
// serverless.yml reads (dist/infra.cjs). `serverless package` builds them itself
// (infra/serverless.cjs); this script is for the tests and benchmarks that want the bundles alone.
import { build } from 'esbuild';
import { createRequire } from 'node:module';

const { lambda, infra, cleanChunks } = createRequire(import.meta.url)('./build-options.cjs');
cleanChunks();
await build(lambda);
await build(infra);
