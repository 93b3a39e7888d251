/**
 * Client security of the two Kafka clusters (MirrorMaker's `consumer.`, `source.admin.` and
 * `producer.` prefixes): protocol, SASL mechanism and its JAAS line, OAuth, TLS material.
 * These rules read several keys under whichever prefix is set, so they are code, not rows.
 */
import type { Scope } from './scope.ts';
import {
  SASL_MECHANISMS,
  SECURITY_PROTOCOLS,
  type ClientSecurity,
  type OAuthSettings,
  type SaslMechanism,
  type SecurityProtocol,
} from './schema.ts';

const JAAS_MODULES: Partial<Record<SaslMechanism, RegExp>> = {
  PLAIN: /PlainLoginModule/,
  'SCRAM-SHA-256': /ScramLoginModule/,
  'SCRAM-SHA-512': /ScramLoginModule/,
  AWS_MSK_IAM: /IAMLoginModule/,
  OAUTHBEARER: /OAuthBearerLoginModule/,
};

/**
 * Why Kerberos cannot be used on a side, and what can. Source: a Lambda Kafka trigger
 * authenticates only with SASL/SCRAM, PLAIN (self-managed), IAM (MSK) or mTLS; target: the
 * producer has no Kerberos client yet.
 */
const gssapiReason = (side: 'source' | 'target', sourceIsMsk: boolean): string =>
  side === 'source'
    ? `which a Lambda Kafka trigger cannot authenticate with; allowed: ${sourceIsMsk ? 'SCRAM-SHA-512, AWS_MSK_IAM (MSK)' : 'PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (self-managed)'}, or mTLS with security.protocol=SSL`
    : 'which the producer does not support yet; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM';

/** Reads `username`, `password` (and OAuth's `clientId`, `clientSecret`, `scope`) out of a JAAS line. */
export function parseJaas(jaas: string): {
  module: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  unsecured?: boolean;
} {
  const module = /^\s*([\w.$]+)/.exec(jaas)?.[1] ?? '';
  const option = (name: string): string | undefined => {
    const m = new RegExp(`\\b${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`).exec(jaas);
    return m ? (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1') : undefined;
  };
  const found = Object.fromEntries(
    (['username', 'password', 'clientId', 'clientSecret', 'scope'] as const)
      .map((name) => [name, option(name)] as const)
      .filter(([, value]) => value !== undefined),
  );
  return {
    module,
    ...found,
    ...(/\bunsecuredLoginStringClaim_/.test(jaas) ? { unsecured: true } : {}),
  };
}

/** Reads and checks one cluster's client security from the first prefix that sets each key. */
export function clientSecurity(
  scope: Scope,
  prefixes: readonly string[],
  side: 'source' | 'target',
  sourceIsMsk: boolean,
  esmCheck = true,
): ClientSecurity {
  const pick = (suffix: string): string =>
    prefixes.map((p) => `${p}.${suffix}`).find((k) => scope.map.has(k)) ??
    `${prefixes[0] as string}.${suffix}`;
  const protocolKey = pick('security.protocol');
  const protocol = scope.oneOf<SecurityProtocol>(
    protocolKey,
    SECURITY_PROTOCOLS,
    'PLAINTEXT',
    'CONFIG_SECURITY_PROTOCOL_INVALID',
  );
  const mechanismKey = pick('sasl.mechanism');
  const jaasKey = pick('sasl.jaas.config');
  const isSasl = protocol.startsWith('SASL_');
  let mechanism: SaslMechanism | undefined;
  let username: string | undefined;
  let password: string | undefined;
  let oauth: OAuthSettings | undefined;
  if (scope.map.has(mechanismKey) || isSasl) {
    const written = scope.get(mechanismKey);
    mechanism = scope.oneOf<SaslMechanism>(
      mechanismKey,
      SASL_MECHANISMS,
      'GSSAPI',
      'CONFIG_SASL_MECHANISM_INVALID',
    );
    if (!isSasl) {
      scope.report(
        mechanismKey,
        'CONFIG_SASL_IGNORED',
        `is ignored because ${protocolKey} is ${protocol}; use SASL_SSL or SASL_PLAINTEXT to authenticate with SASL`,
        'warning',
      );
      mechanism = undefined;
    } else if (mechanism === 'GSSAPI') {
      scope.report(
        mechanismKey,
        'CONFIG_SASL_GSSAPI_UNSUPPORTED',
        `${written === undefined ? 'is not set, so Kafka would use GSSAPI (Kerberos)' : 'GSSAPI (Kerberos)'}, ${gssapiReason(side, sourceIsMsk)}`,
      );
    } else {
      const jaas = scope.get(jaasKey);
      const module = JAAS_MODULES[mechanism];
      if (
        (mechanism === 'PLAIN' || mechanism.startsWith('SCRAM')) &&
        (jaas === undefined || jaas.trim() === '')
      ) {
        scope.report(
          jaasKey,
          'CONFIG_SASL_JAAS_MISSING',
          `is required with ${mechanismKey}=${mechanism}: a ${mechanism === 'PLAIN' ? 'PlainLoginModule' : 'ScramLoginModule'} line with username="..." password="..."`,
        );
      } else if (jaas !== undefined && jaas.trim() !== '') {
        const parsed = parseJaas(jaas);
        if (module && !module.test(parsed.module))
          scope.report(
            jaasKey,
            'CONFIG_SASL_JAAS_MISMATCH',
            `names login module "${parsed.module || 'none'}", which does not match ${mechanismKey}=${mechanism}; expected ${module.source}`,
          );
        else if (
          (mechanism === 'PLAIN' || mechanism.startsWith('SCRAM')) &&
          (parsed.username === undefined || parsed.password === undefined)
        )
          scope.report(
            jaasKey,
            'CONFIG_SASL_JAAS_INVALID',
            'must give both username="..." and password="..."',
          );
        else if (mechanism === 'OAUTHBEARER') oauth = oauthSettings(scope, parsed, pick, jaasKey);
        username = parsed.username;
        password = parsed.password;
      }
      if (mechanism === 'OAUTHBEARER' && (jaas === undefined || jaas.trim() === ''))
        scope.report(
          jaasKey,
          'CONFIG_SASL_JAAS_MISSING',
          `is required with ${mechanismKey}=OAUTHBEARER: software.amazon.msk.auth.iam.IAMOAuthBearerLoginModule required; (MSK IAM) or org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="..." clientSecret="..." [scope="..."];`,
        );
      if (side === 'source' && esmCheck) {
        const esmAllowed: readonly SaslMechanism[] = sourceIsMsk
          ? ['SCRAM-SHA-512', 'AWS_MSK_IAM']
          : ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
        const iam = mechanism === 'OAUTHBEARER' && oauth?.kind === 'msk-iam';
        if (!esmAllowed.includes(iam ? 'AWS_MSK_IAM' : mechanism))
          scope.report(
            mechanismKey,
            'CONFIG_SOURCE_AUTH_UNSUPPORTED_BY_ESM',
            `${mechanism} works with 'tgstream run' but not with a Lambda Kafka trigger on ${sourceIsMsk ? 'MSK' : 'a self-managed cluster'}, which supports ${esmAllowed.join(', ')} and mTLS`,
            'warning',
          );
      }
    }
  }
  scope.entry(pick('sasl.kerberos.service.name'));
  const endpointKey = pick('ssl.endpoint.identification.algorithm');
  return Object.freeze({
    protocol,
    mechanism,
    username,
    password,
    skipHostnameCheck: scope.map.has(endpointKey) && scope.get(endpointKey)?.trim() === '',
    keystoreLocation: scope.get(pick('ssl.keystore.location')),
    truststoreLocation: scope.get(pick('ssl.truststore.location')),
    keyPem: scope.get(pick('ssl.keystore.key')),
    certificateChainPem: scope.get(pick('ssl.keystore.certificate.chain')),
    caPem: scope.get(pick('ssl.truststore.certificates')),
    oauth,
  });
}

/**
 * OAUTHBEARER settings: MSK's IAMOAuthBearerLoginModule means IAM tokens; Kafka's
 * OAuthBearerLoginModule with clientId and clientSecret means the client-credentials grant
 * against `sasl.oauthbearer.token.endpoint.url` (KIP-768).
 */
function oauthSettings(
  scope: Scope,
  parsed: ReturnType<typeof parseJaas>,
  pick: (suffix: string) => string,
  jaasKey: string,
): OAuthSettings | undefined {
  if (/IAMOAuthBearerLoginModule$/.test(parsed.module)) return { kind: 'msk-iam' };
  if (parsed.unsecured === true) {
    scope.report(
      jaasKey,
      'CONFIG_SASL_OAUTHBEARER_UNSECURED',
      'uses unsecured OAUTHBEARER tokens (unsecuredLoginStringClaim_*), which are for tests only and not supported; give clientId="..." clientSecret="..." and sasl.oauthbearer.token.endpoint.url',
    );
    return undefined;
  }
  if (parsed.clientId === undefined || parsed.clientSecret === undefined) {
    scope.report(
      jaasKey,
      'CONFIG_SASL_JAAS_INVALID',
      'must give clientId="..." and clientSecret="..." (and optionally scope="...") for OAUTHBEARER',
    );
    return undefined;
  }
  const endpointKey = pick('sasl.oauthbearer.token.endpoint.url');
  const endpoint = scope.get(endpointKey);
  if (endpoint === undefined || !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    scope.report(
      endpointKey,
      'CONFIG_SASL_OAUTHBEARER_ENDPOINT_INVALID',
      `${endpoint === undefined ? 'is not set' : `is "${endpoint}"`}; allowed: the http(s) URL of the OAuth token endpoint the client credentials are sent to`,
    );
    return undefined;
  }
  return {
    kind: 'client-credentials',
    tokenEndpointUrl: endpoint,
    clientId: parsed.clientId,
    clientSecret: parsed.clientSecret,
    scope: parsed.scope,
  };
}
