// The esbuild options of the artifacts packaging and deploying need, shared by scripts/build-lambda.mjs
// and infra/serverless.cjs (which builds them when serverless.yml is read).
const { join } = require('node:path');

const root = join(__dirname, '..');

/**
 * The AWS SDK v3 clients the functions import and take from the nodejs22.x runtime instead of
 * the bundle: the runtime provides each client with what it needs, but only the packages it
 * happens to ship, not any @aws-sdk/* package a dependency asks for. So nothing else is left
 * out: the MSK IAM signer (aws-msk-iam-sasl-signer-js, loaded when a cluster uses IAM) is
 * bundled with its own @aws-sdk/credential-providers, client-sts, util-format-url and the
 * deprecated util-utf8-browser, which a runtime need not have (aws-sdk-js-v3#5594).
 * test/e2e/lambda-bundle.test.ts runs the zip with only these (and their dependencies).
 */
const RUNTIME_PROVIDED = [
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-kafka',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-secrets-manager',
];

/**
 * The Lambda handler bundles the zip carries, one self-contained file per function:
 * dist/stream.mjs (the Kafka trigger's) and dist/heartbeat.mjs (MirrorMaker 2's heartbeats, on
 * a schedule). Whitespace and syntax are minified (identifiers kept, for readable stacks and
 * error names): the bundled signer would otherwise take the stream bundle past 3 MB, and the
 * runtime parses all of it at every cold start.
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
  minifyWhitespace: true,
  minifySyntax: true,
  external: RUNTIME_PROVIDED,
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

module.exports = { lambda, infra, deploySecrets, root, RUNTIME_PROVIDED };
