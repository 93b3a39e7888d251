/**
 * Java keystores and truststores converted to PEM, so the Lambda needs no files on disk: the
 * PEM text is stored as SSM SecureString parameters under Kafka's own PEM keys
 * (ssl.keystore.key, ssl.keystore.certificate.chain, ssl.truststore.certificates).
 *
 * Every store Java 17's keytool writes converts: JKS, JCEKS and PKCS12 (Java 17's PBES2 with
 * AES-256 and HmacPBESHA256, the legacy 3DES/RC2-40, and every other algorithm the
 * keystore.pkcs12.* properties select), with RSA, EC, EdDSA, DSA or RSASSA-PSS keys, a key
 * password distinct from the store password, and truststores. The readers are
 * keystore-jks.ts and keystore-pkcs12.ts; keys come out as PKCS#8 through Node's crypto.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, messageOf } from '../errors/index.ts';
import {
  StoreProblem,
  algorithm,
  buildChain,
  certificate,
  parseDer,
  sequence,
  toPem,
  type StoreContents,
  type StoreFormat,
} from './keystore-common.ts';
import { JCEKS_MAGIC, JKS_MAGIC, readJavaKeyStore } from './keystore-jks.ts';
import { readPkcs12 } from './keystore-pkcs12.ts';

export interface PemStore {
  /** PEM certificates: the key's chain, leaf first, for a keystore; the trusted certificates for a truststore. */
  readonly certificates: string;
  /** PEM private key (PKCS#8, unencrypted), keystores only. */
  readonly key: string | undefined;
}

/** Where a store comes from and how to open it; errors name `key` and `path`, never a password. */
export interface StoreSource {
  /**
   * The setting naming the file. `<prefix>.ssl.truststore.location` reads a truststore (every
   * certificate Java would trust); any other key a keystore (exactly one private key entry).
   */
  readonly key: string;
  readonly path: string;
  /** The store password; undefined when none is set (then, as in Java, JKS is not checked). */
  readonly password: string | undefined;
  /** The key password (`ssl.key.password`); the store password when undefined, as in Kafka. */
  readonly keyPassword?: string | undefined;
}

/** Bound on a store file; real ones are a few KB. */
export const MAX_STORE_BYTES = 1024 * 1024;

const isTruststore = (key: string): boolean => /(^|\.)ssl\.truststore\.location$/.test(key);

/** The settings that hold a store's passwords, named in errors. */
function passwordSettings(key: string): { store: string; key: string } {
  const m = /^(.*\.)?ssl\.(keystore|truststore)\.location$/.exec(key);
  return m
    ? {
        store: `${m[1] ?? ''}ssl.${m[2] ?? 'keystore'}.password`,
        key: `${m[1] ?? ''}ssl.key.password`,
      }
    : { store: 'the store password', key: 'the key password' };
}

function formatOf(bytes: Buffer): StoreFormat | undefined {
  const magic = bytes.length >= 4 ? bytes.readUInt32BE(0) : undefined;
  if (magic === JKS_MAGIC) return 'JKS';
  if (magic === JCEKS_MAGIC) return 'JCEKS';
  return bytes[0] === 0x30 ? 'PKCS12' : undefined;
}

function notAStore(bytes: Buffer): StoreProblem {
  if (bytes.length === 0) return new StoreProblem('CONFIG_STORE_INVALID', 'the file is empty');
  const pem = bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN');
  return new StoreProblem(
    'CONFIG_STORE_INVALID',
    pem
      ? 'it is PEM text, not a key store; give PEM in ssl.keystore.key, ssl.keystore.certificate.chain or ssl.truststore.certificates instead'
      : 'it is neither a JKS, a JCEKS nor a PKCS12 store (its first bytes are no store header)',
  );
}

/** PKCS#8 DER to a KeyObject; the algorithm is named when Node's crypto cannot read it. */
function privateKeyOf(pkcs8: Buffer, alias: string): KeyObject {
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch (error) {
    let oid: string | undefined;
    try {
      oid = algorithm(sequence(parseDer(pkcs8, 'a key'), 'a key', 3)[1], 'a key').oid;
    } catch {
      oid = undefined; // not even PKCS#8: garbage from a password that passed the padding check
    }
    throw oid === undefined
      ? new StoreProblem('CONFIG_STORE_KEY_PASSWORD_WRONG', 'it decrypts to no private key', alias)
      : new StoreProblem(
          'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
          `the private key of entry "${alias}" has algorithm ${oid}, which Node's crypto cannot read (${messageOf(error)}); supported: RSA, RSASSA-PSS, EC, Ed25519, Ed448, DSA`,
        );
  }
}

function keystorePem(store: StoreContents, password: string | undefined): PemStore {
  const { keys, trusted } = store;
  if (keys.length === 0)
    throw trusted.length === 0 && store.certificates.length === 0
      ? new StoreProblem('CONFIG_STORE_INVALID', 'it holds no entries')
      : new StoreProblem(
          'CONFIG_STORE_KEY_MISSING',
          `it holds no private key entry, only ${trusted.length} trusted certificate(s); a keystore needs one key entry with its certificate chain (trusted certificates belong in ssl.truststore.location)`,
        );
  const [entry, ...others] = keys;
  if (entry === undefined || others.length > 0)
    throw new StoreProblem(
      'CONFIG_STORE_KEYS_MANY',
      `it holds ${keys.length} private key entries (${keys.map((k) => `"${k.alias}"`).join(', ')}); a Kafka client's PEM keystore holds one: copy the one to use into a store of its own (keytool -importkeystore -srcalias <alias>)`,
    );
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyOf(entry.decrypt(password), entry.alias);
  } catch (error) {
    if (error instanceof StoreProblem && error.code === 'CONFIG_STORE_KEY_PASSWORD_WRONG')
      throw new StoreProblem(error.code, error.message, entry.alias);
    throw error;
  }
  const pool = store.certificates.map((der, i) => certificate(der, `certificate ${i + 1}`));
  let chain: X509Certificate[] = entry.chain.map((der, i) =>
    certificate(der, `certificate ${i + 1} of entry "${entry.alias}"`),
  );
  if (chain.length === 0) {
    const leaf = pool.find((c) => c.checkPrivateKey(privateKey));
    chain =
      leaf === undefined
        ? []
        : buildChain(leaf, pool).map((der) => certificate(der, 'a certificate'));
  }
  const [leaf] = chain;
  if (leaf === undefined)
    throw new StoreProblem(
      'CONFIG_STORE_INVALID',
      `the private key of entry "${entry.alias}" has no certificate`,
    );
  if (!leaf.checkPrivateKey(privateKey))
    throw new StoreProblem(
      'CONFIG_STORE_INVALID',
      `the private key of entry "${entry.alias}" does not match its certificate (${leaf.subject.replace(/\n/g, ', ')})`,
    );
  return {
    certificates: chain.map((c) => toPem('CERTIFICATE', c.raw)).join(''),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

const lower = (alias: string): string => alias.toLowerCase();

/** What Java's TrustManager trusts: the trusted entries and each key entry's own certificate, by alias as keytool lists them. */
function truststorePem(store: StoreContents): PemStore {
  const entries = [
    ...store.trusted,
    ...store.keys.flatMap((k) =>
      k.chain[0] === undefined ? [] : [{ alias: k.alias, der: k.chain[0] }],
    ),
  ].sort(
    (a, b) => Number(lower(a.alias) > lower(b.alias)) - Number(lower(a.alias) < lower(b.alias)),
  );
  const seen: Buffer[] = [];
  for (const { alias, der } of entries) {
    certificate(der, `entry "${alias}"`);
    if (!seen.some((s) => s.equals(der))) seen.push(der);
  }
  if (seen.length === 0)
    throw new StoreProblem(
      'CONFIG_STORE_INVALID',
      store.certificates.length === 0
        ? 'it holds no entries'
        : 'it holds no certificate a truststore could trust',
    );
  return { certificates: seen.map((der) => toPem('CERTIFICATE', der)).join(''), key: undefined };
}

function configError(
  problem: StoreProblem,
  source: StoreSource,
  format: StoreFormat | undefined,
): ConfigError {
  const { key, path } = source;
  const names = passwordSettings(key);
  const where = `${key}: ${path}${format === undefined ? '' : ` (${format})`}`;
  const details = { key, path, format };
  let message: string;
  switch (problem.code) {
    case 'CONFIG_STORE_PASSWORD_WRONG':
      message =
        source.password === undefined
          ? `${where} does not open without a password (${problem.message}); set ${names.store} to the store's password`
          : `${where} does not open with the password in ${names.store}: ${problem.message}; set ${names.store} to the store's password (keytool -storepass)`;
      return new ConfigError(problem.code, message, {
        cause: problem,
        details: { ...details, password: names.store },
      });
    case 'CONFIG_STORE_KEY_PASSWORD_WRONG': {
      const used =
        source.keyPassword !== undefined
          ? names.key
          : `${names.store} (used for the key because ${names.key} is not set, as Kafka does)`;
      const pkcs12 =
        format === 'PKCS12' && source.keyPassword !== undefined
          ? `; keytool gives a PKCS12 key the store's password, so leave ${names.key} unset or equal to ${names.store}`
          : '';
      message = `${where}: the private key of entry "${problem.entry ?? '?'}" does not decrypt with the password in ${used} (${problem.message}); set ${names.key} to the key's password (keytool -keypass)${pkcs12}`;
      return new ConfigError(problem.code, message, {
        cause: problem,
        details: {
          ...details,
          password: source.keyPassword !== undefined ? names.key : names.store,
        },
      });
    }
    case 'CONFIG_STORE_INVALID':
      message = `${where}: ${problem.message}; allowed: a JKS, JCEKS or PKCS12 key or trust store as keytool or openssl writes it`;
      break;
    default:
      message = `${where}: ${problem.message}`;
  }
  return new ConfigError(problem.code, message, { cause: problem, details });
}

/**
 * Converts the bytes of a JKS, JCEKS or PKCS12 store (told apart by content, not by name) to
 * PEM. Pure; {@link readStoreAsPem} reads the file.
 *
 * @throws ConfigError `CONFIG_STORE_INVALID` (empty, damaged, not a store, no entries),
 *   `CONFIG_STORE_PASSWORD_WRONG`, `CONFIG_STORE_KEY_PASSWORD_WRONG` (naming the setting,
 *   never its value), `CONFIG_STORE_KEYS_MANY`, `CONFIG_STORE_KEY_MISSING` or
 *   `CONFIG_STORE_ALGORITHM_UNSUPPORTED`.
 */
export function storeToPem(bytes: Buffer, source: StoreSource): PemStore {
  const { key, path } = source;
  if (bytes.length > MAX_STORE_BYTES)
    throw new ConfigError(
      'CONFIG_STORE_INVALID',
      `${key}: ${path} has ${bytes.length} bytes; a key or trust store may have at most ${MAX_STORE_BYTES}`,
      { details: { key, path } },
    );
  const format = formatOf(bytes);
  try {
    if (format === undefined) throw notAStore(bytes);
    const store =
      format === 'PKCS12'
        ? readPkcs12(bytes, source.password)
        : readJavaKeyStore(bytes, source.password);
    return isTruststore(key)
      ? truststorePem(store)
      : keystorePem(store, source.keyPassword ?? source.password);
  } catch (error) {
    if (error instanceof StoreProblem) throw configError(error, source, format);
    throw new ConfigError(
      'CONFIG_STORE_INVALID',
      `${key}: ${path}${format === undefined ? '' : ` (${format})`} could not be read: ${messageOf(error)}`,
      { cause: error, details: { key, path, format } },
    );
  }
}

/**
 * Reads a key or trust store file and returns PEM (see {@link storeToPem}).
 *
 * @param key the setting naming the file, e.g. `producer.ssl.keystore.location`
 * @param password the store password, undefined when none is set
 * @param keyPassword the key password, when it differs from the store password
 * @example
 * const { certificates, key } = await readStoreAsPem('producer.ssl.keystore.location', 'client.p12', 'changeit');
 * @throws ConfigError `CONFIG_STORE_UNREADABLE` when the file cannot be read; see storeToPem.
 */
export async function readStoreAsPem(
  key: string,
  path: string,
  password: string | undefined,
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
  return storeToPem(bytes, { key, path, password, keyPassword });
}

/** A `<prefix>.ssl.keystore.location` / `.ssl.truststore.location` setting naming a file. */
export interface StoreLocation {
  readonly key: string;
  readonly prefix: string;
  readonly kind: 'keystore' | 'truststore';
  readonly path: string;
}

/**
 * The key and trust store files `settings` names: what `inlineStores` turns into PEM keys, and
 * what the deploy's configuration document names as `.type=PEM` (infra/config-parameter.ts).
 */
export function storeLocations(settings: Readonly<Record<string, string>>): StoreLocation[] {
  const out: StoreLocation[] = [];
  for (const [key, path] of Object.entries(settings)) {
    const m = /^(.*)\.ssl\.(keystore|truststore)\.location$/.exec(key);
    if (!m || path.trim() === '') continue;
    out.push({ key, prefix: m[1] as string, kind: m[2] as StoreLocation['kind'], path });
  }
  return out;
}

/**
 * Replaces `<prefix>.ssl.keystore.location` / `.ssl.truststore.location` in `settings` by the
 * PEM keys Kafka clients understand, reading the files. Returns the new settings.
 */
export async function inlineStores(
  settings: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const out = new Map(Object.entries(settings));
  for (const { key: k, prefix, kind, path } of storeLocations(settings)) {
    if (kind === 'keystore') {
      const pem = await readStoreAsPem(
        k,
        path,
        settings[`${prefix}.ssl.keystore.password`],
        settings[`${prefix}.ssl.key.password`],
      );
      out.set(`${prefix}.ssl.keystore.certificate.chain`, pem.certificates);
      if (pem.key !== undefined) out.set(`${prefix}.ssl.keystore.key`, pem.key);
      out.delete(`${prefix}.ssl.keystore.password`);
      out.delete(`${prefix}.ssl.key.password`);
    } else {
      const pem = await readStoreAsPem(k, path, settings[`${prefix}.ssl.truststore.password`]);
      out.set(`${prefix}.ssl.truststore.certificates`, pem.certificates);
      out.delete(`${prefix}.ssl.truststore.password`);
    }
    out.set(`${prefix}.ssl.${kind}.type`, 'PEM');
    out.delete(k);
  }
  return Object.fromEntries(out);
}
