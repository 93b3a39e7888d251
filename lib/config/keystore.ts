/**
 * Java keystores and truststores (JKS or PKCS12) converted to PEM, so the Lambda needs no
 * files on disk: the PEM text is stored as SSM SecureString parameters under Kafka's own
 * PEM keys (ssl.keystore.key, ssl.keystore.certificate.chain, ssl.truststore.certificates).
 */
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import jks from 'jks-js';
import { ConfigError, messageOf } from '../errors/index.ts';

export interface PemStore {
  /** PEM certificates: the key's chain for a keystore, the trusted certificates for a truststore. */
  readonly certificates: string;
  /** PEM private key (PKCS#8, unencrypted), keystores only. */
  readonly key: string | undefined;
}

/** Bound on a store file; real ones are a few KB. */
export const MAX_STORE_BYTES = 1024 * 1024;
const JKS_MAGIC = 0xfeedfeed;

const fromJks = (bytes: Buffer, password: string, keyPassword: string | undefined): PemStore => {
  const entries = Object.values(jks.toPem(bytes, password, keyPassword));
  const certificates = entries
    .flatMap((e) => [e.cert, e.ca].filter((c): c is string => c !== undefined))
    .join('');
  const key = entries.find((e) => e.key !== undefined)?.key;
  return { certificates, key };
};

const fromPkcs12 = (bytes: Buffer, password: string): PemStore => {
  const p12 = forge.pkcs12.pkcs12FromAsn1(
    forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary'))),
    password,
  );
  const bags = (oid: string | undefined): forge.pkcs12.Bag[] =>
    oid === undefined ? [] : (p12.getBags({ bagType: oid })[oid] ?? []);
  const certBags = bags(forge.pki.oids.certBag);
  const keyBags = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)];
  const certificates = certBags
    .flatMap((b) => (b.cert ? [forge.pki.certificateToPem(b.cert)] : []))
    .join('');
  const privateKey = keyBags.find((b) => b.key)?.key;
  return {
    certificates,
    key: privateKey
      ? forge.pki.privateKeyInfoToPem(
          forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(privateKey)),
        )
      : undefined,
  };
};

/**
 * Reads a JKS or PKCS12 store (told apart by content, not by name) and returns PEM.
 *
 * @throws ConfigError `CONFIG_STORE_UNREADABLE` or `CONFIG_STORE_INVALID` naming the key and
 *   path; never the password.
 */
export async function readStoreAsPem(
  key: string,
  path: string,
  password: string,
  keyPassword?: string,
): Promise<PemStore> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ConfigError(
      'CONFIG_STORE_UNREADABLE',
      `${key}: cannot read ${path}: ${messageOf(error)}`,
      { cause: error, details: { key, path } },
    );
  }
  if (bytes.length > MAX_STORE_BYTES)
    throw new ConfigError(
      'CONFIG_STORE_INVALID',
      `${key}: ${path} has ${bytes.length} bytes; a key or trust store may have at most ${MAX_STORE_BYTES}`,
    );
  const isJks = bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC;
  try {
    const pem = isJks ? fromJks(bytes, password, keyPassword) : fromPkcs12(bytes, password);
    if (pem.certificates === '' && pem.key === undefined)
      throw new Error('the store holds no certificate and no key');
    return pem;
  } catch (error) {
    // Foreign messages can be vague ("Invalid password?"); say what we know, without secrets.
    throw new ConfigError(
      'CONFIG_STORE_INVALID',
      `${key}: ${path} is not a ${isJks ? 'JKS' : 'PKCS12'} store this password opens (${messageOf(error)}); allowed: JKS or PKCS12 with the password in the matching *.password key`,
      {
        details: { key, path },
      },
    );
  }
}

/**
 * Replaces `<prefix>.ssl.keystore.location` / `.ssl.truststore.location` in `settings` by the
 * PEM keys Kafka clients understand, reading the files. Returns the new settings.
 */
export async function inlineStores(
  settings: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const out = new Map(Object.entries(settings));
  for (const [k, path] of Object.entries(settings)) {
    const m = /^(.*)\.ssl\.(keystore|truststore)\.location$/.exec(k);
    if (!m || path.trim() === '') continue;
    const prefix = m[1] as string;
    if (m[2] === 'keystore') {
      const pem = await readStoreAsPem(
        k,
        path,
        settings[`${prefix}.ssl.keystore.password`] ?? '',
        settings[`${prefix}.ssl.key.password`],
      );
      out.set(`${prefix}.ssl.keystore.certificate.chain`, pem.certificates);
      if (pem.key !== undefined) out.set(`${prefix}.ssl.keystore.key`, pem.key);
      out.delete(`${prefix}.ssl.keystore.password`);
      out.delete(`${prefix}.ssl.key.password`);
    } else {
      const pem = await readStoreAsPem(
        k,
        path,
        settings[`${prefix}.ssl.truststore.password`] ?? '',
      );
      out.set(`${prefix}.ssl.truststore.certificates`, pem.certificates);
      out.delete(`${prefix}.ssl.truststore.password`);
    }
    out.set(`${prefix}.ssl.${m[2]}.type`, 'PEM');
    out.delete(k);
  }
  return Object.fromEntries(out);
}
