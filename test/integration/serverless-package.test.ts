/**
 * `serverless package` as a user runs it (offline, no AWS credentials), three times: the shipped
 * example straight after `npm ci` (no dist/), the same directory with connector files dropped
 * in (test/fixtures/deploy: MSK with IAM and SCRAM, self-managed with SCRAM, PLAIN, mTLS and a
 * private CA, and in a VPC), and files that cannot be deployed (the reference page's Kerberos
 * example). The generated CloudFormation is asserted, and linted with cfn-lint.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cfnLint,
  findCfnLint,
  readTemplate,
  resource,
  secretValuesOf,
  statement,
  statementsOf,
  type CfnResource,
  type Template,
} from '../helpers/cfn.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { serverlessPackage } from '../helpers/serverless.ts';

const SHIPPED = join(ROOT, 'infra', 'connectors');
const DROPPED = join(ROOT, 'test', 'fixtures', 'deploy');
const CFN_LINT = findCfnLint();
if (CFN_LINT === undefined)
  console.warn(
    'cfn-lint is not installed (pip install cfn-lint, or set CFN_LINT): the generated templates are NOT linted; that test is skipped',
  );

const props = (t: Template, id: string) => resource(t, id).Properties;
const packageInto = (env: Record<string, string> = {}) => {
  const out = mkdtempSync(join(tmpdir(), 'tgstream-sls-'));
  return { out, sls: serverlessPackage('ci', out, env) };
};

describe('serverless package (offline, no AWS credentials)', () => {
  let shipped: { out: string; template: Template };
  let dropped: { out: string; template: Template; dir: string; stderr: string };

  beforeAll(() => {
    // No build step first: packaging builds the bundles and the generator itself.
    rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
    const first = packageInto();
    expect(first.sls.status, first.sls.stdout + first.sls.stderr).toBe(0);
    shipped = { out: first.out, template: readTemplate(first.out) };
    // The shipped directory with connector files dropped in, nothing else edited.
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-connectors-'));
    cpSync(SHIPPED, dir, { recursive: true });
    for (const f of readdirSync(DROPPED).filter((n) => n.endsWith('.properties')))
      cpSync(join(DROPPED, f), join(dir, f));
    const second = packageInto({ TGSTREAM_CONNECTORS_DIR: dir });
    expect(second.sls.status, second.sls.stdout + second.sls.stderr).toBe(0);
    dropped = {
      out: second.out,
      template: readTemplate(second.out),
      dir,
      stderr: second.sls.stderr,
    };
  }, 240_000);

  it('packages the shipped example: function, trigger, role, configuration, heartbeat schedule', () => {
    const t = shipped.template;
    expect(props(t, 'StreamCompanyStreamLambdaFunction')).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: 840,
      Handler: 'dist/stream.handler',
      FunctionName: 'tigerstream-ci-streamCompanyStream',
      Role: { 'Fn::Sub': '${CompanyStreamRole.Arn}' },
      Environment: { Variables: { TGSTREAM_STAGE: 'ci', TGSTREAM_CONNECTOR: 'company-stream' } },
    });
    expect(props(t, 'CompanyStreamEventSourceMapping')).toEqual({
      FunctionName: { 'Fn::GetAtt': ['StreamCompanyStreamLambdaFunction', 'Arn'] },
      Topics: ['companies'],
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      Enabled: true,
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['localhost:9092'] } },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'tigerstream-company-stream' },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
      MaximumRetryAttempts: 10,
      BisectBatchOnFunctionError: true,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${CompanyStreamDeadLetterBucket}' },
        },
      },
    });
    // emit.heartbeats.interval.seconds=5: MirrorMaker's heartbeats, once a minute at most.
    expect(props(t, 'HeartbeatCompanyStreamLambdaFunction')).toMatchObject({
      Handler: 'dist/heartbeat.handler',
      Runtime: 'nodejs22.x',
      Role: { 'Fn::Sub': '${CompanyStreamRole.Arn}' },
      Environment: { Variables: { TGSTREAM_STAGE: 'ci', TGSTREAM_CONNECTOR: 'company-stream' } },
    });
    expect(props(t, 'HeartbeatCompanyStreamEventsRuleSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['HeartbeatCompanyStreamLambdaFunction', 'Arn'] } }],
    });
    // No provider-wide role: every function runs as its connector's own.
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(t.Description).toContain("until 'tgstream connector create --c <file> --stage ci'");
    const parameter = props(t, 'CompanyStreamConfigParameter');
    expect(parameter).toMatchObject({
      Name: '/tgstream/ci/company-stream/config',
      Type: 'String',
      Tier: 'Standard',
    });
    expect(JSON.parse(parameter.Value as string)).toMatchObject({
      format: 1,
      name: 'company-stream',
      section: 'connector_1',
      settings: { topics: 'companies', 'tigerstream.esm.batch.size': '500' },
      secretKeys: [],
    });
  });

  it('adds a connector file dropped into the connectors directory, with nothing else edited', () => {
    const before = Object.keys(shipped.template.Resources);
    const after = Object.keys(dropped.template.Resources);
    expect(before.filter((id) => id.endsWith('EventSourceMapping'))).toEqual([
      'CompanyStreamEventSourceMapping',
    ]);
    expect(after.filter((id) => id.endsWith('EventSourceMapping')).sort()).toEqual(
      [
        'CompanyStreamEventSourceMapping',
        'CrmOwnSecretEventSourceMapping',
        'CrmPlainEventSourceMapping',
        'CrmScramEventSourceMapping',
        'ErpVpcEventSourceMapping',
        'IotMtlsEventSourceMapping',
        'OrdersIamOrdersEventSourceMapping',
        'OrdersIamRefundsEventSourceMapping',
        'OrdersOauthEventSourceMapping',
        'ShopScramEventSourceMapping',
      ].sort(),
    );
    // Nothing the dropped files do not ask for is in the example's part of the template.
    // (The configuration parameter's description names the file's directory, which differs.)
    const value = (t: Template) => props(t, 'CompanyStreamConfigParameter').Value;
    expect(value(dropped.template)).toEqual(value(shipped.template));
    // Functions compared without their code location, which names the package's time.
    const same = ({ Type, Properties }: CfnResource) => ({
      Type,
      Properties: { ...Properties, Code: undefined },
    });
    const ours = before.filter(
      (id) => /CompanyStream/.test(id) && !/(ConfigParameter|LambdaVersion)/.test(id),
    );
    expect(ours.length).toBeGreaterThan(10);
    for (const id of ours)
      expect(same(resource(dropped.template, id)), id).toEqual(
        same(resource(shipped.template, id)),
      );
    expect(dropped.stderr).not.toContain('CONFIG_KEY_UNKNOWN');
  });

  it('reads an MSK source over IAM: no secret, kafka-cluster:* on its cluster, topic and group ARNs', () => {
    const t = dropped.template;
    const cluster =
      'arn:aws:kafka:us-east-1:123456789012:cluster/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2';
    const under = (kind: string, name: string) =>
      `arn:aws:kafka:us-east-1:123456789012:${kind}/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2/${name}`;
    // One mapping per topic (a mapping reads one topic), each with its own consumer group.
    for (const topic of ['orders', 'refunds']) {
      const esm = props(
        t,
        `OrdersIam${topic === 'orders' ? 'Orders' : 'Refunds'}EventSourceMapping`,
      );
      expect(esm).toMatchObject({
        EventSourceArn: cluster,
        Topics: [topic],
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `tigerstream-orders-iam.${topic}` },
        ProvisionedPollerConfig: { MaximumPollers: 2 },
      });
      expect(esm.SourceAccessConfigurations).toBeUndefined();
    }
    expect(statement(t, 'OrdersIamRole', 'SourceIamConnect')).toMatchObject({
      Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      Resource: cluster,
    });
    expect(statement(t, 'OrdersIamRole', 'SourceIamReadTopics')).toMatchObject({
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      Resource: [under('topic', 'orders'), under('topic', 'refunds')],
    });
    expect(statement(t, 'OrdersIamRole', 'SourceIamConsumerGroup')).toMatchObject({
      Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      Resource: [
        under('group', 'tigerstream-orders-iam.orders'),
        under('group', 'tigerstream-orders-iam.refunds'),
      ],
    });
    expect(statement(t, 'OrdersIamRole', 'SourceClusterLookup').Resource).toBe(cluster);
    // OAUTHBEARER with MSK's IAM login module is IAM too; its producer writes an MSK target over IAM.
    expect(props(t, 'OrdersOauthEventSourceMapping').SourceAccessConfigurations).toBeUndefined();
    expect(statement(t, 'OrdersOauthRole', 'SourceIamConsumerGroup').Resource).toEqual([
      under('group', 'tigerstream-orders-oauth'),
    ]);
    const target =
      'arn:aws:kafka:us-east-1:123456789012:cluster/graph-feed/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-1';
    expect(statement(t, 'OrdersOauthRole', 'TargetIamWriteTopics')).toMatchObject({
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      Resource: [`${target.replace(':cluster/', ':topic/')}/orders.payments`],
    });
    expect(statement(t, 'OrdersOauthRole', 'TargetClusterBrokers').Resource).toBe(target);
  });

  it('logs in to MSK with SCRAM through an AmazonMSK_ secret the stack creates empty, under its own key', () => {
    const t = dropped.template;
    expect(props(t, 'ShopScramEventSourceMapping')).toMatchObject({
      EventSourceArn: expect.stringContaining(':cluster/shop/') as unknown,
      SourceAccessConfigurations: [
        { Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: 'ShopScramSourceSecret' } },
      ],
    });
    const secret = props(t, 'ShopScramSourceSecret');
    expect(secret).toMatchObject({
      Name: 'AmazonMSK_tgstream/ci/shop-scram/source-auth',
      KmsKeyId: { Ref: 'SourceSecretsKey' },
    });
    expect(secret.SecretString).toBeUndefined();
    expect(secret.GenerateSecretString).toBeUndefined();
    expect(resource(t, 'SourceSecretsKey').Type).toBe('AWS::KMS::Key');
    expect(statement(t, 'ShopScramRole', 'TriggerSecretsRead')).toMatchObject({
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [{ Ref: 'ShopScramSourceSecret' }],
    });
  });

  it('logs in to self-managed clusters with SCRAM-SHA-256, PLAIN, or a secret the user names', () => {
    const t = dropped.template;
    const access = (id: string) => props(t, id).SourceAccessConfigurations;
    expect(access('CrmScramEventSourceMapping')).toEqual([
      { Type: 'SASL_SCRAM_256_AUTH', URI: { Ref: 'CrmScramSourceSecret' } },
    ]);
    expect(props(t, 'CrmScramSourceSecret').Name).toBe('tgstream/ci/crm-scram/source-auth');
    expect(access('CrmPlainEventSourceMapping')).toEqual([
      { Type: 'BASIC_AUTH', URI: { Ref: 'CrmPlainSourceSecret' } },
    ]);
    const own = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:crm/kafka-reader-AbCdEf';
    expect(access('CrmOwnSecretEventSourceMapping')).toEqual([
      { Type: 'SASL_SCRAM_512_AUTH', URI: own },
    ]);
    expect(t.Resources.CrmOwnSecretSourceSecret).toBeUndefined();
    expect(statement(t, 'CrmOwnSecretRole', 'TriggerSecretsRead').Resource).toEqual([own]);
  });

  it('logs in with a client certificate and trusts a private CA through two secrets', () => {
    const t = dropped.template;
    expect(props(t, 'IotMtlsEventSourceMapping').SourceAccessConfigurations).toEqual([
      { Type: 'CLIENT_CERTIFICATE_TLS_AUTH', URI: { Ref: 'IotMtlsSourceSecret' } },
      { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: { Ref: 'IotMtlsSourceCaSecret' } },
    ]);
    expect(props(t, 'IotMtlsSourceSecret').Name).toBe('tgstream/ci/iot-mtls/source-auth');
    expect(props(t, 'IotMtlsSourceCaSecret').Name).toBe('tgstream/ci/iot-mtls/source-ca');
    expect(statement(t, 'IotMtlsRole', 'TriggerSecretsRead').Resource).toEqual([
      { Ref: 'IotMtlsSourceSecret' },
      { Ref: 'IotMtlsSourceCaSecret' },
    ]);
    // The deployed configuration is what `connector create` writes: stores as PEM keys (secrets,
    // only named), the Avro schema file inlined.
    const doc = JSON.parse(props(t, 'IotMtlsConfigParameter').Value as string) as {
      settings: Record<string, string>;
      secretKeys: string[];
    };
    expect(doc.settings['consumer.ssl.keystore.location']).toBeUndefined();
    expect(doc.settings['consumer.ssl.keystore.type']).toBe('PEM');
    expect(JSON.parse(doc.settings['value.converter.schemas'] ?? '')).toMatchObject([
      { name: 'Company' },
    ]);
    expect(doc.secretKeys).toEqual([
      'consumer.ssl.keystore.certificate.chain',
      'consumer.ssl.keystore.key',
      'consumer.ssl.truststore.certificates',
      'tigergraph.auth.secret',
    ]);
  });

  it('puts a self-managed trigger and the function into VPC subnets, with the network-interface grant', () => {
    const t = dropped.template;
    expect(props(t, 'ErpVpcEventSourceMapping').SourceAccessConfigurations).toEqual([
      { Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: 'ErpVpcSourceSecret' } },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0a1b2c3d4e5f60718' },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0f1e2d3c4b5a69788' },
      { Type: 'VPC_SECURITY_GROUP', URI: 'security_group:sg-0123456789abcdef0' },
    ]);
    expect(props(t, 'StreamErpVpcLambdaFunction').VpcConfig).toEqual({
      SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa'],
      SecurityGroupIds: ['sg-0bbbbbbbbbbbbbbbb'],
    });
    expect(statement(t, 'ErpVpcRole', 'NetworkInterfaces').Action).toContain(
      'ec2:AssignPrivateIpAddresses',
    );
    expect(props(t, 'StreamCrmScramLambdaFunction').VpcConfig).toBeUndefined();
    expect(statementsOf(t, 'CrmScramRole').map((s) => s.Sid)).not.toContain('NetworkInterfaces');
  });

  it('gives each connector its own least-privilege role', () => {
    const t = dropped.template;
    const roles = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(9);
    for (const [id, role] of roles) {
      const connector = (role.Properties.Description as string).split(' ')[2] ?? '';
      for (const s of statementsOf(t, id)) {
        expect(s.Effect).toBe('Allow');
        for (const a of s.Action) expect(a, `${id} ${s.Sid}`).not.toMatch(/(^|:)\*$/);
        // '*' only where EC2 has no resource-level permission (network interfaces).
        if (JSON.stringify(s.Resource).includes('"*"'))
          expect(
            s.Action.every((a) => a.startsWith('ec2:')),
            `${id} ${s.Sid}`,
          ).toBe(true);
        const text = JSON.stringify(s.Resource);
        for (const ssm of text.match(/parameter\/tgstream\/[^"]*/g) ?? [])
          expect(ssm).toMatch(new RegExp(`^parameter/tgstream/ci/${connector}(/|$)`));
      }
      expect(statement(t, id, 'DecryptThroughSsmAndSecretsManager').Condition).toBeDefined();
    }
    expect(statement(t, 'CrmPlainRole', 'RunRegistryWrite').Resource).toEqual({
      'Fn::Sub':
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/tgstream/ci/crm-plain/runs/*',
    });
    expect(statement(t, 'CrmPlainRole', 'DeadLetterWrite').Resource).toEqual({
      'Fn::Sub': '${CrmPlainDeadLetterBucket.Arn}/*',
    });
    expect(statement(t, 'CrmPlainRole', 'Logs').Resource).toEqual([
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/tigerstream-ci-streamCrmPlain:*',
      },
    ]);
  });

  it('keeps every secret of the connector files out of the template', () => {
    const files = readdirSync(dropped.dir).map((f) => join(dropped.dir, f));
    const secrets = secretValuesOf(files);
    expect(secrets).toEqual(
      expect.arrayContaining(['Msk-Scram-Pa55', 'p12-pass', 'trust-pass', 'Restpp-Secret-0123']),
    );
    const text = JSON.stringify(dropped.template);
    for (const s of secrets) expect(text, 'a secret value is in the template').not.toContain(s);
  });

  it('raises alarms and draws a dashboard row per connector', () => {
    const t = dropped.template;
    expect(props(t, 'StreamErpVpcOffsetLagAlarm')).toMatchObject({
      MetricName: 'OffsetLag',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'StreamErpVpcLambdaFunction' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    const body = JSON.parse(
      (props(t, 'Dashboard').DashboardBody as { 'Fn::Sub': string })['Fn::Sub'],
    ) as { widgets: { properties: { title: string } }[] };
    expect(body.widgets.filter((w) => w.properties.title.endsWith(': records'))).toHaveLength(9);
  });

  it.skipIf(CFN_LINT === undefined)(
    `cfn-lint finds no error in either template${CFN_LINT === undefined ? ' (SKIPPED: cfn-lint is not installed)' : ''}`,
    () => {
      for (const out of [shipped.out, dropped.out]) {
        const lint = cfnLint(
          CFN_LINT ?? '',
          join(out, 'cloudformation-template-update-stack.json'),
        );
        expect(lint.errors, `${lint.version} on ${out}`).toEqual([]);
      }
    },
  );

  it("stops packaging with the validator's own lines, no stack trace, for what a trigger cannot use", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgstream-connectors-'));
    cpSync(
      join(ROOT, 'test/fixtures/reference-page/connector.properties'),
      join(dir, 'reference.properties'),
    );
    writeFileSync(
      join(dir, 'bad.properties'),
      'connector.class=org.apache.kafka.connect.mirror.MirrorSourceConnector\ntasks.max=zero\n[c]\nname=bad\n',
    );
    const { sls } = packageInto({ TGSTREAM_CONNECTORS_DIR: dir });
    expect(sls.status).toBe(1);
    expect(sls.stderr).toContain(`tigerstream: cannot package: ${dir} has`);
    expect(sls.stderr).toMatch(
      /bad\.properties:\d+ topics: is required: .* \[CONFIG_TOPICS_MISSING\]/,
    );
    // The reference page's own example: Kerberos on the trigger's side and the producer's.
    expect(sls.stderr).toMatch(
      /reference\.properties:33 consumer\.sasl\.mechanism: GSSAPI \(Kerberos\), which a Lambda Kafka trigger cannot authenticate with; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 \(self-managed\), or mTLS with security\.protocol=SSL \[CONFIG_SASL_GSSAPI_UNSUPPORTED\]/,
    );
    expect(sls.stderr).toMatch(
      /reference\.properties:23 producer\.sasl\.mechanism: GSSAPI .*\[CONFIG_SASL_GSSAPI_UNSUPPORTED\]/,
    );
    expect(sls.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});
