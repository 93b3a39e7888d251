/**
 * MirrorMaker 2's heartbeats: the record format (format.ts, pure) and the scheduled function's
 * core (handler.ts). When a connector writes them and how often is configuration:
 * `heartbeatScheduleFor` in lib/config.
 */
export * from './format.ts';
export * from './handler.ts';
