/**
 * What a loading job's own definition says of its Kafka start: the `default_start_offset` of
 * the topic-partition configuration in `DEFINE FILENAME f = "$<data source>:<JSON>"` (reference
 * section 5.2). Read from the job's text: 4.x `GET /gsql/v1/loading-jobs/{job}` answers it as
 * `results.jobContent` (section 2.2); 3.x prints it for GSQL's `SHOW JOB <job>` (console text,
 * whose exact layout is [UNCONFIRMED]: only the DEFINE FILENAME statement is looked for).
 */

/** The GSQL string after `DEFINE FILENAME <variable> =`, unescaped; undefined when absent. */
export function definedFilename(jobText: string, variable: string): string | undefined {
  const name = variable.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
  const at = new RegExp(`DEFINE\\s+FILENAME\\s+${name}\\s*=\\s*"`, 'i').exec(jobText);
  if (!at) return undefined;
  let out = '';
  for (let i = at.index + at[0].length; i < jobText.length; i++) {
    const c = jobText[i] as string;
    if (c === '"') return out;
    if (c === '\\' && i + 1 < jobText.length) out += jobText.charAt(++i);
    else out += c;
  }
  return undefined;
}

/**
 * The job's own `default_start_offset` for `variable`: an integer when its DEFINE FILENAME
 * holds inline JSON with one (section 5.2), else undefined (no value, a file path, a topic
 * name alone, or text that is not JSON).
 */
export function jobDefaultStartOffset(jobText: string, variable: string): number | undefined {
  const value = definedFilename(jobText, variable);
  const m =
    value === undefined ? null : /^\$[A-Za-z_][A-Za-z0-9_]*:\s*(\{[\s\S]*\})\s*$/.exec(value);
  if (!m) return undefined;
  try {
    const config = JSON.parse(m[1] as string) as { default_start_offset?: unknown };
    const offset = config.default_start_offset;
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= -2
      ? offset
      : undefined;
  } catch {
    return undefined;
  }
}
