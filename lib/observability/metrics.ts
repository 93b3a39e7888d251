/**
 * CloudWatch Embedded Metric Format, written once per invocation. Names follow MirrorMaker
 * 2's where one exists (record-count, byte-count, record-age-ms, replication-latency-ms).
 */
export interface BatchMetrics {
  readonly 'record-count': number;
  readonly 'byte-count': number;
  readonly 'record-age-ms': number;
  readonly 'replication-latency-ms': number;
  readonly 'tombstone-count': number;
  readonly 'loaded-count': number;
  readonly 'rejected-count': number;
  readonly 'dead-letter-count': number;
}

const UNITS: Record<keyof BatchMetrics, string> = {
  'record-count': 'Count',
  'byte-count': 'Bytes',
  'record-age-ms': 'Milliseconds',
  'replication-latency-ms': 'Milliseconds',
  'tombstone-count': 'Count',
  'loaded-count': 'Count',
  'rejected-count': 'Count',
  'dead-letter-count': 'Count',
};

/** The metrics' namespace and default `service` dimension (the IaC's alarms use them too). */
export const METRICS_NAMESPACE = 'TigerStream';
export const METRICS_SERVICE = 'tigerstream';

/** One EMF document (a JSON object CloudWatch turns into metrics). */
export function toEmf(
  metrics: BatchMetrics,
  dimensions: { connector: string; service?: string; stage?: string },
  timestamp: number,
  namespace = METRICS_NAMESPACE,
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          // The stage keeps dev and prod apart when they share an account and region.
          Dimensions: [
            dimensions.stage === undefined
              ? ['service', 'connector']
              : ['service', 'stage', 'connector'],
          ],
          Metrics: (Object.keys(UNITS) as (keyof BatchMetrics)[]).map((name) => ({
            Name: name,
            Unit: UNITS[name],
          })),
        },
      ],
    },
    service: dimensions.service ?? METRICS_SERVICE,
    ...(dimensions.stage === undefined ? {} : { stage: dimensions.stage }),
    connector: dimensions.connector,
    ...metrics,
  };
}
