/**
 * RESTPP tokens (reference sections 4.1 and 4.2): requested from the secret or from user and
 * password, cached per graph, renewed before they expire and once after TigerGraph refuses
 * one, with one request in flight per graph however many calls wait for it.
 */
import { TigerGraphError } from '../errors/index.ts';
import { isAuthFailure, pathOnly, type Send } from './http.ts';

export interface TigerGraphAuth {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly secret?: string | undefined;
  readonly token?: string | undefined;
}

/**
 * The 3.x lifetime asked for, in seconds: six hours, as TigerGraph's Spark connector asks
 * (section 4.1). 4.x tokens are asked without one (section 4.2 leaves the unit open; the
 * default is a week).
 */
const RESTPP_LIFETIME_SECONDS = 21_600;
/** Renew this long before expiry at most; a tenth of the lifetime for short tokens. */
const RENEW_MARGIN_MS = 300_000;

export interface TokenSource {
  /** True when tokens can be (re)requested: a secret or a username is configured. */
  readonly canRenew: boolean;
  /** A token for `graph`, or undefined when RESTPP authentication is off or no credential is set. */
  get(graph: string | undefined): Promise<string | undefined>;
  /** Forgets `token` (TigerGraph refused it) so the next `get` asks for a new one. */
  invalidate(graph: string | undefined, token: string): void;
}

interface Cached {
  readonly token: string;
  readonly renewAt: number;
}

/** `Basic ...` for user and password, or undefined. */
export const basicHeader = (auth: TigerGraphAuth): string | undefined =>
  auth.username === undefined
    ? undefined
    : `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;

/** Builds the token source for one client. */
export function createTokenSource(deps: {
  readonly auth: TigerGraphAuth;
  readonly version: 3 | 4;
  readonly send: Send;
  readonly now: () => number;
}): TokenSource {
  const { auth, version, send, now } = deps;
  const basic = basicHeader(auth);
  const canRenew = auth.secret !== undefined || basic !== undefined;
  let configured = auth.token;
  let authOff = false;
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<string | undefined>>();

  const request = async (graph: string | undefined): Promise<string | undefined> => {
    const askedAt = now();
    // 3.x: POST /requesttoken with the secret, or basic auth and the graph (section 4.1; the
    // issue asked for GET, which TigerGraph dropped in 3.6, so POST it is). 4.x: POST
    // /gsql/v1/tokens (section 4.2).
    const path = version === 4 ? '/gsql/v1/tokens' : '/restpp/requesttoken';
    const body: Record<string, string> = {};
    if (auth.secret !== undefined) body.secret = auth.secret;
    if (graph !== undefined) body.graph = graph;
    if (version === 3) body.lifetime = String(RESTPP_LIFETIME_SECONDS);
    let json: Record<string, unknown> | undefined;
    try {
      ({ json } = await send('POST', path, {
        body: JSON.stringify(body),
        contentType: 'application/json',
        ...(auth.secret === undefined && basic ? { headers: { authorization: basic } } : {}),
      }));
    } catch (error) {
      // Section 4.1: without RESTPP authentication /requesttoken is "not found" and every
      // RESTPP endpoint is open.
      if (
        error instanceof TigerGraphError &&
        (error.details.restCode === 'REST-1000' || error.details.status === 404)
      ) {
        authOff = true;
        return undefined;
      }
      if (isAuthFailure(error))
        throw new TigerGraphError(
          error.code,
          `TigerGraph refused the ${auth.secret === undefined ? 'user name and password' : 'secret'} for a token (${pathOnly(path)}${graph === undefined ? '' : `, graph ${graph}`}): check tigergraph.auth.*`,
          { retriable: false, cause: error, details: error.details },
        );
      throw error;
    }
    const results = (json?.results ?? {}) as Record<string, unknown>;
    // With user and password 3.x answers the token under results.token (section 4.1).
    const token = json?.token ?? results.token;
    if (typeof token !== 'string' || token === '')
      throw new TigerGraphError(
        'TIGERGRAPH_TOKEN_MISSING',
        `TigerGraph answered ${pathOnly(path)} without a token`,
        { retriable: false },
      );
    // 3.x answers epoch seconds, 4.x a date such as "Fri Dec 20 09:07:39 UTC 2024".
    const expiration = json?.expiration ?? results.expiration;
    const expiresAt =
      typeof expiration === 'number'
        ? expiration * 1000
        : typeof expiration === 'string'
          ? Date.parse(expiration)
          : NaN;
    const lifetime = expiresAt - askedAt;
    // An expiry that cannot be read (or lies in the past: clocks apart) is renewed only
    // when TigerGraph refuses the token.
    const renewAt =
      Number.isFinite(lifetime) && lifetime > 0
        ? expiresAt - Math.min(RENEW_MARGIN_MS, lifetime / 10)
        : Infinity;
    cache.set(graph ?? '', { token, renewAt });
    return token;
  };

  return {
    canRenew,
    get(graph) {
      if (configured !== undefined) return Promise.resolve(configured);
      if (authOff || !canRenew) return Promise.resolve(undefined);
      const key = graph ?? '';
      const cached = cache.get(key);
      if (cached && now() < cached.renewAt) return Promise.resolve(cached.token);
      let inFlight = pending.get(key);
      if (!inFlight) {
        // Not tied to one caller's abort signal: every waiting call shares this request.
        inFlight = request(graph).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      return inFlight;
    },
    invalidate(graph, token) {
      if (configured === token) configured = undefined;
      const key = graph ?? '';
      if (cache.get(key)?.token === token) cache.delete(key);
    },
  };
}
