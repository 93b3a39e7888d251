/** The stream: batch processing, the batch policy, and the handler. */
export * from './handler.ts';
export * from './policy.ts';
export * from './process.ts';
export * from './run-registry.ts';
