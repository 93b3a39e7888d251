#!/usr/bin/env node
// The tgstream CLI. Sources are TypeScript; tsx compiles them on load so a fresh clone runs
// without a build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../lib/cli/index.ts');
process.exitCode = await runCli(process.argv.slice(2));
