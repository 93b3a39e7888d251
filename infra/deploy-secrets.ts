/**
 * The secrets `serverless deploy` writes itself (infra/deploy-hooks.cjs), so a deploy alone
 * leaves nothing for a first batch to miss: before the stack is updated, each connector's
 * SecureString parameters (`/tgstream/<stage>/<connector>/secrets/*`: passwords, tokens, PEM
 * keys); after it, the trigger's login secrets the stack created empty (Secrets Manager).
 * The values come from the connector files on the deploying machine; none enters the template.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity, Provider } from '@aws-sdk/types';
import { createRedactor, isSecretKey } from '../lib/config/index.ts';
import { writeDeploySecrets, type CreateResult } from '../lib/control/index.ts';
import { readConnectors } from './index.ts';

export type DeployPhase = 'before-stack' | 'after-stack';

export interface DeploySecretsOptions {
  readonly stage: string;
  readonly region: string;
  /** The deploy's credentials (Serverless's own resolution); undefined: the SDK's default chain. */
  readonly credentials?: Provider<AwsCredentialIdentity> | undefined;
  /** Test seams: the clients to write with. */
  readonly ssm?: SSMClient;
  readonly secretsManager?: SecretsManagerClient;
  /** Where the connector files are (default: infra/connectors or TGSTREAM_CONNECTORS_DIR). */
  readonly dir?: string;
}

/** One line per parameter or secret written: names and actions, never values. */
const linesOf = (connector: string, r: CreateResult): string[] => [
  ...r.parameters
    .filter((p) => p.action !== 'unchanged')
    .map(
      (p) => `tigerstream: ${connector}: ${p.action} ${p.name}${p.secure ? ' (SecureString)' : ''}`,
    ),
  ...r.secrets
    .filter((s) => s.action !== 'unchanged')
    .map((s) => `tigerstream: ${connector}: ${s.action} ${s.name} (Secrets Manager)`),
  ...r.notes.map((n) => `tigerstream: ${connector}: ${n}`),
];

/**
 * Writes every connector's secrets for one phase of `serverless deploy`; returns what it did.
 *
 * @throws ConfigError `CONFIG_INVALID` (a connector file with problems), ControlError (an AWS
 *   call failed: its code names the call and the parameter or secret, never a value).
 */
export async function deploySecrets(
  phase: DeployPhase,
  options: DeploySecretsOptions,
): Promise<string[]> {
  const set = options.dir === undefined ? readConnectors() : readConnectors(options.dir);
  const base = {
    region: options.region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const ssm = options.ssm ?? new SSMClient(base);
  const secretsManager = options.secretsManager ?? new SecretsManagerClient(base);
  const lines: string[] = [];
  for (const { config } of set.connectors) {
    // AWS's messages could quote what was sent; every line, and every error, passes the
    // connector's redactor.
    const redact = createRedactor(
      Object.entries(config.settings)
        .filter(([k, v]) => isSecretKey(k) && v !== '')
        .map(([, v]) => v),
    );
    let result: CreateResult;
    try {
      result = await writeDeploySecrets(config, phase, {
        ssm,
        secretsManager,
        stage: options.stage,
      });
    } catch (error) {
      if (error instanceof Error) error.message = redact(error.message);
      throw error;
    }
    lines.push(...linesOf(config.name, result).map(redact));
  }
  return lines;
}
