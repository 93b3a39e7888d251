/**
 * The deploy carries a connector's configuration: its non-secret part becomes the String
 * parameter `/tgstream/<stage>/<connector>/config`, the document `tgstream connector create`
 * writes and the functions read. Secrets never enter it (nor the template): they stay
 * SecureStrings under `secrets/` and Secrets Manager values, written by the deploy's hook
 * (infra/deploy-hooks.cjs) or `connector create`.
 *
 * The document is the one `connector create` writes, file for file: a key or trust store file is
 * stored as the PEM keys it becomes (secrets, so only named in `secretKeys`) and `.type=PEM`
 * (lib/config/keystore.ts `inlineStores`), and Avro schema files are inlined, because the
 * functions have no files.
 */
import {
  connectorPath,
  storeLocations,
  storedDocumentText,
  toStored,
  type ConnectorConfig,
  type StoredConnector,
} from '../lib/config/index.ts';
import { inlineSchemaFiles } from '../lib/convert/index.ts';
import { ConfigError } from '../lib/errors/index.ts';
import type { Resource } from './template.ts';

/** SSM's value limit: 8 KB (advanced parameters; standard ones take 4 KB). */
export const ADVANCED_MAX_BYTES = 8192;

/**
 * The settings as `connector create` stores them, before secrets are split out: each store
 * file named as the PEM keys it becomes (`.type=PEM`; the keys themselves are secrets, written
 * by the deploy's hook, not read here), schema files inline.
 */
async function deployedSettings(
  settings: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const out = new Map(Object.entries(settings));
  for (const { key, prefix, kind } of storeLocations(settings)) {
    out.set(`${prefix}.ssl.${kind}.type`, 'PEM');
    out.delete(key);
  }
  return inlineSchemaFiles(Object.fromEntries(out));
}

/** The stored document of a connector as the deploy writes it. */
export async function deployedDocument(c: ConnectorConfig): Promise<StoredConnector> {
  const { stored } = toStored(c);
  return { ...stored, settings: await deployedSettings(stored.settings) };
}

/**
 * The `AWS::SSM::Parameter` of a connector's configuration, its text exactly what `tgstream
 * connector create` writes (lib/config `storedDocumentText`).
 *
 * @throws ConfigError `CONFIG_SSM_PARAMETER_TOO_LARGE` past 8 KB (SSM's advanced-tier limit).
 */
export async function configParameter(c: ConnectorConfig, stage: string): Promise<Resource> {
  const value = storedDocumentText(await deployedDocument(c));
  const bytes = Buffer.byteLength(value, 'utf8');
  const name = `${connectorPath(stage, c.name)}/config`;
  if (bytes > ADVANCED_MAX_BYTES)
    throw new ConfigError(
      'CONFIG_SSM_PARAMETER_TOO_LARGE',
      `its configuration without secrets is ${bytes} bytes, over the ${ADVANCED_MAX_BYTES} bytes an SSM parameter (${name}) can hold; allowed: a smaller configuration, e.g. Avro schemas served by a schema registry instead of value.converter.schemas`,
      { details: { connector: c.name, bytes } },
    );
  return {
    Type: 'AWS::SSM::Parameter',
    Properties: {
      Name: name,
      Type: 'String',
      Value: value,
      // SSM picks Standard, or Advanced once the document passes 4 KB. Not a tier chosen here
      // by size: SSM cannot turn an Advanced parameter back into a Standard one, so a
      // configuration that shrinks under 4 KB again would fail the stack update. The same
      // tier `connector create` writes with.
      Tier: 'Intelligent-Tiering',
      Description: `TigerStream connector ${c.name}: configuration without secrets (from ${c.file})`,
    },
  };
}
