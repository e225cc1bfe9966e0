import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak/run-soak.js';
import { OPERATION_KINDS } from '../../scripts/soak/soak-workload.js';
import { buildCli, removeCli } from '../support/built-cli.js';

/**
 * The crash soak's short run (issue 14), the same code as `npm run soak`: the built service under load of
 * every operation kind, killed with SIGKILL twice and restarted; nothing acknowledged lost or doubled, no
 * 5xx but the restart's "ask again" answers, every answer replayed, the books balanced, the audit clean.
 */
describe('crash soak (short)', () => {
  let cli = '';
  beforeAll(() => {
    cli = buildCli();
  }, 180_000);
  afterAll(() => removeCli(cli));

  it('survives two kills under load with nothing lost, doubled or answered 5xx', async () => {
    const result = await runSoak({ cli, seed: 'ci-soak-1', kills: 2, durationS: 6, clients: 3, minStepsPerClient: 12 });
    expect(result.breaches, `seed ${result.seed}`).toEqual([]);
    expect(result).toMatchObject({ ok: true, killsSurvived: 2, lost: 0, doubled: 0, unexpected5xx: 0 });
    // The run did what it claims: load before and after the kills, and every check ran.
    expect(result.operations).toBeGreaterThanOrEqual(3 * 12);
    expect(result.acknowledged).toBeGreaterThan(0);
    expect(Object.keys(result.operationsByKind).length).toBeGreaterThan(OPERATION_KINDS.length / 2);
    for (const check of [
      'answer replayed',
      'acknowledged operation found',
      'balance = expected',
      'statement ends at the balance',
      'money conserved',
      'trial balance zero',
      'audit verify',
      'audit replay',
    ])
      expect(result.checks[check], check).toBeGreaterThan(0);
    // The kinds with their own end checks ran them when the seed drew them (a scan refused whatever it
    // is, as when each start drew its own transit key, accepts none: the history check never runs).
    const drawn = (kind: string) => (result.operationsByKind[kind] ?? 0) > 0;
    if (drawn('payment_code_redeem')) expect(result.checks['payment code replayed after the kills']).toBeGreaterThan(0);
    if (drawn('transit_upload')) expect(result.checks['accepted scan once in the history']).toBeGreaterThan(0);
    if (drawn('bind_card')) expect(result.checks['acknowledged binding listed once, bound']).toBeGreaterThan(0);
  }, 300_000);
});
