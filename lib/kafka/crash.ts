/**
 * What a consumer crash that kafkajs will not restart means for the caller, as one coded
 * error: ours when one of ours caused it (a codec), else the kafkajs error wrapped.
 */
import { LocalError, TigerStreamError, messageOf } from '../errors/index.ts';
import { CodecError } from './codecs.ts';

/** kafkajs's own words for a codec it has no implementation of (before registerCodecs). */
const KAFKAJS_CODEC_MISSING = /^(\w+) compression not implemented$/i;

const causes = function* (error: unknown): Generator {
  for (let e = error, depth = 0; e !== undefined && depth < 10; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
};

/**
 * The coded error for a consumer that stopped for good.
 *
 * @param context the group, and how many restarts were tried before it.
 */
export function consumerFailure(
  error: unknown,
  context: { groupId: string; restarts: number },
): TigerStreamError {
  for (const e of causes(error)) {
    if (e instanceof TigerStreamError) return e;
    const codec = KAFKAJS_CODEC_MISSING.exec(messageOf(e))?.[1];
    if (codec !== undefined)
      return new CodecError(
        'KAFKA_CODEC_UNSUPPORTED',
        `A record batch is ${codec.toLowerCase()}-compressed and no ${codec.toLowerCase()} codec is registered with kafkajs`,
        { cause: e, details: { codec: codec.toLowerCase() } },
      );
  }
  const name = (error as { name?: unknown }).name;
  const after = context.restarts > 0 ? ` after ${context.restarts} restart(s)` : '';
  return new LocalError(
    'KAFKA_SOURCE_CONSUMER_FAILED',
    `The source consumer of group ${context.groupId} stopped${after}: ${typeof name === 'string' ? `${name}: ` : ''}${messageOf(error)}`,
    { cause: error, details: { groupId: context.groupId } },
  );
}
