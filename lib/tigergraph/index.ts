/** TigerGraph endpoints: the loader client and the REST code table. */
export * from './client.ts';
export * from './codes.ts';
