import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../../lib/config/index.ts';
import { ROOT } from '../../helpers/fixtures.ts';
import { VALID, edit, validate } from '../../helpers/config.ts';

const codes = (text: string): string[] => validate(text).errors.map((p) => p.code);
const warningCodes = (text: string): string[] => validate(text).warnings.map((p) => p.code);

describe('validateConnectorFile', () => {
  it('turns a valid file into a frozen connector with defaults applied', () => {
    const result = validate(VALID);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const [c] = result.connectors;
    expect(c).toMatchObject({
      name: 'company-stream',
      tasksMax: 3,
      sourceAlias: 'hello',
      targetBootstrapServers: 'tg:30002',
      topics: ['companies'],
      valueConverter: 'bytes',
      replicationPolicy: 'default',
      replicationSeparator: '.',
      errorsTolerance: 'none',
      tigergraph: {
        delivery: 'kafka',
        version: 3,
        eof: true,
        batchMaxBytes: 4 * 1024 * 1024,
        directConcurrency: 4,
        graph: 'Company_Graph',
      },
      esm: { batchSize: 100, batchingWindowMs: 500, startingPosition: 'TRIM_HORIZON' },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    ['connector.class', 'org.example.Other', 'CONFIG_CONNECTOR_CLASS_INVALID'],
    ['connector.class', undefined, 'CONFIG_CONNECTOR_CLASS_MISSING'],
    ['source.cluster.alias', '', 'CONFIG_CLUSTER_ALIAS_MISSING'],
    ['source.cluster.bootstrap.servers', 'kafka', 'CONFIG_BOOTSTRAP_SERVERS_INVALID'],
    ['target.cluster.bootstrap.servers', 'tg:99999', 'CONFIG_BOOTSTRAP_SERVERS_INVALID'],
    ['source->target.enabled', 'false', 'CONFIG_REPLICATION_FLOW_DISABLED'],
    ['source->target.enabled', undefined, 'CONFIG_REPLICATION_FLOW_MISSING'],
    ['topics', undefined, 'CONFIG_TOPICS_MISSING'],
    ['topics', 'orders.*', 'CONFIG_TOPICS_REGEX_UNSUPPORTED'],
    [
      'key.converter',
      'org.apache.kafka.connect.storage.StringConverter',
      'CONFIG_KEY_CONVERTER_INVALID',
    ],
    ['header.converter', undefined, 'CONFIG_HEADER_CONVERTER_MISSING'],
    [
      'value.converter',
      'io.confluent.connect.avro.AvroConverter',
      'CONFIG_VALUE_CONVERTER_UNKNOWN',
    ],
    [
      'value.converter',
      'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter',
      'CONFIG_SCHEMA_REGISTRY_URL_MISSING',
    ],
    ['tigergraph.url', 'tg.example.com', 'CONFIG_TIGERGRAPH_URL_INVALID'],
    ['tigergraph.delivery', 'http', 'CONFIG_TIGERGRAPH_DELIVERY_INVALID'],
    ['tigergraph.version', '5', 'CONFIG_TIGERGRAPH_VERSION_INVALID'],
    ['tigergraph.loading.data.source', undefined, 'CONFIG_TIGERGRAPH_INCOMPLETE'],
    ['tigergraph.loading.eof', 'yes', 'CONFIG_BOOLEAN_INVALID'],
    ['errors.tolerance', 'some', 'CONFIG_ERRORS_TOLERANCE_INVALID'],
    ['replication.policy.class', 'com.example.MyPolicy', 'CONFIG_REPLICATION_POLICY_UNKNOWN'],
    ['tasks.max', '0', 'CONFIG_TASKS_MAX_INVALID'],
    ['tigerstream.esm.batch.size', '20000', 'CONFIG_ESM_BATCH_SIZE_INVALID'],
    ['tigerstream.alarm.offset.lag', '0', 'CONFIG_ALARM_OFFSET_LAG_INVALID'],
    ['producer.security.protocol', 'TLS', 'CONFIG_SECURITY_PROTOCOL_INVALID'],
    ['producer.max.request.size', '0', 'CONFIG_MAX_REQUEST_SIZE_INVALID'],
    ['producer.max.request.size', '1MB', 'CONFIG_MAX_REQUEST_SIZE_INVALID'],
  ])('reports %s=%s as %s', (key, value, code) => {
    expect(codes(edit(key, value))).toContain(code);
  });

  it.each(['0', '17', '-1', '2.5', 'four'])(
    'refuses tigergraph.direct.concurrency=%s, naming the key and the range allowed',
    (value) => {
      const { errors } = validate(edit('tigergraph.direct.concurrency', value));
      expect(errors).toEqual([
        expect.objectContaining({
          key: 'tigergraph.direct.concurrency',
          code: 'CONFIG_TIGERGRAPH_DIRECT_CONCURRENCY_INVALID',
          message: `found "${value}"; allowed: an integer from 1 to 16`,
        }),
      ]);
    },
  );

  it('reads tigergraph.direct.concurrency from 1 to 16', () => {
    for (const n of [1, 6, 16])
      expect(
        validate(edit('tigergraph.direct.concurrency', String(n))).connectors[0]?.tigergraph
          ?.directConcurrency,
      ).toBe(n);
  });

  it('accepts producer.max.request.size, the producer request limit lib/kafka honours', () => {
    expect(codes(edit('producer.max.request.size', '1048576'))).toEqual([]);
  });

  it('accepts <alias>-><alias>.enabled and the arrow → instead of source->target.enabled', () => {
    expect(
      codes(
        edit('source->target.enabled', undefined, VALID).replace(
          'topics=',
          'hello->world.enabled=true\ntopics=',
        ),
      ),
    ).toEqual([]);
    expect(codes(VALID.replace('source->target.enabled', 'source→target.enabled'))).toEqual([]);
  });

  it('accepts an MSK cluster ARN as the source bootstrap servers', () => {
    expect(
      codes(
        edit(
          'source.cluster.bootstrap.servers',
          'arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
        ),
      ),
    ).toEqual([]);
  });

  it('reports every problem at once, each with file, line, key, what was found and what is allowed', () => {
    const text = edit(
      'value.converter',
      'Avro',
      edit('tasks.max', 'many', edit('topics', undefined)),
    );
    const { errors } = validate(text, 'bad.properties');
    expect(errors.map((e) => e.code).sort()).toEqual([
      'CONFIG_TASKS_MAX_INVALID',
      'CONFIG_TOPICS_MISSING',
      'CONFIG_VALUE_CONVERTER_UNKNOWN',
    ]);
    const converter = errors.find((e) => e.code === 'CONFIG_VALUE_CONVERTER_UNKNOWN');
    expect(formatProblem(converter!)).toBe(
      'bad.properties:9 value.converter: found "Avro"; allowed: org.apache.kafka.connect.converters.ByteArrayConverter, com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter, com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry [CONFIG_VALUE_CONVERTER_UNKNOWN]',
    );
  });

  it('checks the SASL mechanism against its JAAS config', () => {
    const scram = `${VALID.split('[')[0]}producer.security.protocol=SASL_SSL\nproducer.sasl.mechanism=SCRAM-SHA-512\nproducer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";\n[c]\nname=x\n`;
    expect(codes(scram)).toEqual(['CONFIG_SASL_JAAS_MISMATCH']);
    const missing = scram.replace(/producer.sasl.jaas.config=.*\n/, '');
    expect(codes(missing)).toEqual(['CONFIG_SASL_JAAS_MISSING']);
    const good = scram.replace('plain.PlainLoginModule', 'scram.ScramLoginModule');
    const result = validate(good);
    expect(result.errors).toEqual([]);
    expect(result.connectors[0]?.target).toMatchObject({
      protocol: 'SASL_SSL',
      mechanism: 'SCRAM-SHA-512',
      username: 'u',
      password: 'p',
    });
  });

  it('reads OAUTHBEARER: MSK IAM through its login module, or OAuth client credentials (KIP-768)', () => {
    const head = `${VALID.split('[')[0]}producer.security.protocol=SASL_SSL\nproducer.sasl.mechanism=OAUTHBEARER\n`;
    const tail = '[c]\nname=x\n';
    const iam = validate(
      `${head}producer.sasl.jaas.config=software.amazon.msk.auth.iam.IAMOAuthBearerLoginModule required;\n${tail}`,
    );
    expect(iam.errors).toEqual([]);
    expect(iam.connectors[0]?.target.oauth).toEqual({ kind: 'msk-iam' });

    const oidc = `${head}producer.sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token\nproducer.sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler\nproducer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="tg-loader" clientSecret="Cl1ent-S3cret" scope="kafka";\n${tail}`;
    const ok = validate(oidc);
    expect(ok.errors).toEqual([]);
    expect(ok.warnings).toEqual([]);
    expect(ok.connectors[0]?.target.oauth).toEqual({
      kind: 'client-credentials',
      tokenEndpointUrl: 'https://idp.example.com/oauth2/token',
      clientId: 'tg-loader',
      clientSecret: 'Cl1ent-S3cret',
      scope: 'kafka',
    });
    expect(codes(oidc.replace(/producer.sasl.oauthbearer.token.endpoint.url=.*\n/, ''))).toEqual([
      'CONFIG_SASL_OAUTHBEARER_ENDPOINT_INVALID',
    ]);
    expect(codes(oidc.replace(' clientSecret="Cl1ent-S3cret"', ''))).toEqual([
      'CONFIG_SASL_JAAS_INVALID',
    ]);
    expect(
      codes(oidc.replace('clientId="tg-loader"', 'unsecuredLoginStringClaim_sub="admin"')),
    ).toEqual(['CONFIG_SASL_OAUTHBEARER_UNSECURED']);
    expect(codes(oidc.replace(/producer.sasl.jaas.config=.*\n/, ''))).toEqual([
      'CONFIG_SASL_JAAS_MISSING',
    ]);
    // The client secret is never printed in a problem.
    const bad = validate(oidc.replace('https://idp.example.com/oauth2/token', 'idp'));
    expect(bad.errors.map(formatProblem).join('\n')).not.toContain('Cl1ent-S3cret');
  });

  it('rejects GSSAPI (Kerberos), also when SASL is on and no mechanism is named', () => {
    const text = `${VALID.split('[')[0]}consumer.security.protocol=SASL_SSL\n[c]\nname=x\n`;
    expect(validate(text).errors.map((e) => [e.code, e.key])).toEqual([
      ['CONFIG_SASL_GSSAPI_UNSUPPORTED', 'consumer.sasl.mechanism'],
    ]);
  });

  it('warns when the source uses SASL a Lambda trigger cannot use (PLAIN on MSK)', () => {
    const text = `${edit('source.cluster.bootstrap.servers', 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c-9d4e-d7975eb44dd7-2').split('[')[0]}consumer.security.protocol=SASL_SSL\nconsumer.sasl.mechanism=PLAIN\nconsumer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";\n[c]\nname=x\n`;
    expect(warningCodes(text)).toEqual(['CONFIG_SOURCE_AUTH_UNSUPPORTED_BY_ESM']);
  });

  it('warns about sync.topic.configs.enabled=true, unknown keys and keys set twice', () => {
    const text = edit('sync.topic.configs.enabled', 'true', VALID).replace(
      'topics=',
      'tigergraph.grpah=oops\ntopics=companies\ntopics=',
    );
    expect(warningCodes(text).sort()).toEqual([
      'CONFIG_KEY_DUPLICATE',
      'CONFIG_KEY_UNKNOWN',
      'CONFIG_SYNC_TOPIC_CONFIGS_ENABLED',
    ]);
  });

  it('accepts MirrorMaker keys and <alias>-prefixed cluster settings without warnings', () => {
    expect(
      warningCodes(
        VALID.replace(
          'topics=',
          'replication.factor=1\nemit.heartbeats.interval.seconds=60\nworld.scheduled.rebalance.max.delay.ms=35000\ntopics=',
        ),
      ),
    ).toEqual([]);
  });

  it('reads several connectors from one file and rejects duplicate section titles and names', () => {
    const text = `${VALID}[connector_2]\nname=second\n[connector_1]\nname=company-stream\n`;
    const result = validate(text);
    expect(result.connectors.map((c) => c.name)).toEqual([
      'company-stream',
      'second',
      'company-stream',
    ]);
    expect(result.errors.map((e) => e.code).sort()).toEqual([
      'CONFIG_CONNECTOR_NAME_DUPLICATE',
      'CONFIG_SECTION_DUPLICATE',
    ]);
  });

  it('asks for a section when the file names no connector', () => {
    expect(codes(VALID.split('[')[0] as string)).toEqual(['CONFIG_SECTION_MISSING']);
  });

  it('never prints a secret value in a problem', () => {
    const text = `${VALID.split('[')[0]}producer.security.protocol=SSL\nproducer.ssl.keystore.password=hunter22\nvalue.converter.basic.auth.user.info=bob:hunter23\nerrors.tolerance=hunter24\n[c]\nname=x\n`;
    const all = validate(text);
    const printed = [...all.errors, ...all.warnings].map(formatProblem).join('\n');
    expect(printed).not.toMatch(/hunter2[23]/);
  });

  const reference = join(
    ROOT,
    '..',
    'shared',
    'reference',
    'tigergraph-3.9-stream-from-external-kafka.txt',
  );
  it.runIf(existsSync(reference))(
    "tells exactly what to change in the reference page's example: only Kerberos (it is mirror-only)",
    () => {
      const page = readFileSync(reference, 'utf8');
      const start = page.search(/^connector\.class=/m);
      const text = page.slice(start, page.indexOf('tasks.max=10', start) + 12);
      const { errors, connectors } = validate(text, 'reference.properties');
      expect([...new Set(errors.map((e) => e.code))]).toEqual(['CONFIG_SASL_GSSAPI_UNSUPPORTED']);
      expect(connectors[0]?.tigergraph).toBeUndefined();
      // The fixture is the page's example, byte for byte.
      expect(
        readFileSync(join(ROOT, 'test/fixtures/reference-page/connector.properties'), 'utf8'),
      ).toBe(`${text}\n`);
      expect(
        errors.filter((e) => e.code === 'CONFIG_SASL_GSSAPI_UNSUPPORTED').map((e) => e.key),
      ).toEqual([
        'producer.sasl.mechanism',
        'consumer.sasl.mechanism',
        'source.admin.sasl.mechanism',
      ]);
    },
  );

  it('refuses streaming mode over several topics (one run per job, a job reads one topic)', () => {
    const result = validate(
      edit('tigergraph.loading.eof', 'false', edit('topics', 'alpha,beta', VALID)),
    );
    const problem = result.errors.find((p) => p.code === 'CONFIG_STREAMING_TOPICS_MANY');
    expect(problem?.key).toBe('tigergraph.loading.eof');
    expect(problem?.message).toContain('found false with 2 topics (hello.alpha, hello.beta)');
    expect(problem?.message).toContain('or tigergraph.loading.eof=true');
    // Several streaming jobs queue behind each other by default (reference section 1.5).
    expect(problem?.message).toContain('KafkaLoader.ReplicaNumber');
    expect(validate(edit('topics', 'alpha,beta', VALID)).errors).toEqual([]);
    expect(validate(edit('tigergraph.loading.eof', 'false', VALID)).errors).toEqual([]);
  });

  it('refuses a 3.x kafka-delivery connector with a RESTPP secret but no GSQL user and password', () => {
    const secretOnly = edit('tigergraph.auth.secret', 's3cr3t-value', VALID);
    const problem = validate(secretOnly).errors.find(
      (p) => p.code === 'CONFIG_TIGERGRAPH_GSQL_AUTH_MISSING',
    );
    expect(problem?.key).toBe('tigergraph.auth.secret');
    expect(problem?.message).toContain('GSQL server, which takes a user name and password');
    expect(problem?.message).not.toContain('s3cr3t-value');
    const withUser = edit(
      'tigergraph.auth.username',
      'tigergraph',
      edit('tigergraph.auth.password', 'pw', secretOnly),
    );
    expect(validate(withUser).errors).toEqual([]);
    expect(validate(edit('tigergraph.delivery', 'direct', secretOnly)).errors).toEqual([]);
  });
});
