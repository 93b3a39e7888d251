/**
 * Framing in place (lib/kafka/request-frame.ts) against kafkajs's own framing: the request
 * kafkajs's protocol/request.js makes from a body with headroom is byte for byte the one it makes
 * from a plain Encoder holding the same body, and is the body's own buffer.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADROOM, framedBody, installInPlaceFraming } from '../../../lib/kafka/request-frame.ts';

const require = createRequire(import.meta.url);
const createRequest = require('kafkajs/src/protocol/request.js') as (o: {
  correlationId: number;
  clientId: string;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<unknown> };
}) => Promise<{ buffer: Buffer; size(): number }>;
interface KafkajsEncoder {
  writeInt32(n: number): KafkajsEncoder;
  writeBuffer(b: Buffer): KafkajsEncoder;
  writeEncoder(e: unknown): KafkajsEncoder;
  readonly buffer: Buffer;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as {
  new (): KafkajsEncoder;
  prototype: { writeEncoder: unknown };
};

const installed = installInPlaceFraming();

/** kafkajs framing a plain Encoder that holds `body`. */
const kafkajsFrame = (body: Buffer, clientId: string, correlationId: number) =>
  createRequest({
    correlationId,
    clientId,
    request: {
      apiKey: 0,
      apiVersion: 7,
      encode: () => Promise.resolve(new Encoder().writeBuffer(body)),
    },
  });

/** The same body written at HEADROOM in a buffer of its own, framed in place. */
const inPlace = (body: Buffer, clientId: string, correlationId: number) => {
  const full = Buffer.alloc(HEADROOM + body.length, 0xee);
  body.copy(full, HEADROOM);
  const payload = framedBody(full, HEADROOM);
  return {
    full,
    frame: (id = correlationId) =>
      createRequest({
        correlationId: id,
        clientId,
        request: { apiKey: 0, apiVersion: 7, encode: () => Promise.resolve(payload) },
      }),
  };
};

const sharesMemory = (a: Buffer, b: Buffer): boolean => a.buffer === b.buffer;

describe('requests framed in place', () => {
  it('installs once on this kafkajs (its Encoder has writeEncoder), and a second install changes nothing', () => {
    expect(installed).toBe(true);
    const replaced = Encoder.prototype.writeEncoder;
    expect(installInPlaceFraming()).toBe(true);
    expect(Encoder.prototype.writeEncoder).toBe(replaced);
  });

  it("are kafkajs's own framing byte for byte, in the body's buffer, for any body, client id and correlation id", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 70_000 }),
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (bytes, clientId, correlationId) => {
          const body = Buffer.from(bytes);
          const expected = (await kafkajsFrame(body, clientId, correlationId)).buffer;
          const { full, frame } = inPlace(body, clientId, correlationId);
          const got = (await frame()).buffer;
          expect(got).toEqual(expected);
          expect(sharesMemory(got, full)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    // The header: size 4, API key 2, version 2, correlation id 4, client id 2 + its bytes; the
    // header without the size (10 bytes and the id) is framed in place up to 118 bytes of id, the
    // size too up to 114.
    ['114 bytes: both steps in place', 'c'.repeat(114), true, true],
    ['115 bytes: the header in place, the size copied', 'c'.repeat(115), true, false],
    ['118 bytes: the header in place, the size copied', 'c'.repeat(118), true, false],
    ['119 bytes: copied', 'c'.repeat(119), false, false],
    ['128 bytes: copied', 'c'.repeat(HEADROOM), false, false],
    ['57 two-byte characters (114 bytes)', 'é'.repeat(57), true, true],
    ['58 two-byte characters (116 bytes)', 'é'.repeat(58), true, false],
  ])(
    "a client id of %s: the bytes are kafkajs's own either way",
    async (_, clientId, headerInPlace, shared) => {
      const body = Buffer.from('the body');
      const { full, frame } = inPlace(body, clientId, 9);
      const got = (await frame()).buffer;
      expect(got).toEqual((await kafkajsFrame(body, clientId, 9)).buffer);
      expect(sharesMemory(got, full)).toBe(shared);
      // The header (after the size) was written into the headroom right before the body.
      const header = got.subarray(4, got.length - body.length);
      expect(full.subarray(HEADROOM - header.length, HEADROOM).equals(header)).toBe(headerInPlace);
    },
  );

  it('frames a body in place once: framing it again (another correlation id) copies and leaves the first request intact', async () => {
    const body = Buffer.from('{"company":"A"}');
    const { full, frame } = inPlace(body, 'tgstream', 1);
    const first = (await frame(1)).buffer;
    const snapshot = Buffer.from(first);
    const again = (await frame(2)).buffer;
    expect(first).toEqual(snapshot);
    expect(sharesMemory(first, full)).toBe(true);
    expect(sharesMemory(again, full)).toBe(false);
    expect(again).toEqual((await kafkajsFrame(body, 'tgstream', 2)).buffer);
  });

  it("leaves kafkajs's other requests to its own writeEncoder: the frame is the bytes Kafka's protocol says", async () => {
    const plain = await kafkajsFrame(Buffer.from([1, 2, 3]), 'xy', 5);
    // size 15, API key 0, version 7, correlation id 5, client id "xy", then the body.
    const expected = Buffer.from([0, 0, 0, 15, 0, 0, 0, 7, 0, 0, 0, 5, 0, 2, 120, 121, 1, 2, 3]);
    expect(plain.buffer).toEqual(expected);
    expect(plain.size()).toBe(expected.length);
  });

  it('copies an encoder written to after it was framed (its bytes no longer all sit in the body buffer)', () => {
    const body = Buffer.from('0123456789');
    const full = Buffer.alloc(HEADROOM + body.length);
    body.copy(full, HEADROOM);
    const header = new Encoder().writeInt32(42).writeEncoder(framedBody(full, HEADROOM));
    header.writeBuffer(Buffer.from('tail'));
    const outer = new Encoder().writeInt32(7).writeEncoder(header);
    expect(outer.buffer).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 7, 0, 0, 0, 42]), body, Buffer.from('tail')]),
    );
  });
});
