import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  KEY_RULES,
  KNOWN_KEYS,
  MSK_ARN,
  TIGERGRAPH_RULES,
  allowedText,
  deliveryModeOf,
  formatProblem,
  passes,
  requireTigerGraph,
  triggerBatchingWindowSeconds,
  type Check,
  type KeyRule,
} from '../../../lib/config/index.ts';
import { ConfigError } from '../../../lib/errors/index.ts';
import { VALID, edit, validate } from '../../helpers/config.ts';

const rows = Object.entries(KEY_RULES as Readonly<Record<string, KeyRule>>);
/** VALID without any tigergraph.* key: a mirror-only connector. */
const MIRROR_ONLY = VALID.replace(/^tigergraph\..*\n/gm, '');

/** A value that breaks each kind of check. */
const BAD: Record<Check['kind'], string> = {
  oneOf: 'not-a-choice',
  int: '12x',
  bool: 'maybe',
  pattern: '::bad::',
};

/** A valid value for each tigergraph.* key, to set it alone. */
const GOOD: Record<string, string> = {
  'tigergraph.delivery': 'kafka',
  'tigergraph.url': 'https://tg.example.com:14240',
  'tigergraph.version': '4',
  'tigergraph.loading.eof': 'false',
  'tigergraph.loading.wait': 'false',
  'tigergraph.batch.max.bytes': '2048',
  'tigergraph.direct.concurrency': '2',
  'tigergraph.request.timeout.ms': '1000',
};

describe('the key rule table', () => {
  it('has a row only for keys TigerStream knows, and every default passes its own row', () => {
    for (const [key, rule] of rows) {
      expect(KNOWN_KEYS.has(key), key).toBe(true);
      const fallback = (DEFAULTS as Record<string, string>)[key];
      if (rule.check && fallback !== undefined && fallback !== '')
        expect(passes(rule.check, fallback), `${key}=${fallback}`).toBe(true);
    }
  });

  it.each(rows.filter(([, rule]) => rule.check !== undefined))(
    'reports a value %s breaks with its code, what was found and what is allowed',
    (key, rule) => {
      const check = rule.check as Check;
      const { errors } = validate(edit(key, BAD[check.kind]), 'rules.properties');
      const problem = errors.find((p) => p.key === key && p.code === check.code);
      expect(problem?.message).toBe(`found "${BAD[check.kind]}"; allowed: ${allowedText(check)}`);
    },
  );

  it.each(rows.filter(([, rule]) => rule.required !== undefined))(
    'reports %s missing or empty with its code and what to write',
    (key, rule) => {
      for (const text of [edit(key, undefined), edit(key, '  ')]) {
        const problem = validate(text).errors.find((p) => p.key === key);
        expect(problem).toMatchObject({
          code: rule.required?.code,
          message: `is required: ${rule.required?.hint ?? ''}`,
        });
      }
    },
  );

  it('reads choices case-insensitively but class names exactly', () => {
    const [c] = validate(edit('tigergraph.delivery', 'DIRECT')).connectors;
    expect(c?.tigergraph?.delivery).toBe('direct');
    expect(
      validate(
        edit('value.converter', 'org.apache.kafka.connect.converters.bytearrayconverter'),
      ).errors.map((p) => p.code),
    ).toEqual(['CONFIG_VALUE_CONVERTER_UNKNOWN']);
  });

  it('checks each kind as its message says', () => {
    const int: Check = { kind: 'int', min: 1, max: 10, code: 'X' };
    expect(['1', '10', '-0'].map((v) => passes(int, v))).toEqual([true, true, false]);
    expect(['0', '11', '1.5', '1e1', ''].some((v) => passes(int, v))).toBe(false);
    expect(allowedText(int)).toBe('an integer from 1 to 10');
    const bool: Check = { kind: 'bool', code: 'X' };
    expect(['TRUE', 'false', 'yes'].map((v) => passes(bool, v))).toEqual([true, true, false]);
    const oneOf: Check = { kind: 'oneOf', allowed: ['a', 'B'], code: 'X' };
    expect(['A', 'b', 'c'].map((v) => passes(oneOf, v))).toEqual([true, true, false]);
    expect(passes({ ...oneOf, exact: true }, 'A')).toBe(false);
    expect(allowedText(oneOf)).toBe('a, B');
  });
});

describe('mirror-only connectors and the tigergraph.* keys required together', () => {
  it('makes a file with no tigergraph.* key a valid mirror-only connector', () => {
    const { errors, warnings, connectors } = validate(MIRROR_ONLY);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(connectors[0]?.tigergraph).toBeUndefined();
    expect(deliveryModeOf(connectors[0]!)).toBe('mirror-only');
    expect(deliveryModeOf(validate(VALID).connectors[0]!)).toBe('kafka');
  });

  it('treats tigergraph.* keys with empty values as not set', () => {
    const text = MIRROR_ONLY.replace(
      '[connector_1]',
      'tigergraph.url=\ntigergraph.graph= \n[connector_1]',
    );
    const { errors, connectors } = validate(text);
    expect(errors).toEqual([]);
    expect(connectors[0]?.tigergraph).toBeUndefined();
  });

  it.each(TIGERGRAPH_RULES.map(([key]) => key))(
    'asks for the loader keys together once %s alone is set',
    (key) => {
      const text = edit(key, GOOD[key] ?? 'x', MIRROR_ONLY);
      const { errors, connectors } = validate(text);
      expect(errors.map((p) => [p.code, p.key])).toEqual([['CONFIG_TIGERGRAPH_INCOMPLETE', key]]);
      const needed = [
        'tigergraph.url',
        'tigergraph.graph',
        'tigergraph.loading.job',
        'tigergraph.loading.filename',
        'tigergraph.loading.data.source',
      ];
      const message = errors[0]?.message ?? '';
      const [missingPart] = message.split('; allowed: ');
      for (const k of needed) expect(missingPart?.includes(`${k} (`)).toBe(k !== key);
      expect(connectors[0]?.tigergraph).toBeUndefined();
    },
  );

  it('names the key that asked for the loader, each missing key and what is allowed', () => {
    const text = edit('tigergraph.url', 'https://tg.example.com:14240', MIRROR_ONLY);
    expect(validate(text, 'c.properties').errors.map(formatProblem)).toEqual([
      "c.properties:12 tigergraph.url: is set, so TigerStream is to call TigerGraph's loader, which also needs tigergraph.graph (the graph the loading job belongs to), tigergraph.loading.job (the loading job name), tigergraph.loading.filename (the DEFINE FILENAME variable of the loading job, e.g. f1), tigergraph.loading.data.source (the KAFKA data source the loading job reads); allowed: tigergraph.url, tigergraph.graph, tigergraph.loading.job, tigergraph.loading.filename and tigergraph.loading.data.source all set (kafka delivery), or no tigergraph.* key (mirror-only: records go to hello.companies on TigerGraph's Kafka and your own loading job loads them) [CONFIG_TIGERGRAPH_INCOMPLETE]",
    ]);
  });

  it('names only what is missing, and the first key set when several are', () => {
    const { errors } = validate(edit('tigergraph.loading.data.source', undefined));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'CONFIG_TIGERGRAPH_INCOMPLETE',
      key: 'tigergraph.url',
    });
    expect(errors[0]?.message).toMatch(
      /which also needs tigergraph\.loading\.data\.source \(the KAFKA data source the loading job reads\); allowed/,
    );
  });

  it('needs no data source in direct delivery', () => {
    const direct = edit(
      'tigergraph.delivery',
      'direct',
      edit('tigergraph.loading.data.source', undefined),
    );
    const { errors, connectors } = validate(direct);
    expect(errors).toEqual([]);
    expect(connectors[0]?.tigergraph).toMatchObject({ delivery: 'direct', graph: 'Company_Graph' });
    const incomplete = validate(edit('tigergraph.graph', undefined, direct)).errors;
    expect(incomplete[0]?.message).toMatch(/all set, or no tigergraph/);
    expect(incomplete[0]?.message).not.toContain('data.source');
  });

  it('reads the keys per connector: a section may add the loader to one connector only', () => {
    const loaderKeys = VALID.match(/^tigergraph\..*\n/gm)?.join('') ?? '';
    const text = `${MIRROR_ONLY}[connector_2]\nname=loads\n${loaderKeys}[connector_3]\nname=half\ntigergraph.url=http://tg:14240\n`;
    const { errors, connectors } = validate(text);
    expect(connectors.map((c) => deliveryModeOf(c))).toEqual([
      'mirror-only',
      'kafka',
      'mirror-only',
    ]);
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'CONFIG_TIGERGRAPH_INCOMPLETE',
        key: 'tigergraph.url',
        line: text.split('\n').indexOf('tigergraph.url=http://tg:14240') + 1,
      }),
    ]);
  });

  it('is a warning, not an error, for callers that never call TigerGraph (convert)', async () => {
    const { parseConnectorFile, validateConnectorFile } =
      await import('../../../lib/config/index.ts');
    const { parsed, problems } = parseConnectorFile(edit('tigergraph.graph', 'G', MIRROR_ONLY));
    const result = validateConnectorFile(parsed, problems, { callsTigerGraph: false });
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((p) => p.code)).toEqual(['CONFIG_TIGERGRAPH_INCOMPLETE']);
    expect(result.connectors[0]?.tigergraph).toBeUndefined();
  });

  it('never prints a secret that asked for the loader', () => {
    const { errors } = validate(edit('tigergraph.auth.password', 'hunter22', MIRROR_ONLY));
    expect(errors.map((p) => p.key)).toEqual(['tigergraph.auth.password']);
    expect(errors.map(formatProblem).join('\n')).not.toContain('hunter22');
  });

  it('lets code that needs TigerGraph say so for a mirror-only connector', () => {
    const [mirror] = validate(MIRROR_ONLY).connectors;
    expect(() => requireTigerGraph(mirror!, 'the demo')).toThrow(ConfigError);
    expect(() => requireTigerGraph(mirror!, 'the demo')).toThrow(
      /company-stream is mirror-only .* but the demo needs TigerStream to call TigerGraph/,
    );
    const [loader] = validate(VALID).connectors;
    expect(requireTigerGraph(loader!, 'the demo').graph).toBe('Company_Graph');
  });
});

describe('logins inside URLs', () => {
  const OAUTH = [
    'producer.security.protocol=SASL_SSL',
    'producer.sasl.mechanism=OAUTHBEARER',
    'producer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="c" clientSecret="cs-1234";',
  ];
  const withLines = (lines: string[], text = VALID) =>
    text.replace('[connector_1]', `${lines.join('\n')}\n[connector_1]`);

  it.each([
    [
      'tigergraph.url',
      'https://admin:S3cretPw99@tg.example.com:14240',
      VALID,
      'tigergraph.auth.username',
    ],
    [
      'value.converter.schema.registry.url',
      'http://reg.example.com:8081, https://svc:S3cretPw99@reg2.example.com',
      VALID,
      'value.converter.basic.auth.user.info',
    ],
    [
      'producer.sasl.oauthbearer.token.endpoint.url',
      'https://client:S3cretPw99@idp.example.com/token',
      withLines(OAUTH),
      'clientSecret="..." in producer.sasl.jaas.config',
    ],
  ])(
    'refuses one in %s, naming where the login goes and never the password',
    (key, url, text, instead) => {
      const { errors } = validate(edit(key, url, text));
      const problem = errors.find((p) => p.code === 'CONFIG_URL_CREDENTIALS');
      expect(problem?.key).toBe(key);
      expect(problem?.message).toContain(instead);
      expect(errors.map(formatProblem).join('\n')).not.toContain('S3cretPw99');
    },
  );

  it('accepts URLs without one, and hides one in any message that shows the value', () => {
    expect(validate(edit('tigergraph.url', 'https://tg.example.com:14240/x@y')).errors).toEqual([]);
    // A URL that is wrong for another reason is shown without its login.
    const { errors } = validate(edit('tigergraph.url', 'ftp://admin:S3cretPw99@tg.example.com'));
    expect(errors.map((p) => p.code)).toEqual([
      'CONFIG_TIGERGRAPH_URL_INVALID',
      'CONFIG_URL_CREDENTIALS',
    ]);
    expect(errors[0]?.message).toContain('found "ftp://******@tg.example.com"');
    expect(errors.map(formatProblem).join('\n')).not.toContain('S3cretPw99');
  });
});

describe('MSK cluster ARNs', () => {
  it('takes provisioned (-<n>) and MSK Serverless (-s<n>) clusters as an MSK source', () => {
    for (const arn of [
      'arn:aws:kafka:us-east-1:123456789012:cluster/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
      'arn:aws:kafka:us-east-1:111122223333:cluster/test-cluster/576c2508-db71-4aaf-9449-aa36e7addd80-s1',
      'arn:aws-cn:kafka:cn-north-1:123456789012:cluster/c/751d2973-a626-431c-9d4e-d7975eb44dd7-25',
    ]) {
      expect(MSK_ARN.test(arn), arn).toBe(true);
      expect(validate(edit('source.cluster.bootstrap.servers', arn)).errors, arn).toEqual([]);
    }
    expect(MSK_ARN.test('arn:aws:kafka:us-east-1:123456789012:cluster/orders/xyz-s1')).toBe(false);
  });
});

describe("the trigger's batching window", () => {
  const warnings = (ms: string) =>
    validate(edit('tigerstream.esm.batching.window.ms', ms)).warnings.filter(
      (p) => p.code === 'CONFIG_ESM_BATCHING_WINDOW_ROUNDED',
    );

  it('warns when the deployed trigger cannot wait as long as asked, saying what it waits', () => {
    expect(warnings('250')[0]?.message).toBe(
      "is 250 ms, but a Lambda Kafka trigger's batching window is whole seconds (0 to 300) or AWS's default of 500 ms, so the deployed trigger waits 500 ms ('tgstream run' waits 250 ms); allowed without this warning: 0, 500, or a multiple of 1000",
    );
    expect(warnings('1500')[0]?.message).toContain('so the deployed trigger waits 2 s');
    for (const ms of ['0', '500', '1000', '300000']) expect(warnings(ms), ms).toEqual([]);
    expect(triggerBatchingWindowSeconds(0)).toBe(0);
    expect(triggerBatchingWindowSeconds(999)).toBeUndefined();
    expect(triggerBatchingWindowSeconds(2400)).toBe(2);
  });
});
