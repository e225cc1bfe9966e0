import { DateTime } from 'luxon';

/**
 * The accounting day an instant belongs to: its calendar date in the configured accounting time zone
 * (default Asia/Shanghai). The day is cut at local midnight, so 23:59:59 and 00:00:01 local time fall on
 * different days even though both may be the same UTC date.
 */
export function accountingDate(instantIso: string, timeZone: string): string {
  const local = DateTime.fromISO(instantIso, { zone: 'utc' }).setZone(timeZone);
  if (!local.isValid) throw new Error(`cannot place ${instantIso} in time zone ${timeZone}: ${local.invalidReason ?? 'invalid'}`);
  return local.toISODate()!;
}
