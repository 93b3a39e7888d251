import { describe, expect, it } from 'vitest';
import { toEmf, type BatchMetrics } from '../../../lib/observability/index.ts';

const METRICS: BatchMetrics = {
  'record-count': 10,
  'byte-count': 1000,
  'record-age-ms': 5,
  'replication-latency-ms': 7,
  'tombstone-count': 1,
  'loaded-count': 8,
  'rejected-count': 0,
  'dead-letter-count': 1,
};

describe('EMF metrics line', () => {
  it('names the stage as a dimension when the Lambda knows it, so stages sharing an account stay apart', () => {
    const emf = toEmf(METRICS, { connector: 'company-stream', stage: 'prod' }, 1_700_000_000_000);
    expect(emf).toMatchObject({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          { Namespace: 'TigerStream', Dimensions: [['service', 'stage', 'connector']] },
        ],
      },
      service: 'tigerstream',
      stage: 'prod',
      connector: 'company-stream',
      'loaded-count': 8,
      'dead-letter-count': 1,
    });
  });

  it('uses service and connector alone when run outside Lambda (no stage)', () => {
    const emf = toEmf(METRICS, { connector: 'company-stream' }, 0) as {
      _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'connector']]);
    expect(emf).not.toHaveProperty('stage');
    expect(emf._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual(
      Object.keys(METRICS).sort(),
    );
  });
});
