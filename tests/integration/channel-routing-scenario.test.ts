import { afterEach, describe, expect, it } from 'vitest';
import { injectTransport, type ChannelTransport } from '../../src/adapters/channels/channel-transport.js';
import { simulatedChannelAdapters } from '../../src/adapters/channels/simulated-channel-adapters.js';
import { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import {
  defaultSimulatorConfig,
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  testCardholders,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { buildSimulatorServer } from '../../src/adapters/channels/simulator/simulator-server.js';
import {
  healthSnapshot,
  newChannelHealth,
  recordAdmission,
  recordCall,
  type ChannelHealth,
  type HealthPolicy,
} from '../../src/domain/channels/channel-health.js';
import { route, type RoutingRules } from '../../src/domain/channels/routing.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { cardNumber, idNumber, personName, phoneNumber, secretText } from '../../src/domain/shared/sensitive-text.js';
import { isChannelFailure, type ChannelPort } from '../../src/ports/channel-port.js';

const CNY = parseCurrency('CNY');
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const policy: HealthPolicy = {
  windowMs: 60_000,
  maxSamples: 100,
  breaker: { failureThreshold: 3, openMs: 30_000, maxProbes: 1, probeTimeoutMs: 10_000 },
};

/**
 * The pieces together, in-process: the router picks by fee and health, the adapters call the simulated
 * channels, their outcomes feed the health and the breaker. Health time is passed in (a scripted clock);
 * the channels' outage is set through the simulator. What the channel payment operation will do, step
 * by step, without its events.
 */
describe('routing on live health', () => {
  it('outage -> breaker opens -> traffic moves to the network -> half-open probe -> back to the bank', async () => {
    const config = defaultSimulatorConfig('scenario');
    const simulator = new ChannelSimulator(config, { post: async () => 200 });
    const app = buildSimulatorServer(simulator);
    closers.push(() => app.close());
    const channels = simulatedChannelAdapters(config, () => injectTransport(app));
    const rules: RoutingRules = {
      ruleVersion: 'scenario-1',
      explorationSharePpm: 0,
      minSuccessRatePpm: 900_000,
      minSamples: 10,
      maxMeanLatencyMs: 2_000,
      channels: [...channels.values()].map((channel) => channel.profile),
    };
    // The CITY debit card, bound at both channels that reach CITY cards.
    const holder = testCardholders[0]!;
    const elements = {
      cardNumber: cardNumber(holder.cardNumber),
      holderName: personName(holder.holderName),
      idNumber: idNumber(holder.idNumber),
      phone: phoneNumber(holder.phone),
      expiry: null,
      cvn2: null,
    };
    const contracts = new Map<string, string>();
    for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK]) {
      const channel = channels.get(id)!;
      const verified = await channel.verifyElements({ requestNo: `bind-${id}`, elements }, { timeoutMs: 2_000 });
      if (verified.status !== 'succeeded') throw new Error(JSON.stringify(verified));
      if (verified.step === 'signed') contracts.set(id, verified.contractNo);
      else {
        const code = simulator.smsOutbox().find((sms) => sms.verificationId === verified.verificationId)!.code;
        const signed = await channel.sign(
          { requestNo: `bind-${id}`, verificationId: verified.verificationId, code: secretText(code) },
          { timeoutMs: 2_000 },
        );
        if (signed.status !== 'succeeded') throw new Error(JSON.stringify(signed));
        contracts.set(id, signed.contractNo);
      }
    }

    const health = new Map<string, ChannelHealth>([...channels.keys()].map((id) => [id, newChannelHealth]));
    let nowMs = 1_000_000;
    let serial = 0;
    const pay = async () => {
      nowMs += 1_000;
      const decision = route({
        rules,
        request: {
          operation: 'charge',
          choice: { method: 'quick_pay', bankCode: 'CITY', cardKind: 'debit' },
          amount: { amountMinor: 10_000n, currency: CNY },
        },
        health: Object.fromEntries([...health].map(([id, h]) => [id, healthSnapshot(h, policy, nowMs)])),
        dailyUsedMinor: {},
        drawPpm: 0,
      });
      const chosen = decision.chosen!;
      health.set(chosen, recordAdmission(health.get(chosen)!, policy, nowMs));
      const channel: ChannelPort = channels.get(chosen)!;
      const outcome = await channel.charge(
        {
          orderNo: `order-${++serial}`,
          amount: { amountMinor: 10_000n, currency: CNY },
          instrument: { method: 'quick_pay', contractNo: contracts.get(chosen)! },
          notifyUrl: null,
          description: 'x',
        },
        { timeoutMs: 2_000 },
      );
      health.set(
        chosen,
        recordCall(health.get(chosen)!, policy, { atMs: nowMs, failed: isChannelFailure(outcome), latencyMs: 5 }),
      );
      return [chosen, outcome.status] as const;
    };

    expect(await pay()).toEqual([SIMULATED_BANK, 'succeeded']);
    simulator.setFailures(SIMULATED_BANK, { outage: true });
    const duringOutage = [await pay(), await pay(), await pay(), await pay(), await pay()];
    expect(duringOutage).toEqual([
      [SIMULATED_BANK, 'unavailable'],
      [SIMULATED_BANK, 'unavailable'],
      [SIMULATED_BANK, 'unavailable'],
      [SIMULATED_CARD_NETWORK, 'succeeded'],
      [SIMULATED_CARD_NETWORK, 'succeeded'],
    ]);
    expect(healthSnapshot(health.get(SIMULATED_BANK)!, policy, nowMs)).toMatchObject({ breaker: 'open' });

    // Still down when the breaker half-opens: the probe fails and the breaker opens again.
    nowMs += 30_000;
    expect(await pay()).toEqual([SIMULATED_BANK, 'unavailable']);
    expect(await pay()).toEqual([SIMULATED_CARD_NETWORK, 'succeeded']);

    // Back up: the next probe succeeds, the breaker closes, the cheaper bank takes the traffic again.
    simulator.setFailures(SIMULATED_BANK, { outage: false });
    nowMs += 30_000;
    expect(await pay()).toEqual([SIMULATED_BANK, 'succeeded']);
    expect(healthSnapshot(health.get(SIMULATED_BANK)!, policy, nowMs)).toMatchObject({ breaker: 'closed' });
    expect(await pay()).toEqual([SIMULATED_BANK, 'succeeded']);
  });

  it('an answer whose signature does not verify is unknown, never believed', async () => {
    const config = defaultSimulatorConfig('tamper');
    const simulator = new ChannelSimulator(config, { post: async () => 200 });
    const app = buildSimulatorServer(simulator);
    closers.push(() => app.close());
    const real = injectTransport(app);
    // A man in the middle turns a refusal into a success.
    const tampering: ChannelTransport = async (message, timeoutMs) => {
      const result = await real(message, timeoutMs);
      return result.kind === 'answer' ? { ...result, body: result.body.replace('"E2002"', '"0000"') } : result;
    };
    const bank = simulatedChannelAdapters(config, () => tampering).get(SIMULATED_BANK)!;
    expect(await bank.queryOrder('nothing-like-it', { timeoutMs: 2_000 })).toMatchObject({
      status: 'unknown',
      reason: 'bad_answer',
    });
    const honest = simulatedChannelAdapters(config, () => real).get(SIMULATED_BANK)!;
    expect(await honest.queryOrder('nothing-like-it', { timeoutMs: 2_000 })).toMatchObject({
      status: 'declined',
      code: 'order_not_found',
    });
  });
});
