/**
 * A local SSM Parameter Store endpoint for integration tests: the AWS JSON 1.1 protocol the
 * SDK v3 `SSMClient` speaks, on 127.0.0.1, over an in-memory map. It serves the read calls
 * TigerStream makes (`lib/config/ssm.ts`: GetParameter, GetParametersByPath with
 * WithDecryption and NextToken; `lib/control`: GetParametersByPath with Recursive) plus
 * GetParameters, with the real service's response and error shapes. Any other operation gets
 * `UnknownOperationException`, so a test that needs one fails loudly instead of passing on a
 * guess.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stored parameter, as a test declares it. */
export interface SsmParameter {
  readonly type: 'String' | 'SecureString';
  readonly value: string;
}

/** A running endpoint: point an `SSMClient` (or `AWS_ENDPOINT_URL_SSM`) at `url`. */
export interface SsmEndpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** How many requests named `op` (e.g. `'GetParameter'`) arrived, failed ones included; all when omitted. */
  requests(op?: string): number;
  /** Creates or replaces a parameter (its Version goes up, as PutParameter's does); `undefined` deletes it. */
  set(name: string, parameter: SsmParameter | undefined): void;
  /** Closes the server and any kept-alive connections. */
  stop(): Promise<void>;
}

// The real service's limits: 10 names per GetParameters, 10 results per GetParametersByPath page.
const MAX_NAMES = 10;
const MAX_PAGE = 10;
// Requests are small JSON documents; a larger body is a test bug, not something to buffer.
const MAX_BODY_BYTES = 1024 * 1024;
const ACCOUNT = '000000000000';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AmazonSSM.';

interface Stored extends SsmParameter {
  readonly version: number;
  readonly modified: number;
}

class SsmFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;
type Operation = (body: Body, region: string) => Body;

/**
 * Starts the endpoint with `params` stored at Version 1.
 *
 * @example
 *   const ssm = await startSsmEndpoint({ '/app/config': { type: 'String', value: '{}' } });
 *   const client = new SSMClient({ endpoint: ssm.url, region: 'us-east-1', credentials });
 *   // ... later: expect(ssm.requests('GetParameter')).toBe(1); await ssm.stop();
 */
export async function startSsmEndpoint(
  params: Readonly<Record<string, SsmParameter>>,
): Promise<SsmEndpoint> {
  const store = new Map<string, Stored>();
  const counts = new Map<string, number>();
  const set = (name: string, p: SsmParameter | undefined): void => {
    if (p === undefined) {
      store.delete(name);
      return;
    }
    const version = (store.get(name)?.version ?? 0) + 1;
    store.set(name, { type: p.type, value: p.value, version, modified: Date.now() / 1000 });
  };
  for (const [name, p] of Object.entries(params)) set(name, p);

  const toParameter = (name: string, p: Stored, decrypt: boolean, region: string): Body => ({
    Name: name,
    Type: p.type,
    // Without WithDecryption the service returns the KMS ciphertext of a SecureString; an
    // opaque stand-in (never the value) makes a forgotten WithDecryption visible in tests.
    Value:
      p.type === 'SecureString' && !decrypt
        ? Buffer.from(`fake-kms-ciphertext:${name}:${p.version}`).toString('base64')
        : p.value,
    Version: p.version,
    LastModifiedDate: p.modified,
    ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
    DataType: 'text',
  });

  const operations: Record<string, Operation> = {
    GetParameter(body, region) {
      const name = requireString(body, 'Name');
      const p = store.get(name);
      // The real service sends no message with this error.
      if (!p) throw new SsmFault('ParameterNotFound', '');
      return { Parameter: toParameter(name, p, body.WithDecryption === true, region) };
    },
    GetParameters(body, region) {
      const names = body.Names;
      if (!Array.isArray(names) || names.length < 1 || names.length > MAX_NAMES)
        throw validation(`Names must list 1 to ${MAX_NAMES} parameter names`);
      const found: Body[] = [];
      const invalid: string[] = [];
      for (const name of new Set(names.map(String))) {
        const p = store.get(name);
        if (p) found.push(toParameter(name, p, body.WithDecryption === true, region));
        else invalid.push(name);
      }
      return { Parameters: found, InvalidParameters: invalid };
    },
    GetParametersByPath(body, region) {
      const path = requireString(body, 'Path');
      if (!path.startsWith('/')) throw validation(`Path "${path}" must start with "/"`);
      if (body.ParameterFilters !== undefined)
        throw validation('ParameterFilters are not supported by this test endpoint');
      const max = body.MaxResults ?? MAX_PAGE;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_PAGE)
        throw validation(
          `Value '${JSON.stringify(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE}`,
        );
      // "/a/b" and "/a/b/" name the same level of the hierarchy.
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const recursive = body.Recursive === true;
      const names = [...store.keys()]
        .filter((n) => n.startsWith(prefix) && (recursive || !n.slice(prefix.length).includes('/')))
        .sort();
      // The token is the last name returned, so a change to the store between pages neither
      // repeats nor skips the names that stayed.
      const after = body.NextToken === undefined ? undefined : decodeToken(body.NextToken);
      const rest = after === undefined ? names : names.filter((n) => n > after);
      const page = rest.slice(0, max);
      const last = page.at(-1);
      return {
        Parameters: page.map((n) =>
          toParameter(n, store.get(n) as Stored, body.WithDecryption === true, region),
        ),
        ...(rest.length > max && last !== undefined ? { NextToken: encodeToken(last) } : {}),
      };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.headers['x-amz-target'];
    const op =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : String(target);
    counts.set(op, (counts.get(op) ?? 0) + 1);
    try {
      const text = await readBody(req);
      if (req.method !== 'POST' || req.url !== '/')
        throw new SsmFault('UnknownOperationException', `${String(req.method)} ${String(req.url)}`);
      const auth = req.headers.authorization;
      // Signatures are not checked, only that the client signed at all, as every SDK does.
      if (typeof auth !== 'string' || auth === '')
        throw new SsmFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (!req.headers['content-type']?.startsWith(CONTENT_TYPE))
        throw new SsmFault('SerializationException', `Content-Type must be ${CONTENT_TYPE}`);
      const operation = Object.hasOwn(operations, op) ? operations[op] : undefined;
      if (!operation) throw new SsmFault('UnknownOperationException', '');
      let body: unknown;
      try {
        body = JSON.parse(text === '' ? '{}' : text);
      } catch {
        throw new SsmFault('SerializationException', 'The request body is not JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new SsmFault('SerializationException', 'The request body is not a JSON object');
      send(res, 200, operation(body as Body, regionOf(auth)));
    } catch (error) {
      if (error instanceof SsmFault)
        send(res, error.status, {
          __type: error.type,
          ...(error.message === '' ? {} : { message: error.message }),
        });
      else send(res, 500, { __type: 'InternalServerError', message: String(error) });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: (op) =>
      op === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(op) ?? 0),
    set,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

const validation = (message: string) => new SsmFault('ValidationException', message);

function requireString(body: Body, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw validation(`${key} is required`);
  return v;
}

const encodeToken = (name: string): string => Buffer.from(name).toString('base64url');

function decodeToken(token: unknown): string {
  if (typeof token !== 'string' || token === '')
    throw new SsmFault('InvalidNextToken', 'The specified token is not valid.');
  return Buffer.from(token, 'base64url').toString();
}

/** The region from SigV4's credential scope (`Credential=AKID/date/region/ssm/aws4_request`). */
const regionOf = (authorization: string): string =>
  /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1] ?? 'us-east-1';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(
          new SsmFault('SerializationException', `Request body over ${MAX_BODY_BYTES} bytes`, 413),
        );
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Body): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
