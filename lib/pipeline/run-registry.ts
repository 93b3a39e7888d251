/**
 * Where the containers of one connector record the id of their loading job's streaming run.
 * TigerGraph 3.x lists runs without naming their job, and a run started by GSQL has an id
 * that does not name it either (`<graph>_m1.<epochMillis>`, reference section 2.1), so a
 * container that did not start the run cannot find it in TigerGraph's own listing. The first
 * container to record a run wins; the others stop theirs and adopt it.
 *
 * In Lambda the registry is one SSM String parameter per job under the connector's path
 * (`/tgstream/<stage>/<connector>/runs/<graph>.<job>`); locally it is memory.
 */
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ConfigError } from '../errors/index.ts';

export interface RunRegistry {
  /** The run id recorded for `key`, if any. */
  read(key: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Records `id` unless an id is recorded already; returns the id that stays recorded. */
  claim(key: string, id: string, signal?: AbortSignal): Promise<string>;
  /** Records `id` in place of whatever was recorded (a run that could not resume was replaced). */
  replace(key: string, id: string, signal?: AbortSignal): Promise<void>;
}

/** The registry key of a loading job: `<graph>.<job>`. */
export const runKey = (graph: string, job: string): string => `${graph}.${job}`;

/** A registry in memory: one process (tests, `tgstream run`, the demo). */
export function memoryRunRegistry(): RunRegistry {
  const ids = new Map<string, string>();
  return {
    read: (key) => Promise.resolve(ids.get(key)),
    claim: (key, id) => {
      const there = ids.get(key);
      if (there !== undefined) return Promise.resolve(there);
      ids.set(key, id);
      return Promise.resolve(id);
    },
    replace: (key, id) => {
      ids.set(key, id);
      return Promise.resolve();
    },
  };
}

/** Parameter names allow letters, digits and `_.-/` only. */
const SSM_NAME = /^[A-Za-z0-9_.\-/]+$/;

/**
 * The registry in SSM Parameter Store under `path` (the connector's parameter path): `claim`
 * is PutParameter without Overwrite, which fails for every container but the first.
 */
export function ssmRunRegistry(ssm: Pick<SSMClient, 'send'>, path: string): RunRegistry {
  const name = (key: string): string => {
    const full = `${path}/runs/${key}`;
    if (!SSM_NAME.test(full))
      throw new ConfigError(
        'CONFIG_NAME_INVALID',
        `${JSON.stringify(full)} cannot be an SSM parameter name: allowed are letters, digits and _.-/`,
      );
    return full;
  };
  const read = async (key: string, signal?: AbortSignal): Promise<string | undefined> => {
    try {
      const out = await ssm.send(
        new GetParameterCommand({ Name: name(key) }),
        signal ? { abortSignal: signal } : {},
      );
      return out.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw error;
    }
  };
  const put = async (key: string, id: string, overwrite: boolean, signal?: AbortSignal) =>
    ssm.send(
      new PutParameterCommand({
        Name: name(key),
        Value: id,
        Type: 'String',
        Overwrite: overwrite,
        Description: 'The streaming run of this loading job (written by TigerStream)',
      }),
      signal ? { abortSignal: signal } : {},
    );
  return {
    read,
    async claim(key, id, signal) {
      try {
        await put(key, id, false, signal);
        return id;
      } catch (error) {
        if (!(error instanceof ParameterAlreadyExists)) throw error;
        return (await read(key, signal)) ?? id;
      }
    },
    async replace(key, id, signal) {
      await put(key, id, true, signal);
    },
  };
}
