import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  inlineStores,
  readStoreAsPem,
  storeToPem,
  type StoreSource,
} from '../../../lib/config/index.ts';
import { md5Iterated, sha1Iterated } from '../../../lib/config/keystore-digest.ts';
import { ConfigError } from '../../../lib/errors/index.ts';

/** Stores made by Java 17's keytool (scripts/make-keystores.sh), each beside what keytool exported. */
const DIR = resolve(import.meta.dirname, '../../fixtures/keystores/keytool');
const STORE_PASS = 'store-pass-1';
const KEY_PASS = 'key-pass-2';
const TRUST_PASS = 'trust-pass-3';

const files = readdirSync(DIR);
const stores = files.filter((f) => /\.(jks|jceks|p12)$/.test(f));
const keystores = stores.filter((f) => files.includes(`${f}.chain.pem`));
const truststores = stores.filter((f) => files.includes(`${f}.certs.pem`));
const read = (name: string): Buffer => readFileSync(join(DIR, name));
/** JKS and JCEKS keys have their own password; keytool gives a PKCS12 key the store's. */
const keyPassOf = (f: string): string | undefined => (f.endsWith('.p12') ? undefined : KEY_PASS);

/** The DER certificates of a PEM text, in order. */
const certsOf = (pem: string): Buffer[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(
    (m) => new X509Certificate(m[0]).raw,
  );
const pkcs8Of = (pem: string): Buffer =>
  createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });

const keystore = (f: string, over: Partial<StoreSource> = {}): StoreSource => ({
  key: 'producer.ssl.keystore.location',
  path: join(DIR, f),
  password: STORE_PASS,
  keyPassword: keyPassOf(f),
  ...over,
});
const truststore = (f: string, over: Partial<StoreSource> = {}): StoreSource => ({
  key: 'consumer.ssl.truststore.location',
  path: join(DIR, f),
  password: TRUST_PASS,
  ...over,
});

/** The ConfigError `run` throws (failing the test when it throws none or another). */
function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('keystores made by keytool', () => {
  it('has the fixtures of every kind the issue names', () => {
    for (const f of [
      'rsa.jks',
      'ec.jks',
      'rsa.jceks',
      'ec.jceks',
      'rsa.p12',
      'ec.p12',
      'ed25519.p12',
      'rsa-legacy.p12',
      'ec-legacy.p12',
    ])
      expect(keystores).toContain(f);
    for (const f of ['truststore.jks', 'truststore.jceks', 'truststore.p12'])
      expect(truststores).toContain(f);
  });

  it.each(keystores)(
    '%s converts to keytool’s chain, leaf first, and its key, which matches the leaf',
    (f) => {
      const pem = storeToPem(read(f), keystore(f));
      const chain = certsOf(pem.certificates);
      expect(chain).toEqual(certsOf(read(`${f}.chain.pem`).toString()));
      expect(chain.length).toBe(3);
      expect(pem.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const key = pem.key ?? '';
      expect(pkcs8Of(key).equals(pkcs8Of(read(`${f}.key.pem`).toString()))).toBe(true);
      const leaf = new X509Certificate(chain[0]!);
      expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
      expect(
        createPublicKey(key)
          .export({ format: 'der', type: 'spki' })
          .equals(leaf.publicKey.export({ format: 'der', type: 'spki' })),
      ).toBe(true);
    },
  );

  it.each(truststores)('%s gives the certificates keytool lists, in its order', (f) => {
    const pem = storeToPem(read(f), truststore(f));
    expect(pem.key).toBeUndefined();
    expect(certsOf(pem.certificates)).toEqual(certsOf(read(`${f}.certs.pem`).toString()));
  });

  it('reads a PKCS12 truststore with neither encryption nor MAC with no password, as Java does', () => {
    const pem = storeToPem(
      read('truststore-plain.p12'),
      truststore('truststore-plain.p12', { password: undefined }),
    );
    expect(certsOf(pem.certificates)).toEqual(
      certsOf(read('truststore-plain.p12.certs.pem').toString()),
    );
  });

  it('says a truststore with encrypted certificates needs the password that is not set', () => {
    const error = errorOf(() =>
      storeToPem(read('truststore.p12'), truststore('truststore.p12', { password: undefined })),
    );
    expect(error.code).toBe('CONFIG_STORE_PASSWORD_WRONG');
    expect(error.message).toContain(
      'truststore.p12 (PKCS12) does not open without a password (its encrypted certificates do not decrypt',
    );
    expect(error.message).toContain('set consumer.ssl.truststore.password');
  });

  it('reads a JKS truststore with no password set, skipping its integrity check as Java does', () => {
    const pem = storeToPem(
      read('truststore.jks'),
      truststore('truststore.jks', { password: undefined }),
    );
    expect(certsOf(pem.certificates)).toHaveLength(2);
  });

  it('gives a keystore used as a truststore its trusted root and its own certificate', () => {
    const pem = storeToPem(read('rsa.p12'), truststore('rsa.p12', { password: STORE_PASS }));
    const chain = certsOf(read('rsa.p12.chain.pem').toString());
    expect(certsOf(pem.certificates)).toEqual([chain[2], chain[0]]);
  });
});

describe('stores that do not convert', () => {
  it('refuses two key entries, naming them', () => {
    const error = errorOf(() => storeToPem(read('two-keys.p12'), keystore('two-keys.p12')));
    expect(error.code).toBe('CONFIG_STORE_KEYS_MANY');
    expect(error.message).toMatch(/2 private key entries \("first", "second"\)/);
    expect(error.message).toContain('producer.ssl.keystore.location');
  });

  it.each(['rsa.jks', 'ec.jceks', 'ec.p12', 'rsa-legacy.p12', 'truststore.jks', 'truststore.p12'])(
    '%s: a wrong store password is named, never printed',
    (f) => {
      const source = f.startsWith('truststore') ? truststore(f) : keystore(f);
      const error = errorOf(() => storeToPem(read(f), { ...source, password: 'Wr0ng-Pa55' }));
      expect(error.code).toBe('CONFIG_STORE_PASSWORD_WRONG');
      const setting = f.startsWith('truststore')
        ? 'consumer.ssl.truststore.password'
        : 'producer.ssl.keystore.password';
      expect(error.message).toContain(`with the password in ${setting}`);
      expect(error.message).toContain(f);
      expect(JSON.stringify(error.toJSON())).not.toMatch(/Wr0ng-Pa55|store-pass|trust-pass/);
    },
  );

  it.each(['rsa.jks', 'ec.jks', 'rsa.jceks', 'ec.jceks'])(
    '%s: a wrong key password is named, never printed',
    (f) => {
      const error = errorOf(() => storeToPem(read(f), keystore(f, { keyPassword: 'Wr0ng-Pa55' })));
      expect(error.code).toBe('CONFIG_STORE_KEY_PASSWORD_WRONG');
      expect(error.message).toContain(
        'the private key of entry "client" does not decrypt with the password in producer.ssl.key.password',
      );
      expect(JSON.stringify(error.toJSON())).not.toMatch(/Wr0ng-Pa55|key-pass|store-pass/);
    },
  );

  it('says the store password was tried for the key when ssl.key.password is not set', () => {
    const error = errorOf(() =>
      storeToPem(read('ec.jks'), keystore('ec.jks', { keyPassword: undefined })),
    );
    expect(error.code).toBe('CONFIG_STORE_KEY_PASSWORD_WRONG');
    expect(error.message).toContain(
      'with the password in producer.ssl.keystore.password (used for the key because producer.ssl.key.password is not set',
    );
  });

  it('a PKCS12 key password other than the store password is named, with keytool’s rule', () => {
    for (const f of ['rsa.p12', 'ec-aes128-nomac.p12']) {
      const error = errorOf(() => storeToPem(read(f), keystore(f, { keyPassword: 'Wr0ng-Pa55' })));
      expect(error.code).toBe('CONFIG_STORE_KEY_PASSWORD_WRONG');
      expect(error.message).toMatch(
        /producer\.ssl\.key\.password.*keytool gives a PKCS12 key the store's password/,
      );
    }
  });

  it.each(['empty.jks', 'empty.p12'])('%s, with no entry, is invalid', (f) => {
    const error = errorOf(() => storeToPem(read(f), keystore(f)));
    expect(error.code).toBe('CONFIG_STORE_INVALID');
    expect(error.message).toContain(
      `${f} (${f.endsWith('.p12') ? 'PKCS12' : 'JKS'}): it holds no entries`,
    );
    expect(errorOf(() => storeToPem(read(f), truststore(f, { password: STORE_PASS }))).code).toBe(
      'CONFIG_STORE_INVALID',
    );
  });

  it('refuses a truststore given as a keystore: it has no key', () => {
    const error = errorOf(() =>
      storeToPem(read('truststore.p12'), keystore('truststore.p12', { password: TRUST_PASS })),
    );
    expect(error.code).toBe('CONFIG_STORE_KEY_MISSING');
    expect(error.message).toContain('no private key entry, only 2 trusted certificate(s)');
  });

  it.each(stores)('%s cut short is invalid, with no foreign stack in the message', (f) => {
    const bytes = read(f);
    for (const length of [0, 3, 40, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const error = errorOf(() =>
        storeToPem(
          bytes.subarray(0, length),
          f.startsWith('truststore') ? truststore(f) : keystore(f),
        ),
      );
      expect(error.code).toBe('CONFIG_STORE_INVALID');
      expect(error.message).toMatch(/allowed: a JKS, JCEKS or PKCS12/);
      if (length === 0) expect(error.message).toContain('the file is empty');
    }
  });

  it('tells PEM text and other files from stores', () => {
    const pem = errorOf(() => storeToPem(read('rsa.p12.chain.pem'), keystore('x.p12')));
    expect(pem.message).toContain('it is PEM text, not a key store');
    const other = errorOf(() => storeToPem(Buffer.from('just some text'), keystore('x.jks')));
    expect(other.message).toContain('neither a JKS, a JCEKS nor a PKCS12 store');
  });

  it('a byte changed inside a store fails its integrity check or its structure, never converts', () => {
    for (const f of ['rsa.jks', 'ec.p12']) {
      const bytes = Buffer.from(read(f));
      const middle = bytes.length >> 1;
      bytes[middle] = bytes.readUInt8(middle) ^ 0x01;
      const error = errorOf(() => storeToPem(bytes, keystore(f)));
      expect(['CONFIG_STORE_PASSWORD_WRONG', 'CONFIG_STORE_INVALID']).toContain(error.code);
      expect(error.message).toMatch(/altered|damaged/);
    }
  });
});

describe('reading files', () => {
  it('reads a store file and names an unreadable one', async () => {
    const pem = await readStoreAsPem(
      'producer.ssl.keystore.location',
      join(DIR, 'ec.jks'),
      STORE_PASS,
      KEY_PASS,
    );
    expect(pem.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    await expect(
      readStoreAsPem('producer.ssl.keystore.location', join(DIR, 'missing.jks'), STORE_PASS),
    ).rejects.toMatchObject({ code: 'CONFIG_STORE_UNREADABLE' });
  });

  it('inlineStores replaces locations and passwords by PEM settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-keystore-'));
    const trust = join(dir, 'trust.jceks');
    writeFileSync(trust, read('truststore.jceks'));
    const settings = await inlineStores({
      'producer.ssl.keystore.location': join(DIR, 'ec.jceks'),
      'producer.ssl.keystore.password': STORE_PASS,
      'producer.ssl.key.password': KEY_PASS,
      'producer.ssl.truststore.location': trust,
      'producer.ssl.truststore.password': TRUST_PASS,
    });
    expect(Object.keys(settings).sort()).toEqual([
      'producer.ssl.keystore.certificate.chain',
      'producer.ssl.keystore.key',
      'producer.ssl.keystore.type',
      'producer.ssl.truststore.certificates',
      'producer.ssl.truststore.type',
    ]);
    expect(certsOf(settings['producer.ssl.keystore.certificate.chain']!)).toEqual(
      certsOf(read('ec.jceks.chain.pem').toString()),
    );
    expect(certsOf(settings['producer.ssl.truststore.certificates']!)).toHaveLength(2);
  });
});

describe('the iterated digests behind JCEKS and legacy PKCS12 keys', () => {
  it('equals Node’s MD5, iterated, for every padding length', () => {
    for (let suffix = 0; suffix < 140; suffix += 7) {
      const first = Buffer.from('salt');
      const tail = Buffer.alloc(suffix, suffix);
      let expected = createHash('md5').update(first).update(tail).digest();
      for (let i = 1; i < 3; i++)
        expected = createHash('md5').update(expected).update(tail).digest();
      expect(md5Iterated(first, tail, 3).toString('hex')).toBe(expected.toString('hex'));
    }
  });

  it('SHA-1, iterated, equals Node’s', () => {
    const first = createHash('sha1').update('PKCS#12').digest();
    let expected = first;
    for (let i = 0; i < 1000; i++) expected = createHash('sha1').update(expected).digest();
    expect(sha1Iterated(first, 1000).toString('hex')).toBe(expected.toString('hex'));
    expect(sha1Iterated(first, 0).equals(first)).toBe(true);
  });
});
