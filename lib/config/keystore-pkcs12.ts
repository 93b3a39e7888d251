/**
 * PKCS#12 (RFC 7292) as keytool and openssl write it: a PFX whose authenticated safe holds
 * plain and password-encrypted SafeContents of key and certificate bags, checked by a MAC.
 * Keys stay PKCS#8 of any algorithm (node-forge's own PKCS#12 reader knew RSA only and
 * dropped EC and EdDSA keys and certificates). Internal to lib/config.
 */
import { X509Certificate } from 'node:crypto';
import {
  StoreProblem,
  TAG,
  bmpString,
  buildChain,
  certificate,
  damaged,
  expect,
  integer,
  octets,
  oid,
  parseDer,
  sequence,
  type Der,
  type StoreContents,
  type StoredCertificate,
  type StoredKey,
} from './keystore-common.ts';
import { bmpForms, pbeDecrypt, verifyMac } from './keystore-pbe.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  /** Java's mark on a trusted-certificate entry (its "trusted key usage" attribute). */
  javaTrustedUsage: '2.16.840.1.113894.746875.1.1',
} as const;

/** Nested SafeContents bags deeper than this mean a hostile file. */
const MAX_BAG_NESTING = 4;

interface Attributes {
  readonly alias: string | undefined;
  readonly localKeyId: Buffer | undefined;
  readonly trusted: boolean;
}
interface KeyBag extends Attributes {
  readonly plain?: Buffer;
  readonly encrypted?: { readonly alg: Der | undefined; readonly data: Buffer };
}
interface CertBag extends Attributes {
  readonly der: Buffer;
}

function attributesOf(node: Der | undefined): Attributes {
  let alias: string | undefined;
  let localKeyId: Buffer | undefined;
  let trusted = false;
  for (const attribute of node?.tag === TAG.set ? node.children : []) {
    const [type, values] = sequence(attribute, 'a bag attribute', 2);
    const first = values?.children[0];
    switch (oid(type, 'a bag attribute type')) {
      case OID.friendlyName:
        alias = bmpString(first, 'a friendly name');
        break;
      case OID.localKeyId:
        localKeyId = octets(first, 'a local key id');
        break;
      case OID.javaTrustedUsage:
        trusted = true;
        break;
    }
  }
  return { alias, localKeyId, trusted };
}

interface Bags {
  readonly keys: KeyBag[];
  readonly certs: CertBag[];
}

function readSafeContents(content: Buffer, into: Bags, depth: number): void {
  if (depth > MAX_BAG_NESTING) throw damaged('SafeContents nested too deep');
  for (const bag of sequence(parseDer(content, 'SafeContents'), 'SafeContents')) {
    const [type, wrapped, attributes] = sequence(bag, 'a bag', 2);
    const value = wrapped?.tag === TAG.context0 ? wrapped.children[0] : undefined;
    const attrs = attributesOf(attributes);
    switch (oid(type, 'a bag type')) {
      case OID.keyBag:
        into.keys.push({ ...attrs, plain: expect(value, TAG.sequence, 'a key bag').raw });
        break;
      case OID.shroudedKeyBag: {
        const [alg, data] = sequence(value, 'a shrouded key bag', 2);
        into.keys.push({ ...attrs, encrypted: { alg, data: octets(data, 'a shrouded key') } });
        break;
      }
      case OID.certBag: {
        const [certType, certValue] = sequence(value, 'a certificate bag', 2);
        const certId = oid(certType, 'a certificate type');
        if (certId !== OID.x509Certificate)
          throw new StoreProblem(
            'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
            `a certificate bag holds type ${certId}; only X.509 certificates are supported`,
          );
        const der = octets(certValue?.children[0], 'a certificate');
        into.certs.push({ ...attrs, der });
        break;
      }
      case OID.safeContentsBag:
        readSafeContents(value?.value ?? Buffer.alloc(0), into, depth + 1);
        break;
      default: // CRLs and secrets: nothing a Kafka client uses
    }
  }
}

function keyDecryptor(bag: KeyBag, alias: string): StoredKey['decrypt'] {
  const { plain, encrypted } = bag;
  if (plain !== undefined) return () => plain;
  return (password) => {
    const what = `key entry "${alias}"`;
    const pw = password ?? '';
    for (const form of bmpForms(pw)) {
      const key =
        encrypted === undefined
          ? undefined
          : pbeDecrypt(encrypted.alg, pw, form, encrypted.data, what);
      if (key !== undefined && isPrivateKeyInfo(key)) return key;
    }
    throw new StoreProblem(
      'CONFIG_STORE_KEY_PASSWORD_WRONG',
      'it does not decrypt to a private key',
    );
  };
}

function isPrivateKeyInfo(der: Buffer): boolean {
  try {
    const [version, alg] = sequence(parseDer(der, 'a private key'), 'a private key', 3);
    integer(version, 'a private key version');
    sequence(alg, 'a private key algorithm', 1);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a PKCS#12 store. With `password` undefined (no password configured) the MAC is not
 * checked and encrypted contents must decrypt with the empty password, as in Java.
 */
export function readPkcs12(bytes: Buffer, password: string | undefined): StoreContents {
  const pw = password ?? '';
  const [version, authSafe, macData] = sequence(parseDer(bytes, 'the PFX'), 'the PFX', 2);
  const v = integer(version, 'the PFX version');
  if (v !== 3) throw damaged(`PFX version ${v}; PKCS#12 stores are version 3`);
  const [contentType, wrapped] = sequence(authSafe, 'the authenticated safe', 2);
  const safeType = oid(contentType, 'the authenticated safe type');
  if (safeType !== OID.data)
    throw new StoreProblem(
      'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
      `its contents are of type ${safeType} (public-key integrity); supported: password integrity, as keytool and openssl write`,
    );
  const content = octets(wrapped?.children[0], 'the authenticated safe');
  let forms = bmpForms(pw);
  // With no password configured Java skips the MAC, and so does Kafka's truststore loading.
  const macChecked = macData !== undefined && password !== undefined;
  if (macChecked) {
    const verified = verifyMac(macData, content, forms);
    if (verified === undefined)
      throw new StoreProblem(
        'CONFIG_STORE_PASSWORD_WRONG',
        `its MAC does not verify: the password is not the store's, or the file was altered`,
      );
    forms = [verified];
  }
  const bags: Bags = { keys: [], certs: [] };
  for (const info of sequence(
    parseDer(content, 'the authenticated safe'),
    'the authenticated safe',
  )) {
    const [type, value] = sequence(info, 'a content info', 1);
    const inner = value?.tag === TAG.context0 ? value.children[0] : undefined;
    const infoType = oid(type, 'a content info type');
    if (infoType === OID.data) readSafeContents(octets(inner, 'SafeContents'), bags, 0);
    else if (infoType === OID.encryptedData) readEncrypted(inner, pw, forms, macChecked, bags);
    else
      throw new StoreProblem(
        'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
        `it holds content of type ${infoType} (enveloped with a public key); supported: plain and password-encrypted contents`,
      );
  }
  return entriesOf(bags);
}

function readEncrypted(
  node: Der | undefined,
  pw: string,
  forms: readonly Buffer[],
  macChecked: boolean,
  bags: Bags,
): void {
  const [, encryptedContentInfo] = sequence(node, 'encrypted data', 2);
  const [, alg, data] = sequence(encryptedContentInfo, 'encrypted content', 3);
  const encrypted = octets(data, 'encrypted content', 0x80);
  for (const form of forms) {
    const plain = pbeDecrypt(alg, pw, form, encrypted, 'the certificate encryption');
    if (plain === undefined) continue;
    const parsed: Bags = { keys: [], certs: [] };
    try {
      readSafeContents(plain, parsed, 0);
    } catch (error) {
      if (macChecked) throw error; // the password is right, so the contents are damaged
      continue;
    }
    bags.keys.push(...parsed.keys);
    bags.certs.push(...parsed.certs);
    return;
  }
  throw macChecked
    ? damaged('the encrypted certificates do not decrypt with the password the MAC accepts')
    : new StoreProblem(
        'CONFIG_STORE_PASSWORD_WRONG',
        `its encrypted certificates do not decrypt: the password is not the store's, or the file was altered`,
      );
}

function entriesOf({ keys, certs }: Bags): StoreContents {
  const all = certs.map((c, i) => certificate(c.der, `certificate ${i + 1}`));
  const inChain = new Set<number>();
  const stored: StoredKey[] = keys.map((bag, i) => {
    const alias = bag.alias ?? `key ${i + 1}`;
    const leafIndex =
      bag.localKeyId === undefined
        ? -1
        : certs.findIndex((c) => c.localKeyId?.equals(bag.localKeyId ?? Buffer.alloc(0)));
    const leaf = all[leafIndex];
    const chain = leaf === undefined ? [] : buildChain(leaf, all);
    all.forEach((c, j) => {
      if (chain.some((der) => c.raw.equals(der))) inChain.add(j);
    });
    return { alias, chain, decrypt: keyDecryptor(bag, alias) };
  });
  // A Java truststore marks its entries; openssl writes CA certificates with no attribute.
  const trusted: StoredCertificate[] = certs.flatMap((c, i) =>
    c.trusted || (c.localKeyId === undefined && !inChain.has(i))
      ? [{ alias: c.alias ?? subjectOf(all[i]), der: c.der }]
      : [],
  );
  return { format: 'PKCS12', keys: stored, trusted, certificates: certs.map((c) => c.der) };
}

const subjectOf = (cert: X509Certificate | undefined): string => cert?.subject ?? '';
