import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClientCredentialsProvider, kafkaSecurity } from '../../lib/kafka/index.ts';
import { testConfig } from '../helpers/fakes.ts';
import { VALID } from '../helpers/config.ts';

interface Seen {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** An OAuth token endpoint on loopback whose answers a test sets. */
describe('OAuth client-credentials tokens for SASL/OAUTHBEARER', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body,
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    answer = {
      status: 200,
      body: { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 },
    };
  });

  const credentials = () => ({
    tokenEndpointUrl: url,
    clientId: 'tg loader',
    clientSecret: 'Cl1ent:S3cret',
    scope: 'kafka write',
  });

  it('posts the client-credentials grant with basic auth and reuses the token until it nears expiry', async () => {
    let clock = 1_000_000;
    const token = createClientCredentialsProvider(credentials(), { now: () => clock });
    const [a, b] = await Promise.all([token(), token()]);
    expect([a, b]).toEqual(['tok-1', 'tok-1']);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'kafka write',
    });
    const basic = Buffer.from(
      (seen[0]?.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    ).toString();
    expect(basic.split(':').map(decodeURIComponent)).toEqual(['tg loader', 'Cl1ent:S3cret']);

    clock += 2_400_000; // 40 minutes: still valid
    expect(await token()).toBe('tok-1');
    expect(seen).toHaveLength(1);
    answer = { status: 200, body: { access_token: 'tok-2', expires_in: 3600 } };
    clock += 600_000; // 50 minutes: past 80% of its hour, renewed before it expires
    expect(await token()).toBe('tok-2');
    expect(seen).toHaveLength(2);
  });

  it('names the endpoint and the OAuth error, never the secret; 5xx is retriable, 401 is not', async () => {
    answer = { status: 401, body: { error: 'invalid_client', error_description: 'bad secret' } };
    const error = await createClientCredentialsProvider(credentials())().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KAFKA_OAUTH_TOKEN_FAILED', retriable: false });
    expect((error as Error).message).toContain(
      `${url} answered HTTP 401: invalid_client (bad secret)`,
    );
    expect((error as Error).message).not.toContain('S3cret');

    answer = { status: 503, body: 'busy' };
    await expect(createClientCredentialsProvider(credentials())()).rejects.toMatchObject({
      code: 'KAFKA_OAUTH_TOKEN_FAILED',
      retriable: true,
    });
    answer = { status: 200, body: { token_type: 'Bearer' } };
    await expect(createClientCredentialsProvider(credentials())()).rejects.toMatchObject({
      code: 'KAFKA_OAUTH_TOKEN_FAILED',
      message: expect.stringContaining('without an access_token') as unknown,
    });
  });

  it('reports an endpoint that does not answer as retriable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      createClientCredentialsProvider({
        ...credentials(),
        tokenEndpointUrl: `http://127.0.0.1:${port}/t`,
      })(),
    ).rejects.toMatchObject({ code: 'KAFKA_OAUTH_TOKEN_UNREACHABLE', retriable: true });
  });

  it('gives kafkajs an oauthbearer provider built from the connector file', async () => {
    const text = VALID.replace(
      '[connector_1]',
      `producer.security.protocol=SASL_SSL\nproducer.sasl.mechanism=OAUTHBEARER\nproducer.sasl.oauthbearer.token.endpoint.url=${url}\nproducer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="tg-loader" clientSecret="S3cret";\n[connector_1]`,
    );
    const sasl = kafkaSecurity(testConfig(text).target).sasl as SASLOptions & {
      oauthBearerProvider: () => Promise<{ value: string }>;
    };
    expect(sasl.mechanism).toBe('oauthbearer');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'tok-1' });
    expect(seen).toHaveLength(1);
  });
});
