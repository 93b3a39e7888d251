/**
 * TigerGraph REST-xxxx codes and HTTP statuses → retriable or not. One table, no if-chains.
 * Sources: shared/reference/tigergraph-loading.md sections 1.4 and 4.4.
 */
export interface CodeRule {
  readonly retriable: boolean;
  /**
   * The credentials or token were refused: the client renews its token once itself and
   * repeats the request (section 4.1); refused again, retrying cannot help, so the rule
   * is not retriable.
   */
  readonly refreshToken?: boolean;
  readonly meaning: string;
}

export const REST_CODES: Readonly<Record<string, CodeRule>> = {
  'REST-0000': { retriable: false, meaning: 'success' },
  'REST-0001': { retriable: false, meaning: 'vertex upsert succeeded' },
  'REST-0002': { retriable: false, meaning: 'edge upsert succeeded' },
  'REST-0003': { retriable: false, meaning: 'vertex and edge upsert succeeded' },
  'REST-0004': { retriable: true, meaning: 'empty response' },
  'REST-1000': { retriable: false, meaning: 'endpoint not found' },
  'REST-1004': { retriable: false, meaning: 'graph not found' },
  'REST-2001': { retriable: false, meaning: 'invalid JSON payload' },
  'REST-2004': { retriable: false, meaning: 'invalid vertex type' },
  'REST-2005': { retriable: false, meaning: 'invalid edge type' },
  'REST-3000': { retriable: true, meaning: 'timeout (header)' },
  'REST-3001': { retriable: true, meaning: 'timeout (endpoint)' },
  'REST-3002': { retriable: true, meaning: 'timeout (default query timeout)' },
  'REST-4000': { retriable: false, meaning: 'response too large' },
  'REST-10016': {
    retriable: false,
    refreshToken: true,
    meaning: 'access denied or token invalid/expired',
  },
  'REST-12000': { retriable: true, meaning: 'no response from GSE/GPE in time' },
  'REST-12001': { retriable: true, meaning: 'no GSE/GPE running' },
  'REST-20002': { retriable: false, meaning: 'the job error limit was exceeded' },
  'REST-30000': { retriable: false, meaning: 'invalid payload' },
  'REST-30200': { retriable: false, meaning: 'invalid upsert parameter' },
};

export const HTTP_STATUSES: Readonly<Record<number, CodeRule>> = {
  400: { retriable: false, meaning: 'bad request' },
  401: { retriable: false, refreshToken: true, meaning: 'unauthorized' },
  403: { retriable: false, refreshToken: true, meaning: 'forbidden' },
  404: { retriable: false, meaning: 'not found' },
  408: { retriable: true, meaning: 'request timeout' },
  // The emulator's answer to a resume of a running or finished run and an abort of an ended
  // one (UNDOCUMENTED, lib/local/EMULATOR.md); what a real server answers is not in the
  // reference. A 4.x streaming start refused with 409 adopts the job's running run
  // (loading-jobs.ts); the emulator itself queues a second run instead (section 1.5).
  409: { retriable: false, meaning: 'conflict: the loading job run is running or cannot resume' },
  413: { retriable: false, meaning: 'request body too large (lower tigergraph.batch.max.bytes)' },
  429: { retriable: true, meaning: 'too many requests' },
  500: { retriable: true, meaning: 'internal server error' },
  502: { retriable: true, meaning: 'bad gateway' },
  503: { retriable: true, meaning: 'service unavailable' },
  504: { retriable: true, meaning: 'gateway timeout' },
};

/** The rule for a response: its REST code first, else its HTTP status, else by class. */
export function classify(status: number, restCode: string | undefined): CodeRule {
  const byCode = restCode === undefined ? undefined : REST_CODES[restCode];
  if (byCode && byCode.meaning !== 'success') return byCode;
  return HTTP_STATUSES[status] ?? { retriable: status >= 500, meaning: `HTTP ${status}` };
}
