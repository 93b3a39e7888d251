/**
 * The IaC generator (infra/) called directly, without Serverless: the choices packaging makes
 * from connector files and stage params, and the settings it refuses with the validator's
 * `file:line key: message [CODE]` lines. serverless-package.test.ts packages the real thing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConnectorSet } from '../../infra/connectors.ts';
import { generate } from '../../infra/index.ts';
import { stageVpc } from '../../infra/network.ts';
import { VALID, edit } from '../helpers/config.ts';
import { testConfig } from '../helpers/fakes.ts';

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

  it('stores a configuration over 4 KB as an advanced parameter, and refuses one over 8 KB', async () => {
    const big = (n: number) => testConfig(withSection([`replication.factor=${'1'.repeat(n)}`]));
    const tier = async (n: number) =>
      (await generate('prod', [big(n)])).resources.Resources.CompanyStreamConfigParameter
        ?.Properties.Tier;
    expect(await tier(10)).toBe('Standard');
    expect(await tier(5000)).toBe('Advanced');
    const text = withSection([`replication.factor=${'1'.repeat(9000)}`]);
    const { set, file } = setOf(text);
    await expect(generate('prod', set)).rejects.toThrow(
      new RegExp(
        `${file}:\\d+ name: its configuration without secrets is \\d+ bytes, over the 8192 bytes .*\\[CONFIG_SSM_PARAMETER_TOO_LARGE\\]`,
      ),
    );
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
    expect(warnings).toEqual([
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
});
