/** The example files that ship with TigerStream, found from the package, whatever the cwd. */
import { fileURLToPath } from 'node:url';

/** The reference page's schema, data source and loading job (infra/examples/company.gsql). */
export const EXAMPLE_GSQL = fileURLToPath(
  new URL('../../infra/examples/company.gsql', import.meta.url),
);
/** The reference page's connector as a TigerStream connector file. */
export const EXAMPLE_CONNECTOR = fileURLToPath(
  new URL('../../infra/connectors/company.properties', import.meta.url),
);
