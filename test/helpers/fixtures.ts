import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8')) as unknown;
