import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, heartbeatScheduleFor } from '../../../lib/config/index.ts';
import { ROOT } from '../../helpers/fixtures.ts';
import { VALID, edit, validate } from '../../helpers/config.ts';

const withKeys = (keys: Record<string, string>): string =>
  Object.entries(keys).reduce((text, [k, v]) => edit(k, v, text), VALID);
const scheduleOf = (keys: Record<string, string>) => heartbeatScheduleFor({ settings: keys });

describe('heartbeatScheduleFor', () => {
  it('gives no schedule without an interval, or with emit.heartbeats.enabled=false', () => {
    expect(scheduleOf({})).toBeUndefined();
    expect(scheduleOf({ 'emit.heartbeats.enabled': 'true' })).toBeUndefined();
    expect(
      scheduleOf({
        'emit.heartbeats.enabled': ' FALSE ',
        'emit.heartbeats.interval.seconds': '60',
      }),
    ).toBeUndefined();
    for (const bad of ['0', '-1', '5.5', 'abc', ''])
      expect(scheduleOf({ 'emit.heartbeats.interval.seconds': bad })).toBeUndefined();
  });

  it('runs at least once a minute and otherwise every whole minute of the interval, rounded down', () => {
    const rate = (seconds: string) =>
      scheduleOf({
        'emit.heartbeats.interval.seconds': seconds,
        'emit.heartbeats.enabled': 'true',
      });
    expect(rate('5')).toEqual({ intervalSeconds: 5, rateMinutes: 1, expression: 'rate(1 minute)' });
    expect(rate('60')).toEqual({
      intervalSeconds: 60,
      rateMinutes: 1,
      expression: 'rate(1 minute)',
    });
    expect(rate('119')?.rateMinutes).toBe(1);
    expect(rate('120')).toEqual({
      intervalSeconds: 120,
      rateMinutes: 2,
      expression: 'rate(2 minutes)',
    });
    expect(rate('3600')?.expression).toBe('rate(60 minutes)');
  });

  it('gives the shipped example (emit.heartbeats.interval.seconds=5) a one-minute schedule', () => {
    const text = readFileSync(join(ROOT, 'infra/connectors/company.properties'), 'utf8');
    const result = validate(text, 'infra/connectors/company.properties');
    expect(result.errors).toEqual([]);
    expect(heartbeatScheduleFor(result.connectors[0]!)).toEqual({
      intervalSeconds: 5,
      rateMinutes: 1,
      expression: 'rate(1 minute)',
    });
    expect(result.warnings.map(formatProblem)).toEqual([
      'infra/connectors/company.properties:23 emit.heartbeats.interval.seconds: is 5 second(s), but the heartbeat function runs on a schedule whose shortest rate is one minute (EventBridge), so heartbeats are written once a minute; allowed without this warning: 60 or more, or emit.heartbeats.enabled=false [CONFIG_HEARTBEAT_INTERVAL_ROUNDED]',
    ]);
  });
});

describe('validation of the heartbeat keys', () => {
  const codes = (keys: Record<string, string>) => {
    const r = validate(withKeys(keys));
    return { errors: r.errors.map((p) => p.code), warnings: r.warnings.map((p) => p.code) };
  };

  it('warns when an interval under a minute will run once a minute', () => {
    expect(codes({ 'emit.heartbeats.interval.seconds': '59' })).toEqual({
      errors: [],
      warnings: ['CONFIG_HEARTBEAT_INTERVAL_ROUNDED'],
    });
    expect(codes({ 'emit.heartbeats.interval.seconds': '60' })).toEqual({
      errors: [],
      warnings: [],
    });
    expect(codes({ 'emit.heartbeats.interval.seconds': '90' })).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it('does not warn when heartbeats are off or no interval is set', () => {
    expect(
      codes({ 'emit.heartbeats.interval.seconds': '5', 'emit.heartbeats.enabled': 'false' }),
    ).toEqual({ errors: [], warnings: [] });
    expect(codes({ 'emit.heartbeats.enabled': 'true' })).toEqual({ errors: [], warnings: [] });
  });

  it('refuses an interval that is not a whole number of seconds other than 0, naming what is allowed', () => {
    for (const bad of ['0', '1.5', '5s', 'often', '-1.5']) {
      const r = validate(withKeys({ 'emit.heartbeats.interval.seconds': bad }));
      expect(r.errors.map((p) => p.code)).toEqual(['CONFIG_HEARTBEAT_INTERVAL_INVALID']);
      expect(r.warnings).toEqual([]);
      expect(formatProblem(r.errors[0]!)).toContain(
        `emit.heartbeats.interval.seconds: found "${bad}"; allowed: a positive whole number of seconds, or a negative one (-1) for no heartbeats, as in MirrorMaker 2`,
      );
    }
  });

  it('reads a negative interval as MirrorMaker 2 does: no heartbeats, no schedule, no warning', () => {
    for (const off of ['-1', '-60']) {
      const r = validate(withKeys({ 'emit.heartbeats.interval.seconds': off }));
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([]);
      expect(heartbeatScheduleFor(r.connectors[0]!)).toBeUndefined();
    }
  });

  it('refuses emit.heartbeats.enabled that is not a boolean', () => {
    expect(codes({ 'emit.heartbeats.enabled': 'yes' }).errors).toEqual(['CONFIG_BOOLEAN_INVALID']);
  });

  it('reads a section that overrides the global interval', () => {
    const text = `${VALID.replace('[connector_1]', 'emit.heartbeats.interval.seconds=5\n[connector_1]')}emit.heartbeats.interval.seconds=300\n`;
    const r = validate(text);
    expect(r.warnings).toEqual([]);
    expect(heartbeatScheduleFor(r.connectors[0]!)?.rateMinutes).toBe(5);
  });
});
