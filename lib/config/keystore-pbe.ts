/**
 * Password-based encryption and MACs of PKCS#12 (RFC 7292, RFC 8018): the PKCS#12 key
 * derivation with the PBE algorithms keytool offers (3DES, RC2, RC4) and the MAC over the
 * store, and PBES2 (PBKDF2 with AES or 3DES), Java 17's default. Node's OpenSSL 3 has no
 * RC2 or RC4 outside its legacy provider, which Node does not load: RC2 comes from
 * node-forge, RC4 is written here. Internal to lib/config.
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
// node-forge's modules one by one, not its index (all of node-forge): node-forge-lib.d.ts.
import rc2Cipher from 'node-forge/lib/rc2.js';
import forgeUtil from 'node-forge/lib/util.js';
import {
  StoreProblem,
  algorithm,
  damaged,
  integer,
  octets,
  sequence,
  utf16be,
  type Der,
} from './keystore-common.ts';
import { sha1Iterated } from './keystore-digest.ts';

/** Java writes 10,000 (PBES2, MAC) or 50,000 (legacy); more than this is a hostile file. */
export const MAX_PBE_ITERATIONS = 10_000_000;

interface Digest {
  /** Node's name. */
  readonly node: string;
  /** Output bytes (u in RFC 7292 B.2). */
  readonly size: number;
  /** Input block bytes (v in RFC 7292 B.2). */
  readonly block: number;
}
const digest = (node: string, size: number, block: number): Digest => ({ node, size, block });
/** The MAC digests by OID: keytool's HmacPBESHA1 to HmacPBESHA512/256. */
const MAC_DIGESTS: Readonly<Record<string, Digest>> = {
  '1.3.14.3.2.26': digest('sha1', 20, 64),
  '2.16.840.1.101.3.4.2.4': digest('sha224', 28, 64),
  '2.16.840.1.101.3.4.2.1': digest('sha256', 32, 64),
  '2.16.840.1.101.3.4.2.2': digest('sha384', 48, 128),
  '2.16.840.1.101.3.4.2.3': digest('sha512', 64, 128),
  '2.16.840.1.101.3.4.2.5': digest('sha512-224', 28, 128),
  '2.16.840.1.101.3.4.2.6': digest('sha512-256', 32, 128),
};
const SHA1 = digest('sha1', 20, 64);

/** The PBKDF2 pseudo-random functions by OID (hmacWithSHA1 to hmacWithSHA512-256). */
const PBKDF2_PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
  '1.2.840.113549.2.12': 'sha512-224',
  '1.2.840.113549.2.13': 'sha512-256',
};
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';

type CipherName =
  'rc4' | 'rc2-cbc' | 'des-ede3-cbc' | 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc';
interface Cipher {
  readonly cipher: CipherName;
  readonly keyLength: number;
  /** The name keytool's keystore.pkcs12.* properties give it. */
  readonly name: string;
}
const cipher = (name: string, c: CipherName, keyLength: number): Cipher => ({
  name,
  cipher: c,
  keyLength,
});
/** PKCS#12's own PBE algorithms (RFC 7292 appendix C), all with SHA-1. */
const PKCS12_PBE: Readonly<Record<string, Cipher>> = {
  '1.2.840.113549.1.12.1.1': cipher('PBEWithSHA1AndRC4_128', 'rc4', 16),
  '1.2.840.113549.1.12.1.2': cipher('PBEWithSHA1AndRC4_40', 'rc4', 5),
  '1.2.840.113549.1.12.1.3': cipher('PBEWithSHA1AndDESede', 'des-ede3-cbc', 24),
  // Two-key 3DES: K1 K2 K1.
  '1.2.840.113549.1.12.1.4': cipher('PBEWithSHA1AndDESede (two-key)', 'des-ede3-cbc', 16),
  '1.2.840.113549.1.12.1.5': cipher('PBEWithSHA1AndRC2_128', 'rc2-cbc', 16),
  '1.2.840.113549.1.12.1.6': cipher('PBEWithSHA1AndRC2_40', 'rc2-cbc', 5),
};
/** The PBES2 encryption schemes, by OID. */
const PBES2_CIPHERS: Readonly<Record<string, Cipher>> = {
  '2.16.840.1.101.3.4.1.2': cipher('AES_128', 'aes-128-cbc', 16),
  '2.16.840.1.101.3.4.1.22': cipher('AES_192', 'aes-192-cbc', 24),
  '2.16.840.1.101.3.4.1.42': cipher('AES_256', 'aes-256-cbc', 32),
  '1.2.840.113549.3.7': cipher('DESede', 'des-ede3-cbc', 24),
};

const unsupported = (what: string, oid: string, supported: string): StoreProblem =>
  new StoreProblem(
    'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
    `${what} uses algorithm ${oid}; supported: ${supported}`,
  );

function iterations(node: Der | undefined, what: string): number {
  const n = integer(node, what);
  if (n < 1 || n > MAX_PBE_ITERATIONS)
    throw damaged(`${what} is ${n}; at most ${MAX_PBE_ITERATIONS} is accepted`);
  return n;
}

/** RFC 7292 appendix B.2: `id` 1 gives a key, 2 an IV, 3 a MAC key. */
export function pkcs12Kdf(
  d: Digest,
  password: Buffer,
  salt: Buffer,
  id: 1 | 2 | 3,
  rounds: number,
  size: number,
): Buffer {
  const v = d.block;
  const stretch = (b: Buffer): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b.readUInt8(i % b.length);
    return out;
  };
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([stretch(salt), stretch(password)]);
  const out = Buffer.alloc(size);
  for (let produced = 0; ;) {
    let a: Buffer = createHash(d.node).update(diversifier).update(input).digest();
    if (d.node === 'sha1') a = sha1Iterated(a, rounds - 1);
    else for (let r = 1; r < rounds; r++) a = createHash(d.node).update(a).digest();
    produced += a.copy(out, produced);
    if (produced >= size) return out;
    // Each v-byte block of the input becomes (block + B + 1) mod 2^(8v), B being `a` repeated.
    for (let j = 0; j < input.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = input.readUInt8(j + k) + a.readUInt8(k % a.length) + carry;
        input[j + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
}

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Uint8Array.from({ length: 256 }, (_, i) => i);
  const swap = (i: number, j: number): void => {
    const t = s[i] ?? 0;
    s[i] = s[j] ?? 0;
    s[j] = t;
  };
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] ?? 0) + key.readUInt8(i % key.length)) & 0xff;
    swap(i, j);
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + (s[i] ?? 0)) & 0xff;
    swap(i, j);
    out[n] = data.readUInt8(n) ^ (s[((s[i] ?? 0) + (s[j] ?? 0)) & 0xff] ?? 0);
  }
  return out;
}

/** PKCS#7 padding removed, or undefined when it is not there: the usual sign of a wrong key. */
function unpad(plain: Buffer, block: number): Buffer | undefined {
  if (plain.length === 0 || plain.length % block !== 0) return undefined;
  const n = plain.readUInt8(plain.length - 1);
  if (n < 1 || n > block) return undefined;
  for (let i = plain.length - n; i < plain.length; i++)
    if (plain.readUInt8(i) !== n) return undefined;
  return plain.subarray(0, plain.length - n);
}

function decryptWith(c: Cipher, key: Buffer, iv: Buffer, data: Buffer): Buffer | undefined {
  if (c.cipher === 'rc4') return rc4(key, data);
  if (c.cipher === 'rc2-cbc') {
    const rc2 = rc2Cipher.createDecryptionCipher(
      forgeUtil.createBuffer(key.toString('binary')),
      key.length * 8,
    );
    rc2.start(forgeUtil.createBuffer(iv.toString('binary')));
    rc2.update(forgeUtil.createBuffer(data.toString('binary')));
    // Padding is checked below, as strictly as for the other ciphers.
    if (!rc2.finish(() => true)) return undefined;
    return unpad(Buffer.from(rc2.output.getBytes(), 'binary'), 8);
  }
  const fullKey =
    key.length === 16 && c.cipher === 'des-ede3-cbc'
      ? Buffer.concat([key, key.subarray(0, 8)])
      : key;
  const decipher = createDecipheriv(c.cipher, fullKey, iv).setAutoPadding(false);
  if (data.length % iv.length !== 0) return undefined;
  return unpad(Buffer.concat([decipher.update(data), decipher.final()]), iv.length);
}

/**
 * Decrypts PKCS#12 or PBES2 encrypted `data` with `password`. Returns undefined when the
 * padding shows the password is wrong (RC4 has none: the caller's parse of the result fails).
 *
 * @param bmp the password as PKCS#12 encodes it (UTF-16BE and a NUL, or nothing for none)
 */
export function pbeDecrypt(
  alg: Der | undefined,
  password: string,
  bmp: Buffer,
  data: Buffer,
  what: string,
): Buffer | undefined {
  const { oid, params } = algorithm(alg, what);
  const v1 = PKCS12_PBE[oid];
  if (v1 !== undefined) {
    const [salt, count] = sequence(params, `${what} parameters`, 2);
    const s = octets(salt, `${what} salt`);
    const n = iterations(count, `${what} iteration count`);
    const key = pkcs12Kdf(SHA1, bmp, s, 1, n, v1.keyLength);
    const iv = v1.cipher === 'rc4' ? Buffer.alloc(0) : pkcs12Kdf(SHA1, bmp, s, 2, n, 8);
    return decryptWith(v1, key, iv, data);
  }
  if (oid !== OID_PBES2)
    throw unsupported(
      what,
      oid,
      `PBES2 and the PKCS#12 PBE algorithms (${Object.values(PKCS12_PBE)
        .map((c) => c.name)
        .join(', ')})`,
    );
  const [kdf, scheme] = sequence(params, `${what} PBES2 parameters`, 2);
  const kdfAlg = algorithm(kdf, `${what} key derivation`);
  if (kdfAlg.oid !== OID_PBKDF2) throw unsupported(`${what} key derivation`, kdfAlg.oid, 'PBKDF2');
  const [salt, count, ...rest] = sequence(kdfAlg.params, `${what} PBKDF2 parameters`, 2);
  const keyLengthNode = rest[0]?.tag === 0x02 ? rest[0] : undefined;
  const prfNode = rest.find((n) => n.tag === 0x30);
  const prf = prfNode === undefined ? 'sha1' : PBKDF2_PRFS[algorithm(prfNode, `${what} PRF`).oid];
  if (prf === undefined)
    throw unsupported(
      `${what} PBKDF2`,
      algorithm(prfNode, 'PRF').oid,
      'hmacWithSHA1 to hmacWithSHA512',
    );
  const schemeAlg = algorithm(scheme, `${what} encryption scheme`);
  const c = PBES2_CIPHERS[schemeAlg.oid];
  if (c === undefined)
    throw unsupported(
      `${what} PBES2`,
      schemeAlg.oid,
      'AES-128, AES-192 and AES-256 in CBC mode, 3DES',
    );
  const iv = octets(schemeAlg.params, `${what} IV`);
  const keyLength =
    keyLengthNode === undefined ? c.keyLength : integer(keyLengthNode, 'key length');
  if (keyLength !== c.keyLength)
    throw damaged(`${what} asks for a ${keyLength}-byte ${c.name} key`);
  // PBKDF2 takes the password as bytes: Java (PBKDF2KeyImpl) and OpenSSL both use UTF-8.
  const key = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    octets(salt, `${what} salt`),
    iterations(count, `${what} iteration count`),
    keyLength,
    prf,
  );
  return decryptWith(c, key, iv, data);
}

/**
 * The forms a PKCS#12 password may take in the MAC and PKCS#12 PBE: UTF-16BE with a NUL;
 * an empty one is written as a lone NUL by OpenSSL and as nothing by Java.
 */
export const bmpForms = (password: string): Buffer[] =>
  password === ''
    ? [Buffer.alloc(2), Buffer.alloc(0)]
    : [Buffer.concat([utf16be(password), Buffer.alloc(2)])];

/**
 * Checks a PKCS#12 MacData over `content`. Returns the password form that verifies, or
 * undefined when none does.
 */
export function verifyMac(
  macData: Der,
  content: Buffer,
  forms: readonly Buffer[],
): Buffer | undefined {
  const [digestInfo, salt, count] = sequence(macData, 'the MAC', 2);
  const [alg, stored] = sequence(digestInfo, 'the MAC digest', 2);
  const { oid } = algorithm(alg, 'the MAC algorithm');
  const d = MAC_DIGESTS[oid];
  if (d === undefined)
    throw unsupported('the store MAC', oid, 'HmacPBESHA1, HmacPBESHA224 to HmacPBESHA512/256');
  const expected = octets(stored, 'the MAC value');
  const s = octets(salt, 'the MAC salt');
  const n = count === undefined ? 1 : iterations(count, 'the MAC iteration count');
  return forms.find((form) => {
    const mac = createHmac(d.node, pkcs12Kdf(d, form, s, 3, n, d.size))
      .update(content)
      .digest();
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  });
}
