/** The embedded default: broker, TigerGraph emulator, local ESM runner. */
export * from './mock-cluster.ts';
export * from './emulator.ts';
export * from './runner.ts';
export { parseGsql } from './gsql.ts';
export { GraphStore } from './graph-store.ts';
export * from './schema-registry.ts';
export * from './stack.ts';
