/**
 * What a deployed connector reports: CloudWatch alarms per connector (notifying the stage's SNS
 * topic) on the function's metrics and the handler's EMF metrics, and one row per connector
 * in the stage's dashboard.
 */
import type { ConnectorConfig } from '../lib/config/index.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../lib/observability/index.ts';
import type { Resource, Resources } from './template.ts';

/** The dimensions of the handler's EMF metrics (lib/observability/metrics.ts). */
const emfDimensions = (c: ConnectorConfig, stage: string): { Name: string; Value: string }[] => [
  { Name: 'service', Value: METRICS_SERVICE },
  { Name: 'stage', Value: stage },
  { Name: 'connector', Value: c.name },
];

const alarm = (
  description: string,
  metric: {
    namespace: string;
    name: string;
    dimensions: { Name: string; Value: unknown }[];
    statistic: 'Sum' | 'Maximum';
  },
  threshold: number,
  periods = 1,
): Resource => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    Namespace: metric.namespace,
    MetricName: metric.name,
    Dimensions: metric.dimensions,
    Statistic: metric.statistic,
    Period: 300,
    EvaluationPeriods: periods,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    // No data means no batches: nothing failed.
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: 'AlarmTopic' }],
    OKActions: [{ Ref: 'AlarmTopic' }],
  },
});

/** The alarms of one connector, keyed by logical id. */
export function alarms(
  c: ConnectorConfig,
  stage: string,
  fnName: string,
  fnLogicalId: string,
): Resources {
  const fn = [{ Name: 'FunctionName', Value: { Ref: fnLogicalId } }];
  const who = `TigerStream connector ${c.name}`;
  return {
    [`${fnName}ErrorsAlarm`]: alarm(
      `${who}: the function failed a batch. Lambda retries it (10 attempts, halving the batch), then writes it to the dead-letter bucket. See the function's log for the error code.`,
      { namespace: 'AWS/Lambda', name: 'Errors', dimensions: fn, statistic: 'Sum' },
      1,
    ),
    [`${fnName}ThrottlesAlarm`]: alarm(
      `${who}: invocations were throttled (account or reserved concurrency); the topic falls behind.`,
      { namespace: 'AWS/Lambda', name: 'Throttles', dimensions: fn, statistic: 'Sum' },
      1,
    ),
    [`${fnName}OffsetLagAlarm`]: alarm(
      `${who}: at least ${c.alarms.offsetLag} records are waiting in the source topics for 15 minutes (tigerstream.alarm.offset.lag).`,
      { namespace: 'AWS/Lambda', name: 'OffsetLag', dimensions: fn, statistic: 'Maximum' },
      c.alarms.offsetLag,
      3,
    ),
    [`${fnName}DeadLetterAlarm`]: alarm(
      `${who}: records went to the dead-letter target (errors.tolerance=all). Their headers name the error code, topic, partition and offset.`,
      {
        namespace: METRICS_NAMESPACE,
        name: 'dead-letter-count',
        dimensions: emfDimensions(c, stage),
        statistic: 'Sum',
      },
      1,
    ),
    [`${fnName}RejectedAlarm`]: alarm(
      `${who}: TigerGraph rejected lines of a loading run (invalid or missing values for the loading job).`,
      {
        namespace: METRICS_NAMESPACE,
        name: 'rejected-count',
        dimensions: emfDimensions(c, stage),
        statistic: 'Sum',
      },
      1,
    ),
  };
}

/** The body of the stage's dashboard: per connector, records, lag and function health. */
export function dashboardBody(
  stage: string,
  rows: { c: ConnectorConfig; fnLogicalId: string }[],
): string {
  const widgets = rows.flatMap(({ c, fnLogicalId }, i) => {
    const emf = (name: string, stat: string): unknown[] => [
      METRICS_NAMESPACE,
      name,
      'service',
      METRICS_SERVICE,
      'stage',
      stage,
      'connector',
      c.name,
      { stat },
    ];
    const fn = (name: string, stat: string): unknown[] => [
      'AWS/Lambda',
      name,
      'FunctionName',
      `\${${fnLogicalId}}`,
      { stat },
    ];
    const widget = (x: number, title: string, metrics: unknown[][]): Record<string, unknown> => ({
      type: 'metric',
      x,
      y: i * 6,
      width: 8,
      height: 6,
      properties: {
        title: `${c.name}: ${title}`,
        region: '${AWS::Region}',
        period: 300,
        view: 'timeSeries',
        metrics,
      },
    });
    return [
      widget(0, 'records', [
        emf('record-count', 'Sum'),
        emf('loaded-count', 'Sum'),
        emf('rejected-count', 'Sum'),
        emf('dead-letter-count', 'Sum'),
        emf('tombstone-count', 'Sum'),
      ]),
      widget(8, 'lag', [
        fn('OffsetLag', 'Maximum'),
        emf('replication-latency-ms', 'Maximum'),
        emf('record-age-ms', 'Maximum'),
      ]),
      widget(16, 'function', [
        fn('Invocations', 'Sum'),
        fn('Errors', 'Sum'),
        fn('Throttles', 'Sum'),
        fn('Duration', 'p99'),
      ]),
    ];
  });
  return JSON.stringify({ widgets });
}
