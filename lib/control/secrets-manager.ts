/**
 * The trigger's source secrets in AWS Secrets Manager: `tgstream connector create` writes them,
 * `tgstream connector delete` schedules the ones it created for deletion. The IaC may have
 * created a secret already, empty, so the event-source mapping can name its ARN: then only its
 * value is written. The client is injected (tests use aws-sdk-client-mock).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createRedactor, type SourceSecret, type SourceSecretKind } from '../config/index.ts';
import { ControlError, messageOf } from '../errors/index.ts';

/** Tags on the secrets `connector create` creates; `connector delete` removes only those. */
export const SECRET_TAGS = {
  stage: 'tigerstream:stage',
  connector: 'tigerstream:connector',
  createdBy: 'tigerstream:created-by',
} as const;
export const CREATED_BY = 'tgstream connector create';

/** Days Secrets Manager keeps a deleted secret restorable (its own default; 7 to 30 allowed). */
export const RECOVERY_WINDOW_DAYS = 30;

/** CloudFormation tags every resource of a stack with its name. */
const STACK_TAG = 'aws:cloudformation:stack-name';

export type SecretAction = 'created' | 'updated' | 'unchanged' | 'restored';
export interface SecretChange {
  readonly name: string;
  readonly kind: SourceSecretKind;
  readonly action: SecretAction;
}

/** What `connector delete` finds for one secret name. */
export type SecretState =
  | { readonly name: string; readonly state: 'absent' }
  | { readonly name: string; readonly state: 'scheduled'; readonly deletionDate: Date | undefined }
  | { readonly name: string; readonly state: 'ours' }
  | { readonly name: string; readonly state: 'foreign'; readonly stack: string | undefined };

interface ErrorRow {
  readonly code: string;
  readonly retriable: boolean;
  readonly hint: string;
}

/**
 * Secrets Manager's error names (`error.name` of SDK v3 exceptions) → our code. Anything else
 * (network, timeouts, 5xx) is CONTROL_SECRET_CALL_FAILED, retriable.
 */
const ERRORS: Readonly<Record<string, ErrorRow>> = {
  AccessDeniedException: {
    code: 'CONTROL_SECRET_ACCESS_DENIED',
    retriable: false,
    hint: 'the AWS identity running tgstream needs secretsmanager:GetSecretValue, PutSecretValue, CreateSecret, TagResource, RestoreSecret, DescribeSecret and DeleteSecret on it',
  },
  ThrottlingException: {
    code: 'CONTROL_SECRET_THROTTLED',
    retriable: true,
    hint: 'Secrets Manager throttled the call; run the command again',
  },
  EncryptionFailure: {
    code: 'CONTROL_SECRET_KMS_FAILED',
    retriable: false,
    hint: "the secret's KMS key cannot be used: check it is enabled and that you may use it (kms:GenerateDataKey, kms:Decrypt)",
  },
  DecryptionFailure: {
    code: 'CONTROL_SECRET_KMS_FAILED',
    retriable: false,
    hint: "the secret's KMS key cannot be used: check it is enabled and that you may use it (kms:GenerateDataKey, kms:Decrypt)",
  },
  LimitExceededException: {
    code: 'CONTROL_SECRET_LIMIT_EXCEEDED',
    retriable: false,
    hint: 'a Secrets Manager quota was reached (secrets per account, or versions of this secret)',
  },
};

const nameOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : '';

/**
 * A coded error naming the secret and the call. The foreign message passes through a redactor
 * that knows the secret's values, so none can reach the output.
 */
function secretError(
  call: string,
  name: string,
  error: unknown,
  values: readonly string[] = [],
): ControlError {
  const row = ERRORS[nameOf(error)];
  const redact = createRedactor(values);
  const foreign = redact(`${nameOf(error) || 'Error'}: ${messageOf(error)}`);
  return new ControlError(
    row?.code ?? 'CONTROL_SECRET_CALL_FAILED',
    `Secrets Manager ${call} on secret ${name} failed (${foreign}); ${row?.hint ?? 'check the network and the region (--region, AWS_REGION), then run the command again'}`,
    { cause: error, retriable: row?.retriable ?? true, details: { secret: name, call } },
  );
}

/** The secret's current value; undefined when it has none or cannot be read. */
async function currentValue(
  client: SecretsManagerClient,
  name: string,
): Promise<string | undefined> {
  // Best effort, to keep re-runs from adding versions: without read access, write anyway.
  try {
    const r = await client.send(new GetSecretValueCommand({ SecretId: name }));
    return r.SecretString;
  } catch {
    return undefined;
  }
}

interface WriteDeps {
  readonly client: SecretsManagerClient;
  readonly stage: string;
  readonly connector: string;
}

/**
 * Writes one secret: unchanged when it already holds this value, PutSecretValue when it exists
 * (the IaC may have created it empty), restored first when an earlier `connector delete`
 * scheduled it for deletion, CreateSecret (tagged with stage and connector) when it does not
 * exist.
 */
export async function writeSourceSecret(
  secret: SourceSecret,
  deps: WriteDeps,
): Promise<SecretChange> {
  const { client } = deps;
  const text = JSON.stringify(secret.value);
  const values = Object.values(secret.value);
  const change = (action: SecretAction): SecretChange => ({
    name: secret.name,
    kind: secret.kind,
    action,
  });
  if ((await currentValue(client, secret.name)) === text) return change('unchanged');
  const call = async <T>(name: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw secretError(name, secret.name, error, values);
    }
  };
  const put = () =>
    client.send(new PutSecretValueCommand({ SecretId: secret.name, SecretString: text }));
  try {
    await put();
    return change('updated');
  } catch (error) {
    if (nameOf(error) === 'InvalidRequestException' && /deletion/i.test(messageOf(error))) {
      await call('RestoreSecret', () =>
        client.send(new RestoreSecretCommand({ SecretId: secret.name })),
      );
      await call('PutSecretValue', put);
      return change('restored');
    }
    if (nameOf(error) !== 'ResourceNotFoundException')
      throw secretError('PutSecretValue', secret.name, error, values);
  }
  await call('CreateSecret', () =>
    client.send(
      new CreateSecretCommand({
        Name: secret.name,
        SecretString: text,
        Description: `TigerStream connector ${deps.connector} (stage ${deps.stage}): ${secret.what} for the Lambda Kafka trigger`,
        Tags: [
          { Key: SECRET_TAGS.stage, Value: deps.stage },
          { Key: SECRET_TAGS.connector, Value: deps.connector },
          { Key: SECRET_TAGS.createdBy, Value: CREATED_BY },
        ],
      }),
    ),
  );
  return change('created');
}

/** Whether a secret exists, is already scheduled for deletion, and who created it. */
export async function inspectSecret(
  client: SecretsManagerClient,
  name: string,
): Promise<SecretState> {
  try {
    const d = await client.send(new DescribeSecretCommand({ SecretId: name }));
    if (d.DeletedDate !== undefined)
      return { name, state: 'scheduled', deletionDate: d.DeletedDate };
    const tags = d.Tags ?? [];
    if (tags.some((t) => t.Key === SECRET_TAGS.createdBy && t.Value === CREATED_BY))
      return { name, state: 'ours' };
    return { name, state: 'foreign', stack: tags.find((t) => t.Key === STACK_TAG)?.Value };
  } catch (error) {
    if (nameOf(error) === 'ResourceNotFoundException') return { name, state: 'absent' };
    throw secretError('DescribeSecret', name, error);
  }
}

/**
 * Schedules a secret for deletion with a recovery window (never ForceDeleteWithoutRecovery):
 * Secrets Manager keeps it restorable for {@link RECOVERY_WINDOW_DAYS} days.
 *
 * @returns the date it will be deleted, as Secrets Manager reports it.
 */
export async function scheduleSecretDeletion(
  client: SecretsManagerClient,
  name: string,
): Promise<Date | undefined> {
  try {
    const r = await client.send(
      new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }),
    );
    return r.DeletionDate;
  } catch (error) {
    throw secretError('DeleteSecret', name, error);
  }
}
