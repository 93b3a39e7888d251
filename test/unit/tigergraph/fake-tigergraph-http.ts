/** A fetch for client unit tests: answers by route, records every call. No network. */
export interface Call {
  url: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}
export interface FakeReply {
  status?: number;
  body: unknown;
}
export type Responder = (call: Call) => FakeReply | Promise<FakeReply>;

/** Routes: `METHOD /path` (no query) → a reply, or a responder. Unrouted calls answer 404. */
export function routedFetch(routes: Record<string, FakeReply | Responder>) {
  const calls: Call[] = [];
  const impl = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const href = url instanceof Request ? url.url : url.toString();
    const call: Call = {
      url: href,
      path: new URL(href).pathname,
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${call.path}`];
    const reply: FakeReply =
      route === undefined
        ? { status: 404, body: { error: true, code: 'REST-1000', message: 'not found' } }
        : typeof route === 'function'
          ? await route(call)
          : route;
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
    });
  };
  return { fetch: impl, calls };
}

export const DENIED: FakeReply = {
  status: 401,
  body: { error: true, code: 'REST-10016', message: 'Access Denied', results: [] },
};
