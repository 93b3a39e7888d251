/**
 * What the key store readers share: the problems they report, the entries they return, a
 * DER reader sized for PKCS#8 and PKCS#12, and PEM output. Internal to lib/config.
 */
import { X509Certificate } from 'node:crypto';

/** The codes a store can fail with; `keystore.ts` turns them into ConfigErrors. */
export const STORE_ERROR_CODES = [
  'CONFIG_STORE_INVALID',
  'CONFIG_STORE_PASSWORD_WRONG',
  'CONFIG_STORE_KEY_PASSWORD_WRONG',
  'CONFIG_STORE_ALGORITHM_UNSUPPORTED',
  'CONFIG_STORE_KEYS_MANY',
  'CONFIG_STORE_KEY_MISSING',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

/**
 * A store could not be read. The message is the reason alone (no path, no password); for the
 * two password codes it says which check failed, and the caller names the setting.
 */
export class StoreProblem extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** The entry (alias) the problem is in, when it is in one. */
    readonly entry?: string,
  ) {
    super(message);
    this.name = 'StoreProblem';
  }
}

export const damaged = (what: string): StoreProblem =>
  new StoreProblem('CONFIG_STORE_INVALID', `its structure is damaged (${what})`);

export type StoreFormat = 'JKS' | 'JCEKS' | 'PKCS12';

/** A private key entry, not yet decrypted. */
export interface StoredKey {
  readonly alias: string;
  /** DER certificates, leaf first; empty when the store does not say which is the leaf. */
  readonly chain: readonly Buffer[];
  /**
   * PKCS#8 DER of the key. Throws StoreProblem `CONFIG_STORE_KEY_PASSWORD_WRONG` when the
   * password does not decrypt it.
   */
  readonly decrypt: (password: string | undefined) => Buffer;
}

/** A certificate a Java TrustManager would trust (a trusted-certificate entry). */
export interface StoredCertificate {
  readonly alias: string;
  readonly der: Buffer;
}

/** Everything a store holds, as the readers found it. */
export interface StoreContents {
  readonly format: StoreFormat;
  readonly keys: readonly StoredKey[];
  readonly trusted: readonly StoredCertificate[];
  /** Every certificate in the store, to complete a chain the store does not spell out. */
  readonly certificates: readonly Buffer[];
}

// ---- DER ----------------------------------------------------------------------------------

/** Deeper nesting than PKCS#12 ever needs (about 10) means a hostile or broken file. */
const MAX_DER_DEPTH = 32;

export const TAG = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  context0: 0xa0,
} as const;

/** One DER (or BER, as some PKCS#12 writers emit) element. */
export interface Der {
  /** The identifier octet: class, constructed bit and tag number. */
  readonly tag: number;
  /** The content octets. */
  readonly value: Buffer;
  /** The whole element: identifier, length and contents. */
  readonly raw: Buffer;
  /** The elements inside a constructed element; empty for a primitive one. */
  readonly children: readonly Der[];
}

const isConstructed = (tag: number): boolean => (tag & 0x20) !== 0;

function readElement(buf: Buffer, offset: number, depth: number): { node: Der; next: number } {
  if (depth > MAX_DER_DEPTH) throw damaged(`nested deeper than ${MAX_DER_DEPTH} levels`);
  if (offset + 2 > buf.length) throw damaged('an element is cut short');
  const tag = buf.readUInt8(offset);
  if ((tag & 0x1f) === 0x1f) throw damaged('a multi-byte ASN.1 tag');
  const lengthByte = buf.readUInt8(offset + 1);
  let start = offset + 2;
  if (lengthByte === 0x80) {
    // BER indefinite length: children up to an end-of-contents marker (00 00).
    if (!isConstructed(tag)) throw damaged('an indefinite length on a primitive element');
    const children: Der[] = [];
    let at = start;
    for (;;) {
      if (at + 2 > buf.length) throw damaged('an indefinite-length element has no end');
      if (buf.readUInt16BE(at) === 0) break;
      const { node, next } = readElement(buf, at, depth + 1);
      children.push(node);
      at = next;
    }
    const raw = buf.subarray(offset, at + 2);
    return { node: { tag, value: buf.subarray(start, at), raw, children }, next: at + 2 };
  }
  let length = lengthByte;
  if (lengthByte > 0x80) {
    const octets = lengthByte & 0x7f;
    if (octets > 4) throw damaged('an element longer than 4 GiB');
    if (start + octets > buf.length) throw damaged('an element is cut short');
    length = buf.readUIntBE(start, octets);
    start += octets;
  }
  const end = start + length;
  if (end > buf.length) throw damaged('an element is longer than the data holding it');
  const value = buf.subarray(start, end);
  const children = isConstructed(tag) ? readElements(value, depth + 1) : [];
  return { node: { tag, value, raw: buf.subarray(offset, end), children }, next: end };
}

function readElements(buf: Buffer, depth: number): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < buf.length;) {
    const { node, next } = readElement(buf, at, depth);
    out.push(node);
    at = next;
  }
  return out;
}

/** Parses one element that fills `buf` (trailing bytes are refused). */
export function parseDer(buf: Buffer, what: string): Der {
  const { node, next } = readElement(buf, 0, 0);
  if (next !== buf.length) throw damaged(`${what} has ${buf.length - next} bytes after its end`);
  return node;
}

/** The element, checked to have `tag`. */
export function expect(node: Der | undefined, tag: number, what: string): Der {
  if (node?.tag !== tag) throw damaged(`${what} is missing or of the wrong type`);
  return node;
}

/** The children of a SEQUENCE, at least `min` of them. */
export function sequence(node: Der | undefined, what: string, min = 0): readonly Der[] {
  const { children } = expect(node, TAG.sequence, what);
  if (children.length < min) throw damaged(`${what} has ${children.length} parts, not ${min}`);
  return children;
}

/**
 * The bytes of an OCTET STRING, or of an IMPLICIT one with `tag`; a constructed one (BER)
 * is the concatenation of its parts.
 */
export function octets(node: Der | undefined, what: string, tag: number = TAG.octetString): Buffer {
  if (node === undefined) throw damaged(`${what} is missing`);
  if (node.tag === tag) return node.value;
  if (node.tag === (tag | 0x20))
    return Buffer.concat(node.children.map((c) => octets(c, what, TAG.octetString)));
  throw damaged(`${what} is not an OCTET STRING`);
}

/** A non-negative INTEGER small enough for a JavaScript number (versions, counts). */
export function integer(node: Der | undefined, what: string): number {
  const { value } = expect(node, TAG.integer, what);
  const digits = value.length > 1 && value.readUInt8(0) === 0 ? value.subarray(1) : value;
  if (value.length === 0 || (value.readUInt8(0) & 0x80) !== 0 || digits.length > 6)
    throw damaged(`${what} is not a count`);
  return digits.readUIntBE(0, digits.length);
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oid(node: Der | undefined, what: string): string {
  const { value } = expect(node, TAG.oid, what);
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value.readUInt8(i);
    if (arc > 2 ** 45) throw damaged(`${what} has an arc too large`);
    arc = arc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = Math.min(Math.floor(arc / 40), 2);
        arcs.push(first, arc - first * 40);
      } else arcs.push(arc);
      arc = 0;
    }
  }
  if (arcs.length === 0 || (value.readUInt8(value.length - 1) & 0x80) !== 0)
    throw damaged(`${what} is not an object identifier`);
  return arcs.join('.');
}

/** A BMPString (UTF-16BE), as PKCS#12 friendly names are written. */
export function bmpString(node: Der | undefined, what: string): string {
  const { value } = expect(node, TAG.bmpString, what);
  if (value.length % 2 !== 0) throw damaged(`${what} is not UTF-16`);
  return Buffer.from(value).swap16().toString('utf16le');
}

/** An AlgorithmIdentifier: its OID and its parameters, if any. */
export function algorithm(node: Der | undefined, what: string): { oid: string; params?: Der } {
  const [id, params] = sequence(node, what, 1);
  return params === undefined || params.tag === TAG.null
    ? { oid: oid(id, what) }
    : { oid: oid(id, what), params };
}

// ---- Passwords, PEM, chains ------------------------------------------------------------------

/** A password as Java hands it to Sun's key protectors and to PKCS#12 (UTF-16BE, no NUL). */
export const utf16be = (password: string): Buffer => Buffer.from(password, 'utf16le').swap16();

/** PEM with 64-character lines, as keytool -rfc and openssl write it. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Bound on a chain: real ones have 2 to 4 certificates. */
const MAX_CHAIN = 16;

/**
 * The chain of `leaf` up to a self-signed root, from the certificates in `pool` (as Java
 * rebuilds a PKCS#12 key entry's chain: each next one is the issuer of the previous).
 */
export function buildChain(leaf: X509Certificate, pool: readonly X509Certificate[]): Buffer[] {
  const chain = [leaf];
  let current = leaf;
  while (chain.length < MAX_CHAIN && !current.checkIssued(current)) {
    const issued = current;
    const next = pool.find(
      (c) => issued.checkIssued(c) && !chain.some((seen) => seen.raw.equals(c.raw)),
    );
    if (next === undefined) break;
    chain.push(next);
    current = next;
  }
  return chain.map((c) => c.raw);
}

/** Parses a DER certificate, or reports which entry holds a damaged one. */
export function certificate(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw new StoreProblem(
      'CONFIG_STORE_INVALID',
      `${what} is not an X.509 certificate (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
