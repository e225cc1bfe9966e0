import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/domain/event-catalogue.js';
import { isLedgerStream } from '../../src/projections/projection.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { commandFixture } from '../support/command-fixtures.js';
import { runScenario, scenarioStep } from '../support/ledger-scenarios.js';

const PROJECTIONS = projectionsFor('Asia/Shanghai');

/**
 * Runners and rebuilds read the log for the event types the projections declare (Projection.eventTypes,
 * logFilterFor): a projection whose `handle` reads a type it does not declare would silently miss it.
 * Over random operation histories run through the command side, every ledger event of a type a projection
 * does not declare changes none of its documents.
 */
describe("a projection's declared event types", () => {
  it('cover every event its handle changes documents for', async () => {
    const typesSeen = new Set<string>();
    const undeclaredSeen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(scenarioStep, { minLength: 5, maxLength: 40 }), async (steps) => {
        const fixture = commandFixture();
        try {
          await runScenario(fixture.commands, steps);
          const log = await fixture.eventStore.readAll({ after: 'start', maxCount: 10_000 });
          for (const recorded of log) {
            if (!isLedgerStream(recorded.streamId)) continue;
            typesSeen.add(recorded.type);
            const event = decodeEvent(recorded.type, recorded.data);
            for (const projection of PROJECTIONS) {
              if ((projection.eventTypes as readonly string[]).includes(recorded.type)) continue;
              undeclaredSeen.set(projection.name, (undeclaredSeen.get(projection.name) ?? 0) + 1);
              expect(projection.handle(event, recorded), `${projection.name} on ${recorded.type}`).toEqual([]);
            }
          }
        } finally {
          await fixture.close();
        }
      }),
      { numRuns: 15 },
    );
    // The property says little unless the histories held many kinds of events, each projection skipping some.
    expect(typesSeen.size).toBeGreaterThan(15);
    for (const projection of PROJECTIONS) expect(undeclaredSeen.get(projection.name) ?? 0).toBeGreaterThan(10);
  }, 120_000);
});
