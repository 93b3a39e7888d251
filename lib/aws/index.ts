/**
 * The AWS SDK v3 clients the Lambda runtime provides (scripts/build-options.cjs leaves them out
 * of the bundles), loaded when first used instead of when the handler module is imported.
 *
 * Why: importing `@aws-sdk/client-ssm` and `@aws-sdk/client-kafka` was most of the handler's
 * import time (issue 12). The SSM client is still loaded by every cold start, on its first
 * invocation (the configuration is read from SSM then): that invocation pays for it instead of
 * the init phase (README, Benchmarks, "Cold start", gives both figures). The Kafka control
 * client is loaded only for an MSK cluster ARN in `*.bootstrap.servers`.
 *
 * Why `require` and not `import()`: the clients are CommonJS; Node imports CommonJS from ESM by
 * first scanning its source for export names (cjs-module-lexer, about 400 kB for client-ssm),
 * which `require` skips. The module object is the same either way (one module cache), so a
 * test's `mockClient(SSMClient)` applies to the client built here. `require` also finds the
 * runtime's copy through NODE_PATH (/var/runtime/node_modules), as the nodejs runtimes document.
 */
import { createRequire } from 'node:module';
import type * as KafkaSdk from '@aws-sdk/client-kafka';
import type * as SsmSdk from '@aws-sdk/client-ssm';

// The name test/helpers/lambda-runtime.ts looks for to list the packages a bundle loads.
const runtimeRequire = createRequire(import.meta.url);

/**
 * `@aws-sdk/client-ssm`, loaded on first call (Node caches it for later calls).
 *
 * @example
 *   const { GetParameterCommand } = ssmSdk();
 *   await client.send(new GetParameterCommand({ Name }));
 */
export const ssmSdk = (): typeof SsmSdk => runtimeRequire('@aws-sdk/client-ssm') as typeof SsmSdk;

/** `@aws-sdk/client-kafka` (MSK's control plane), loaded on first call. */
export const kafkaSdk = (): typeof KafkaSdk =>
  runtimeRequire('@aws-sdk/client-kafka') as typeof KafkaSdk;
