// Runs a Lambda handler module the way the nodejs runtime does, for the bundle tests: imports
// the module named by the function's Handler ("<file>.<export>") from the unpacked package
// once (one execution environment), then invokes the export once per event with a context
// shaped like Lambda's. Function output (logs, EMF) goes to stdout/stderr untouched, as
// Lambda sends it to CloudWatch; each invocation's outcome is written to the results file.
//
// usage: node lambda-shim.mjs <taskRoot> <Handler> <events.json> <results.json>
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [taskRoot, handlerName, eventsFile, resultsFile] = process.argv.slice(2);
const dot = handlerName.lastIndexOf('.');
const file = join(taskRoot, `${handlerName.slice(0, dot)}.mjs`);
const exported = handlerName.slice(dot + 1);
const results = [];
const started = process.hrtime.bigint();
let mod;
try {
  mod = await import(pathToFileURL(file).href);
} catch (error) {
  results.push({ init: { name: error?.name, code: error?.code, message: error?.message } });
  writeFileSync(resultsFile, JSON.stringify({ node: process.version, results }));
  process.exit(0);
}
const importMs = Number(process.hrtime.bigint() - started) / 1e6;
// The packages the import loaded from node_modules: CommonJS ones, as the runtime's SDK
// clients are, are in the module cache whether imported or required.
const initPackages = [
  ...new Set(
    Object.keys(createRequire(import.meta.url).cache)
      .map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1])
      .filter((name) => name !== undefined),
  ),
].sort();
const timeoutMs = Number(process.env.SHIM_TIMEOUT_MS ?? 60_000);
for (const event of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
  const begin = Date.now();
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'bundle-test',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - begin)),
  };
  try {
    const result = await mod[exported](event, context);
    results.push({ requestId: context.awsRequestId, result });
  } catch (error) {
    results.push({
      requestId: context.awsRequestId,
      error: { name: error?.name, code: error?.code, message: error?.message },
    });
  }
}
writeFileSync(
  resultsFile,
  JSON.stringify({ node: process.version, importMs, initPackages, results }),
);
// Lambda freezes the environment after the last invocation; here the process just ends.
process.exit(0);
