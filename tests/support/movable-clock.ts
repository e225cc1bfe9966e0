import { DateTime } from 'luxon';
import type { Clock } from '../../src/ports/clock.js';

/** The service's clock, moved forward by the test (request signatures stay within the skew window). */
export function movableClock(): Clock & { advance(seconds: number): void } {
  let offsetSeconds = 0;
  return {
    now: () => DateTime.utc().plus({ seconds: offsetSeconds }),
    advance(seconds) {
      offsetSeconds += seconds;
    },
  };
}
