/**
 * Where the containers of one connector record their loading job's streaming run. TigerGraph
 * 3.x lists only active runs and without their job, and a run started by GSQL has an id that
 * does not name its job (`<graph>_m1.<epochMillis>`, reference section 2.1), so a container
 * that did not start the run cannot find it in TigerGraph's own listing: the registry is where
 * every container looks first.
 *
 * The entry of a key (`<graph>.<job>.<topic>`) is a series of generations, `runs/<key>/g<N>`.
 * A generation is created once and only when absent, which makes the creation a
 * compare-and-swap: of several containers claiming the same generation exactly one wins, on
 * every store (SSM PutParameter without Overwrite; a file linked into place, which fails when
 * the name exists; a map in memory). The newest generation is the truth. Its value is a run id,
 * `starting:<owner>:<epochMs>` (a container reserved it before starting a run, so at most one
 * container starts) or `failed:<epochMs>` (that start failed; the next generation is claimed
 * only after a wait, streaming.ts). A run id is stored as `run:<epochMs>:<id>` (when it was
 * recorded, so a run that cannot be resumed is not replaced more than once in a while);
 * a bare id (written before, or by hand) is a run recorded at an unknown time. Only the
 * owner of a generation updates it (starting → run id or failed); replacing a run means
 * claiming the next generation, never overwriting another's.
 *
 * Generations older than the newest but one are deleted after a run is recorded (`prune`), so
 * the entry stays two or three names long: SSM allows 10,000 standard parameters per account
 * and Region, and `current` lists them all on every check. The one before the newest is kept:
 * a container that read the registry just before the newest was claimed claims that same
 * number again, finds it taken and reads again; with it deleted, that claim would win.
 *
 * In Lambda the registry lives in SSM under the connector's path
 * (`/tgstream/<stage>/<connector>/runs/<key>/g<N>`: ssm:PutParameter, ssm:GetParametersByPath
 * and ssm:DeleteParameter); `tgstream run` and `tgstream invoke` keep it in files under
 * `.tgstream/runs/<TigerGraph>/` so that runs of the CLI against one TigerGraph share one run
 * too; tests keep it in memory.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ssmSdk } from '../aws/index.ts';
import { ConfigError, ControlError, LocalError, messageOf } from '../errors/index.ts';

/** What a generation holds. */
export type RunRecord =
  /** `at`: when it was recorded (epoch ms); undefined for a bare id. */
  | { readonly kind: 'run'; readonly id: string; readonly at?: number | undefined }
  | { readonly kind: 'starting'; readonly owner: string; readonly at: number }
  | { readonly kind: 'failed'; readonly at: number };

/** The newest generation of a key and what it holds. */
export interface RunEntry {
  readonly generation: number;
  readonly record: RunRecord;
}

export interface RunRegistry {
  /** The newest generation of `key`, if any. */
  current(key: string, signal?: AbortSignal): Promise<RunEntry | undefined>;
  /**
   * Creates generation `generation` of `key` holding `record`, only if it does not exist yet.
   * True when this call created it; false when it existed (another container won). A store
   * error reaches the caller: a retried claim whose first attempt did create the generation
   * answers false, and the caller recognises its own record by reading it back.
   */
  claim(key: string, generation: number, record: RunRecord, signal?: AbortSignal): Promise<boolean>;
  /** Overwrites generation `generation`, which the caller claimed (starting → run id or failed). */
  update(key: string, generation: number, record: RunRecord, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes the generations of `key` numbered below `below` (absent ones are no error).
   * Optional: a registry without it keeps every generation.
   */
  prune?(key: string, below: number, signal?: AbortSignal): Promise<void>;
}

/** Kafka topic names allow `[A-Za-z0-9._-]`, GSQL names `[A-Za-z0-9_]`: all fit an SSM name. */
const KEY_UNSAFE = /[^A-Za-z0-9_.-]/g;

/**
 * The registry key of a loading job's streaming run over `topic`: `<graph>.<job>.<topic>`.
 * Graph and job names hold no `.`, so the key is unambiguous; any other character than
 * `[A-Za-z0-9_.-]` becomes `_` (none occurs in valid names).
 */
export const runKey = (graph: string, job: string, topic: string): string =>
  `${graph}.${job}.${topic}`.replace(KEY_UNSAFE, '_');

const STARTING = /^starting:(.*):(\d+)$/;
const FAILED = /^failed:(\d+)$/;
const RUN = /^run:(\d+):(.+)$/;

/** A generation's value as stored. */
export function encodeRunRecord(record: RunRecord): string {
  switch (record.kind) {
    case 'run':
      return record.at === undefined ? record.id : `run:${String(record.at)}:${record.id}`;
    case 'starting':
      return `starting:${record.owner}:${String(record.at)}`;
    case 'failed':
      return `failed:${String(record.at)}`;
  }
}

/**
 * A stored value read back. Run ids never start `starting:`, `failed:` or `run:` (TigerGraph's
 * ids begin with the graph's name, a GSQL name without `:`), so any other value is a bare id.
 */
export function decodeRunRecord(value: string): RunRecord {
  const starting = STARTING.exec(value);
  if (starting) return { kind: 'starting', owner: starting[1] as string, at: Number(starting[2]) };
  const failed = FAILED.exec(value);
  if (failed) return { kind: 'failed', at: Number(failed[1]) };
  const run = RUN.exec(value);
  if (run) return { kind: 'run', id: run[2] as string, at: Number(run[1]) };
  return { kind: 'run', id: value };
}

/** A generation's name within its key: `g<N>`. */
const GENERATION = /^g([1-9]\d*)$/;
const generationName = (generation: number): string => {
  if (!Number.isSafeInteger(generation) || generation < 1)
    throw new RangeError(`a registry generation is a positive integer, not ${String(generation)}`);
  return `g${String(generation)}`;
};

/** The newest of `(name, value)` pairs named `g<N>`. */
const newest = (pairs: Iterable<readonly [string, string]>): RunEntry | undefined => {
  let best: { generation: number; value: string } | undefined;
  for (const [name, value] of pairs) {
    const m = GENERATION.exec(name);
    if (!m) continue;
    const generation = Number(m[1]);
    if (best === undefined || generation > best.generation) best = { generation, value };
  }
  return best && { generation: best.generation, record: decodeRunRecord(best.value) };
};

/** A registry in memory: one process (tests, the demo, `tgstream invoke --embedded`). */
export function memoryRunRegistry(): RunRegistry {
  const keys = new Map<string, Map<string, string>>();
  const of = (key: string): Map<string, string> => {
    let generations = keys.get(key);
    if (!generations) keys.set(key, (generations = new Map<string, string>()));
    return generations;
  };
  return {
    current: (key) => Promise.resolve(newest(of(key))),
    claim: (key, generation, record) => {
      const generations = of(key);
      const name = generationName(generation);
      if (generations.has(name)) return Promise.resolve(false);
      generations.set(name, encodeRunRecord(record));
      return Promise.resolve(true);
    },
    update: (key, generation, record) => {
      of(key).set(generationName(generation), encodeRunRecord(record));
      return Promise.resolve();
    },
    prune: (key, below) => {
      const generations = of(key);
      for (const name of [...generations.keys()])
        if (Number(GENERATION.exec(name)?.[1]) < below) generations.delete(name);
      return Promise.resolve();
    },
  };
}

const fileError = (what: string, error: unknown): LocalError =>
  new LocalError(
    'LOCAL_RUN_REGISTRY_FAILED',
    `The run registry could not ${what}: ${messageOf(error)}`,
    {
      retriable: false,
      cause: error,
    },
  );
const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

/**
 * A registry in files under `dir` (`<dir>/<key>/g<N>`), shared by every process on the machine
 * that uses the same directory: `tgstream run` and `tgstream invoke` one after the other use
 * one run. A generation is written to a temporary file and linked into place: the link fails
 * when the name exists (the claim is lost) and a reader never sees a half-written value.
 */
export function fileRunRegistry(dir: string): RunRegistry {
  const folder = (key: string): string => join(dir, key.replace(KEY_UNSAFE, '_'));
  const temporary = async (key: string, record: RunRecord): Promise<string> => {
    await mkdir(folder(key), { recursive: true });
    const tmp = join(folder(key), `.tmp-${String(process.pid)}-${randomUUID()}`);
    await writeFile(tmp, encodeRunRecord(record), 'utf8');
    return tmp;
  };
  return {
    async current(key) {
      let names: string[];
      try {
        names = (await readdir(folder(key))).filter((n) => GENERATION.test(n));
      } catch (error) {
        if (codeOf(error) === 'ENOENT') return undefined;
        throw fileError(`read ${folder(key)}`, error);
      }
      const top = Math.max(0, ...names.map((n) => Number(GENERATION.exec(n)?.[1])));
      if (top === 0) return undefined;
      const file = join(folder(key), generationName(top));
      let value: string;
      try {
        value = (await readFile(file, 'utf8')).trim();
      } catch (error) {
        throw fileError(`read ${file}`, error);
      }
      // Only the exclusive-create fallback below leaves a moment with an empty file.
      if (value === '')
        throw new LocalError('LOCAL_RUN_REGISTRY_FAILED', `${file} is being written`, {
          retriable: true,
        });
      return { generation: top, record: decodeRunRecord(value) };
    },
    async claim(key, generation, record) {
      const target = join(folder(key), generationName(generation));
      let tmp: string | undefined;
      try {
        tmp = await temporary(key, record);
        await link(tmp, target);
        return true;
      } catch (error) {
        if (codeOf(error) === 'EEXIST') return false;
        // A file system without hard links: an exclusive create (a reader may then briefly
        // see an empty file, which `current` answers as a retriable error).
        if (codeOf(error) === 'EPERM' || codeOf(error) === 'ENOTSUP')
          try {
            await writeFile(target, encodeRunRecord(record), { flag: 'wx' });
            return true;
          } catch (inner) {
            if (codeOf(inner) === 'EEXIST') return false;
            throw fileError(`create ${target}`, inner);
          }
        throw fileError(`create ${target}`, error);
      } finally {
        if (tmp !== undefined) await unlink(tmp).catch(() => undefined);
      }
    },
    async update(key, generation, record) {
      const target = join(folder(key), generationName(generation));
      try {
        await rename(await temporary(key, record), target);
      } catch (error) {
        throw fileError(`write ${target}`, error);
      }
    },
    async prune(key, below) {
      let names: string[];
      try {
        names = await readdir(folder(key));
      } catch (error) {
        if (codeOf(error) === 'ENOENT') return;
        throw fileError(`read ${folder(key)}`, error);
      }
      for (const name of names)
        if (Number(GENERATION.exec(name)?.[1]) < below)
          await unlink(join(folder(key), name)).catch((error: unknown) => {
            if (codeOf(error) !== 'ENOENT') throw fileError(`delete ${name}`, error);
          });
    },
  };
}

/** Parameter names allow letters, digits and `_.-/` only. */
const SSM_NAME = /^[A-Za-z0-9_.\-/]+$/;
/** SSM errors that another attempt cannot cure. */
const SSM_PERMANENT = new Set([
  'AccessDeniedException',
  'ValidationException',
  'HierarchyLevelLimitExceededException',
  'HierarchyTypeMismatchException',
  'ParameterLimitExceeded',
  'ParameterMaxVersionLimitExceeded',
  'UnsupportedParameterType',
]);
const ssmError = (what: string, error: unknown): ControlError => {
  const name = error instanceof Error ? error.name : '';
  return new ControlError(
    'CONTROL_RUN_REGISTRY_FAILED',
    `SSM could not ${what}: ${messageOf(error)}${name === 'AccessDeniedException' ? ' (the function needs ssm:PutParameter, ssm:GetParametersByPath and ssm:DeleteParameter on its runs/ path)' : ''}`,
    { retriable: !SSM_PERMANENT.has(name), cause: error },
  );
};

/**
 * The registry in SSM Parameter Store under `path` (the connector's parameter path): a
 * generation is a String parameter `<path>/runs/<key>/g<N>`, claimed with PutParameter
 * without Overwrite (which fails for every container but the first) and read with
 * GetParametersByPath, pruned with DeleteParameter (one name at a time: usually one is due, and
 * it needs one IAM action only). SSM errors become CONTROL_RUN_REGISTRY_FAILED, retriable
 * unless permission or validation is the cause.
 *
 * @param client the SSM client, or a function returning it: the Lambda's, built on first use
 *   (functions/connector-env.ts) so that the SDK is not loaded while the handler is imported.
 */
export function ssmRunRegistry(
  client: Pick<SSMClient, 'send'> | (() => Pick<SSMClient, 'send'>),
  path: string,
): RunRegistry {
  const ssm = (): Pick<SSMClient, 'send'> => (typeof client === 'function' ? client() : client);
  const folder = (key: string): string => {
    const full = `${path}/runs/${key}`;
    if (!SSM_NAME.test(full))
      throw new ConfigError(
        'CONFIG_NAME_INVALID',
        `${JSON.stringify(full)} cannot be an SSM parameter name: allowed are letters, digits and _.-/`,
      );
    return full;
  };
  const options = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});
  const put = (
    key: string,
    generation: number,
    record: RunRecord,
    overwrite: boolean,
    signal?: AbortSignal,
  ) =>
    ssm().send(
      new (ssmSdk().PutParameterCommand)({
        Name: `${folder(key)}/${generationName(generation)}`,
        Value: encodeRunRecord(record),
        Type: 'String',
        Overwrite: overwrite,
        Description: "The loading job's streaming run (written by TigerStream)",
      }),
      options(signal),
    );
  const list = async (key: string, signal?: AbortSignal): Promise<[string, string][]> => {
    const base = folder(key);
    const pairs: [string, string][] = [];
    let token: string | undefined;
    try {
      do {
        const out = await ssm().send(
          new (ssmSdk().GetParametersByPathCommand)({
            Path: base,
            Recursive: false,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
          options(signal),
        );
        for (const p of out.Parameters ?? [])
          if (p.Name !== undefined && p.Value !== undefined)
            pairs.push([p.Name.slice(base.length + 1), p.Value]);
        token = out.NextToken;
      } while (token !== undefined);
    } catch (error) {
      throw ssmError(`read ${base}`, error);
    }
    return pairs;
  };
  return {
    async current(key, signal) {
      return newest(await list(key, signal));
    },
    async prune(key, below, signal) {
      for (const [name] of await list(key, signal)) {
        if (!(Number(GENERATION.exec(name)?.[1]) < below)) continue;
        try {
          await ssm().send(
            new (ssmSdk().DeleteParameterCommand)({ Name: `${folder(key)}/${name}` }),
            options(signal),
          );
        } catch (error) {
          if (error instanceof ssmSdk().ParameterNotFound) continue; // another container pruned it
          throw ssmError(`delete ${folder(key)}/${name}`, error);
        }
      }
    },
    async claim(key, generation, record, signal) {
      try {
        await put(key, generation, record, false, signal);
        return true;
      } catch (error) {
        if (error instanceof ssmSdk().ParameterAlreadyExists) return false;
        throw ssmError(`create ${folder(key)}/${generationName(generation)}`, error);
      }
    },
    async update(key, generation, record, signal) {
      try {
        await put(key, generation, record, true, signal);
      } catch (error) {
        throw ssmError(`write ${folder(key)}/${generationName(generation)}`, error);
      }
    },
  };
}
