/**
 * A circuit breaker per channel, as a pure state machine: time is passed in (epoch ms), nothing is read
 * from a clock. Closed: traffic flows, consecutive failures are counted. Open after `failureThreshold`
 * consecutive failures: no traffic for `openMs`. Then half-open: at most `maxProbes` probe requests at a
 * time; a probe's success closes the breaker, its failure opens it again for another `openMs`. A probe
 * that never reports (its answer lost) stops holding its slot after `probeTimeoutMs`.
 */
export interface BreakerPolicy {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly maxProbes: number;
  readonly probeTimeoutMs: number;
}

export type BreakerState =
  | { readonly state: 'closed'; readonly consecutiveFailures: number }
  | { readonly state: 'open'; readonly openedAtMs: number }
  | { readonly state: 'half_open'; readonly probeStartedAtMs: readonly number[] };

export const closedBreaker: BreakerState = { state: 'closed', consecutiveFailures: 0 };

export function assertBreakerPolicy(policy: BreakerPolicy): void {
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1)
      throw new RangeError(`breaker ${name} must be a positive integer`);
  }
}

/** The state as of `nowMs`: an open breaker whose time is up is half-open; stale probes are let go. */
export function breakerAt(breaker: BreakerState, policy: BreakerPolicy, nowMs: number): BreakerState {
  if (breaker.state === 'open') {
    return nowMs - breaker.openedAtMs >= policy.openMs ? { state: 'half_open', probeStartedAtMs: [] } : breaker;
  }
  if (breaker.state === 'half_open') {
    const live = breaker.probeStartedAtMs.filter((startedAtMs) => nowMs - startedAtMs < policy.probeTimeoutMs);
    return live.length === breaker.probeStartedAtMs.length ? breaker : { state: 'half_open', probeStartedAtMs: live };
  }
  return breaker;
}

/** Whether a request may be sent now: always when closed, never when open, as a probe when a slot is free. */
export function mayAdmit(breaker: BreakerState, policy: BreakerPolicy, nowMs: number): boolean {
  const current = breakerAt(breaker, policy, nowMs);
  if (current.state === 'closed') return true;
  if (current.state === 'open') return false;
  return current.probeStartedAtMs.length < policy.maxProbes;
}

/** Records that a request was sent (a probe takes a slot while half-open); refuses when it may not be. */
export function admit(breaker: BreakerState, policy: BreakerPolicy, nowMs: number): BreakerState {
  if (!mayAdmit(breaker, policy, nowMs)) throw new RangeError('the breaker admits no request now');
  const current = breakerAt(breaker, policy, nowMs);
  return current.state === 'half_open'
    ? { state: 'half_open', probeStartedAtMs: [...current.probeStartedAtMs, nowMs] }
    : current;
}

/** Records a request's result: `failed` is the channel failing (timeout, outage, system error), not a decline. */
export function recordResult(
  breaker: BreakerState,
  policy: BreakerPolicy,
  nowMs: number,
  failed: boolean,
): BreakerState {
  const current = breakerAt(breaker, policy, nowMs);
  switch (current.state) {
    case 'closed': {
      if (!failed) return closedBreaker;
      const consecutiveFailures = current.consecutiveFailures + 1;
      return consecutiveFailures >= policy.failureThreshold
        ? { state: 'open', openedAtMs: nowMs }
        : { state: 'closed', consecutiveFailures };
    }
    case 'half_open':
      return failed ? { state: 'open', openedAtMs: nowMs } : closedBreaker;
    case 'open':
      // A late answer to a request sent before the breaker opened: the cool-down runs its course.
      return current;
  }
}
