import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { accountingDate } from '../../src/domain/shared/accounting-day.js';

const direct = (iso: string, zone: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toISODate();

describe('accounting date', () => {
  it('cuts the day at local midnight of the zone', () => {
    expect(accountingDate('2026-11-21T15:59:59.000Z', 'Asia/Shanghai')).toBe('2026-11-21');
    expect(accountingDate('2026-11-21T16:00:00.000Z', 'Asia/Shanghai')).toBe('2026-11-22');
    expect(accountingDate('2026-11-21T16:00:00.000Z', 'UTC')).toBe('2026-11-21');
  });

  it('agrees with luxon for instants in any order, across zones with daylight saving', () => {
    const instant = fc
      .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
      .map((ms) => new Date(ms).toISOString());
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            instant,
            fc.constantFrom('Asia/Shanghai', 'Europe/London', 'America/New_York', 'Australia/Lord_Howe'),
          ),
          { maxLength: 50 },
        ),
        (cases) => {
          for (const [iso, zone] of cases) expect(accountingDate(iso, zone)).toBe(direct(iso, zone));
        },
      ),
    );
  });

  it('stays right around a daylight-saving change (a 23-hour day)', () => {
    // Europe/London springs forward on 2026-03-29 at 01:00 UTC.
    for (const iso of [
      '2026-03-28T23:59:59.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T22:59:59.000Z',
      '2026-03-29T23:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]) {
      expect(accountingDate(iso, 'Europe/London')).toBe(direct(iso, 'Europe/London'));
    }
  });

  it('agrees with luxon on instants in time order (the cached day) through daylight-saving changes', () => {
    // Runs of instants minutes apart around each zone's changes of offset, in order, as a log has them, so
    // most answers come from the cached day's bounds; zones with half-hour steps, changes at midnight
    // (America/Santiago, America/Havana) and a skipped day (Pacific/Apia, 2011-12-30).
    const zones = [
      'Europe/London',
      'America/New_York',
      'Australia/Lord_Howe',
      'America/Santiago',
      'America/Havana',
      'Asia/Kathmandu',
      'Pacific/Apia',
    ] as const;
    const changes = zones.flatMap((zone) => {
      const found: number[] = [];
      let at = DateTime.fromISO('2011-01-01T00:00:00Z', { zone });
      for (let day = 0; day < 365 * 16 && found.length < 40; day += 1) {
        const next = at.plus({ days: 1 });
        if (next.offset !== at.offset) found.push(next.toMillis());
        at = next;
      }
      return found.map((ms) => ({ zone, ms }));
    });
    expect(changes.length).toBeGreaterThan(100);
    fc.assert(
      fc.property(
        fc.constantFrom(...changes),
        fc.array(fc.integer({ min: 1, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 40 }),
        ({ zone, ms }, steps) => {
          let instantMs = ms - 30 * 3_600_000;
          for (const step of steps) {
            instantMs += step;
            const iso = new Date(instantMs).toISOString();
            expect(accountingDate(iso, zone)).toBe(direct(iso, zone));
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
