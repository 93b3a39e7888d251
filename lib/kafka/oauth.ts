/**
 * SASL/OAUTHBEARER tokens from an OAuth 2 token endpoint with the client-credentials grant, as
 * Kafka's own clients do (KIP-768: `sasl.oauthbearer.token.endpoint.url`, clientId and
 * clientSecret in the JAAS line). A token is reused until shortly before it expires.
 */
import { DeliveryError, messageOf } from '../errors/index.ts';

export interface ClientCredentials {
  readonly tokenEndpointUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string | undefined;
}

export interface OAuthTokenOptions {
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

/** Tokens are renewed at 80% of their lifetime (Kafka's sasl.login.refresh.window.factor), and at least this long before they expire. */
const RENEW_BEFORE_MS = 60_000;

/**
 * Returns a provider of access tokens for kafkajs's `oauthBearerProvider`.
 *
 * @example
 * const token = createClientCredentialsProvider({ tokenEndpointUrl, clientId, clientSecret, scope });
 * const sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) };
 */
export function createClientCredentialsProvider(
  credentials: ClientCredentials,
  options: OAuthTokenOptions = {},
): () => Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let cached: { token: string; renewAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  const request = async (): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (credentials.scope !== undefined && credentials.scope !== '')
      form.set('scope', credentials.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
    ).toString('base64');
    const where = `the OAuth token endpoint ${credentials.tokenEndpointUrl}`;
    let response: Response;
    try {
      response = await doFetch(credentials.tokenEndpointUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new DeliveryError(
        'KAFKA_OAUTH_TOKEN_UNREACHABLE',
        `${where} did not answer: ${messageOf(error)}`,
        {
          retriable: true,
        },
      );
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!response.ok) {
      const reason =
        typeof body.error === 'string'
          ? `: ${body.error}${typeof body.error_description === 'string' ? ` (${body.error_description})` : ''}`
          : '';
      throw new DeliveryError(
        'KAFKA_OAUTH_TOKEN_FAILED',
        `${where} answered HTTP ${response.status}${reason}; check clientId, clientSecret and scope in the JAAS line`,
        { retriable: response.status >= 500 || response.status === 429 },
      );
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new DeliveryError(
        'KAFKA_OAUTH_TOKEN_FAILED',
        `${where} answered without an access_token (expected a JSON object with access_token and expires_in)`,
        { retriable: false },
      );
    const lifetimeMs = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 3_600_000;
    cached = {
      token,
      renewAt: now() + Math.min(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs * 0.8),
    };
    return token;
  };

  return () => {
    if (cached !== undefined && now() < cached.renewAt) return Promise.resolve(cached.token);
    inFlight ??= request().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
