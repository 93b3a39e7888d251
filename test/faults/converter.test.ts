/**
 * Fault suite, conversion: Avro with a schema registry that goes down and comes back, and
 * records that cannot be decoded (dead-lettered under errors.tolerance=all).
 */
import avro from 'avsc';
import { afterEach, describe, expect, it } from 'vitest';
import { idOf, sourceRecords, startFaultEnv, type FaultEnv } from './harness.ts';
import { batchesOf, stream } from './esm.ts';
import { expectNothingLost, settle } from './scenario.ts';

const SCENARIO_TIMEOUT_MS = 120_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The Company record, with the source coordinates; `doc` makes each version a new schema id. */
const schemaV = (version: number) => ({
  type: 'record',
  name: 'Company',
  doc: `version ${String(version)}`,
  fields: [
    { name: 'company', type: 'string' },
    { name: 'employee_num', type: 'long' },
    { name: 'src', type: 'int' },
    { name: 'seq', type: 'long' },
  ],
});
const companyType = avro.Type.forSchema(schemaV(0) as avro.Schema);

/** Confluent framing: magic byte 0, the schema id, the Avro datum. */
const framed = (schemaId: number, body: Buffer, magic = 0): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt8(magic, 0);
  head.writeUInt32BE(schemaId, 1);
  return Buffer.concat([head, body]);
};
const datum = (partition: number, offset: number): Buffer =>
  companyType.toBuffer({
    company: idOf(partition, offset),
    employee_num: offset,
    src: partition,
    seq: offset,
  });

let env: FaultEnv | undefined;
const pending: Promise<unknown>[] = [];
afterEach(async () => {
  await Promise.allSettled(pending.splice(0));
  await env?.stop();
  env = undefined;
});

describe('fault suite: conversion', () => {
  it(
    'the schema registry down, then back',
    async () => {
      env = await startFaultEnv({ registry: true });
      const e = env;
      const registry = e.registry!;
      // Five offsets per batch of 15; each batch's records use a schema version of their own,
      // so every batch asks the registry for an id the converter has not cached.
      const ids = [0, 1, 2, 3, 4].map((v) => registry.register(`${e.source}-value`, schemaV(v)));
      const sources = sourceRecords(e, 25, (p, o) =>
        framed(ids[Math.floor(o / 5)] ?? 0, datum(p, o)),
      );
      const deliveries = await stream(e, e.containers(), batchesOf(sources, 15), (i) => ({
        before: async (attempt) => {
          if (i !== 1 || attempt !== 1) return;
          await registry.down();
          pending.push(sleep(2500).then(() => registry.up()));
        },
      }));
      await Promise.all(pending);
      const verdict = await settle('schema registry down, then back', e, sources, deliveries);
      expect(deliveries[1]?.errors.length, 'batch 1 met the registry down').toBeGreaterThan(0);
      expectNothingLost(verdict);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'undecodable records are dead-lettered',
    async () => {
      env = await startFaultEnv({ registry: true });
      const e = env;
      const id = e.registry!.register(`${e.source}-value`, schemaV(0));
      const poison: string[] = [];
      // Every seventh offset of each partition cannot be decoded, each partition in its own way.
      const undecodable = (p: number, o: number): Buffer | undefined => {
        if (o % 7 !== 3) return undefined;
        poison.push(idOf(p, o));
        if (p === 0) return framed(id, datum(p, o), 1); // not the Confluent magic byte
        if (p === 1) return framed(id, datum(p, o).subarray(0, 4)); // the datum cut short
        return o === 3 ? Buffer.from(`not avro ${idOf(p, o)}`) : framed(9999, datum(p, o)); // no such schema
      };
      const sources = sourceRecords(e, 25, (p, o) => undecodable(p, o) ?? framed(id, datum(p, o)));
      const deliveries = await stream(e, e.containers(), batchesOf(sources, 15));
      const verdict = await settle('undecodable records', e, sources, deliveries, { poison });
      expectNothingLost(verdict, poison);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
