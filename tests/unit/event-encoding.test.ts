import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, encodeOwnEvent, isLedgerEventType } from '../../src/domain/event-catalogue.js';
import { commandFixture } from '../support/command-fixtures.js';
import { openScenarioAccounts, runStep, scenarioStep, type ScenarioRecord } from '../support/ledger-scenarios.js';

/**
 * The write path stores the events it decided without validating them again (encodeOwnEvent); what it
 * stores must be exactly what the validating codec (encodeEvent) would have stored, for every kind of
 * event a ledger records: random operation sequences (payments, refunds, freezes, pre-authorisations,
 * transfers, withdrawals, recharges, and their refusals), every stored event decoded and encoded both ways.
 */
describe('encoding an event the code decided', () => {
  it('stores what the validating codec stores, for every event a ledger records', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(scenarioStep, { minLength: 5, maxLength: 30 }), async (steps) => {
        const fixture = commandFixture();
        try {
          const accounts = await openScenarioAccounts(fixture.commands);
          const record: ScenarioRecord = { payments: [], freezes: [], preauths: [], refusals: 0 };
          for (const [seq, step] of steps.entries()) await runStep(fixture.commands, accounts, record, step, seq);
          for (const stored of await fixture.eventStore.readAll({ after: 'start', maxCount: 10_000 })) {
            if (!isLedgerEventType(stored.type)) continue;
            const event = decodeEvent(stored.type, stored.data);
            expect(encodeOwnEvent(event)).toEqual(encodeEvent(event));
            expect(encodeOwnEvent(event).data).toEqual(stored.data);
            seen.add(stored.type);
          }
        } finally {
          await fixture.close();
        }
      }),
      { numRuns: 10 },
    );
    // The sequences must have produced most kinds of event, not a handful.
    expect(seen.size).toBeGreaterThan(15);
  }, 120_000);
});
