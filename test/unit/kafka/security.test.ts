import { describe, expect, it } from 'vitest';
import type { SASLOptions } from 'kafkajs';
import { kafkaSecurity } from '../../../lib/kafka/index.ts';
import type { ClientSecurity } from '../../../lib/config/index.ts';

const base: ClientSecurity = {
  protocol: 'PLAINTEXT',
  mechanism: undefined,
  username: undefined,
  password: undefined,
  skipHostnameCheck: false,
  keystoreLocation: undefined,
  truststoreLocation: undefined,
  keyPem: undefined,
  certificateChainPem: undefined,
  caPem: undefined,
  oauth: undefined,
};

describe('kafkaSecurity', () => {
  it('maps SCRAM with TLS, and PEM key material to the TLS options', () => {
    expect(
      kafkaSecurity({
        ...base,
        protocol: 'SASL_SSL',
        mechanism: 'SCRAM-SHA-512',
        username: 'u',
        password: 'p',
      }),
    ).toEqual({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    const tls = kafkaSecurity({
      ...base,
      protocol: 'SSL',
      caPem: 'CA',
      keyPem: 'KEY',
      certificateChainPem: 'CERT',
    });
    expect(tls.ssl).toEqual({ ca: 'CA', key: 'KEY', cert: 'CERT' });
  });

  it('authenticates to MSK with IAM through SASL/OAUTHBEARER and a signed token', async () => {
    const config = kafkaSecurity({ ...base, protocol: 'SASL_SSL', mechanism: 'AWS_MSK_IAM' }, () =>
      Promise.resolve('signed-token'),
    );
    expect(config.ssl).toBe(true);
    const sasl = config.sasl as SASLOptions & {
      oauthBearerProvider: () => Promise<{ value: string }>;
    };
    expect(sasl.mechanism).toBe('oauthbearer');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'signed-token' });
  });

  it("uses IAM tokens for OAUTHBEARER with MSK's IAMOAuthBearerLoginModule", async () => {
    const config = kafkaSecurity(
      { ...base, protocol: 'SASL_SSL', mechanism: 'OAUTHBEARER', oauth: { kind: 'msk-iam' } },
      () => Promise.resolve('signed-token'),
    );
    const sasl = config.sasl as SASLOptions & {
      oauthBearerProvider: () => Promise<{ value: string }>;
    };
    expect(sasl.mechanism).toBe('oauthbearer');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'signed-token' });
  });

  it('says which mechanisms work when one does not', () => {
    expect(() =>
      kafkaSecurity({ ...base, protocol: 'SASL_SSL', mechanism: 'OAUTHBEARER' }),
    ).toThrow(expect.objectContaining({ code: 'KAFKA_SASL_MECHANISM_UNSUPPORTED' }));
  });
});
