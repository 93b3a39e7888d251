import { describe, expect, it } from 'vitest';
import { cacheConfig, fromStored, toStored } from '../../../lib/config/index.ts';
import { testConfig } from '../../helpers/fakes.ts';
import { VALID } from '../../helpers/config.ts';

describe('SSM storage of a connector', () => {
  it('splits secrets out of the stored document and rebuilds the same connector', () => {
    const config = testConfig(
      VALID.replace('[connector_1]', 'tigergraph.auth.password=pw-123\n[connector_1]'),
    );
    const { stored, secrets } = toStored(config);
    expect(secrets).toEqual({ 'tigergraph.auth.password': 'pw-123' });
    expect(JSON.stringify(stored)).not.toContain('pw-123');
    const rebuilt = fromStored(stored, secrets, 'ssm:/tgstream/dev/company-stream');
    expect(rebuilt.tigergraph?.auth.password).toBe('pw-123');
    expect(rebuilt.settings).toEqual(config.settings);
  });

  it('caches per cold start and refreshes after the configured age', async () => {
    let loads = 0;
    let now = 0;
    const config = testConfig();
    const load = cacheConfig(
      () => {
        loads++;
        return Promise.resolve(config);
      },
      { now: () => now, maxAgeMs: () => 1000 },
    );
    await Promise.all([load(), load()]);
    expect(loads).toBe(1);
    now = 999;
    await load();
    expect(loads).toBe(1);
    now = 1000;
    await load();
    expect(loads).toBe(2);
  });
});
