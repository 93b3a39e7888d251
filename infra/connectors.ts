/**
 * The connector files a stage deploys: every `*.properties` file of infra/connectors (or of
 * TGSTREAM_CONNECTORS_DIR), validated as `tgstream connector validate` does, each connector
 * kept with the lines its keys were written on so deploy-time problems point at them too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseConnectorFile,
  validateConnectorFile,
  type ConnectorConfig,
  type ParsedFile,
  type Problem,
} from '../lib/config/index.ts';

/** A validated connector and where its keys are written. */
export interface DeployedConnector {
  readonly config: ConnectorConfig;
  /** The line a key is set on (the section's value wins over the file's), else the section's. */
  readonly lineOf: (key: string) => number;
}

/** What a directory of connector files holds: connectors, errors and warnings. */
export interface ConnectorSet {
  /** The directory as problems name it. */
  readonly dir: string;
  readonly connectors: readonly DeployedConnector[];
  readonly errors: readonly Problem[];
  readonly warnings: readonly Problem[];
}

/**
 * Validator warnings that are errors when the connector is deployed: `tgstream run` can use the
 * setting, a Lambda Kafka trigger cannot (security.ts says which mechanisms each source takes).
 */
const FATAL_WHEN_DEPLOYED = new Set(['CONFIG_SOURCE_AUTH_UNSUPPORTED_BY_ESM']);

const lineLookup = (parsed: ParsedFile, title: string) => {
  const section = parsed.sections.find((s) => s.title === title);
  return (key: string): number =>
    section?.entries.find((e) => e.key === key)?.line ??
    parsed.entries.findLast((e) => e.key === key)?.line ??
    section?.line ??
    1;
};

/**
 * Reads and validates every connector file of `dir`, sorted by name; `shownDir` is how
 * problems name the directory (a relative path for the project's own).
 */
export function readConnectorSet(dir: string, shownDir = dir): ConnectorSet {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.properties'))
    .sort();
  const connectors: DeployedConnector[] = [];
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  for (const f of files) {
    const { parsed, problems } = parseConnectorFile(
      readFileSync(join(dir, f), 'utf8'),
      join(shownDir, f),
    );
    const result = validateConnectorFile(parsed, problems);
    errors.push(...result.errors);
    for (const w of result.warnings)
      if (FATAL_WHEN_DEPLOYED.has(w.code)) errors.push({ ...w, severity: 'error' });
      else warnings.push(w);
    for (const config of result.connectors)
      connectors.push({ config, lineOf: lineLookup(parsed, config.section) });
  }
  return { dir: shownDir, connectors, errors, warnings };
}

/** A deploy-time problem of one connector, in the validator's shape. */
export const problemAt = (
  c: DeployedConnector,
  key: string,
  code: string,
  message: string,
  severity: Problem['severity'] = 'error',
): Problem => ({ file: c.config.file, line: c.lineOf(key), key, code, message, severity });
