/**
 * `tgstream convert --c FILE`: records as the Lambda event carries them (JSON lines on stdin:
 * topic, partition, offset, timestamp, key and value base64, headers as in the event) in;
 * one converted line per converted value on stdout, in order; one JSON error line per record
 * that cannot be converted on stderr. "What will TigerGraph receive?" It never calls TigerGraph,
 * so it needs no tigergraph.* key: a mirror-only file converts as it is delivered, and an
 * incomplete set of tigergraph.* keys converts as mirror-only (the CLI validates with
 * `callsTigerGraph: false`).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ConnectorConfig } from '../config/index.ts';
import { createConverter, type ConverterDeps } from '../convert/index.ts';
import { isTigerStreamError, messageOf } from '../errors/index.ts';
import { parseRawRecord } from '../event/index.ts';
import { EXIT, type CliIo } from './io.ts';

/** Bound on one input line. */
export const MAX_INPUT_LINE = 16 * 1024 * 1024;

export async function convertCommand(
  config: ConnectorConfig,
  input: Readable,
  io: CliIo,
  deps: ConverterDeps = {},
): Promise<number> {
  const converter = await createConverter(config, { cwd: io.cwd, ...deps });
  let failed = 0;
  let lineNumber = 0;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    let coordinates: { topic?: unknown; partition?: unknown; offset?: unknown } = {};
    try {
      if (line.length > MAX_INPUT_LINE)
        throw Object.assign(new Error(`the line is longer than ${MAX_INPUT_LINE} characters`), {
          code: 'CONVERT_INPUT_TOO_LARGE',
        });
      const raw: unknown = JSON.parse(line);
      if (typeof raw === 'object' && raw !== null) coordinates = raw;
      const record = parseRawRecord(raw);
      const converted = await converter.convert(record);
      if (converted.kind === 'values')
        for (const v of converted.values) io.stdout(`${v.toString('utf8')}\n`);
    } catch (error) {
      failed++;
      const code = isTigerStreamError(error)
        ? error.code
        : error instanceof SyntaxError
          ? 'CONVERT_INPUT_NOT_JSON'
          : ((error as { code?: string }).code ?? 'CONVERT_FAILED');
      io.stderr(
        `${JSON.stringify({
          topic: typeof coordinates.topic === 'string' ? coordinates.topic : null,
          partition: typeof coordinates.partition === 'number' ? coordinates.partition : null,
          offset: typeof coordinates.offset === 'number' ? coordinates.offset : null,
          ...(typeof coordinates.topic === 'string' ? {} : { line: lineNumber }),
          code,
          message: messageOf(error),
        })}\n`,
      );
    }
  }
  return failed === 0 ? EXIT.OK : EXIT.NOT_CONVERTED;
}
