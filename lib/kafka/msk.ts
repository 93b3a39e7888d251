/**
 * An MSK cluster ARN in `*.bootstrap.servers` is resolved to brokers with
 * GetBootstrapBrokers, choosing the broker string of the auth mode in use.
 */
import type { GetBootstrapBrokersResponse, KafkaClient } from '@aws-sdk/client-kafka';
import { kafkaSdk } from '../aws/index.ts';
import type { ClientSecurity } from '../config/index.ts';
import { DeliveryError, messageOf } from '../errors/index.ts';

export const isMskArn = (value: string): boolean =>
  value.startsWith('arn:') && value.includes(':kafka:');

/** Which GetBootstrapBrokers field serves a client's security settings. */
export function brokerField(security: Pick<ClientSecurity, 'protocol' | 'mechanism'>): {
  field: keyof GetBootstrapBrokersResponse;
  mode: string;
} {
  if (security.mechanism === 'AWS_MSK_IAM' || security.mechanism === 'OAUTHBEARER')
    return { field: 'BootstrapBrokerStringSaslIam', mode: 'IAM' };
  if (security.mechanism?.startsWith('SCRAM'))
    return { field: 'BootstrapBrokerStringSaslScram', mode: 'SASL/SCRAM' };
  if (security.protocol === 'SSL' || security.protocol === 'SASL_SSL')
    return { field: 'BootstrapBrokerStringTls', mode: 'TLS' };
  return { field: 'BootstrapBrokerString', mode: 'plaintext' };
}

/**
 * Returns `value` unchanged unless it is an MSK cluster ARN; then the brokers for the auth
 * mode, cached per ARN and mode for the life of the container. `client` is called (and the
 * MSK SDK loaded) only for an ARN.
 */
export function createBrokerResolver(
  client: () => KafkaClient,
): (value: string, security: Pick<ClientSecurity, 'protocol' | 'mechanism'>) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (value, security) => {
    if (!isMskArn(value)) return Promise.resolve(value);
    const { field, mode } = brokerField(security);
    const key = `${value}|${field}`;
    let found = cache.get(key);
    if (!found) {
      found = (async () => {
        let response: GetBootstrapBrokersResponse;
        const { GetBootstrapBrokersCommand } = kafkaSdk();
        try {
          response = await client().send(new GetBootstrapBrokersCommand({ ClusterArn: value }));
        } catch (error) {
          throw new DeliveryError(
            'KAFKA_MSK_LOOKUP_FAILED',
            `GetBootstrapBrokers for ${value} failed: ${messageOf(error)}`,
            { retriable: true, cause: error },
          );
        }
        const brokers = response[field];
        if (typeof brokers !== 'string' || brokers === '')
          throw new DeliveryError(
            'KAFKA_MSK_AUTH_MODE_UNAVAILABLE',
            `MSK cluster ${value} has no ${mode} brokers (${field} is empty); enable ${mode} on the cluster or change the security settings`,
          );
        return brokers;
      })();
      found.catch(() => cache.delete(key));
      cache.set(key, found);
    }
    return found;
  };
}
