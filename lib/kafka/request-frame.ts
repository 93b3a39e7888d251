/**
 * Requests framed in place. kafkajs frames every request itself (its protocol/request.js): the
 * request header (API key, version, correlation id, client id) goes into a new Encoder, the body
 * is copied after it, and both are copied again into another Encoder behind the size. Each
 * Encoder grows into a zero-filled buffer of the next power of two, so a 64 KiB Produce body
 * costs two 128 KiB allocations and two copies (the README's pipeline section has what that
 * cost in ad-hoc runs).
 *
 * A body written with headroom in front ({@link HEADROOM}) and handed over as
 * {@link framedBody} is framed in place instead, once {@link installInPlaceFraming} has run:
 * given such a body, Encoder's `writeEncoder` writes the bytes its encoder holds (the header,
 * then the size) into the headroom and takes the body's buffer as its own, so the request
 * kafkajs writes to the socket is the body's buffer, never copied. Every other `writeEncoder`
 * call is kafkajs's own. A body is framed in place once; a header that does not fit the
 * headroom (a client id over 114 bytes), or a second framing of the same body, is copied as
 * kafkajs does.
 */
import Encoder from 'kafkajs/src/protocol/encoder.js';

/** Bytes kept free before a body: size (4), API key (2), version (2), correlation id (4), client id (2 + its bytes). */
export const HEADROOM = 128;

// Registered symbols: a second copy of this module (a test runner's module isolation) shares them
// and the one replacement installed.
const ROOM = Symbol.for('tigerstream.request-frame.room');
const FULL = Symbol.for('tigerstream.request-frame.full');
const INSTALLED = Symbol.for('tigerstream.request-frame.installed');

/** An Encoder, or a body from {@link framedBody}, as `writeEncoder` reads it. */
interface Frameable {
  buf: Buffer;
  offset?: number;
  [ROOM]?: number | undefined;
  [FULL]?: Buffer;
}

/**
 * What a request's `encode()` returns for a body written at `headroom` in `full`: kafkajs reads
 * `buf` and `buffer` (the body); the headroom before it is used by the framing.
 */
export const framedBody = (full: Buffer, headroom: number): { buf: Buffer; buffer: Buffer } => {
  const body = full.subarray(headroom);
  return { buf: body, buffer: body, [ROOM]: headroom, [FULL]: full } as {
    buf: Buffer;
    buffer: Buffer;
  };
};

type WriteEncoder = (this: Frameable, value: Frameable) => unknown;
const proto = Encoder.prototype as unknown as {
  writeEncoder?: WriteEncoder;
  [INSTALLED]?: boolean;
};

/**
 * Whether `value` still holds exactly the bytes after `room` in `full` (an encoder that was
 * written to after it was framed, and so copied into a new buffer, does not).
 */
const holdsRest = (value: Frameable, full: Buffer, room: number): boolean =>
  value.buf.buffer === full.buffer &&
  value.buf.byteOffset === full.byteOffset + room &&
  (value.offset ?? value.buf.length) === full.length - room;

/**
 * Replaces kafkajs's Encoder `writeEncoder` (once per process) so bodies from
 * {@link framedBody} are framed in place; false when this kafkajs has no such method (bodies are
 * then copied, as kafkajs always does).
 */
export function installInPlaceFraming(): boolean {
  if (proto[INSTALLED] === true) return true;
  const kafkajsWriteEncoder = proto.writeEncoder;
  if (typeof kafkajsWriteEncoder !== 'function') return false;
  proto.writeEncoder = function writeEncoder(this: Frameable, value: Frameable): unknown {
    const room = value?.[ROOM];
    const full = value?.[FULL];
    const held = this.offset ?? 0;
    if (room === undefined || full === undefined || held > room || !holdsRest(value, full, room))
      return kafkajsWriteEncoder.call(this, value);
    // What this encoder holds goes right before the body, and the body's buffer becomes its own.
    const start = room - held;
    this.buf.copy(full, start, 0, held);
    value[ROOM] = undefined;
    this.buf = full.subarray(start);
    this.offset = held + (full.length - room);
    this[ROOM] = start;
    this[FULL] = full;
    return this;
  };
  Object.defineProperty(proto, INSTALLED, { value: true });
  return true;
}
