import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConnectorFile } from '../../../lib/config/index.ts';
import { ROOT } from '../../helpers/fixtures.ts';

const REFERENCE = join(
  ROOT,
  '..',
  'shared',
  'reference',
  'tigergraph-3.9-stream-from-external-kafka.txt',
);

describe('parseConnectorFile', () => {
  it('reads key=value and key: value, skips # and ! comments, and keeps line numbers', () => {
    const { parsed, problems } = parseConnectorFile(
      '# comment\n! also a comment\na=1\n  b : two words \n\n[s]\nname=x\n',
      'f',
    );
    expect(problems).toEqual([]);
    expect(parsed.entries).toEqual([
      { key: 'a', value: '1', line: 3 },
      { key: 'b', value: 'two words ', line: 4 },
    ]);
    expect(parsed.sections).toEqual([
      { title: 's', line: 6, entries: [{ key: 'name', value: 'x', line: 7 }] },
    ]);
  });

  it('joins lines ending in a backslash and unescapes quotes inside values', () => {
    const text =
      'consumer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    username=\\"alice\\" \\\n    password=\\"s3cr=t\\";\nnext=1\n';
    const { parsed } = parseConnectorFile(text);
    expect(parsed.entries[0]).toEqual({
      key: 'consumer.sasl.jaas.config',
      value:
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cr=t";',
      line: 1,
    });
    expect(parsed.entries[1]).toEqual({ key: 'next', value: '1', line: 4 });
  });

  it('keeps an even number of trailing backslashes as literal backslashes', () => {
    const { parsed } = parseConnectorFile('path=C:\\\\dir\\\\\nnext=1');
    expect(parsed.entries.map((e) => e.value)).toEqual(['C:\\dir\\', '1']);
  });

  it('accepts an empty value (ssl.endpoint.identification.algorithm=)', () => {
    expect(
      parseConnectorFile('producer.ssl.endpoint.identification.algorithm=').parsed.entries[0]
        ?.value,
    ).toBe('');
  });

  it('reports a line that is not key=value instead of skipping it', () => {
    const { problems } = parseConnectorFile('a=1\njust some words\n=orphan\n');
    expect(problems).toEqual([
      {
        line: 2,
        code: 'CONFIG_LINE_MALFORMED',
        message: 'expected key=value, key: value, a [section] or a # comment',
      },
      { line: 3, code: 'CONFIG_LINE_MALFORMED', message: 'the line has a value but no key' },
    ]);
  });

  it.runIf(existsSync(REFERENCE))("parses the reference page's example file unchanged", () => {
    const page = readFileSync(REFERENCE, 'utf8');
    const start = page.search(/^connector\.class=/m);
    const end = page.indexOf('tasks.max=10', start) + 'tasks.max=10'.length;
    const { parsed, problems } = parseConnectorFile(page.slice(start, end), 'reference.properties');
    expect(problems).toEqual([]);
    expect(parsed.entries).toHaveLength(51);
    expect(parsed.sections).toEqual([
      {
        title: 'connector_1',
        line: 52,
        entries: [
          { key: 'name', value: 'avro-test-without-registry', line: 53 },
          { key: 'tasks.max', value: '10', line: 54 },
        ],
      },
    ]);
    const jaas = parsed.entries.find((e) => e.key === 'producer.sasl.jaas.config');
    expect(jaas?.value).toBe(
      'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/path/to/kafka-producer.keytab" principal="kafka-producer@TIGERGRAPH.COM";',
    );
  });
});
