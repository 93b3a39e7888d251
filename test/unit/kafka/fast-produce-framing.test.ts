/**
 * The fast producer turns framing in place on (lib/kafka/request-frame.ts): without it every
 * Produce request would be copied twice by kafkajs, with no test failing for the bytes alone.
 */
import { describe, expect, it, vi } from 'vitest';

const install = vi.hoisted(() => vi.fn(() => true));
vi.mock('../../../lib/kafka/request-frame.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lib/kafka/request-frame.ts')>()),
  installInPlaceFraming: install,
}));

describe('the fast producer', () => {
  it('installs framing in place when it is made, and not when kafkajs lacks its internals', async () => {
    const { createFastProducer } = await import('../../../lib/kafka/fast-produce.ts');
    const kafkajs = (await import('kafkajs')).default;
    const bare = Object.create(null) as InstanceType<typeof kafkajs.Kafka>;
    expect(createFastProducer(bare, undefined)).toBeUndefined();
    expect(install).not.toHaveBeenCalled();
    const real = new kafkajs.Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    expect(createFastProducer(real, undefined)).toBeDefined();
    expect(install).toHaveBeenCalledTimes(1);
  });
});
