/**
 * The connector file of TigerGraph's "Stream from an External Kafka Cluster" page (3.9,
 * section 2.1.4), checked with `tgstream connector validate` as a user runs it: unchanged, and
 * with SCRAM in place of Kerberos. See test/fixtures/reference-page/README.md.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.ts';

const PAGE = 'test/fixtures/reference-page/connector.properties';
const SCRAM = 'test/fixtures/reference-page/connector-scram.properties';

const validate = (file: string, ...flags: string[]) =>
  spawnSync(
    process.execPath,
    [join(ROOT, 'bin/tgstream.js'), 'connector', 'validate', '--c', file, ...flags],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );

describe("tgstream connector validate on the reference page's connector file", () => {
  it('unchanged: reports only the Kerberos settings, each with the supported choices, and exits 2', () => {
    const r = validate(PAGE);
    expect(r.status).toBe(2);
    const at = join(ROOT, PAGE);
    expect(r.stdout.split('\n')).toEqual([
      `${at}:23 producer.sasl.mechanism: GSSAPI (Kerberos), which the producer does not support yet; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM [CONFIG_SASL_GSSAPI_UNSUPPORTED]`,
      `${at}:33 consumer.sasl.mechanism: GSSAPI (Kerberos), which a Lambda Kafka trigger cannot authenticate with; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (self-managed), or mTLS with security.protocol=SSL [CONFIG_SASL_GSSAPI_UNSUPPORTED]`,
      `${at}:43 source.admin.sasl.mechanism: GSSAPI (Kerberos), which a Lambda Kafka trigger cannot authenticate with; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (self-managed), or mTLS with security.protocol=SSL [CONFIG_SASL_GSSAPI_UNSUPPORTED]`,
      '',
    ]);
    // Its heartbeat interval (5 s) runs once a minute: a warning, not a problem.
    expect(r.stderr).toBe(
      `warning: ${at}:17 emit.heartbeats.interval.seconds: is 5 second(s), but the heartbeat function runs on a schedule whose shortest rate is one minute (EventBridge), so heartbeats are written once a minute; allowed without this warning: 60 or more, or emit.heartbeats.enabled=false [CONFIG_HEARTBEAT_INTERVAL_ROUNDED]\n${PAGE}: 3 problem(s), 1 warning(s)\n`,
    );
  });

  it('with SCRAM in place of Kerberos: no problem, and one line saying it mirrors only', () => {
    const r = validate(SCRAM);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 11)).toEqual([
      `${SCRAM}: valid, 1 connector(s), 1 warning(s)`,
      '',
      'connector avro-test-without-registry [connector_1]',
      '  source     hello source.kafka.server:9092 topics avro-without-registry-topic',
      '  target     world localhost:30002 topics hello.avro-without-registry-topic',
      '  security   source SASL_SSL/SCRAM-SHA-512, target SASL_SSL/SCRAM-SHA-512',
      '  converter  TigerGraphAvroConverterWithoutSchemaRegistry',
      "  tigergraph mirror-only: records go to hello.avro-without-registry-topic on TigerGraph's Kafka; your loading job (RUN LOADING JOB ...) loads them",
      '  errors     tolerance none',
      '  trigger    batch 100, window 500 ms, TRIM_HORIZON, tasks.max 10',
      '  settings',
    ]);
    expect(lines.filter((l) => /mirror-only|loading job/.test(l))).toHaveLength(1);
    // The one warning: its 5-second heartbeat interval runs once a minute.
    expect(lines.filter((l) => /problem|warning:|\[CONFIG_/.test(l))).toEqual([
      expect.stringMatching(
        /^warning: .*connector-scram\.properties:17 emit\.heartbeats\.interval\.seconds: .* \[CONFIG_HEARTBEAT_INTERVAL_ROUNDED\]$/,
      ),
    ]);
    // The settings follow, every key of the file, SCRAM passwords shown as ******.
    expect(lines).toContain('    producer.sasl.jaas.config=******');
    expect(r.stdout).not.toMatch(/kafka-(producer|consumer|admin)-password/);
  });

  it('with SCRAM, --json says mirror-only with no TigerGraph settings', () => {
    const r = validate(SCRAM, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: true,
      errors: [],
      warnings: [{ code: 'CONFIG_HEARTBEAT_INTERVAL_ROUNDED', line: 17 }],
      connectors: [
        {
          name: 'avro-test-without-registry',
          mode: 'mirror-only',
          tigergraph: null,
          target: { topics: ['hello.avro-without-registry-topic'] },
        },
      ],
    });
  });
});
