import { afterEach, describe, expect, it } from 'vitest';
import {
  BATCH_METRIC_UNITS,
  createMetrics,
  recordBatchMetrics,
  type BatchMetrics,
} from '../../../lib/observability/index.ts';

const METRICS: BatchMetrics = {
  'record-count': 10,
  'byte-count': 1000,
  'record-age-ms': 5,
  'replication-latency-ms': 7,
  'tombstone-count': 1,
  'loaded-count': 7,
  'rejected-count': 1,
  'dead-letter-count': 1,
  'objects-loaded-count': 14,
  'objects-rejected-count': 2,
  'retry-count': 3,
};

/** Captures what Powertools writes to stdout (its Console writes through process.stdout). */
function captureStdout(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  return { lines, restore: () => (process.stdout.write = write) };
}

describe('batch metrics through Powertools Metrics', () => {
  let restore = (): void => undefined;
  afterEach(() => restore());

  it('writes one EMF document with MirrorMaker names and dimensions service, stage, connector', () => {
    const out = captureStdout();
    restore = out.restore;
    const metrics = createMetrics({ stage: 'prod', connector: 'company-stream' });
    recordBatchMetrics(metrics, METRICS);
    metrics.publishStoredMetrics();
    out.restore();
    expect(out.lines).toHaveLength(1);
    const emf = JSON.parse(out.lines[0] as string) as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: {
          Namespace: string;
          Dimensions: string[][];
          Metrics: { Name: string; Unit: string }[];
        }[];
      };
    };
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('TigerStream');
    expect([...(directive?.Dimensions[0] ?? [])].sort()).toEqual(['connector', 'service', 'stage']);
    expect(emf).toMatchObject({
      service: 'tigerstream',
      stage: 'prod',
      connector: 'company-stream',
      'record-count': 10,
      'byte-count': 1000,
      'record-age-ms': 5,
      'replication-latency-ms': 7,
      'loaded-count': 7,
      'rejected-count': 1,
      'dead-letter-count': 1,
      'objects-loaded-count': 14,
      'objects-rejected-count': 2,
      'retry-count': 3,
    });
    expect(Object.fromEntries((directive?.Metrics ?? []).map((m) => [m.Name, m.Unit]))).toEqual(
      BATCH_METRIC_UNITS,
    );
  });

  it('writes a ColdStart metric once per container when Lambda says the start is on demand', () => {
    // Lambda sets this in every on-demand execution environment; Powertools reads it.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const out = captureStdout();
    restore = out.restore;
    const metrics = createMetrics({ stage: 'dev', connector: 'c' });
    metrics.captureColdStartMetric('fn');
    metrics.captureColdStartMetric('fn');
    out.restore();
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    const cold = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(cold).toHaveLength(1);
    expect(cold[0]).toMatchObject({ ColdStart: 1, service: 'tigerstream', function_name: 'fn' });
  });
});
