/** Which configuration keys hold secrets, and redaction of their values everywhere. */

export const REDACTED = '******';

/** `*.password`, `*.jaas.config`, `*.secret`, `*.key`, `*.token`, keystore contents, registry user info. */
const SECRET_KEY =
  /(^|\.)(password|secret|token|key|jaas\.config|basic\.auth\.user\.info|keystore\.(key|certificate\.chain)|truststore\.certificates|pem)$/i;

/** The converters are named `key.converter`; they are not secrets. */
const NOT_SECRET = /^(key\.converter|header\.converter|value\.converter)$/;

export const isSecretKey = (key: string): boolean => !NOT_SECRET.test(key) && SECRET_KEY.test(key);

/** Secrets shorter than this are not searched for in free text (too many false hits). */
const MIN_SECRET_LENGTH = 3;

/**
 * Builds a function that replaces every known secret value inside any text with `******`.
 * Used by the logger, the CLI and error output, so a secret that leaks into a message (a
 * JAAS line inside a foreign error, say) is still hidden.
 */
export function createRedactor(secretValues: Iterable<string>): (text: string) => string {
  const needles = new Set<string>();
  for (const v of secretValues) {
    if (v.length < MIN_SECRET_LENGTH || v === REDACTED) continue;
    needles.add(v);
    // JAAS configs embed a password (or OAuth clientSecret); hide it on its own too.
    for (const m of v.matchAll(
      /(?:password|clientSecret)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/gi,
    )) {
      const inner = m[1] ?? m[2] ?? '';
      if (inner.length >= MIN_SECRET_LENGTH) needles.add(inner);
    }
    const json = JSON.stringify(v).slice(1, -1);
    if (json !== v) needles.add(json);
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  const pattern = new RegExp(
    sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  return (text) => text.replace(pattern, REDACTED);
}

/** A copy of `settings` with every secret key's value shown as `******`. */
export const redactSettings = (
  settings: Readonly<Record<string, string>>,
): Record<string, string> =>
  Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [k, isSecretKey(k) && v !== '' ? REDACTED : v]),
  );

/** A redactor that learns secrets as configurations are loaded (the CLI's output filter). */
export interface SecretRegistry {
  add(settings: Readonly<Record<string, string>>): void;
  redact(text: string): string;
}

export function createSecretRegistry(): SecretRegistry {
  const values = new Set<string>();
  let redact: (text: string) => string = (t) => t;
  return {
    add(settings) {
      const before = values.size;
      for (const [k, v] of Object.entries(settings)) if (isSecretKey(k) && v !== '') values.add(v);
      if (values.size !== before) redact = createRedactor(values);
    },
    redact: (text) => redact(text),
  };
}
