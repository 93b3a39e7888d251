/**
 * Confluent Schema Registry stand-in: a TEST DOUBLE answering the REST subset TigerStream and
 * its producers use: POST /subjects/{subject}/versions and GET /schemas/ids/{id}, with
 * optional basic or bearer auth, injected failures and a delay.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SchemaRegistryOptions {
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly bearerToken?: string;
  /** Milliseconds to wait before answering GET /schemas/ids (timeout tests). */
  readonly delayMs?: number;
  /** Serve https with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface SchemaRegistryStandIn {
  readonly url: string;
  /** Registers a schema under a subject; the same schema text keeps its id. */
  register(subject: string, schema: string | object): number;
  /** The next `times` requests answer `status`. */
  failNext(status: number, times?: number): void;
  /** How many GET /schemas/ids/{id} requests each id received. */
  fetches(id: number): number;
  /** Takes the registry down: open connections are closed and new ones refused until {@link up}. */
  down(): Promise<void>;
  /** Brings it back on the same port, with the schemas it had. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSchemaRegistry(
  options: SchemaRegistryOptions = {},
): Promise<SchemaRegistryStandIn> {
  const schemas: string[] = [];
  const counts = new Map<number, number>();
  let failures: { status: number; times: number } | undefined;
  const register = (_subject: string, schema: string | object): number => {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const existing = schemas.indexOf(text);
    if (existing !== -1) return existing + 1;
    schemas.push(text);
    return schemas.length;
  };
  const authorized = (header: string | undefined): boolean => {
    if (options.basicAuth)
      return (
        header ===
        `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`
      );
    if (options.bearerToken !== undefined) return header === `Bearer ${options.bearerToken}`;
    return true;
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures) {
        const { status } = failures;
        if (--failures.times <= 0) failures = undefined;
        send(status, { error_code: status * 100, message: 'Injected failure' });
        return;
      }
      if (!authorized(req.headers.authorization)) {
        send(401, { error_code: 401, message: 'Unauthorized' });
        return;
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const byId = /^\/schemas\/ids\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && byId) {
        const id = Number(byId[1]);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        const schema = schemas[id - 1];
        const answer = (): void =>
          schema === undefined
            ? send(404, { error_code: 40403, message: 'Schema not found' })
            : send(200, { schema });
        if (options.delayMs) setTimeout(answer, options.delayMs);
        else answer();
        return;
      }
      const subject = /^\/subjects\/([^/]+)\/versions$/.exec(url.pathname);
      if (req.method === 'POST' && subject) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { schema?: string };
          if (typeof body.schema !== 'string') throw new Error('no schema');
          JSON.parse(body.schema);
          send(200, { id: register(decodeURIComponent(subject[1] as string), body.schema) });
        } catch {
          send(422, { error_code: 42201, message: 'Invalid schema' });
        }
        return;
      }
      send(404, { error_code: 40401, message: 'Not found' });
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle)
    : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    register,
    failNext: (status, times = 1) => {
      failures = { status, times };
    },
    fetches: (id) => counts.get(id) ?? 0,
    down: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    up: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
