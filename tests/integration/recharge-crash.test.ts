import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_CARD_NETWORK } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';
import { context } from '../support/command-fixtures.js';
import { runAndKill, wholeLog } from '../support/killed-child.js';
import { startTestLedger } from '../support/test-ledger.js';

/**
 * kill -9 of a process taking recharges, at a random moment, with the bank (the channel simulator
 * process) outliving it: some recharges are requested and not charged, some charged and not credited.
 * The service restarted on the same storage resumes every one, and then each charge at the channel has
 * exactly one credit in the ledger: nobody charged twice, no charge without its credit, every
 * acknowledged recharge completed.
 */
const ACKS_BEFORE_KILL = 15;

describe('recharges under kill -9, resumed against the same bank', () => {
  let bank: SimulatorProcess;
  beforeAll(async () => {
    bank = await startSimulatorProcess(['--seed', 'ledger']);
  }, 30_000);
  afterAll(async () => {
    await bank?.stop();
  });

  it('charges each recharge once and credits it once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-recharge-crash-'));
    const acked = await runAndKill(
      join(import.meta.dirname, 'recharge-crash-child.ts'),
      [dataDir, bank.url],
      ACKS_BEFORE_KILL,
    );

    const ledger = await startTestLedger(dataDir, { CHANNELS_URL: bank.url, RECOVERY_SWEEP_INTERVAL_MS: '0' });
    try {
      const { eventStore, commands } = ledger.service;
      const allEvents = () => wholeLog(eventStore);
      const rechargeIds = (await allEvents())
        .filter((e) => e.type === 'RechargeRequested')
        .map((e) => e.data['rechargeId'] as string);
      expect(rechargeIds.length).toBeGreaterThanOrEqual(acked.size);
      // What the recovery sweep does for each (here directly, without waiting for the read models).
      for (const rechargeId of rechargeIds)
        await commands.resumeOperation('recharge', rechargeId, context({ actor: 'recovery' }));

      const finished = await Promise.all(rechargeIds.map((id) => commands.getRecharge(id)));
      for (const recharge of finished) expect(recharge.status, recharge.request.rechargeId).toBe('completed');
      for (const rechargeId of acked) expect(rechargeIds).toContain(rechargeId);
      const credits = (await allEvents())
        .filter((e) => e.type === 'FundsRecharged')
        .map((e) => e.data['rechargeId'] as string)
        .sort();
      expect(credits).toEqual([...rechargeIds].sort());
      const records = await bank.control('GET', `/channels/${SIMULATED_CARD_NETWORK}/records`);
      const charged = (records.orders as { orderNo: string; state: string }[])
        .filter((order) => rechargeIds.includes(order.orderNo))
        .map((order) => [order.orderNo, order.state]);
      // One order per recharge at the channel, each paid once: the resumed ones were asked under the same number.
      expect(charged.map(([orderNo]) => orderNo).sort()).toEqual([...rechargeIds].sort());
      expect(new Set(charged.map(([, state]) => state))).toEqual(new Set(['SUCCESS']));
    } finally {
      await ledger.close();
    }
  }, 90_000);
});
