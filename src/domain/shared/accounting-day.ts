import { DateTime } from 'luxon';

/**
 * The accounting day an instant belongs to: its calendar date in the configured accounting time zone
 * (default Asia/Shanghai). The day is cut at local midnight, so 23:59:59 and 00:00:01 local time fall on
 * different days even though both may be the same UTC date.
 */
export function accountingDate(instantIso: string, timeZone: string): string {
  // Events arrive in time order, so most fall on the day of the one before: keep that day's UTC bounds
  // per zone and answer from them (a projection asks this for every event; luxon is costly per call).
  const instantMs = Date.parse(instantIso);
  const known = lastDayByZone.get(timeZone);
  if (known && instantMs >= known.startMs && instantMs < known.endMs) return known.date;
  const local = DateTime.fromISO(instantIso, { zone: 'utc' }).setZone(timeZone);
  if (!local.isValid)
    throw new Error(`cannot place ${instantIso} in time zone ${timeZone}: ${local.invalidReason ?? 'invalid'}`);
  const day = local.startOf('day');
  const date = local.toISODate();
  lastDayByZone.set(timeZone, { date, startMs: day.toMillis(), endMs: day.plus({ days: 1 }).toMillis() });
  return date;
}

/** The last accounting day computed per zone, as its UTC bounds [startMs, endMs). One entry per zone in use. */
const lastDayByZone = new Map<string, { date: string; startMs: number; endMs: number }>();
