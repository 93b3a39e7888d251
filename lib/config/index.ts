/** Connector configuration: TigerGraph's connector file format, validation, secrets. */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, messageOf } from '../errors/index.ts';
import { MAX_CONFIG_BYTES, parseConnectorFile } from './parse.ts';
import {
  formatProblem,
  validateConnectorFile,
  type ValidateOptions,
  type ValidationResult,
} from './validate.ts';

export * from './parse.ts';
export * from './schema.ts';
export * from './secrets.ts';
export * from './validate.ts';
export {
  KEY_RULES,
  MSK_ARN,
  SECURITY_GROUP_IDS_ALLOWED,
  SUBNET_IDS_ALLOWED,
  TIGERGRAPH_RULES,
  TRIGGER_DEFAULT_WINDOW_MS,
  isSecurityGroupIdList,
  isSubnetIdList,
  triggerBatchingWindowSeconds,
  type KeyRule,
  type LoaderKeys,
  type RuleKey,
} from './rules.ts';
export { allowedText, passes, type Check } from './scope.ts';
export * from './ssm.ts';
export * from './keystore.ts';
export * from './naming.ts';
export * from './source-auth.ts';
export * from './heartbeat.ts';

/** Reads and validates a connector file (no exception for invalid content: see `errors`). */
export async function readConnectorFile(
  path: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_CONFIG_BYTES)
      throw new ConfigError(
        'CONFIG_FILE_TOO_LARGE',
        `${path} has ${info.size} bytes; a connector file may have at most ${MAX_CONFIG_BYTES}`,
      );
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      'CONFIG_FILE_UNREADABLE',
      `Cannot read connector file ${path}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const { parsed, problems } = parseConnectorFile(text, path);
  return validateConnectorFile(parsed, problems, options);
}

/**
 * Reads a connector file and returns its connectors.
 *
 * @throws ConfigError `CONFIG_INVALID` listing every problem, one per line.
 */
export async function loadConnectorFile(
  path: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const result = await readConnectorFile(path, options);
  if (result.errors.length > 0) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${path} has ${result.errors.length} problem(s):\n${result.errors.map(formatProblem).join('\n')}`,
      {
        details: { file: path, problems: result.errors.length },
      },
    );
  }
  return result;
}
