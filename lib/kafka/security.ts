/** kafkajs TLS and SASL settings from a connector's client security block. */
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { ClientSecurity } from '../config/index.ts';
import { DeliveryError } from '../errors/index.ts';

/** kafkajs settings for one cluster's security block. */
export function kafkaSecurity(security: ClientSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
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
  };
  const sasl = mechanisms[security.mechanism];
  if (sasl === undefined)
    throw new DeliveryError(
      'KAFKA_SASL_MECHANISM_UNSUPPORTED',
      `SASL mechanism ${security.mechanism} is not supported for producing yet; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
    );
  return { ...result, sasl };
}
