import type { DateTime } from 'luxon';

/** Where "now" comes from: the system clock in service, a fixed or stepping clock in tests. Always UTC. */
export interface Clock {
  now(): DateTime;
}
