import { DateTime } from 'luxon';
import type { Clock } from '../ports/clock.js';

export const systemClock: Clock = {
  now: () => DateTime.utc(),
};
