/** Structured logs and EMF metrics. */
export * from './logger.ts';
export * from './metrics.ts';
