/**
 * The IaC generator (infra/) called directly, without Serverless: the choices packaging makes
 * from connector files and stage params, and the settings it refuses with the validator's
 * `file:line key: message [CODE]` lines. serverless-package.test.ts packages the real thing.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configParameter } from '../../infra/config-parameter.ts';
import { readConnectorSet } from '../../infra/connectors.ts';
import { generate } from '../../infra/index.ts';
import { stageVpc } from '../../infra/network.ts';
import { connectorParameters } from '../../lib/control/index.ts';
import { VALID, edit } from '../helpers/config.ts';
import { testConfig } from '../helpers/fakes.ts';
import { ROOT } from '../helpers/fixtures.ts';

/** Writes `text` as a connector file of its own directory and reads it as packaging does. */
const setOf = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgstream-iac-'));
  writeFileSync(join(dir, 'c.properties'), text);
  return { set: readConnectorSet(dir), file: join(dir, 'c.properties') };
};
const withSection = (lines: string[], text = VALID) =>
  text.replace('[connector_1]', `${lines.join('\n')}\n[connector_1]`);
const lineOf = (text: string, key: string) =>
  text.split('\n').findIndex((l) => l.startsWith(`${key}=`)) + 1;
const MSK =
  'arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c-9d4e-d7975eb44dd7-2';

describe('the IaC generator', () => {
  it('takes the offset-lag threshold from the connector and gives each connector a dashboard row', async () => {
    const first = testConfig(edit('tigerstream.alarm.offset.lag', '5000', VALID));
    const second = testConfig(
      VALID.replace('name=company-stream', 'name=people-stream').replace(
        'topics=companies',
        'topics=people',
      ),
    );
    const { resources } = await generate('prod', [first, second]);
    const r = resources.Resources;
    expect(r.StreamCompanyStreamOffsetLagAlarm?.Properties.Threshold).toBe(5000);
    expect(r.StreamPeopleStreamOffsetLagAlarm?.Properties.Threshold).toBe(100000);
    const body = JSON.parse(
      (r.Dashboard?.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'],
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

  it("puts every function of the stage in the stage's VPC unless a connector names its own", async () => {
    const stage = stageVpc('subnet-0123456789abcdef0, subnet-0123456789abcdef1', 'sg-01234567');
    const own = testConfig(
      withSection([
        'tigerstream.vpc.subnet.ids=subnet-89abcdef',
        'tigerstream.vpc.security.group.ids=sg-89abcdef',
      ]),
    );
    const other = testConfig(VALID.replace('name=company-stream', 'name=other'));
    const { functions } = await generate('prod', [own, other], { vpc: stage });
    expect(functions.streamCompanyStream).toMatchObject({
      vpc: { subnetIds: ['subnet-89abcdef'], securityGroupIds: ['sg-89abcdef'] },
    });
    expect(functions.streamOther).toMatchObject({
      vpc: {
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        securityGroupIds: ['sg-01234567'],
      },
    });
    const none = await generate('prod', [other]);
    expect(none.functions.streamOther).not.toHaveProperty('vpc');
  });

  it('refuses stage VPC params that are malformed or half set, naming the param', () => {
    expect(() => stageVpc('subnet-xyz', 'sg-01234567')).toThrow(
      /serverless param vpcSubnetIds: found "subnet-xyz"; allowed: comma-separated subnet ids .* \[CONFIG_SUBNET_IDS_INVALID\]/,
    );
    expect(() => stageVpc('subnet-01234567', undefined)).toThrow(
      /serverless param vpcSubnetIds is set but serverless param vpcSecurityGroupIds is not.*\[CONFIG_VPC_INCOMPLETE\]/,
    );
    expect(stageVpc('', '')).toBeUndefined();
  });

  it('lets SSM pick the tier, so a configuration can grow past 4 KB and shrink back, and refuses one over 8 KB', async () => {
    const big = (n: number) => testConfig(withSection([`replication.factor=${'1'.repeat(n)}`]));
    const tier = async (n: number) =>
      (await generate('prod', [big(n)])).resources.Resources.CompanyStreamConfigParameter
        ?.Properties.Tier;
    // SSM cannot turn an Advanced parameter back into a Standard one: a tier chosen by size
    // would fail the stack update of a configuration that shrinks under 4 KB again.
    expect(await tier(10)).toBe('Intelligent-Tiering');
    expect(await tier(5000)).toBe('Intelligent-Tiering');
    const text = withSection([`replication.factor=${'1'.repeat(9000)}`]);
    const { set, file } = setOf(text);
    await expect(generate('prod', set)).rejects.toThrow(
      new RegExp(
        `${file}:\\d+ name: its configuration without secrets is \\d+ bytes, over the 8192 bytes .*\\[CONFIG_SSM_PARAMETER_TOO_LARGE\\]`,
      ),
    );
  });

  it("deploys each connector's configuration as the very text 'connector create' writes", async () => {
    // Otherwise create finds the deployed parameter changed and overwrites what the stack owns.
    const dirs = [join(ROOT, 'infra', 'connectors'), join(ROOT, 'test', 'fixtures', 'deploy')];
    let compared = 0;
    for (const dir of dirs)
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.properties'))) {
        const set = readConnectorSet(dir);
        for (const { config } of set.connectors.filter((dc) => dc.config.file.endsWith(f))) {
          const deployed = (await configParameter(config, 'prod')).Properties.Value;
          const created = (await connectorParameters(config, 'prod')).get(
            `/tgstream/prod/${config.name}/config`,
          )?.value;
          expect(deployed, `${f} ${config.name}`).toBe(created);
          compared++;
        }
      }
    expect(compared).toBe(10);
  });

  it('gives every topic its own mapping and group, so adding a topic leaves the first as it was', async () => {
    const mappingsOf = async (topics: string) =>
      Object.entries(
        (await generate('prod', [testConfig(edit('topics', topics))])).resources.Resources,
      )
        .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')
        .map(([id, r]) => ({
          id,
          topics: r.Properties.Topics,
          group: (r.Properties.SelfManagedKafkaEventSourceConfig as { ConsumerGroupId: string })
            .ConsumerGroupId,
        }));
    const one = await mappingsOf('companies');
    expect(one).toEqual([
      {
        id: 'CompanyStreamCompaniesEventSourceMapping',
        topics: ['companies'],
        group: 'tigerstream-company-stream.companies',
      },
    ]);
    const two = await mappingsOf('people,companies');
    expect(two).toContainEqual(one[0]);
    expect(two).toContainEqual({
      id: 'CompanyStreamPeopleEventSourceMapping',
      topics: ['people'],
      group: 'tigerstream-company-stream.people',
    });
    // Topics that differ only in punctuation get distinct ids, whatever their order.
    const clash = await mappingsOf('orders.v1,orders_v1,ZZ-top');
    expect(clash.map((m) => m.id)).toEqual([
      'CompanyStreamordersZdv1EventSourceMapping',
      'CompanyStreamordersZuv1EventSourceMapping',
      'CompanyStreamZZTopEventSourceMapping',
    ]);
    expect((await mappingsOf('orders_v1,orders.v1')).map((m) => m.id).sort()).toEqual(
      clash.slice(0, 2).map((m) => m.id),
    );
  });

  it("writes the batching window the trigger takes: whole seconds, 0, or AWS's 500 ms default", async () => {
    const window = async (ms: string) =>
      (await generate('prod', [testConfig(edit('tigerstream.esm.batching.window.ms', ms))]))
        .resources.Resources.CompanyStreamCompaniesEventSourceMapping?.Properties
        .MaximumBatchingWindowInSeconds;
    expect(await window('0')).toBe(0);
    expect(await window('500')).toBeUndefined();
    expect(await window('250')).toBeUndefined();
    expect(await window('3000')).toBe(3);
    expect(await window('1500')).toBe(2);
  });

  const sasl = (protocol: string, jaasPassword: string) => [
    `consumer.security.protocol=${protocol}`,
    'consumer.sasl.mechanism=SCRAM-SHA-512',
    `consumer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="${jaasPassword}";`,
  ];
  it.each([
    [
      'SASL over plaintext',
      withSection(sasl('SASL_PLAINTEXT', 'p4ss')),
      'consumer.security.protocol',
      /is SASL_PLAINTEXT; a Lambda Kafka trigger sends SASL credentials only over TLS.*allowed: SASL_SSL \[CONFIG_TRIGGER_SASL_PLAINTEXT\]/,
    ],
    [
      'a SCRAM password from a config provider',
      withSection(sasl('SASL_SSL', '${file:/etc/kafka/secrets.properties:password}')),
      'consumer.sasl.jaas.config',
      /takes its username or password from a Kafka config provider .*allowed: .*tigerstream\.esm\.secret\.arn .*\[CONFIG_TRIGGER_SECRET_UNAVAILABLE\]/,
    ],
    [
      'OAuth client credentials (the trigger has no such login)',
      withSection([
        'consumer.security.protocol=SASL_SSL',
        'consumer.sasl.mechanism=OAUTHBEARER',
        'consumer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="c" clientSecret="s3cr3t";',
        'consumer.sasl.oauthbearer.token.endpoint.url=https://idp.example.com/token',
      ]),
      'consumer.sasl.mechanism',
      /OAUTHBEARER works with 'tgstream run' but not with a Lambda Kafka trigger on a self-managed cluster, which supports PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and mTLS \[CONFIG_SOURCE_AUTH_UNSUPPORTED_BY_ESM\]/,
    ],
    [
      'trigger subnets for an MSK source',
      withSection(
        [
          'tigerstream.esm.vpc.subnet.ids=subnet-01234567',
          'tigerstream.esm.vpc.security.group.ids=sg-01234567',
        ],
        edit('source.cluster.bootstrap.servers', MSK),
      ),
      'tigerstream.esm.vpc.subnet.ids',
      /is set, but the source is an MSK cluster, whose trigger always uses the cluster's own subnets .*\[CONFIG_TRIGGER_VPC_MSK\]/,
    ],
    [
      'a producer on MSK IAM with host:port brokers',
      withSection([
        'producer.security.protocol=SASL_SSL',
        'producer.sasl.mechanism=AWS_MSK_IAM',
        'producer.sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;',
      ]),
      'target.cluster.bootstrap.servers',
      /is tg:30002, but producer\.sasl\.mechanism logs in with MSK IAM.*allowed: the MSK cluster ARN .*\[CONFIG_TARGET_IAM_CLUSTER_ARN_MISSING\]/,
    ],
    [
      'trigger subnets without security groups',
      withSection(['tigerstream.esm.vpc.subnet.ids=subnet-01234567']),
      'tigerstream.esm.vpc.subnet.ids',
      /is set but tigerstream\.esm\.vpc\.security\.group\.ids is not; the trigger joins a VPC only with both.*\[CONFIG_VPC_INCOMPLETE\]/,
    ],
  ])(
    'stops packaging for %s, naming the setting and what is allowed',
    async (_what, text, key, message) => {
      const { set, file } = setOf(text);
      await expect(generate('prod', set)).rejects.toThrow(
        new RegExp(`${file}:${lineOf(text, key)} ${key.replace(/\./g, '\\.')}: ${message.source}`),
      );
    },
  );

  it('warns about addresses a deployed connector cannot reach as configured, naming the key and the fix', async () => {
    const warningsOf = async (text: string, vpc = stageVpc(undefined, undefined)) => {
      const warnings: string[] = [];
      await generate('prod', setOf(text).set, { vpc, warn: (l) => warnings.push(l) });
      return warnings;
    };
    // The shipped example: localhost everywhere, for `npm start`.
    const example = readFileSync(join(ROOT, 'infra', 'connectors', 'company.properties'), 'utf8');
    const shipped = (await warningsOf(example)).filter(
      (l) => !l.endsWith('[CONFIG_HEARTBEAT_INTERVAL_ROUNDED]'),
    );
    expect(shipped).toEqual([
      expect.stringMatching(
        new RegExp(
          `:${lineOf(example, 'source.cluster.bootstrap.servers')} source\\.cluster\\.bootstrap\\.servers: is localhost:9092, a loopback address the Lambda trigger cannot reach .*allowed: the addresses of the source brokers .*\\[CONFIG_TRIGGER_SOURCE_LOOPBACK\\]$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `:${lineOf(example, 'target.cluster.bootstrap.servers')} target\\.cluster\\.bootstrap\\.servers: is localhost:30002, a loopback address the Lambda function cannot reach .*\\[CONFIG_FUNCTION_TARGET_LOOPBACK\\]$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `:${lineOf(example, 'tigergraph.url')} tigergraph\\.url: is http://localhost:14240, .*\\[CONFIG_FUNCTION_TARGET_LOOPBACK\\]$`,
        ),
      ),
    ]);
    const scram = sasl('SASL_SSL', 'p4ss');
    const privateBoth = withSection(
      scram,
      edit(
        'tigergraph.url',
        'https://10.0.3.17:14240',
        edit(
          'target.cluster.bootstrap.servers',
          '10.0.3.17:30002',
          edit('source.cluster.bootstrap.servers', '10.0.1.21:9096,10.0.1.22:9096'),
        ),
      ),
    );
    const codes = (lines: string[]) => lines.map((l) => /\[([A-Z_]+)\]$/.exec(l)?.[1]);
    expect(codes(await warningsOf(privateBoth))).toEqual([
      'CONFIG_TRIGGER_SOURCE_PRIVATE',
      'CONFIG_FUNCTION_VPC_MISSING',
      'CONFIG_FUNCTION_VPC_MISSING',
    ]);
    // The trigger in a VPC and the function in the stage's VPC: nothing to say.
    const inVpc = withSection(
      [
        'tigerstream.esm.vpc.subnet.ids=subnet-01234567',
        'tigerstream.esm.vpc.security.group.ids=sg-01234567',
      ],
      privateBoth,
    );
    expect(await warningsOf(inVpc, stageVpc('subnet-89abcdef', 'sg-89abcdef'))).toEqual([]);
    // Brokers on the internet with no login.
    const publicTg = edit('tigergraph.url', 'https://tg.example.com:14240');
    const internet = edit('source.cluster.bootstrap.servers', 'kafka.example.com:9096', publicTg);
    expect(codes(await warningsOf(internet))).toEqual(['CONFIG_TRIGGER_SOURCE_NO_LOGIN']);
    expect(await warningsOf(withSection(scram, internet))).toEqual([]);
  });

  it('refuses connector names that make a Lambda function name too long or clash', async () => {
    const long = `c${'x'.repeat(60)}`;
    const { set, file } = setOf(
      VALID.replace('name=company-stream', `name=${long}`) +
        '[connector_2]\nname=a-b\ntasks.max=1\n[connector_3]\nname=a_b\ntasks.max=1\n',
    );
    const error = await generate('prod', set).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `${file}:\\d+ name: makes the Lambda function name tigerstream-prod-streamC${'x'.repeat(60)} \\(84 characters\\); Lambda allows 64.*\\[CONFIG_FUNCTION_NAME_TOO_LONG\\]`,
      ),
    );
    expect(error?.message).toMatch(
      /name: "a_b" gives the same function and resource names as connector "a-b" \(AB\).*\[CONFIG_CONNECTOR_NAME_CLASH\]/,
    );
  });

  it('warns, and reads no secret, when tigerstream.esm.secret.arn is set for a source without a login', async () => {
    const text = withSection([
      'tigerstream.esm.secret.arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:unused-AbCdEf',
    ]);
    const warnings: string[] = [];
    const { resources } = await generate('prod', setOf(text).set, {
      warn: (l) => warnings.push(l),
    });
    expect(warnings.filter((l) => l.includes('tigerstream.esm.secret.arn'))).toEqual([
      expect.stringMatching(
        /tigerstream\.esm\.secret\.arn: is set, but .* it is ignored \[CONFIG_TRIGGER_SECRET_UNUSED\]/,
      ),
    ]);
    const esm = resources.Resources.CompanyStreamEventSourceMapping;
    expect(esm?.Properties.SourceAccessConfigurations).toBeUndefined();
  });

  it('validates the new keys as rows of the table (format errors name the key)', () => {
    const text = withSection([
      'tigerstream.vpc.subnet.ids=subnet-1',
      'tigerstream.vpc.security.group.ids=sg-01234567',
      'tigerstream.esm.secret.arn=secret-name',
    ]);
    const { set } = setOf(text);
    expect(set.errors.map((p) => `${p.key} ${p.code}`)).toEqual([
      'tigerstream.vpc.subnet.ids CONFIG_SUBNET_IDS_INVALID',
      'tigerstream.esm.secret.arn CONFIG_ESM_SECRET_ARN_INVALID',
    ]);
    expect(set.warnings.filter((p) => p.code === 'CONFIG_KEY_UNKNOWN')).toEqual([]);
  });

  it('refuses a secret ARN without the suffix Secrets Manager appends (IAM would match no secret)', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:crm/kafka_reader';
    const { set } = setOf(withSection([`tigerstream.esm.secret.arn=${arn}`]));
    expect(set.errors.map((p) => `${p.key} ${p.code}`)).toEqual([
      'tigerstream.esm.secret.arn CONFIG_ESM_SECRET_ARN_INVALID',
    ]);
    expect(set.errors[0]?.message).toMatch(/with the six characters Secrets Manager appends/);
    expect(setOf(withSection([`tigerstream.esm.secret.arn=${arn}-AbCdEf`])).set.errors).toEqual([]);
  });

  it('reads an MSK Serverless cluster ARN (-s1) as an MSK source and grants on it', async () => {
    const serverless =
      'arn:aws:kafka:us-east-1:111122223333:cluster/test-cluster/576c2508-db71-4aaf-9449-aa36e7addd80-s1';
    const text = withSection(
      [
        'consumer.security.protocol=SASL_SSL',
        'consumer.sasl.mechanism=AWS_MSK_IAM',
        'consumer.sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;',
      ],
      edit('source.cluster.bootstrap.servers', serverless),
    );
    const { set } = setOf(text);
    expect(set.errors).toEqual([]);
    const r = (await generate('prod', set)).resources.Resources;
    expect(r.CompanyStreamCompaniesEventSourceMapping?.Properties.EventSourceArn).toBe(serverless);
    const statements = (
      r.CompanyStreamRole?.Properties.Policies as {
        PolicyDocument: { Statement: { Sid: string; Resource: unknown }[] };
      }[]
    )[0]?.PolicyDocument.Statement;
    expect(statements?.find((s) => s.Sid === 'SourceIamReadTopics')?.Resource).toEqual([
      'arn:aws:kafka:us-east-1:111122223333:topic/test-cluster/576c2508-db71-4aaf-9449-aa36e7addd80-s1/companies',
    ]);
  });

  it('refuses a login inside a URL, naming the key and where the login goes, never the password', async () => {
    const text = withSection(
      [
        'value.converter.schema.registry.url=https://reg.example.com,https://svc:R3g-Pa55@reg2.example.com',
      ],
      edit('tigergraph.url', 'https://admin:S3cretPw99@tg.example.com:14240'),
    );
    const { set, file } = setOf(text);
    const error = await generate('prod', set).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(
      `${file}:${lineOf(text, 'tigergraph.url')} tigergraph.url: holds a login (user:password@) in its URL, which would be stored and deployed as plain text; allowed: the URL without it, and the login in tigergraph.auth.username and tigergraph.auth.password (or tigergraph.auth.secret, tigergraph.auth.token) [CONFIG_URL_CREDENTIALS]`,
    );
    expect(error?.message).toMatch(
      /value\.converter\.schema\.registry\.url: holds a login .* value\.converter\.basic\.auth\.user\.info .*\[CONFIG_URL_CREDENTIALS\]/,
    );
    expect(error?.message).not.toContain('S3cretPw99');
    expect(error?.message).not.toContain('R3g-Pa55');
  });
});
