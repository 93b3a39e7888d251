/** What `tgstream connector create|delete` print about the trigger's source secrets: names, never values. */
import {
  RECOVERY_WINDOW_DAYS,
  scheduleSecretDeletion,
  type ControlDeps,
  type SecretChange,
  type SecretState,
} from '../control/index.ts';

const SECRET_KINDS: Record<SecretChange['kind'], string> = {
  sasl: 'SASL username and password',
  'client-certificate': 'mTLS client certificate and private key',
  'root-ca': 'private root CA certificate',
};

/** One line per source secret written: its name and what it holds. */
export const secretLine = (c: SecretChange): string =>
  `${c.action.padEnd(9)} ${c.name} (Secrets Manager: ${SECRET_KINDS[c.kind]} for the Kafka trigger${c.action === 'restored' ? '; it had been scheduled for deletion' : ''})`;

/**
 * After a secret was created: the deploy creates the trigger's secrets itself (infra/source.ts)
 * and CloudFormation cannot take over one that exists, so say how to get out of that.
 */
export const createdNote = (connector: string, name: string): string =>
  `note: ${connector}: ${name} did not exist, so it was created; 'serverless deploy' creates the trigger's secrets itself and stops while one of the same name exists: if this stage is not deployed yet, delete it (aws secretsmanager delete-secret --secret-id ${name} --force-delete-without-recovery), deploy, and run this command again`;

const day = (d: Date | undefined): string => (d ? d.toISOString().slice(0, 10) : 'unknown');

/**
 * Schedules a secret `connector create` made for deletion (with Secrets Manager's recovery
 * window, never a forced delete) and says so; says what happened to any other.
 */
export async function secretDeletionLine(
  s: SecretState,
  deps: Pick<ControlDeps, 'secretsManager'>,
): Promise<string | undefined> {
  switch (s.state) {
    case 'absent':
      return undefined;
    case 'scheduled':
      return `scheduled ${s.name} (Secrets Manager) was already scheduled for deletion on ${day(s.deletionDate)}`;
    case 'foreign':
      return `kept      ${s.name} (Secrets Manager): 'tgstream connector create' did not create it${s.stack ? `; it belongs to CloudFormation stack ${s.stack}, which removes it when the connector leaves infra/connectors and you deploy` : ''}`;
    case 'ours': {
      const date = await scheduleSecretDeletion(deps.secretsManager, s.name);
      return `scheduled ${s.name} (Secrets Manager) for deletion on ${day(date)}: it stays restorable for ${RECOVERY_WINDOW_DAYS} days ('aws secretsmanager restore-secret --secret-id ${s.name}', or 'tgstream connector create' again restores it)`;
    }
  }
}
