/**
 * A Kafka listener that only authenticates, for testing a client's SASL/OAUTHBEARER login: it
 * answers ApiVersions, SaslHandshake (offering OAUTHBEARER) and SaslAuthenticate, keeps the
 * bearer token each client sends, and refuses every login (SASL_AUTHENTICATION_FAILED), so the
 * client fails at once. Request and response layouts: the Kafka protocol guide's ApiVersions
 * v0-2, SaslHandshake v0-1 and SaslAuthenticate v0 (none of them flexible).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const API = { SaslHandshake: 17, ApiVersions: 18, SaslAuthenticate: 36 } as const;
/** The versions offered: the non-flexible ones. */
const OFFERED: readonly (readonly [apiKey: number, min: number, max: number])[] = [
  [API.SaslHandshake, 0, 1],
  [API.ApiVersions, 0, 2],
  [API.SaslAuthenticate, 0, 0],
];
const NONE = 0;
const UNSUPPORTED_VERSION = 35;
const SASL_AUTHENTICATION_FAILED = 58;

export interface SaslBroker {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** The OAUTHBEARER tokens clients sent, in order. */
  readonly tokens: string[];
  stop(): Promise<void>;
}

const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const kafkaString = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);

/** One response body for one request (header already read). */
function answer(apiKey: number, version: number, body: Buffer, tokens: string[]): Buffer {
  if (apiKey === API.ApiVersions) {
    const keys = OFFERED.map(([k, min, max]) => Buffer.concat([int16(k), int16(min), int16(max)]));
    return Buffer.concat([
      int16(version <= 2 ? NONE : UNSUPPORTED_VERSION),
      int32(keys.length),
      ...keys,
      ...(version >= 1 ? [int32(0)] : []),
    ]);
  }
  if (apiKey === API.SaslHandshake)
    return Buffer.concat([int16(NONE), int32(1), kafkaString('OAUTHBEARER')]);
  if (apiKey === API.SaslAuthenticate) {
    const bytes = body.subarray(4, 4 + body.readInt32BE(0)).toString('utf8');
    // RFC 7628's client first message: n,,<SOH>auth=Bearer <token><SOH>...<SOH> (SOH: 0x01)
    const token = bytes
      .split('\u0001')
      .find((field) => field.startsWith('auth=Bearer '))
      ?.slice('auth=Bearer '.length);
    if (token !== undefined) tokens.push(token);
    return Buffer.concat([
      int16(SASL_AUTHENTICATION_FAILED),
      kafkaString('the test broker accepts no login'),
      int32(0),
    ]);
  }
  throw new Error(`the test broker cannot answer API key ${apiKey}`);
}

function serve(socket: Socket, tokens: string[]): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const request = pending.subarray(4, 4 + pending.readInt32BE(0));
      pending = pending.subarray(4 + request.length);
      const apiKey = request.readInt16BE(0);
      const version = request.readInt16BE(2);
      const correlationId = request.readInt32BE(4);
      const clientIdLength = request.readInt16BE(8);
      const body = request.subarray(10 + Math.max(clientIdLength, 0));
      let response: Buffer;
      try {
        response = Buffer.concat([int32(correlationId), answer(apiKey, version, body, tokens)]);
      } catch {
        socket.destroy();
        return;
      }
      socket.write(Buffer.concat([int32(response.length), response]));
    }
  });
  socket.on('error', () => socket.destroy());
}

/** Starts the listener on loopback. */
export async function startSaslBroker(): Promise<SaslBroker> {
  const tokens: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, tokens);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    tokens,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
