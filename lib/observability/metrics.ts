/**
 * CloudWatch metrics through Powertools for AWS Lambda's Metrics (Embedded Metric Format),
 * flushed once per invocation by its middy middleware. Names follow MirrorMaker 2's where one
 * exists (record-count, byte-count, record-age-ms, replication-latency-ms).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The metrics of one batch. */
export interface BatchMetrics {
  readonly 'record-count': number;
  readonly 'byte-count': number;
  readonly 'record-age-ms': number;
  readonly 'replication-latency-ms': number;
  readonly 'tombstone-count': number;
  readonly 'loaded-count': number;
  readonly 'rejected-count': number;
  readonly 'dead-letter-count': number;
  readonly 'objects-loaded-count': number;
  readonly 'objects-rejected-count': number;
  readonly 'retry-count': number;
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export const BATCH_METRIC_UNITS: Readonly<Record<keyof BatchMetrics, Unit>> = {
  'record-count': MetricUnit.Count,
  'byte-count': MetricUnit.Bytes,
  'record-age-ms': MetricUnit.Milliseconds,
  'replication-latency-ms': MetricUnit.Milliseconds,
  'tombstone-count': MetricUnit.Count,
  'loaded-count': MetricUnit.Count,
  'rejected-count': MetricUnit.Count,
  'dead-letter-count': MetricUnit.Count,
  'objects-loaded-count': MetricUnit.Count,
  'objects-rejected-count': MetricUnit.Count,
  'retry-count': MetricUnit.Count,
};

/** A failed invocation (the batch is redelivered): counted per connector. */
export const BATCH_FAILED_METRIC = 'batch-failed-count';

/** The metrics' namespace and `service` dimension (the IaC's alarms use them too). */
export const METRICS_NAMESPACE = 'TigerStream';
export const METRICS_SERVICE = 'tigerstream';

/** Where metrics go: Powertools' Metrics, or a test's recorder. */
export interface MetricsSink {
  addMetric(name: string, unit: Unit, value: number): unknown;
}

/** Adds one batch's metrics to the sink (flushed by the logMetrics middleware). */
export function recordBatchMetrics(sink: MetricsSink, metrics: BatchMetrics): void {
  for (const name of Object.keys(BATCH_METRIC_UNITS) as (keyof BatchMetrics)[])
    sink.addMetric(name, BATCH_METRIC_UNITS[name], metrics[name]);
}

/**
 * Powertools' Metrics with TigerStream's namespace and dimensions `service`, `stage` (keeps
 * dev and prod apart when they share an account and region) and `connector`.
 *
 * @example const metrics = createMetrics({ stage: 'prod', connector: 'company-stream' });
 */
export function createMetrics(dimensions: { stage: string; connector: string }): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: METRICS_SERVICE,
    defaultDimensions: { stage: dimensions.stage, connector: dimensions.connector },
  });
}
