import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../lib/config/index.ts';

describe('secret redaction', () => {
  it('hides a JAAS line, and the password or OAuth clientSecret inside it on its own', () => {
    const redact = createRedactor([
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="Pa55-word";',
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="tg" clientSecret="Cl1ent-S3cret";',
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=tg clientSecret=Unqu0ted-S3cret;',
    ]);
    expect(redact('auth failed for Pa55-word / Cl1ent-S3cret / Unqu0ted-S3cret')).toBe(
      'auth failed for ****** / ****** / ******',
    );
    expect(redact('clientId tg is fine')).toBe('clientId tg is fine');
  });
});
