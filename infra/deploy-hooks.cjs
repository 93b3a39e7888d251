// A Serverless Framework v3 plugin of this service (serverless.yml `plugins`): `serverless
// deploy` writes the connectors' secrets itself, so the deploy alone leaves the function and
// its trigger nothing to miss. Before the stack is updated: each connector's SecureString
// parameters (the function reads them from its first batch; a trigger that polled before they
// existed would fail its batches into the dead-letter bucket). After it: the trigger's login
// secrets, which the stack creates empty so the trigger can name their ARNs. The values come
// from the connector files on this machine and never enter the template. `serverless package`
// writes nothing. Errors print as coded lines, without a stack trace.
const { buildSync } = require('esbuild');
const { deploySecrets: buildOptions } = require('../scripts/build-options.cjs');

/** The deploy's credentials as Serverless resolved them, for the AWS SDK v3. */
function credentialsOf(provider) {
  const resolved = provider.getCredentials().credentials;
  if (resolved === undefined) return undefined; // the SDK's default chain, as Serverless's own
  return async () => {
    if (typeof resolved.getPromise === 'function') await resolved.getPromise();
    return {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      ...(resolved.sessionToken ? { sessionToken: resolved.sessionToken } : {}),
    };
  };
}

class TigerStreamDeployHooks {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.hooks = {
      'before:deploy:deploy': () => this.write('before-stack'),
      'after:deploy:deploy': () => this.write('after-stack'),
      // A function's role is its connector's own, a CloudFormation resource that
      // `deploy function` cannot resolve; and it would skip the secrets.
      'before:deploy:function:initialize': () => this.refuse('deploy function'),
    };
  }

  /** The writer, built on first use (esbuild, as infra/serverless.cjs builds the generator). */
  load() {
    buildSync(buildOptions);
    return require(buildOptions.outfile);
  }

  async write(phase) {
    const provider = this.serverless.getProvider('aws');
    const say = (line) => (this.log ? this.log.notice(line) : process.stderr.write(`${line}\n`));
    try {
      const lines = await this.load().deploySecrets(phase, {
        stage: provider.getStage(),
        region: provider.getRegion(),
        credentials: credentialsOf(provider),
      });
      for (const line of lines) say(line);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      const code = error && typeof error.code === 'string' ? ` [${error.code}]` : '';
      const after =
        phase === 'after-stack'
          ? ' The stack is deployed; deploy again to write the secrets.'
          : ' Nothing was deployed.';
      process.stderr.write(
        `\ntigerstream: cannot write the connectors' secrets (${phase}): ${text}${code}.${after}\n`,
      );
      process.exit(1);
    }
  }

  refuse(command) {
    process.stderr.write(
      `\ntigerstream: 'serverless ${command}' is not supported: each function runs as its connector's own role (a CloudFormation resource) and needs its secrets written; run 'serverless deploy --stage ${this.serverless.getProvider('aws').getStage()}'\n`,
    );
    process.exit(1);
  }
}

module.exports = TigerStreamDeployHooks;
