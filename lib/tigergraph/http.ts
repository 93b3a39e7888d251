/**
 * One HTTP exchange with TigerGraph: timeout and abort signal, the JSON envelope, and the
 * mapping of REST codes and HTTP statuses to TigerGraphError through the code table.
 */
import { TigerGraphError, messageOf } from '../errors/index.ts';
import { classify } from './codes.ts';

export interface Exchange {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  readonly text: string;
}
export interface SendInit {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}
export type Send = (method: string, path: string, init?: SendInit) => Promise<Exchange>;
/** A request with the client's credentials applied: RESTPP or GSQL server, for `graph`. */
export type Call = (
  kind: 'restpp' | 'gsql',
  graph: string | undefined,
  method: string,
  path: string,
  init?: SendInit,
) => Promise<Exchange>;

/** The path without its query string, for messages (queries may carry ids, never secrets). */
export const pathOnly = (path: string): string => path.split('?')[0] ?? path;

/**
 * Builds `send`. A response is an error when its HTTP status is not 2xx or its `error` is
 * true (also the string "true", section 1.4); the error's code is `TIGERGRAPH_REST_xxxx`
 * or `TIGERGRAPH_HTTP_<status>`, `retriable` from the table, `details.status` and
 * `details.restCode` for callers that branch on them.
 */
export function createSend(options: {
  readonly base: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}): Send {
  return async (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.contentType) headers['content-type'] = init.contentType;
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(init.signal ? [init.signal] : [])];
    let response: Response;
    try {
      response = await options.fetch(`${options.base}${path}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      throw new TigerGraphError(
        'TIGERGRAPH_UNREACHABLE',
        `Cannot reach TigerGraph at ${options.base} (${method} ${pathOnly(path)}): ${messageOf(error)}`,
        { retriable: true, cause: error },
      );
    }
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      json =
        typeof parsed === 'object' && parsed !== null
          ? (parsed as Record<string, unknown>)
          : undefined;
    } catch {
      json = undefined;
    }
    const restCode = typeof json?.code === 'string' ? json.code : undefined;
    if (!response.ok || json?.error === true || json?.error === 'true') {
      const rule = classify(response.status, restCode);
      const message = typeof json?.message === 'string' ? json.message : text.slice(0, 200);
      throw new TigerGraphError(
        `TIGERGRAPH_${restCode === undefined ? `HTTP_${response.status}` : restCode.replace('-', '_')}`,
        `TigerGraph ${method} ${pathOnly(path)} failed with HTTP ${response.status}${restCode ? ` ${restCode}` : ''} (${rule.meaning}): ${message}`,
        {
          retriable: rule.retriable,
          details: { status: response.status, ...(restCode ? { restCode } : {}) },
        },
      );
    }
    return { status: response.status, json, text };
  };
}

/** True when TigerGraph refused the credentials or token (REST-10016, HTTP 401/403). */
export const isAuthFailure = (error: unknown): error is TigerGraphError =>
  error instanceof TigerGraphError &&
  classify(
    typeof error.details.status === 'number' ? error.details.status : 0,
    typeof error.details.restCode === 'string' ? error.details.restCode : undefined,
  ).refreshToken === true;
