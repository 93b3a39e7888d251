import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8')) as unknown;

/** Writes the example connector file with `find` replaced by `replace`; returns its path. */
export function exampleConnectorWith(find: string, replace: string, name = 'c.properties'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tgstream-e2e-')), name);
  const text = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8');
  if (!text.includes(find)) throw new Error(`the example connector file has no "${find}"`);
  writeFileSync(file, text.replace(find, replace));
  return file;
}
