/**
 * Confluent Schema Registry client (`GET /schemas/ids/{id}`): basic auth or a bearer token,
 * a custom CA, a timeout; schemas cached by id with one fetch in flight per id.
 */
import { ConvertError, TigerStreamError, messageOf } from '../errors/index.ts';
import { MAX_SCHEMA_BYTES } from './schema.ts';

/** A registry failure that is not about one record (unreachable, 5xx, unauthorized). */
export class RegistryError extends TigerStreamError {}

export interface RegistryOptions {
  /** One URL or several, comma-separated (tried in order). */
  readonly url: string;
  /** `user:password` (value.converter.basic.auth.user.info). */
  readonly userInfo?: string | undefined;
  readonly bearerToken?: string | undefined;
  /** PEM CA certificates for https. */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number;
}

export interface RegistryClient {
  /** The schema text of an id. Record-level errors are ConvertError; others RegistryError. */
  schema(id: number): Promise<string>;
}

interface Answer {
  status: number;
  body: string;
}

type Request = typeof import('node:http').request;

/**
 * Node's http or https `request`, loaded on the first request: only a connector with a schema
 * registry needs them, and loading https (with tls) took part of every Lambda's cold start.
 */
const requestFor = async (url: URL): Promise<Request> => {
  // In the Lambda bundle a built-in imported on demand is a chunk whose only export is
  // `default` (code splitting); under Node itself the named export is there too.
  const m = (
    url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  ) as {
    request?: Request;
    default?: { request: Request };
  };
  const request = m.request ?? m.default?.request;
  if (request === undefined)
    throw new RegistryError(
      'REGISTRY_CLIENT_UNAVAILABLE',
      `Node's ${url.protocol === 'https:' ? 'https' : 'http'} module has no request function here: the schema registry cannot be reached`,
    );
  return request;
};

const get = async (
  url: URL,
  headers: Record<string, string>,
  ca: string | undefined,
  timeoutMs: number,
): Promise<Answer> => {
  const request = await requestFor(url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers, timeout: timeoutMs, ...(ca ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_SCHEMA_BYTES)
            req.destroy(new Error(`the answer is larger than ${MAX_SCHEMA_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
};

export function createRegistryClient(options: RegistryOptions): RegistryClient {
  const urls = options.url
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const headers: Record<string, string> = {
    accept: 'application/vnd.schemaregistry.v1+json, application/json',
  };
  if (options.userInfo)
    headers.authorization = `Basic ${Buffer.from(options.userInfo).toString('base64')}`;
  else if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  const cache = new Map<number, Promise<string>>();

  const fetchSchema = async (id: number): Promise<string> => {
    let last: unknown;
    for (const base of urls) {
      let answer: Answer;
      try {
        answer = await get(
          new URL(`${base}/schemas/ids/${id}`),
          headers,
          options.ca,
          options.timeoutMs ?? 10_000,
        );
      } catch (error) {
        last = error;
        continue;
      }
      if (answer.status === 200) {
        let schema: unknown;
        try {
          schema = (JSON.parse(answer.body) as { schema?: unknown }).schema;
        } catch {
          schema = undefined;
        }
        if (typeof schema !== 'string')
          throw new ConvertError(
            'CONVERT_SCHEMA_INVALID',
            `The registry's answer for schema id ${id} has no schema text`,
            { details: { schemaId: id } },
          );
        return schema;
      }
      if (answer.status === 404)
        throw new ConvertError(
          'CONVERT_SCHEMA_NOT_FOUND',
          `The schema registry has no schema with id ${id}`,
          { details: { schemaId: id } },
        );
      if (answer.status === 401 || answer.status === 403)
        throw new RegistryError(
          'REGISTRY_UNAUTHORIZED',
          `The schema registry refused access (HTTP ${answer.status}); check value.converter.basic.auth.user.info or value.converter.bearer.auth.token`,
          { details: { status: answer.status } },
        );
      last = new Error(`HTTP ${answer.status}`);
      if (answer.status < 500 && answer.status !== 429)
        throw new RegistryError(
          'REGISTRY_REQUEST_FAILED',
          `The schema registry answered HTTP ${answer.status} for schema id ${id}`,
          { details: { status: answer.status, schemaId: id } },
        );
    }
    throw new RegistryError(
      'REGISTRY_UNAVAILABLE',
      `The schema registry (${urls.join(', ')}) is unavailable: ${messageOf(last)}`,
      { retriable: true, cause: last, details: { schemaId: id } },
    );
  };

  return {
    schema(id) {
      let found = cache.get(id);
      if (!found) {
        found = fetchSchema(id);
        // Only successes stay cached: an outage or an unknown id is asked again next time.
        found.catch(() => cache.delete(id));
        cache.set(id, found);
      }
      return found;
    },
  };
}
