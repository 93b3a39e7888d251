/**
 * The AWS Secrets Manager secrets a Lambda Kafka trigger (event-source mapping) reads to reach
 * the source cluster, built from the connector's source security (its `consumer.`,
 * `source.cluster.` and `source.admin.` keys, with key and trust stores already converted to PEM
 * by `inlineStores` in keystore.ts). Pure: which secrets, and their JSON values; lib/control writes them.
 *
 * Formats, as AWS documents them for self-managed Kafka and MSK
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-cluster-auth.html, "Configuring the client
 * certificate secret" and "Configuring the server root CA certificate secret";
 * https://docs.aws.amazon.com/msk/latest/developerguide/msk-password-tutorial.html for SCRAM):
 * - SASL/PLAIN (`BASIC_AUTH`), SASL/SCRAM-SHA-256/512: `{"username","password"}`.
 * - mTLS (`CLIENT_CERTIFICATE_TLS_AUTH`): `{"certificate","privateKey"}` in PEM; the certificate
 *   field lists the client certificate first, then any intermediates, then the root; the key is
 *   PKCS#8. An encrypted key would need `privateKeyPassword`, and Lambda decrypts only PBES1
 *   keys, not PBES2 (what openssl and Java 17 write by default), so the key is stored decrypted:
 *   Secrets Manager encrypts the whole secret with KMS anyway.
 * - Private CA (`SERVER_ROOT_CA_CERTIFICATE`, self-managed clusters only): `{"certificate"}`
 *   with the broker's root CA in PEM.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError, messageOf } from '../errors/index.ts';
import { mskSourceSecretNameFor, sourceCaSecretNameFor, sourceSecretNameFor } from './naming.ts';
import { MSK_ARN } from './rules.ts';
import type { ConnectorConfig } from './schema.ts';

/** What a trigger secret holds: SASL credentials, a client certificate, or a private root CA. */
export const SOURCE_SECRET_KINDS = ['sasl', 'client-certificate', 'root-ca'] as const;
export type SourceSecretKind = (typeof SOURCE_SECRET_KINDS)[number];

export interface PlannedSourceSecret {
  /** The secret's name, from naming.ts (the IaC derives the same one). */
  readonly name: string;
  readonly kind: SourceSecretKind;
  /** What it holds, for the CLI's output (never the value). */
  readonly what: string;
}

export interface SourceSecret extends PlannedSourceSecret {
  /** The JSON object stored as the secret's SecretString. */
  readonly value: Readonly<Record<string, string>>;
}

export interface SourceSecretPlan {
  readonly secrets: readonly PlannedSourceSecret[];
  /** Why a secret the source would need is not TigerStream's to write. */
  readonly notes: readonly string[];
}

/** The prefixes validate.ts reads the source's client settings from, in its order. */
const SOURCE_PREFIXES = ['consumer', 'source.cluster', 'source.admin'] as const;
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const isSaslSecret = (mechanism: string | undefined): boolean =>
  mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512';

/**
 * How the trigger logs in, when a secret holds it: the same choice as the IaC's
 * (infra/source.ts), one login per trigger and SASL before a client certificate.
 */
function loginOf(
  source: ConnectorConfig['source'],
): Pick<PlannedSourceSecret, 'kind' | 'what'> | undefined {
  if (isSaslSecret(source.mechanism))
    return { kind: 'sasl', what: `SASL/${source.mechanism ?? ''} username and password` };
  if (
    source.mechanism === undefined &&
    source.protocol === 'SSL' &&
    source.keyPem !== undefined &&
    source.certificateChainPem !== undefined
  )
    return { kind: 'client-certificate', what: 'mTLS client certificate chain and private key' };
  return undefined;
}

/**
 * Which trigger secrets a connector needs (no values, no crypto): what `connector create`
 * writes and `connector delete` removes.
 *
 * @example
 * planSourceSecrets(config, 'prod').secrets.map((s) => s.name); // ['tgstream/prod/orders/source-auth']
 */
export function planSourceSecrets(config: ConnectorConfig, stage: string): SourceSecretPlan {
  const source = config.source;
  const msk = MSK_ARN.test(config.sourceBootstrapServers);
  const secrets: PlannedSourceSecret[] = [];
  const notes: string[] = [];
  const login = loginOf(source);
  const own = config.settings['tigerstream.esm.secret.arn']?.trim();
  if (login !== undefined && own)
    notes.push(
      `the trigger reads its ${login.kind === 'sasl' ? 'SASL credentials' : 'client certificate'} from tigerstream.esm.secret.arn (${own}), so no secret was written for them; keep that secret current yourself`,
    );
  else if (login !== undefined)
    secrets.push({
      // MSK takes SCRAM users only from secrets named AmazonMSK_*: naming.ts says which name.
      name: msk
        ? mskSourceSecretNameFor(stage, config.name)
        : sourceSecretNameFor(stage, config.name),
      ...login,
    });
  // MSK brokers present certificates from a public CA; the trigger takes no root CA for MSK.
  if (!msk && source.caPem !== undefined && source.protocol.endsWith('SSL'))
    secrets.push({
      name: sourceCaSecretNameFor(stage, config.name),
      kind: 'root-ca',
      what: "the source brokers' private root CA",
    });
  return { secrets, notes };
}

/** Which source prefix a key came from (the first that sets it, as validate.ts picks). */
const sourceKey = (config: ConnectorConfig, suffix: string): string | undefined =>
  SOURCE_PREFIXES.map((p) => `${p}.${suffix}`).find((k) => config.settings[k] !== undefined);

const certificatesOf = (pem: string, key: string): X509Certificate[] => {
  const seen = new Set<string>();
  const out: X509Certificate[] = [];
  for (const block of pem.match(CERTIFICATE_PEM) ?? []) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(
        'CONFIG_SOURCE_CERTIFICATE_INVALID',
        `${key}: a certificate cannot be read (${messageOf(error)}); allowed: PEM X.509 certificates`,
        { cause: error, details: { key } },
      );
    }
    // A keytool store lists its root twice: in the key's chain and as a trusted entry.
    if (seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    out.push(cert);
  }
  return out;
};

const selfSigned = (cert: X509Certificate): boolean =>
  cert.checkIssued(cert) && cert.verify(cert.publicKey);

/**
 * The certificate of `key`, then its issuers up to the root, as Lambda wants them; certificates
 * of other chains in the store are left out.
 */
function leafFirst(certs: readonly X509Certificate[], key: KeyObject, chainKey: string): string {
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (leaf === undefined)
    throw new ConfigError(
      'CONFIG_SOURCE_CERTIFICATE_MISMATCH',
      `${chainKey}: none of its ${certs.length} certificate(s) belongs to the private key; allowed: the key's own certificate, then its issuers`,
      { details: { key: chainKey } },
    );
  const chain = [leaf];
  let current = leaf;
  while (!selfSigned(current)) {
    const issuer = certs.find(
      (c) => !chain.includes(c) && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain.map((c) => c.toString()).join('');
}

function privateKeyOf(config: ConnectorConfig, pem: string): KeyObject {
  const keyKey = sourceKey(config, 'ssl.keystore.key') ?? 'consumer.ssl.keystore.key';
  const passwordKey = keyKey.replace(/ssl\.keystore\.key$/, 'ssl.key.password');
  const passphrase = config.settings[passwordKey];
  try {
    return createPrivateKey({
      key: pem,
      format: 'pem',
      ...(passphrase === undefined ? {} : { passphrase }),
    });
  } catch (error) {
    throw new ConfigError(
      'CONFIG_SOURCE_KEY_UNREADABLE',
      `${keyKey}: the private key cannot be read (${messageOf(error)}); allowed: a PEM private key, unencrypted or encrypted with the password in ${passwordKey}`,
      { cause: error, details: { key: keyKey } },
    );
  }
}

/**
 * A planned secret with its value. Reads only the connector (stores already PEM).
 *
 * @throws ConfigError `CONFIG_SOURCE_KEY_UNREADABLE`, `CONFIG_SOURCE_CERTIFICATE_INVALID` or
 *   `CONFIG_SOURCE_CERTIFICATE_MISMATCH`, naming the key, never its value.
 */
export function buildSourceSecret(
  config: ConnectorConfig,
  planned: PlannedSourceSecret,
): SourceSecret {
  const source = config.source;
  switch (planned.kind) {
    case 'sasl':
      return {
        ...planned,
        value: { username: source.username ?? '', password: source.password ?? '' },
      };
    case 'client-certificate': {
      const key = privateKeyOf(config, source.keyPem ?? '');
      const chainKey =
        sourceKey(config, 'ssl.keystore.certificate.chain') ??
        'consumer.ssl.keystore.certificate.chain';
      const certificate = leafFirst(
        certificatesOf(source.certificateChainPem ?? '', chainKey),
        key,
        chainKey,
      );
      const privateKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
      return { ...planned, value: { certificate, privateKey } };
    }
    case 'root-ca': {
      const caKey =
        sourceKey(config, 'ssl.truststore.certificates') ?? 'consumer.ssl.truststore.certificates';
      const certs = certificatesOf(source.caPem ?? '', caKey);
      if (certs.length === 0)
        throw new ConfigError(
          'CONFIG_SOURCE_CERTIFICATE_INVALID',
          `${caKey}: holds no certificate; allowed: the brokers' root CA in PEM`,
          { details: { key: caKey } },
        );
      return { ...planned, value: { certificate: certs.map((c) => c.toString()).join('') } };
    }
  }
}

/** Every trigger secret of a connector, with its value. */
export const sourceSecretsFor = (config: ConnectorConfig, stage: string): SourceSecret[] =>
  planSourceSecrets(config, stage).secrets.map((p) => buildSourceSecret(config, p));
