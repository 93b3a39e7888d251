/** kafkajs TLS and SASL settings from a connector's client security block. */
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { ClientSecurity } from '../config/index.ts';
import { DeliveryError } from '../errors/index.ts';
import { createClientCredentialsProvider, type OAuthTokenOptions } from './oauth.ts';

/** Returns a fresh MSK IAM auth token. */
export type IamTokenProvider = () => Promise<string>;

/**
 * The default IAM token: signed by aws-msk-iam-sasl-signer-js with the default credential
 * chain (the Lambda's role) for the region in AWS_REGION.
 */
export const defaultIamToken: IamTokenProvider = async () => {
  // CommonJS: its exports are the default export of `import()`. Node adds named ones too, but
  // the bundle's chunk of it (esbuild code splitting, scripts/build-options.cjs) has no others.
  const { generateAuthToken } = (await import('aws-msk-iam-sasl-signer-js')).default;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (region === undefined)
    throw new DeliveryError(
      'KAFKA_IAM_REGION_MISSING',
      'MSK IAM authentication needs AWS_REGION (the region of the cluster)',
    );
  return (await generateAuthToken({ region })).token;
};

/** kafkajs settings for one cluster's security block. */
export function kafkaSecurity(
  security: ClientSecurity,
  iamToken: IamTokenProvider = defaultIamToken,
  oauthOptions: OAuthTokenOptions = {},
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const ssl = security.protocol === 'SSL' || security.protocol === 'SASL_SSL';
  const tls = {
    ...(security.skipHostnameCheck ? { checkServerIdentity: () => undefined } : {}),
    ...(security.caPem ? { ca: security.caPem } : {}),
    ...(security.keyPem ? { key: security.keyPem } : {}),
    ...(security.certificateChainPem ? { cert: security.certificateChainPem } : {}),
  };
  const result: Pick<KafkaConfig, 'ssl' | 'sasl'> = ssl
    ? { ssl: Object.keys(tls).length > 0 ? tls : true }
    : {};
  if (!security.protocol.startsWith('SASL_') || security.mechanism === undefined) return result;
  const credentials = { username: security.username ?? '', password: security.password ?? '' };
  const mechanisms: Partial<Record<string, SASLOptions>> = {
    PLAIN: { mechanism: 'plain', ...credentials },
    'SCRAM-SHA-256': { mechanism: 'scram-sha-256', ...credentials },
    'SCRAM-SHA-512': { mechanism: 'scram-sha-512', ...credentials },
    // MSK IAM is SASL/OAUTHBEARER with a signed token (aws-msk-iam-sasl-signer-js).
    AWS_MSK_IAM: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => ({ value: await iamToken() }),
    },
  };
  const oauth = security.oauth;
  if (security.mechanism === 'OAUTHBEARER' && oauth !== undefined) {
    // MSK's IAMOAuthBearerLoginModule is IAM; otherwise the client-credentials grant.
    const token =
      oauth.kind === 'msk-iam' ? iamToken : createClientCredentialsProvider(oauth, oauthOptions);
    return {
      ...result,
      sasl: {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: await token() }),
      },
    };
  }
  const sasl = mechanisms[security.mechanism];
  if (sasl === undefined)
    throw new DeliveryError(
      'KAFKA_SASL_MECHANISM_UNSUPPORTED',
      `SASL mechanism ${security.mechanism} is not supported by TigerStream's Kafka clients${security.mechanism === 'OAUTHBEARER' ? ' without a valid JAAS line' : ''}; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM, or OAUTHBEARER with IAMOAuthBearerLoginModule or clientId/clientSecret and sasl.oauthbearer.token.endpoint.url`,
    );
  return { ...result, sasl };
}
