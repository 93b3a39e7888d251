// The esbuild options of the two artifacts packaging needs, shared by scripts/build-lambda.mjs
// and infra/serverless.cjs (which builds them when serverless.yml is read).
const { join } = require('node:path');

const root = join(__dirname, '..');

/**
 * The Lambda handler bundles the zip carries (the AWS SDK v3 comes with nodejs22.x), one
 * self-contained file per function: dist/stream.mjs (the Kafka trigger's) and
 * dist/heartbeat.mjs (MirrorMaker 2's heartbeats, on a schedule).
 */
const lambda = {
  entryPoints: {
    stream: join(root, 'functions', 'stream.ts'),
    heartbeat: join(root, 'functions', 'heartbeat.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
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

/** What `serverless deploy` runs to write the connectors' secrets (infra/deploy-hooks.cjs). */
const deploySecrets = {
  entryPoints: [join(root, 'infra', 'deploy-secrets.ts')],
  outfile: join(root, 'dist', 'deploy-secrets.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The deploying machine has the project's node_modules; nothing of this goes to Lambda.
  packages: 'external',
  logLevel: 'warning',
};

module.exports = { lambda, infra, deploySecrets, root };
