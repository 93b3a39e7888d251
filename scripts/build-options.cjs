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
 * Node's `http` module taken with `require()` rather than an ESM `import`: importing a built-in
 * as an ES module reads every one of its exports, and on Node 22 that makes node:http load
 * undici (Node's fetch, its WebSocket and http2 client) at once, about 50 ms of every cold start
 * (issue 12), where `require` loads undici only when something first calls fetch.
 */
const httpByRequire = {
  name: 'http-by-require',
  setup(build) {
    const namespace = 'http-by-require';
    build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.namespace === namespace
        ? { path: args.path, external: true }
        : { path: args.path, namespace },
    );
    build.onLoad({ filter: /.*/, namespace }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** Where the code the two handlers share, and what they load on demand, is written. */
const CHUNKS = 'chunks';

/**
 * The Lambda handler bundles the zip carries: dist/stream.mjs (the Kafka trigger's) and
 * dist/heartbeat.mjs (MirrorMaker 2's heartbeats, on a schedule), with dist/chunks/*.mjs, the
 * code both import and the modules loaded on demand by `import()` (the MSK IAM signer and its
 * AWS SDK parts): split out, such a module is neither read nor parsed at a cold start that does
 * not use it (issue 12; README, Benchmarks, "Cold start"). Whitespace and syntax are minified
 * (identifiers kept, for readable stacks and error names): less for the runtime to read and
 * parse. The source maps (NODE_OPTIONS=--enable-source-maps, infra/connector-stack.ts: Node
 * reads a module's map when it loads it) carry no sources: stack traces need only the mappings,
 * and the sources were three quarters of the map Node had to parse at every cold start.
 * The target stays node20: the bundles run on this project's Node 20 too (tests, `tgstream`).
 * Split, an `import()` of a CommonJS package resolves to its exports as `default` only (no
 * named exports, unlike Node): lib/kafka/security.ts takes the signer's from `default`.
 */
const lambda = {
  entryPoints: {
    stream: join(root, 'functions', 'stream.ts'),
    heartbeat: join(root, 'functions', 'heartbeat.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: `${CHUNKS}/[name]-[hash]`,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  sourcesContent: false,
  minifyWhitespace: true,
  minifySyntax: true,
  external: RUNTIME_PROVIDED,
  plugins: [httpByRequire],
  // kafkajs is CommonJS; give its require() calls a real require in the ESM bundle.
  banner: {
    js: "import { createRequire as __tgsCreateRequire } from 'node:module'; const require = __tgsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

/**
 * The module's own URL in a CommonJS bundle, where esbuild leaves `import.meta` empty: lib/aws
 * resolves the AWS SDK clients from it (`createRequire(import.meta.url)`).
 */
const IMPORT_META_URL = {
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: [join(__dirname, 'import-meta-url.js')],
};

/** The IaC generator serverless.yml reads (functions and resources per connector). */
const infra = {
  entryPoints: [join(root, 'infra', 'index.ts')],
  outfile: join(root, 'dist', 'infra.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  ...IMPORT_META_URL,
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
  ...IMPORT_META_URL,
  logLevel: 'warning',
};

/**
 * Empties dist/chunks before the Lambda bundles are built: chunk names carry a content hash, so
 * the chunks of earlier builds would otherwise stay beside the new ones and go into the zip
 * (serverless.yml packages dist/chunks/*).
 */
function cleanChunks() {
  require('node:fs').rmSync(join(lambda.outdir, CHUNKS), { recursive: true, force: true });
}

module.exports = { lambda, infra, deploySecrets, root, RUNTIME_PROVIDED, cleanChunks };
