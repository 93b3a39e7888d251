/**
 * `serverless package` as a user runs it (offline, no AWS credentials) in a fresh clone of the
 * working tree (test/helpers/serverless.ts: no dist/, node_modules as `npm ci` leaves it),
 * three times: the shipped example, the same clone with connector files dropped into its
 * infra/connectors/ (test/fixtures/deploy: MSK with IAM and SCRAM, self-managed with SCRAM,
 * PLAIN, mTLS and a private CA, and in a VPC), and files that cannot be deployed (the reference
 * page's Kerberos example, a login inside a URL). The generated CloudFormation is asserted, and
 * linted with cfn-lint.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { freshClone, serverlessPackage } from '../helpers/serverless.ts';

const DROPPED = join(ROOT, 'test', 'fixtures', 'deploy');
const CFN_LINT = findCfnLint();
if (CFN_LINT === undefined)
  console.warn(
    'cfn-lint is not installed (pip install cfn-lint, or set CFN_LINT): the generated templates are NOT linted; that test is skipped',
  );

const props = (t: Template, id: string) => resource(t, id).Properties;

describe('serverless package (offline, no AWS credentials)', () => {
  const clone = freshClone();
  const packageInto = (env: Record<string, string> = {}) => {
    const out = mkdtempSync(join(tmpdir(), 'tgstream-sls-'));
    return { out, sls: serverlessPackage('ci', out, env, clone.dir) };
  };
  let shipped: { out: string; template: Template; stderr: string };
  let dropped: { out: string; template: Template; files: string[]; stderr: string };

  beforeAll(() => {
    // As after `git clone` and `npm ci`: no build step first, packaging builds what it needs.
    expect(existsSync(join(clone.dir, 'dist'))).toBe(false);
    const first = packageInto();
    expect(first.sls.status, first.sls.stdout + first.sls.stderr).toBe(0);
    shipped = { out: first.out, template: readTemplate(first.out), stderr: first.sls.stderr };
    // Connector files dropped into infra/connectors/, nothing else edited; taken out again after.
    const connectors = join(clone.dir, 'infra', 'connectors');
    const files = readdirSync(DROPPED).filter((n) => n.endsWith('.properties'));
    try {
      for (const f of files) cpSync(join(DROPPED, f), join(connectors, f));
      const second = packageInto();
      expect(second.sls.status, second.sls.stdout + second.sls.stderr).toBe(0);
      dropped = {
        out: second.out,
        template: readTemplate(second.out),
        files: files.map((f) => join(DROPPED, f)),
        stderr: second.sls.stderr,
      };
    } finally {
      for (const f of files) rmSync(join(connectors, f), { force: true });
    }
  }, 300_000);
  afterAll(() => clone.remove());

  it('packages the shipped example: function, trigger, role, configuration, heartbeat schedule', () => {
    const t = shipped.template;
    expect(props(t, 'StreamCompanyStreamLambdaFunction')).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: 840,
      Handler: 'dist/stream.handler',
      FunctionName: 'tigerstream-ci-streamCompanyStream',
      Role: { 'Fn::Sub': '${CompanyStreamRole.Arn}' },
      MemorySize: 1024,
      // Lambda's bootstrap's semi-space for 1,024 MB (a tenth, halved), set here as well.
      Environment: {
        Variables: {
          TGSTREAM_STAGE: 'ci',
          TGSTREAM_CONNECTOR: 'company-stream',
          NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=51',
        },
      },
    });
    expect(props(t, 'CompanyStreamCompaniesEventSourceMapping')).toEqual({
      FunctionName: { 'Fn::GetAtt': ['StreamCompanyStreamLambdaFunction', 'Arn'] },
      Topics: ['companies'],
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      Enabled: true,
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['localhost:9092'] } },
      SelfManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'tigerstream-company-stream.companies',
      },
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
      MemorySize: 256,
      Environment: {
        Variables: {
          TGSTREAM_STAGE: 'ci',
          TGSTREAM_CONNECTOR: 'company-stream',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    expect(props(t, 'HeartbeatCompanyStreamEventsRuleSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['HeartbeatCompanyStreamLambdaFunction', 'Arn'] } }],
    });
    // No provider-wide role: every function runs as its connector's own.
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(t.Description).toContain("'serverless deploy' writes the SecureString secrets");
    const parameter = props(t, 'CompanyStreamConfigParameter');
    expect(parameter).toMatchObject({
      Name: '/tgstream/ci/company-stream/config',
      Type: 'String',
      Tier: 'Intelligent-Tiering',
    });
    expect(JSON.parse(parameter.Value as string)).toMatchObject({
      format: 1,
      name: 'company-stream',
      section: 'connector_1',
      settings: { topics: 'companies', 'tigerstream.esm.batch.size': '500' },
      secretKeys: [],
    });
    // Packaged, but said plainly: localhost is for `npm start`, not for a deployed connector.
    expect(shipped.stderr).toMatch(
      /tigerstream: warning: infra\/connectors\/company\.properties:\d+ source\.cluster\.bootstrap\.servers: is localhost:9092, a loopback address .*\[CONFIG_TRIGGER_SOURCE_LOOPBACK\]/,
    );
  });

  it('adds a connector file dropped into the connectors directory, with nothing else edited', () => {
    const before = Object.keys(shipped.template.Resources);
    const after = Object.keys(dropped.template.Resources);
    expect(before.filter((id) => id.endsWith('EventSourceMapping'))).toEqual([
      'CompanyStreamCompaniesEventSourceMapping',
    ]);
    expect(after.filter((id) => id.endsWith('EventSourceMapping')).sort()).toEqual(
      [
        'CompanyStreamCompaniesEventSourceMapping',
        'CrmOwnSecretAccountsEventSourceMapping',
        'CrmPlainAccountsEventSourceMapping',
        'CrmScramAccountsEventSourceMapping',
        'ErpEdgePaymentsEventSourceMapping',
        'ErpVpcInvoicesEventSourceMapping',
        'IotMtlsReadingsEventSourceMapping',
        'OrdersIamOrdersEventSourceMapping',
        'OrdersIamRefundsEventSourceMapping',
        'OrdersOauthPaymentsEventSourceMapping',
        'ShopScramCustomersEventSourceMapping',
      ].sort(),
    );
    // Nothing the dropped files do not ask for is in the example's part of the template.
    // Functions compared without their code location, which names the package's time.
    const same = ({ Type, Properties }: CfnResource) => ({
      Type,
      Properties: { ...Properties, Code: undefined },
    });
    const ours = before.filter((id) => /CompanyStream/.test(id) && !/LambdaVersion/.test(id));
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
    // The trigger looks the cluster up (DescribeClusterV2 for MSK Serverless) on its ARN only.
    expect(statement(t, 'OrdersIamRole', 'SourceClusterLookup')).toMatchObject({
      Action: ['kafka:DescribeClusterV2', 'kafka:DescribeCluster', 'kafka:GetBootstrapBrokers'],
      Resource: cluster,
    });
    // It puts its network interfaces in the cluster's subnets: EC2's actions on '*', and none
    // of those only a function in a VPC needs (the function is not in one).
    expect(statement(t, 'OrdersIamRole', 'NetworkInterfaces')).toMatchObject({
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeVpcs',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    });
    expect(props(t, 'StreamOrdersIamLambdaFunction').VpcConfig).toBeUndefined();
    // OAUTHBEARER with MSK's IAM login module is IAM too; its producer writes an MSK target over IAM.
    expect(
      props(t, 'OrdersOauthPaymentsEventSourceMapping').SourceAccessConfigurations,
    ).toBeUndefined();
    expect(statement(t, 'OrdersOauthRole', 'SourceIamConsumerGroup').Resource).toEqual([
      under('group', 'tigerstream-orders-oauth.payments'),
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
    expect(props(t, 'ShopScramCustomersEventSourceMapping')).toMatchObject({
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
    const cluster =
      'arn:aws:kafka:eu-west-1:210987654321:cluster/shop/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b-3';
    expect(statement(t, 'ShopScramRole', 'SourceClusterLookup')).toMatchObject({
      Action: ['kafka:DescribeClusterV2', 'kafka:DescribeCluster', 'kafka:GetBootstrapBrokers'],
      Resource: cluster,
    });
    expect(statement(t, 'ShopScramRole', 'NetworkInterfaces').Resource).toBe('*');
    // SCRAM, not IAM: no kafka-cluster:* action at all.
    expect(
      statementsOf(t, 'ShopScramRole').flatMap((st) =>
        st.Action.filter((a) => a.startsWith('kafka-cluster:')),
      ),
    ).toEqual([]);
  });

  it('logs in to self-managed clusters with SCRAM-SHA-256, PLAIN, or a secret the user names', () => {
    const t = dropped.template;
    const access = (id: string) => props(t, id).SourceAccessConfigurations;
    expect(access('CrmScramAccountsEventSourceMapping')).toEqual([
      { Type: 'SASL_SCRAM_256_AUTH', URI: { Ref: 'CrmScramSourceSecret' } },
    ]);
    expect(props(t, 'CrmScramSourceSecret').Name).toBe('tgstream/ci/crm-scram/source-auth');
    expect(access('CrmPlainAccountsEventSourceMapping')).toEqual([
      { Type: 'BASIC_AUTH', URI: { Ref: 'CrmPlainSourceSecret' } },
    ]);
    const own = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:crm/kafka-reader-AbCdEf';
    expect(access('CrmOwnSecretAccountsEventSourceMapping')).toEqual([
      { Type: 'SASL_SCRAM_512_AUTH', URI: own },
    ]);
    expect(t.Resources.CrmOwnSecretSourceSecret).toBeUndefined();
    expect(statement(t, 'CrmOwnSecretRole', 'TriggerSecretsRead').Resource).toEqual([own]);
  });

  it('logs in with a client certificate and trusts a private CA through two secrets', () => {
    const t = dropped.template;
    expect(props(t, 'IotMtlsReadingsEventSourceMapping').SourceAccessConfigurations).toEqual([
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
    expect(props(t, 'ErpVpcInvoicesEventSourceMapping').SourceAccessConfigurations).toEqual([
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

  it('puts a trigger in VPC subnets while its function stays outside any VPC', () => {
    const t = dropped.template;
    expect(props(t, 'ErpEdgePaymentsEventSourceMapping').SourceAccessConfigurations).toEqual([
      { Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: 'ErpEdgeSourceSecret' } },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0a1b2c3d4e5f60718' },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0f1e2d3c4b5a69788' },
      { Type: 'VPC_SECURITY_GROUP', URI: 'security_group:sg-0123456789abcdef0' },
    ]);
    expect(props(t, 'StreamErpEdgeLambdaFunction').VpcConfig).toBeUndefined();
    // The trigger's interfaces need the grant; the function's own IP actions are not given.
    expect(statement(t, 'ErpEdgeRole', 'NetworkInterfaces')).toMatchObject({
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeVpcs',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    });
  });

  it('gives each connector its own least-privilege role', () => {
    const t = dropped.template;
    const roles = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(10);
    for (const [id, role] of roles) {
      const connector = (role.Properties.Description as string).split(' ')[2] ?? '';
      for (const s of statementsOf(t, id)) {
        expect(s.Effect).toBe('Allow');
        for (const a of s.Action) expect(a, `${id} ${s.Sid}`).not.toMatch(/(^|:)\*$/);
        // '*' only for the network-interface actions, as Lambda's own managed policies grant them.
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
    expect(statement(t, 'CrmPlainRole', 'RunRegistryWrite').Action).toEqual([
      'ssm:PutParameter',
      'ssm:DeleteParameter',
    ]);
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
    const secrets = secretValuesOf(dropped.files);
    expect(secrets).toEqual(
      expect.arrayContaining(['Msk-Scram-Pa55', 'p12-pass', 'trust-pass', 'Restpp-Secret-0123']),
    );
    const text = JSON.stringify(dropped.template);
    for (const s of secrets) expect(text, 'a secret value is in the template').not.toContain(s);
    // The mTLS keystore's private key (connector create and the deploy store it as PEM in SSM
    // and Secrets Manager) appears in no form.
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(text).not.toMatch(/PRIVATE KEY-----/);
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
    expect(body.widgets.filter((w) => w.properties.title.endsWith(': records'))).toHaveLength(10);
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
    // A login inside a URL: refused, and the password is printed nowhere.
    writeFileSync(
      join(dir, 'url-login.properties'),
      readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8').replace(
        'tigergraph.url=http://localhost:14240',
        'tigergraph.url=https://admin:S3cretPw99@tg.example.com:14240',
      ),
    );
    cpSync(
      join(ROOT, 'test/fixtures/reference-page/connector.properties'),
      join(dir, 'reference.properties'),
    );
    writeFileSync(
      join(dir, 'bad.properties'),
      'connector.class=org.apache.kafka.connect.mirror.MirrorSourceConnector\ntasks.max=zero\n[c]\nname=bad\n',
    );
    const { out, sls } = packageInto({ TGSTREAM_CONNECTORS_DIR: dir });
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
    expect(sls.stderr).toMatch(
      /url-login\.properties:\d+ tigergraph\.url: holds a login \(user:password@\) in its URL.*\[CONFIG_URL_CREDENTIALS\]/,
    );
    expect(sls.stdout + sls.stderr).not.toContain('S3cretPw99');
    expect(existsSync(join(out, 'cloudformation-template-update-stack.json'))).toBe(false);
    expect(sls.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});
