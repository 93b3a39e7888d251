import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryClient, RegistryError } from '../../lib/convert/index.ts';
import { ConvertError } from '../../lib/errors/index.ts';
import { startSchemaRegistry, type SchemaRegistryStandIn } from '../../lib/local/index.ts';
import { ROOT } from '../helpers/fixtures.ts';

const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Company',
  fields: [{ name: 'company', type: 'string' }],
});
let registry: SchemaRegistryStandIn | undefined;
afterEach(async () => {
  await registry?.stop();
  registry = undefined;
});

describe('schema registry client (Confluent REST) against the stand-in', () => {
  it('fetches a schema by id with basic auth, caches it, and keeps one fetch in flight per id', async () => {
    registry = await startSchemaRegistry({ basicAuth: { username: 'reg', password: 'pw' } });
    const id = registry.register('companies-value', SCHEMA);
    const client = createRegistryClient({ url: registry.url, userInfo: 'reg:pw' });
    const schemas = await Promise.all(Array.from({ length: 20 }, () => client.schema(id)));
    expect(new Set(schemas)).toEqual(new Set([SCHEMA]));
    await client.schema(id);
    expect(registry.fetches(id)).toBe(1);
  });

  it('sends a bearer token', async () => {
    registry = await startSchemaRegistry({ bearerToken: 'tok-1' });
    const id = registry.register('s', SCHEMA);
    expect(await createRegistryClient({ url: registry.url, bearerToken: 'tok-1' }).schema(id)).toBe(
      SCHEMA,
    );
  });

  it('refuses wrong credentials with a batch-level error that says which setting to check', async () => {
    registry = await startSchemaRegistry({ basicAuth: { username: 'reg', password: 'pw' } });
    const id = registry.register('s', SCHEMA);
    const error = await createRegistryClient({ url: registry.url, userInfo: 'reg:wrong' })
      .schema(id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      code: 'REGISTRY_UNAUTHORIZED',
      retriable: false,
      message: expect.stringContaining('value.converter.basic.auth.user.info') as unknown,
    });
  });

  it('reports an unknown id as a record-level error, and 5xx or no answer as retriable', async () => {
    registry = await startSchemaRegistry({ delayMs: 0 });
    const client = createRegistryClient({ url: registry.url, timeoutMs: 500 });
    const unknown = await client.schema(99).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ConvertError);
    expect(unknown).toMatchObject({ code: 'CONVERT_SCHEMA_NOT_FOUND', retriable: false });
    registry.failNext(503);
    const id = registry.register('s', SCHEMA);
    await expect(client.schema(id)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
    expect(await client.schema(id)).toBe(SCHEMA);
  });

  it('times out a registry that does not answer, retriably', async () => {
    registry = await startSchemaRegistry({ delayMs: 2000 });
    const id = registry.register('s', SCHEMA);
    await expect(
      createRegistryClient({ url: registry.url, timeoutMs: 200 }).schema(id),
    ).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
      message: expect.stringContaining('no answer within 200 ms') as unknown,
    });
  });

  it('fails over to the next URL of a comma-separated list', async () => {
    registry = await startSchemaRegistry();
    const id = registry.register('s', SCHEMA);
    expect(
      await createRegistryClient({ url: `http://127.0.0.1:1,${registry.url}` }).schema(id),
    ).toBe(SCHEMA);
  });

  it('trusts a custom CA over https, and refuses the server without it', async () => {
    const key = readFileSync(join(ROOT, 'test/fixtures/keystores/registry.key'), 'utf8');
    const cert = readFileSync(join(ROOT, 'test/fixtures/keystores/registry.crt'), 'utf8');
    registry = await startSchemaRegistry({ tls: { key, cert } });
    const id = registry.register('s', SCHEMA);
    expect(registry.url).toMatch(/^https:/);
    expect(await createRegistryClient({ url: registry.url, ca: cert }).schema(id)).toBe(SCHEMA);
    await expect(createRegistryClient({ url: registry.url }).schema(id)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
  });
});
