/**
 * Slows down guessing of payment passwords (six digits: a million possibilities). After
 * `maxFailures` wrong passwords for one payer within `windowMs`, every further attempt for that payer is
 * refused until the window has passed since the first failure, right or wrong, so a guesser learns
 * nothing more. Kept in memory per process with a bounded number of payers: with several instances the
 * limit applies per instance (a shared counter would belong in the nonce registry's store).
 */
export interface PayerPasswordGuardOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Payers tracked at once; the oldest are forgotten beyond this (their failures are old). */
  readonly maxTrackedPayers: number;
}

export const DEFAULT_PAYER_PASSWORD_GUARD: PayerPasswordGuardOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  maxTrackedPayers: 100_000,
};

export class PayerPasswordGuard {
  private readonly failures = new Map<string, { count: number; firstAtMs: number }>();

  constructor(
    private readonly options: PayerPasswordGuardOptions = DEFAULT_PAYER_PASSWORD_GUARD,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Milliseconds until this payer may try again, or 0 when it may try now. */
  lockedForMs(payerId: string): number {
    const entry = this.current(payerId);
    if (!entry || entry.count < this.options.maxFailures) return 0;
    return entry.firstAtMs + this.options.windowMs - this.nowMs();
  }

  recordFailure(payerId: string): void {
    const entry = this.current(payerId) ?? { count: 0, firstAtMs: this.nowMs() };
    this.failures.delete(payerId);
    this.failures.set(payerId, { count: entry.count + 1, firstAtMs: entry.firstAtMs });
    if (this.failures.size > this.options.maxTrackedPayers) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  recordSuccess(payerId: string): void {
    this.failures.delete(payerId);
  }

  private current(payerId: string): { count: number; firstAtMs: number } | undefined {
    const entry = this.failures.get(payerId);
    if (entry && this.nowMs() - entry.firstAtMs >= this.options.windowMs) {
      this.failures.delete(payerId);
      return undefined;
    }
    return entry;
  }
}
