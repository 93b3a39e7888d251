/**
 * Java's own key store formats, JKS and JCEKS (sun.security.provider.JavaKeyStore and
 * com.sun.crypto.provider.JceKeyStore): big-endian records, a keyed SHA-1 digest over the
 * whole file, private keys as PKCS#8 encrypted with Sun's key protectors. Internal to
 * lib/config.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import {
  StoreProblem,
  algorithm,
  damaged,
  integer,
  octets,
  parseDer,
  sequence,
  utf16be,
  type StoreContents,
  type StoredCertificate,
  type StoredKey,
  type StoreFormat,
} from './keystore-common.ts';
import { md5Iterated } from './keystore-digest.ts';

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;

const ENTRY = { privateKey: 1, trustedCertificate: 2, secretKey: 3 } as const;
/** Java whitens the store digest with these words (JavaKeyStore.getPreKeyedHash). */
const DIGEST_WHITENER = Buffer.from('Mighty Aphrodite', 'utf8');
const SHA1_LENGTH = 20;
/** Sun's JKS key protector (KeyProtector, a SHA-1 keystream). */
const OID_JKS_KEY_PROTECTOR = '1.3.6.1.4.1.42.2.17.1.1';
/** Sun's JCEKS key protector, PBEWithMD5AndTripleDES. */
const OID_JCEKS_KEY_PROTECTOR = '1.3.6.1.4.1.42.2.19.1';
/** Java 17 protects JCEKS keys with 200,000 iterations; more than this means a hostile file. */
export const MAX_JCEKS_ITERATIONS = 5_000_000;

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw damaged('the file ends inside an entry');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  /** DataOutputStream.writeUTF: a 16-bit length, then modified UTF-8 (plain UTF-8 for aliases). */
  utf(): string {
    this.need(2);
    const n = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return this.bytes(n).toString('utf8');
  }
}

function readCertificate(r: Reader, version: number, alias: string): Buffer {
  if (version === 2) {
    const type = r.utf();
    if (type !== 'X.509')
      throw new StoreProblem(
        'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
        `entry "${alias}" holds a ${type} certificate; only X.509 certificates are supported`,
      );
  }
  return r.bytes(r.u32());
}

/** Sun's JKS key protector: salt, then the key XORed with SHA-1(password ‖ previous), then a check. */
function jksUnprotect(data: Buffer, password: Buffer): Buffer | undefined {
  if (data.length <= 2 * SHA1_LENGTH) throw damaged('a protected key is too short');
  const salt = data.subarray(0, SHA1_LENGTH);
  const encrypted = data.subarray(SHA1_LENGTH, data.length - SHA1_LENGTH);
  const check = data.subarray(data.length - SHA1_LENGTH);
  const plain = Buffer.alloc(encrypted.length);
  let stream = salt;
  for (let at = 0; at < encrypted.length; at += SHA1_LENGTH) {
    stream = createHash('sha1').update(password).update(stream).digest();
    for (let i = 0; i < SHA1_LENGTH && at + i < encrypted.length; i++)
      plain[at + i] = encrypted.readUInt8(at + i) ^ stream.readUInt8(i);
  }
  const digest = createHash('sha1').update(password).update(plain).digest();
  return timingSafeEqual(digest, check) ? plain : undefined;
}

/**
 * PBEWithMD5AndTripleDES as Sun's provider does it (PBES1Core): each half of the 8-byte salt
 * (the first reversed when both are equal) hashed with the password `iterations` times
 * gives 16 bytes; together they are the 3DES key and IV.
 */
function jceksUnprotect(data: Buffer, params: readonly [Buffer, number], password: string) {
  const [salt, iterations] = params;
  if (salt.length !== 8) throw damaged('a JCEKS key protector salt is not 8 bytes');
  if (iterations < 1 || iterations > MAX_JCEKS_ITERATIONS)
    throw damaged(`a JCEKS key protector asks for ${iterations} iterations`);
  // Java's PBEKey takes printable ASCII only, so no other password can have protected it.
  if (!/^[\x20-\x7e]*$/.test(password)) return undefined;
  const halves = [Buffer.from(salt.subarray(0, 4)), Buffer.from(salt.subarray(4, 8))] as const;
  if (halves[0].equals(halves[1])) halves[0].reverse();
  const pw = Buffer.from(password, 'latin1');
  const derived = Buffer.concat(halves.map((half) => md5Iterated(half, pw, iterations)));
  const decipher = createDecipheriv(
    'des-ede3-cbc',
    derived.subarray(0, 24),
    derived.subarray(24, 32),
  );
  try {
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    return undefined; // bad padding: the password is not the one that protected it
  }
}

function protectedKey(alias: string, der: Buffer): StoredKey['decrypt'] {
  const [alg, data] = sequence(parseDer(der, `key entry "${alias}"`), `key entry "${alias}"`, 2);
  const { oid, params } = algorithm(alg, `key entry "${alias}" algorithm`);
  const encrypted = octets(data, `key entry "${alias}" data`);
  const wrong = (check: string) =>
    new StoreProblem('CONFIG_STORE_KEY_PASSWORD_WRONG', `its ${check} does not match`);
  if (oid === OID_JKS_KEY_PROTECTOR)
    return (password) => {
      const plain = jksUnprotect(encrypted, utf16be(password ?? ''));
      if (plain === undefined) throw wrong("key protector's SHA-1 check");
      return plain;
    };
  if (oid === OID_JCEKS_KEY_PROTECTOR) {
    const [salt, count] = sequence(params, `key entry "${alias}" parameters`, 2);
    const spec = [octets(salt, 'salt'), integer(count, 'iteration count')] as const;
    return (password) => {
      const plain = jceksUnprotect(encrypted, spec, password ?? '');
      if (plain === undefined) throw wrong('PBEWithMD5AndTripleDES padding');
      return plain;
    };
  }
  throw new StoreProblem(
    'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
    `key entry "${alias}" is protected with algorithm ${oid}; supported: Sun's JKS and JCEKS key protectors`,
  );
}

/**
 * Reads a JKS or JCEKS store. With `password` undefined the integrity digest is not checked,
 * as Java and Kafka do when no store password is configured.
 */
export function readJavaKeyStore(bytes: Buffer, password: string | undefined): StoreContents {
  const r = new Reader(bytes);
  const format: StoreFormat = r.u32() === JCEKS_MAGIC ? 'JCEKS' : 'JKS';
  const version = r.u32();
  if (version !== 1 && version !== 2)
    throw damaged(`${format} version ${version}; versions 1 and 2 exist`);
  const count = r.u32();
  if (count > bytes.length / 16) throw damaged(`it claims ${count} entries`);
  const keys: StoredKey[] = [];
  const trusted: StoredCertificate[] = [];
  for (let i = 0; i < count; i++) {
    const tag = r.u32();
    const alias = r.utf();
    r.bytes(8); // creation date
    if (tag === ENTRY.privateKey) {
      const decrypt = protectedKey(alias, r.bytes(r.u32()));
      const length = r.u32();
      if (length > bytes.length / 16)
        throw damaged(`entry "${alias}" claims ${length} certificates`);
      const chain = Array.from({ length }, () => readCertificate(r, version, alias));
      keys.push({ alias, chain, decrypt });
    } else if (tag === ENTRY.trustedCertificate) {
      trusted.push({ alias, der: readCertificate(r, version, alias) });
    } else if (tag === ENTRY.secretKey) {
      // A serialized Java object whose end only Java's deserializer knows.
      throw new StoreProblem(
        'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
        `entry "${alias}" is a secret key, which a Kafka client does not use and TigerStream cannot read past; keep secret keys in another store`,
      );
    } else throw damaged(`entry ${i + 1} has type ${tag}`);
  }
  const end = r.offset;
  const stored = r.bytes(SHA1_LENGTH);
  if (r.offset !== bytes.length)
    throw damaged(`${bytes.length - r.offset} bytes follow the integrity digest`);
  if (password !== undefined) {
    const digest = createHash('sha1')
      .update(utf16be(password))
      .update(DIGEST_WHITENER)
      .update(bytes.subarray(0, end))
      .digest();
    if (!timingSafeEqual(digest, stored))
      throw new StoreProblem(
        'CONFIG_STORE_PASSWORD_WRONG',
        `its keyed SHA-1 integrity digest does not match: the password is not the store's, or the file was altered`,
      );
  }
  return { format, keys, trusted, certificates: keys.flatMap((k) => k.chain) };
}
