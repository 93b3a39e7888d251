/** RESTPP tokens (reference sections 4.1, 4.2): asked, cached, renewed, refused. */
import { describe, expect, it } from 'vitest';
import { createTigerGraphClient } from '../../../lib/tigergraph/index.ts';
import { DENIED, routedFetch, type Call } from './fake-tigergraph-http.ts';

const VERTICES = { body: { error: false, results: [] } };
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const tokenCalls = (calls: Call[]): Call[] =>
  calls.filter((c) => c.path === '/restpp/requesttoken' || c.path === '/gsql/v1/tokens');

describe('RESTPP tokens, 3.x', () => {
  it('asks POST /requesttoken with basic auth and the graph, and reads results.token', async () => {
    const f = routedFetch({
      'POST /restpp/requesttoken': {
        body: {
          code: 'REST-0000',
          error: false,
          expiration: 2_000_000_000,
          results: { token: 'ut' },
        },
      },
      'GET /restpp/graph/G/vertices/V': VERTICES,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { username: 'u', password: 'p' },
      fetch: f.fetch,
    });
    await client.listVertices('G', 'V');
    expect(f.calls[0]).toMatchObject({
      method: 'POST',
      path: '/restpp/requesttoken',
      headers: { authorization: basic('u', 'p') },
    });
    expect(JSON.parse(f.calls[0]?.body ?? '')).toEqual({ graph: 'G', lifetime: '21600' });
    expect(f.calls[1]?.headers.authorization).toBe('Bearer ut');
  });

  it('sends the secret in the body, not basic auth, when both are configured', async () => {
    const f = routedFetch({
      'POST /restpp/requesttoken': { body: { error: false, token: 'st' } },
      'GET /restpp/graph/G/vertices/V': VERTICES,
    });
    await createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's', username: 'u', password: 'p' },
      fetch: f.fetch,
    }).listVertices('G', 'V');
    expect(f.calls[0]?.headers.authorization).toBeUndefined();
    expect(JSON.parse(f.calls[0]?.body ?? '')).toMatchObject({ secret: 's', graph: 'G' });
  });

  it('caches per graph and renews before the expiration it was told', async () => {
    let clock = 1_000_000_000_000;
    let n = 0;
    const f = routedFetch({
      'POST /restpp/requesttoken': () => ({
        body: { error: false, token: `t${++n}`, expiration: clock / 1000 + 3600 },
      }),
      'GET /restpp/graph/G/vertices/V': VERTICES,
      'GET /restpp/graph/H/vertices/V': VERTICES,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's' },
      fetch: f.fetch,
      now: () => clock,
    });
    await client.listVertices('G', 'V');
    await client.listVertices('G', 'V');
    await client.listVertices('H', 'V');
    expect(tokenCalls(f.calls)).toHaveLength(2);
    // A tenth of the hour before expiry (at most five minutes) the token is renewed.
    clock += 3600_000 - 299_000;
    await client.listVertices('G', 'V');
    expect(tokenCalls(f.calls)).toHaveLength(3);
    expect(f.calls.at(-1)?.headers.authorization).toBe('Bearer t3');
  });

  it('renews once after REST-10016 and repeats the request', async () => {
    let n = 0;
    const f = routedFetch({
      'POST /restpp/requesttoken': () => ({ body: { error: false, token: `t${++n}` } }),
      'GET /restpp/graph/G/vertices/V': (c) =>
        c.headers.authorization === 'Bearer t1' ? DENIED : VERTICES,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's' },
      fetch: f.fetch,
    });
    await expect(client.listVertices('G', 'V')).resolves.toEqual([]);
    expect(f.calls.map((c) => `${c.path} ${c.headers.authorization ?? ''}`)).toEqual([
      '/restpp/requesttoken ',
      '/restpp/graph/G/vertices/V Bearer t1',
      '/restpp/requesttoken ',
      '/restpp/graph/G/vertices/V Bearer t2',
    ]);
  });

  it('fails with a non-retriable TIGERGRAPH_REST_10016 when the renewed token is refused too', async () => {
    let n = 0;
    const f = routedFetch({
      'POST /restpp/requesttoken': () => ({ body: { error: false, token: `t${++n}` } }),
      'GET /restpp/graph/G/vertices/V': DENIED,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's' },
      fetch: f.fetch,
    });
    await expect(client.listVertices('G', 'V')).rejects.toMatchObject({
      code: 'TIGERGRAPH_REST_10016',
      retriable: false,
    });
    expect(tokenCalls(f.calls)).toHaveLength(2);
    expect(f.calls).toHaveLength(4);
  });

  it('a refused secret fails at once, not retriable, naming the setting and not the secret', async () => {
    const f = routedFetch({ 'POST /restpp/requesttoken': DENIED });
    const error = await createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 'wrong-secret-value' },
      fetch: f.fetch,
    })
      .listVertices('G', 'V')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIGERGRAPH_REST_10016', retriable: false });
    expect((error as Error).message).toMatch(/tigergraph\.auth/);
    expect((error as Error).message).not.toContain('wrong-secret-value');
    expect(f.calls).toHaveLength(1);
  });

  it('a configured token is used first and replaced from the secret once refused', async () => {
    const f = routedFetch({
      'POST /restpp/requesttoken': { body: { error: false, token: 'fresh' } },
      'GET /restpp/graph/G/vertices/V': (c) =>
        c.headers.authorization === 'Bearer stale' ? DENIED : VERTICES,
    });
    await createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { token: 'stale', secret: 's' },
      fetch: f.fetch,
    }).listVertices('G', 'V');
    expect(f.calls.map((c) => c.headers.authorization ?? c.path)).toEqual([
      'Bearer stale',
      '/restpp/requesttoken',
      'Bearer fresh',
    ]);
  });

  it('keeps one token request in flight for concurrent calls', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const f = routedFetch({
      'POST /restpp/requesttoken': async () => {
        await gate;
        return { body: { error: false, token: 'one' } };
      },
      'GET /restpp/graph/G/vertices/V': VERTICES,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { secret: 's' },
      fetch: f.fetch,
    });
    const all = Promise.all(Array.from({ length: 5 }, () => client.listVertices('G', 'V')));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    await all;
    expect(tokenCalls(f.calls)).toHaveLength(1);
    expect(f.calls.filter((c) => c.headers.authorization === 'Bearer one')).toHaveLength(5);
  });

  it('treats "endpoint not found" from /requesttoken as RESTPP auth off (section 4.1)', async () => {
    const f = routedFetch({ 'GET /restpp/graph/G/vertices/V': VERTICES });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 3,
      auth: { username: 'u', password: 'p' },
      fetch: f.fetch,
    });
    await client.listVertices('G', 'V');
    await client.listVertices('G', 'V');
    expect(tokenCalls(f.calls)).toHaveLength(1);
    expect(f.calls.at(-1)?.headers.authorization).toBe(basic('u', 'p'));
  });
});

describe('tokens, 4.x', () => {
  it('asks POST /gsql/v1/tokens, reads the date expiration, and uses the token on GSQL calls without a user', async () => {
    let clock = Date.parse('2024-12-20T08:00:00Z');
    let n = 0;
    const f = routedFetch({
      'POST /gsql/v1/tokens': () => ({
        body: {
          error: false,
          message: 'Generate new JWT token successfully.',
          expiration: 'Fri Dec 20 09:00:00 UTC 2024',
          token: `jwt${++n}`,
        },
      }),
      'GET /gsql/v1/loading-jobs/status': { body: { error: false, results: [] } },
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 4,
      auth: { secret: 's' },
      fetch: f.fetch,
      now: () => clock,
    });
    await client.listRuns('G', 'j');
    expect(JSON.parse(f.calls[0]?.body ?? '')).toEqual({ secret: 's', graph: 'G' });
    expect(f.calls[1]?.headers.authorization).toBe('Bearer jwt1');
    clock = Date.parse('2024-12-20T08:56:00Z');
    await client.listRuns('G', 'j');
    expect(f.calls.at(-1)?.headers.authorization).toBe('Bearer jwt2');
  });

  it('uses basic auth on GSQL calls and for the token when a user is configured', async () => {
    const f = routedFetch({
      'POST /gsql/v1/tokens': { body: { error: false, token: 'jwt' } },
      'GET /gsql/v1/loading-jobs/status': { body: { error: false, results: [] } },
      'GET /restpp/graph/G/vertices/V': VERTICES,
    });
    const client = createTigerGraphClient({
      url: 'http://tg',
      version: 4,
      auth: { username: 'u', password: 'p' },
      fetch: f.fetch,
    });
    await client.listRuns('G', 'j');
    await client.listVertices('G', 'V');
    expect(f.calls.map((c) => `${c.path} ${c.headers.authorization ?? ''}`)).toEqual([
      `/gsql/v1/loading-jobs/status ${basic('u', 'p')}`,
      `/gsql/v1/tokens ${basic('u', 'p')}`,
      '/restpp/graph/G/vertices/V Bearer jwt',
    ]);
    expect(JSON.parse(f.calls[1]?.body ?? '')).toEqual({ graph: 'G' });
  });

  it('a refused password on a GSQL call is not retried and not retriable', async () => {
    const f = routedFetch({ 'GET /gsql/v1/loading-jobs/status': DENIED });
    await expect(
      createTigerGraphClient({
        url: 'http://tg',
        version: 4,
        auth: { username: 'u', password: 'bad' },
        fetch: f.fetch,
      }).listRuns('G', 'j'),
    ).rejects.toMatchObject({ code: 'TIGERGRAPH_REST_10016', retriable: false });
    expect(f.calls).toHaveLength(1);
  });
});
