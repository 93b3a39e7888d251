// What serverless.yml reads for its functions and resources (`${file(./infra/serverless.cjs):...}`).
// Serverless Framework v3 loads this file as it is, while it resolves variables, before it
// packages: so it builds the Lambda bundles (dist/*.mjs, which the zip carries) and the IaC
// generator (dist/infra.cjs) with esbuild first. `serverless package` and `serverless deploy`
// therefore work straight after `npm ci`, with no separate build step.
const { build } = require('esbuild');
const { lambda, infra, cleanChunks } = require('../scripts/build-options.cjs');

let generator;

/**
 * Builds once per serverless run, then hands out the generator. Asynchronous: the Lambda build
 * has a plugin, which esbuild's buildSync does not run.
 */
function load() {
  generator ??= (async () => {
    cleanChunks();
    await build(lambda);
    await build(infra);
    return require(infra.outfile);
  })();
  return generator;
}

/**
 * Runs the generator; a connector file with problems stops packaging with the validator's own
 * lines (file:line key: message [CODE]) and nothing else: no stack trace to read them out of.
 */
async function generate(part, context) {
  try {
    return await (await load())[part](context);
  } catch (error) {
    // Serverless's own: a variable the generator asked for (param:, self:) that Serverless
    // resolves in a later pass, or a problem Serverless reports itself.
    if (error !== null && typeof error === 'object' && error.name === 'ServerlessError')
      throw error;
    const text = error instanceof Error ? error.message : String(error);
    process.stderr.write(`\ntigerstream: cannot package: ${text}\n`);
    process.exit(1);
  }
}

module.exports = {
  functions: (context) => generate('functions', context),
  resources: (context) => generate('resources', context),
};
