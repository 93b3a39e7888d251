/** TigerGraph endpoints: the loader client, its tokens, run listing and the REST code table. */
export * from './client.ts';
export * from './codes.ts';
