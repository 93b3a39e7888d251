import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  KEY_RULES,
  KNOWN_KEYS,
  TIGERGRAPH_RULES,
  allowedText,
  deliveryModeOf,
  formatProblem,
  passes,
  requireTigerGraph,
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
