/**
 * Parser for TigerGraph's connector file format (section 2.1 of the 3.9 "Stream from an
 * External Kafka Cluster" page): Java-properties lines, then `[section]` subsections.
 */
export interface Entry {
  readonly key: string;
  readonly value: string;
  /** 1-based line where the entry starts. */
  readonly line: number;
}
export interface Section {
  readonly title: string;
  readonly line: number;
  readonly entries: readonly Entry[];
}
export interface ParsedFile {
  readonly file: string;
  readonly entries: readonly Entry[];
  readonly sections: readonly Section[];
}

/** Bound on file size: connector files are small; anything larger is a mistake. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const endsWithContinuation = (line: string): boolean => {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
};

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f' };

/** Java-properties unescaping: `\"` → `"`, `\\` → `\`, `\n`, `\uXXXX`, `\x` → `x`. */
export function unescapeValue(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\' || i === raw.length - 1) {
      out += c;
      continue;
    }
    const next = raw[++i] as string;
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(raw.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += ESCAPES[next] ?? next;
  }
  return out;
}

/** Index of the first unescaped `=` or `:` (the key/value separator), or -1. */
function separatorIndex(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '=' || c === ':') return i;
  }
  return -1;
}

export interface ParseProblem {
  readonly line: number;
  readonly message: string;
  readonly code: string;
}

/**
 * Parses connector file text. Lines that are neither comments, sections nor `key=value`
 * become problems rather than being skipped, so nothing a user wrote is silently ignored.
 */
export function parseConnectorFile(
  text: string,
  file = '<input>',
): { parsed: ParsedFile; problems: ParseProblem[] } {
  const problems: ParseProblem[] = [];
  const entries: Entry[] = [];
  const sections: { title: string; line: number; entries: Entry[] }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = (lines[i] as string).replace(/^\s+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsWithContinuation(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + (lines[++i] as string).replace(/^\s+/, '');
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    const section = /^\[([^\]]*)\]\s*$/.exec(logical);
    if (section) {
      const title = (section[1] as string).trim();
      if (title === '')
        problems.push({
          line: start,
          message: 'a section title "[...]" must not be empty',
          code: 'CONFIG_SECTION_TITLE_EMPTY',
        });
      sections.push({ title, line: start, entries: [] });
      continue;
    }
    const at = separatorIndex(logical);
    if (at <= 0) {
      problems.push({
        line: start,
        message:
          at === 0
            ? 'the line has a value but no key'
            : 'expected key=value, key: value, a [section] or a # comment',
        code: 'CONFIG_LINE_MALFORMED',
      });
      continue;
    }
    const key = unescapeValue(logical.slice(0, at).trim());
    const value = unescapeValue(logical.slice(at + 1).replace(/^\s+/, ''));
    const entry = { key, value, line: start };
    const last = sections[sections.length - 1];
    if (last) last.entries.push(entry);
    else entries.push(entry);
  }
  return { parsed: { file, entries, sections }, problems };
}
