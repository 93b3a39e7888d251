/**
 * Framing in place (lib/kafka/request-frame.ts) against kafkajs's own framing: the request
 * kafkajs's protocol/request.js makes from a body with headroom is byte for byte the one it makes
 * from a plain Encoder holding the same body, and is the body's own buffer.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADROOM, framedBody, framesInPlace } from '../../../lib/kafka/request-frame.ts';

const require = createRequire(import.meta.url);
const createRequest = require('kafkajs/src/protocol/request.js') as (o: {
  correlationId: number;
  clientId: string;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<unknown> };
}) => Promise<{ buffer: Buffer; size(): number }>;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => {
  writeBuffer(b: Buffer): unknown;
};

/** kafkajs framing a plain Encoder that holds `body`. */
const kafkajsFrame = (body: Buffer, clientId: string, correlationId: number) =>
  createRequest({
    correlationId,
    clientId,
    request: {
      apiKey: 0,
      apiVersion: 7,
      encode: () => {
        const e = new Encoder();
        e.writeBuffer(body);
        return Promise.resolve(e);
      },
    },
  });

/** The same body written at HEADROOM in a buffer of its own, framed in place. */
const inPlace = (body: Buffer, clientId: string, correlationId: number, headroom = HEADROOM) => {
  const full = Buffer.alloc(headroom + body.length, 0xee);
  body.copy(full, headroom);
  const payload = framedBody(full, headroom);
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
  it('is on with this kafkajs (its Encoder has writeEncoder)', () => {
    expect(framesInPlace).toBe(true);
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

  it('falls back to copying when the header does not fit the headroom (a long client id)', async () => {
    const body = Buffer.from('the body');
    const clientId = 'c'.repeat(HEADROOM);
    const { full, frame } = inPlace(body, clientId, 9);
    const got = (await frame()).buffer;
    expect(got).toEqual((await kafkajsFrame(body, clientId, 9)).buffer);
    expect(sharesMemory(got, full)).toBe(false);
  });

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

  it("leaves kafkajs's other requests to its own writeEncoder", async () => {
    const plain = await kafkajsFrame(Buffer.from([1, 2, 3]), 'x', 5);
    expect([...plain.buffer.subarray(-3)]).toEqual([1, 2, 3]);
    expect(plain.size()).toBe(plain.buffer.length);
  });
});
