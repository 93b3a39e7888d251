import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../infra/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { serverlessPackage } from '../helpers/serverless.ts';
import { testConfig } from '../helpers/fakes.ts';
import { VALID, edit } from '../helpers/config.ts';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown }>;
}

describe('serverless package (offline, no AWS credentials)', () => {
  it('packages one function, event-source mapping and IAM per connector into CloudFormation', () => {
    const out = mkdtempSync(join(tmpdir(), 'tgstream-sls-'));
    // No build step first: packaging builds the bundle and the generator itself.
    rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
    const sls = serverlessPackage('ci', out);
    expect(sls.status, sls.stdout + sls.stderr).toBe(0);
    const template = JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
    const fn = template.Resources.StreamCompanyStreamLambdaFunction;
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: 840,
      Handler: 'dist/stream.handler',
      Environment: { Variables: { TGSTREAM_STAGE: 'ci', TGSTREAM_CONNECTOR: 'company-stream' } },
    });
    const esm = template.Resources.StreamCompanyStreamEventSourceMapping;
    expect(esm?.Type).toBe('AWS::Lambda::EventSourceMapping');
    expect(esm?.Properties).toMatchObject({
      Topics: ['companies'],
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['localhost:9092'] } },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'tigerstream-company-stream' },
      ProvisionedPollerConfig: { MaximumPollers: 3 },
      MaximumRetryAttempts: 10,
    });
    const role = JSON.stringify(template.Resources.IamRoleLambdaExecution);
    expect(role).toContain('parameter/tgstream/${sls:stage}/*'.replace('${sls:stage}', 'ci'));
    expect(template.Resources.DeadLetterBucket?.Type).toBe('AWS::S3::Bucket');

    // Alarms on the function's and the handler's metrics notify one SNS topic.
    const fnRef = [{ Name: 'FunctionName', Value: { Ref: 'StreamCompanyStreamLambdaFunction' } }];
    const actions = { AlarmActions: [{ Ref: 'AlarmTopic' }] };
    expect(template.Resources.StreamCompanyStreamErrorsAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: fnRef,
      Threshold: 1,
      ...actions,
    });
    expect(template.Resources.StreamCompanyStreamOffsetLagAlarm?.Properties).toMatchObject({
      MetricName: 'OffsetLag',
      Dimensions: fnRef,
      Statistic: 'Maximum',
      Threshold: 100000,
      EvaluationPeriods: 3,
    });
    for (const [id, metric] of [
      ['StreamCompanyStreamDeadLetterAlarm', 'dead-letter-count'],
      ['StreamCompanyStreamRejectedAlarm', 'rejected-count'],
    ] as const)
      expect(template.Resources[id]?.Properties).toMatchObject({
        Namespace: 'TigerStream',
        MetricName: metric,
        Dimensions: [
          { Name: 'service', Value: 'tigerstream' },
          { Name: 'stage', Value: 'ci' },
          { Name: 'connector', Value: 'company-stream' },
        ],
        ...actions,
      });
    expect(template.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    const dashboard = template.Resources.Dashboard?.Properties as {
      DashboardName: string;
      DashboardBody: { 'Fn::Sub': string };
    };
    expect(dashboard.DashboardName).toBe('tigerstream-ci');
    const body = JSON.parse(dashboard.DashboardBody['Fn::Sub']) as {
      widgets: { properties: { title: string; region: string; metrics: unknown[][] } }[];
    };
    expect(body.widgets.map((w) => w.properties.title)).toEqual([
      'company-stream: records',
      'company-stream: lag',
      'company-stream: function',
    ]);
    expect(body.widgets[0]?.properties.region).toBe('${AWS::Region}');
    expect(body.widgets[0]?.properties.metrics[0]).toEqual([
      'TigerStream',
      'record-count',
      'service',
      'tigerstream',
      'stage',
      'ci',
      'connector',
      'company-stream',
      { stat: 'Sum' },
    ]);
    expect(body.widgets[1]?.properties.metrics[0]).toEqual([
      'AWS/Lambda',
      'OffsetLag',
      'FunctionName',
      '${StreamCompanyStreamLambdaFunction}',
      { stat: 'Maximum' },
    ]);
    expect(template.Outputs?.AlarmTopicArn?.Value).toEqual({ Ref: 'AlarmTopic' });
  });

  it('uses the MSK cluster ARN and never puts a secret into the template', () => {
    const arn =
      'arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c-9d4e-d7975eb44dd7-2';
    const text = edit('source.cluster.bootstrap.servers', arn, VALID).replace(
      '[connector_1]',
      'tigergraph.auth.password=Sup3rS3cret!\nproducer.security.protocol=SASL_SSL\nproducer.sasl.mechanism=SCRAM-SHA-512\nproducer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="Jaas-P4ss";\n[connector_1]',
    );
    const generated = generate('prod', [testConfig(text)]);
    const json = JSON.stringify(generated);
    expect(json).toContain(arn);
    expect(json).toContain(
      '"AmazonManagedKafkaEventSourceConfig":{"ConsumerGroupId":"tigerstream-company-stream"}',
    );
    expect(json).not.toContain('Sup3rS3cret!');
    expect(json).not.toContain('Jaas-P4ss');
  });

  it('takes the offset-lag threshold from the connector and gives each connector a dashboard row', () => {
    const first = testConfig(edit('tigerstream.alarm.offset.lag', '5000', VALID));
    const second = testConfig(
      VALID.replace('name=company-stream', 'name=people-stream').replace(
        'topics=companies',
        'topics=people',
      ),
    );
    const { resources } = generate('prod', [first, second]) as unknown as {
      resources: { Resources: Record<string, { Properties: Record<string, unknown> }> };
    };
    expect(resources.Resources.StreamCompanyStreamOffsetLagAlarm?.Properties.Threshold).toBe(5000);
    expect(resources.Resources.StreamPeopleStreamOffsetLagAlarm?.Properties.Threshold).toBe(100000);
    const body = JSON.parse(
      (resources.Resources.Dashboard?.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'],
    ) as { widgets: { y: number; properties: { title: string } }[] };
    expect(body.widgets.map((w) => `${w.y} ${w.properties.title}`)).toEqual([
      '0 company-stream: records',
      '0 company-stream: lag',
      '0 company-stream: function',
      '6 people-stream: records',
      '6 people-stream: lag',
      '6 people-stream: function',
    ]);
  });

  it("stops packaging with the validator's own lines, and no stack trace, when a connector file has problems", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-connectors-'));
    writeFileSync(
      join(dir, 'bad.properties'),
      'connector.class=org.apache.kafka.connect.mirror.MirrorSourceConnector\ntasks.max=zero\n[c]\nname=bad\n',
    );
    const sls = serverlessPackage('ci', mkdtempSync(join(tmpdir(), 'tgstream-sls-')), {
      TGSTREAM_CONNECTORS_DIR: dir,
    });
    expect(sls.status).toBe(1);
    expect(sls.stderr).toContain(`tigerstream: cannot package: ${dir} has`);
    expect(sls.stderr).toMatch(
      /bad\.properties:\d+ topics: is required: .* \[CONFIG_TOPICS_MISSING\]/,
    );
    expect(sls.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});
