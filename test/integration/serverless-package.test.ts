import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../infra/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { testConfig } from '../helpers/fakes.ts';
import { VALID, edit } from '../helpers/config.ts';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

describe('serverless package (offline, no AWS credentials)', () => {
  it('packages one function, event-source mapping and IAM per connector into CloudFormation', () => {
    const out = mkdtempSync(join(tmpdir(), 'tgstream-sls-'));
    const env = {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
    };
    const build = spawnSync(process.execPath, ['scripts/build-lambda.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
      env,
    });
    expect(build.status, build.stderr).toBe(0);
    const sls = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'),
        'package',
        '--stage',
        'ci',
        '--package',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', env, timeout: 240_000 },
    );
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
});
