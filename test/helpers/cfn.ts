/** Reading the CloudFormation template `serverless package` writes, and linting it with cfn-lint. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isSecretKey,
  parseConnectorFile,
  parseJaas,
  validateConnectorFile,
} from '../../lib/config/index.ts';

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
  readonly DeletionPolicy?: string;
}
export interface Template {
  readonly Description?: string;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** The template a package directory holds (the one `serverless deploy` would update with). */
export const readTemplate = (packageDir: string): Template =>
  JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;

/** A resource that must exist (a missing one fails the test with its id). */
export function resource(t: Template, id: string): CfnResource {
  const r = t.Resources[id];
  if (r === undefined) throw new Error(`the template has no resource ${id}`);
  return r;
}

/** The statements of a role's inline policies. */
export const statementsOf = (t: Template, roleId: string): PolicyStatement[] =>
  (
    resource(t, roleId).Properties.Policies as {
      PolicyDocument: { Statement: PolicyStatement[] };
    }[]
  ).flatMap((p) => p.PolicyDocument.Statement);

/** The statement with `sid` of a role. */
export function statement(t: Template, roleId: string, sid: string): PolicyStatement {
  const s = statementsOf(t, roleId).find((x) => x.Sid === sid);
  if (s === undefined) throw new Error(`role ${roleId} has no statement ${sid}`);
  return s;
}

/** The command that runs cfn-lint here (`$CFN_LINT` or `cfn-lint` on the PATH), if it runs. */
export function findCfnLint(): string | undefined {
  const bin = process.env.CFN_LINT ?? 'cfn-lint';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? bin : undefined;
}

/**
 * cfn-lint's exit status is a bit mask of what it found: 2 errors, 4 warnings, 8 informational
 * (0 nothing). Anything else (1, a signal, no status) means it did not lint: it crashed, or
 * could not read the template.
 */
const CFN_LINT_FOUND = { error: 2, warning: 4, informational: 8 } as const;
const CFN_LINT_STATUS_BITS = 2 | 4 | 8;

/**
 * cfn-lint's findings on a template file, by level.
 *
 * @throws Error when cfn-lint did not lint the template (a crash, an unreadable file), or when
 *   its output disagrees with its exit status: a run that cannot be trusted is not "clean".
 */
export function cfnLint(
  bin: string,
  file: string,
): { errors: string[]; warnings: string[]; version: string } {
  const run = spawnSync(bin, ['--format', 'json', file], { encoding: 'utf8', timeout: 120_000 });
  if (run.error !== undefined) throw run.error;
  const status = run.status;
  if (status === null || (status & ~CFN_LINT_STATUS_BITS) !== 0)
    throw new Error(
      `cfn-lint did not lint ${file} (exit status ${String(status)}, signal ${String(run.signal)}): ${run.stderr.slice(-2000)}`,
    );
  let matches: {
    Level: string;
    Rule: { Id: string };
    Message: string;
    Location: { Path: (string | number)[] | null };
  }[];
  try {
    matches = JSON.parse(run.stdout) as typeof matches;
  } catch (error) {
    throw new Error(
      `cfn-lint wrote no JSON for ${file} (exit status ${status}): ${run.stdout.slice(0, 500)}`,
      {
        cause: error,
      },
    );
  }
  const line = (m: (typeof matches)[number]) =>
    `${m.Rule.Id} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`;
  const errors = matches.filter((m) => m.Level === 'Error').map(line);
  const warnings = matches.filter((m) => m.Level === 'Warning').map(line);
  const said = (bit: number) => (status & bit) !== 0;
  if (
    said(CFN_LINT_FOUND.error) !== errors.length > 0 ||
    said(CFN_LINT_FOUND.warning) !== warnings.length > 0
  )
    throw new Error(
      `cfn-lint's exit status ${status} disagrees with its ${errors.length} error(s) and ${warnings.length} warning(s) on ${file}`,
    );
  return {
    errors,
    warnings,
    version: spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim(),
  };
}

/** Every secret value written in connector files (secret keys, and passwords inside JAAS lines). */
export function secretValuesOf(files: readonly string[]): string[] {
  const values = new Set<string>();
  for (const file of files) {
    const { parsed, problems } = parseConnectorFile(readFileSync(file, 'utf8'), file);
    for (const c of validateConnectorFile(parsed, problems).connectors)
      for (const [key, value] of Object.entries(c.settings)) {
        if (!isSecretKey(key) || value === '') continue;
        if (key.endsWith('jaas.config')) {
          const { password, clientSecret } = parseJaas(value);
          for (const v of [password, clientSecret]) if (v) values.add(v);
        } else values.add(value);
      }
  }
  return [...values];
}
