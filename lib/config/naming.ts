/** Names shared by the IaC (infra/) and the CLI, so `tgstream connector status` finds what Serverless created. */

/** `company-stream` → `CompanyStream`. */
export const logicalName = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => `${p.charAt(0).toUpperCase()}${p.slice(1)}`)
    .join('');

/** The function key in serverless.yml for a connector. */
export const functionKeyFor = (connector: string): string => `stream${logicalName(connector)}`;

/** The deployed Lambda function name (Serverless v3: `<service>-<stage>-<functionKey>`). */
export const functionNameFor = (service: string, stage: string, connector: string): string =>
  `${service}-${stage}-${functionKeyFor(connector)}`;

/** The ESM's consumer group. */
export const consumerGroupFor = (connector: string): string => `tigerstream-${connector}`;
