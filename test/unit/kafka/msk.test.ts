import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { createBrokerResolver } from '../../../lib/kafka/index.ts';

const ARN =
  'arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c-9d4e-d7975eb44dd7-2';
const kafka = mockClient(KafkaClient);
beforeEach(() => {
  kafka.reset();
  kafka.on(GetBootstrapBrokersCommand, { ClusterArn: ARN }).resolves({
    BootstrapBrokerString: 'b-1:9092',
    BootstrapBrokerStringTls: 'b-1:9094',
    BootstrapBrokerStringSaslScram: 'b-1:9096,b-2:9096',
    BootstrapBrokerStringSaslIam: 'b-1:9098',
  });
});

describe('MSK bootstrap brokers', () => {
  const resolver = () => createBrokerResolver(() => new KafkaClient({ region: 'us-east-1' }));

  it.each([
    [{ protocol: 'SASL_SSL', mechanism: 'AWS_MSK_IAM' }, 'b-1:9098'],
    [{ protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512' }, 'b-1:9096,b-2:9096'],
    [{ protocol: 'SSL', mechanism: undefined }, 'b-1:9094'],
    [{ protocol: 'PLAINTEXT', mechanism: undefined }, 'b-1:9092'],
  ] as const)('picks the broker string of the auth mode %o', async (security, brokers) => {
    expect(await resolver()(ARN, security)).toBe(brokers);
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)[0]?.args[0].input).toEqual({
      ClusterArn: ARN,
    });
  });

  it('leaves host:port lists alone and asks AWS once per cluster and mode', async () => {
    const resolve = resolver();
    expect(await resolve('h:9092', { protocol: 'PLAINTEXT', mechanism: undefined })).toBe('h:9092');
    await resolve(ARN, { protocol: 'SSL', mechanism: undefined });
    await resolve(ARN, { protocol: 'SSL', mechanism: undefined });
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)).toHaveLength(1);
  });

  it('says which auth mode the cluster lacks', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringTls: 'b-1:9094' });
    await expect(
      resolver()(ARN, { protocol: 'SASL_SSL', mechanism: 'AWS_MSK_IAM' }),
    ).rejects.toMatchObject({
      code: 'KAFKA_MSK_AUTH_MODE_UNAVAILABLE',
      message: expect.stringContaining('no IAM brokers') as unknown,
    });
  });

  it('reports a failed lookup as retriable', async () => {
    kafka.on(GetBootstrapBrokersCommand).rejects(new Error('AccessDenied'));
    await expect(resolver()(ARN, { protocol: 'SSL', mechanism: undefined })).rejects.toMatchObject({
      code: 'KAFKA_MSK_LOOKUP_FAILED',
      retriable: true,
    });
  });
});
