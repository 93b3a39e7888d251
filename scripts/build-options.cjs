// The esbuild options of the two artifacts packaging needs, shared by scripts/build-lambda.mjs
// and infra/serverless.cjs (which builds them when serverless.yml is read).
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The Lambda handler bundle the zip carries (the AWS SDK v3 comes with nodejs22.x). */
const lambda = {
  entryPoints: [join(root, 'functions', 'stream.ts')],
  outfile: join(root, 'dist', 'stream.mjs'),
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
};

/** The IaC generator serverless.yml reads (functions and resources per connector). */
const infra = {
  entryPoints: [join(root, 'infra', 'index.ts')],
  outfile: join(root, 'dist', 'infra.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
};

module.exports = { lambda, infra, root };
