import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../../src/domain/event-catalogue.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { balancesProjection } from '../../src/projections/balances.js';
import type { Projection } from '../../src/projections/projection.js';
import { SIMULATION_TIME_ZONE } from './composition.js';
import { consistentAnswers } from './client-requests.js';
import { simulate } from './simulation.js';

/** The fixed seeds CI runs (a longer run: `npm run simulate -- --seeds 200`). */
const CI_SEEDS = [1, 2, 3, 4, 5, 6];
const CI_STEPS = 150;

describe('the seeded whole-service simulator', () => {
  it.each(CI_SEEDS)(
    'holds every invariant for seed %i, with faults injected',
    async (seed) => {
      const result = await simulate({ seed, steps: CI_STEPS });
      expect(result.failure, result.trace.slice(-20).join('\n')).toBeNull();
      // The seed really exercised the faults and the checks, not a quiet path.
      expect(Object.values(result.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      expect(result.crashes).toBeGreaterThan(0);
      expect(result.checks).toBeGreaterThan(1_000);
      expect(result.answered).toBeGreaterThan(CI_STEPS / 2);
    },
    120_000,
  );

  it('replays a seed exactly: two runs give the same trace', async () => {
    const first = await simulate({ seed: 7, steps: 100 });
    const second = await simulate({ seed: 7, steps: 100 });
    expect(second.trace).toEqual(first.trace);
    expect(second.digest).toBe(first.digest);
    expect((await simulate({ seed: 8, steps: 100 })).digest).not.toBe(first.digest);
  }, 120_000);

  it('fails a seed, at a step it names, when a projection is broken, and the failure replays', async () => {
    // A balances projection that forgets released freezes: the kind of defect the read-side checks exist for.
    const broken: Projection[] = projectionsFor(SIMULATION_TIME_ZONE).map((projection) =>
      projection.name !== balancesProjection.name
        ? projection
        : {
            ...projection,
            handle: (event: LedgerEvent, envelope) =>
              event.type === 'FrozenFundsReleased' ? [] : projection.handle(event, envelope),
          },
    );
    const failed = await simulate({ seed: 3, steps: CI_STEPS, projections: broken });
    expect(failed.failure).not.toBeNull();
    expect(failed.failure!.message).toMatch(/balances read model/);
    const again = await simulate({ seed: 3, steps: CI_STEPS, projections: broken });
    expect(again.failure).toEqual(failed.failure);
    expect(again.digest).toBe(failed.digest);
  }, 120_000);

  it('judges a retried answer consistent only when it names the same operation and outcome', () => {
    const id = '178586d4-ae71-5c4e-8f51-465f30c0fbed';
    expect(consistentAnswers('refused channel_declined', `recharge ${id} failed`)).toBe(true);
    expect(consistentAnswers(`recharge ${id} requested`, `recharge ${id} completed`)).toBe(true);
    expect(consistentAnswers('refused insufficient_funds', `withdrawal ${id} completed`)).toBe(false);
    expect(consistentAnswers(`recharge ${id} completed`, `recharge ${id.replace('1', '2')} completed`)).toBe(false);
  });
});
