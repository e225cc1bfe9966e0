import { afterEach, describe, expect, it } from 'vitest';
import { setUpChannels, type ChannelSetup } from '../../src/adapters/channels/channel-setup.js';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  defaultSimulatorConfig,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { route, type RoutingRequest } from '../../src/domain/channels/routing.js';
import { chargeInstrumentAt, channelsHolding } from '../../src/domain/channels/payer-instrument.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';

const CNY = parseCurrency('CNY');
const setups: ChannelSetup[] = [];
afterEach(async () => {
  for (const setup of setups.splice(0)) await setup.close();
});

function channels(options: { callTimeoutMs?: number } = {}) {
  let nowMs = Date.parse('2026-12-01T02:00:00Z');
  const setup = setUpChannels(
    {
      channelsUrl: undefined,
      channelsSeed: 'gateway-test',
      publicBaseUrl: 'http://127.0.0.1:3999/',
      callTimeoutMs: options.callTimeoutMs ?? 2_000,
      explorationSharePpm: 0,
      accountingTimeZone: 'Asia/Shanghai',
    },
    { nowMs: () => nowMs, callbackPost: async () => 200, simulatorConfig: defaultSimulatorConfig('gateway-test') },
  );
  setups.push(setup);
  return { setup, gateway: setup.gateway, simulator: setup.simulator!, advance: (ms: number) => (nowMs += ms) };
}

const cityQuickPay = (amountMinor: bigint): RoutingRequest => ({
  operation: 'charge',
  choice: { method: 'quick_pay', bankCode: 'CITY', cardKind: 'debit' },
  amount: { amountMinor, currency: CNY },
});

describe('the channel gateway', () => {
  it('routes to the cheapest channel, opens its breaker on failures, moves traffic and comes back after a probe', async () => {
    const { gateway, simulator, advance } = channels();
    expect(gateway.route(cityQuickPay(10_000n)).chosen).toBe(SIMULATED_BANK);

    simulator.setFailures(SIMULATED_BANK, { outage: true });
    const charge = () =>
      gateway.call(SIMULATED_BANK, (port, options) =>
        port.charge(
          {
            orderNo: `gw-${Math.random()}`,
            amount: { amountMinor: 10_000n, currency: CNY },
            instrument: { method: 'quick_pay', contractNo: 'C-none' },
            notifyUrl: gateway.notifyUrl(SIMULATED_BANK),
            description: 'gateway test',
          },
          options,
        ),
      );
    for (let call = 0; call < 5; call++) {
      advance(1_000);
      expect((await charge()).status).toBe('unavailable');
    }
    const moved = gateway.route(cityQuickPay(10_000n));
    expect(moved.chosen).toBe(SIMULATED_CARD_NETWORK);
    expect(moved.candidates.find((c) => c.channelId === SIMULATED_BANK)).toMatchObject({
      standing: 'excluded',
      excludedBecause: 'breaker_open',
    });
    const standing = gateway.standings().find((s) => s.channelId === SIMULATED_BANK)!;
    expect(standing.health).toMatchObject({ breaker: 'open', admits: false, sampleCount: 5, successRatePpm: 0 });

    // After the open period the bank gets a probe; the outage over, the probe succeeds (a decline is the
    // channel working) and the breaker closes: the bank is the cheapest again.
    simulator.setFailures(SIMULATED_BANK, { outage: false });
    advance(30_001);
    expect(gateway.route(cityQuickPay(10_000n)).chosen).toBe(SIMULATED_BANK);
    const probe = await charge();
    expect(probe.status).toBe('declined');
    expect(gateway.standings().find((s) => s.channelId === SIMULATED_BANK)!.health.breaker).toBe('closed');
    expect(gateway.route(cityQuickPay(10_000n)).chosen).toBe(SIMULATED_BANK);
  });

  it('never routes a payment to a channel whose minimum fee is more than the amount', () => {
    const { gateway } = channels();
    // sim-citybank's quick pay takes at least 0.10: a 0.04 payment goes to the card network (0.38%, no minimum).
    const decision = gateway.route(cityQuickPay(4n));
    expect(decision.chosen).toBe(SIMULATED_CARD_NETWORK);
    expect(decision.candidates.find((c) => c.channelId === SIMULATED_BANK)).toMatchObject({
      standing: 'excluded',
      excludedBecause: 'fee_exceeds_amount',
    });
    expect(route(decision.inputs)).toEqual(decision);
  });

  it('counts a timeout as an unknown outcome and a failure', async () => {
    const { gateway, simulator } = channels({ callTimeoutMs: 50 });
    simulator.setFailures(SIMULATED_BANK, { timeoutRatePpm: 1_000_000 });
    const outcome = await gateway.call(SIMULATED_BANK, (port, options) => port.queryOrder('no-such-order', options));
    expect(outcome).toMatchObject({ status: 'unknown', reason: 'timeout' });
    const health = gateway.standings().find((s) => s.channelId === SIMULATED_BANK)!.health;
    expect(health).toMatchObject({ sampleCount: 1, successRatePpm: 0 });
  });

  it("keeps a channel's daily usage per accounting day and routes around a reached limit", () => {
    const { gateway, advance } = channels();
    // 02:00 UTC is 10:00 in Shanghai; the bank takes 100,000,000 a day.
    gateway.noteUsage(SIMULATED_BANK, 'charge', { amountMinor: 99_995_000n, currency: CNY });
    const decision = gateway.route(cityQuickPay(10_000n));
    expect(decision.chosen).toBe(SIMULATED_CARD_NETWORK);
    expect(decision.inputs.dailyUsedMinor[SIMULATED_BANK]).toBe(99_995_000n);
    expect(decision.candidates.find((c) => c.channelId === SIMULATED_BANK)).toMatchObject({
      excludedBecause: 'daily_limit_reached',
    });
    // 16:00 UTC is midnight in Shanghai: a new day, the limit is whole again.
    advance(14 * 3_600_000);
    expect(gateway.route(cityQuickPay(10_000n)).chosen).toBe(SIMULATED_BANK);
    expect(gateway.standings().find((s) => s.channelId === SIMULATED_BANK)!.dailyUsedMinor.charge).toBe(0n);
  });

  it("routes only among the channels it is told (a bound card's contracts), and the record replays", async () => {
    const { gateway } = channels();
    const decision = gateway.route(cityQuickPay(10_000n), [SIMULATED_CARD_NETWORK]);
    expect(decision.chosen).toBe(SIMULATED_CARD_NETWORK);
    expect(decision.candidates.map((c) => c.channelId)).toEqual([SIMULATED_CARD_NETWORK]);
    expect(route(decision.inputs)).toEqual(decision);
  });

  it('gives each channel its notify URL and knows only its own channels', () => {
    const { gateway } = channels();
    expect(gateway.notifyUrl(SIMULATED_BANK)).toBe('http://127.0.0.1:3999/v1/channel-notifications/sim-citybank');
    expect(gateway.port('nope')).toBeUndefined();
    expect(gateway.verifyNotification('nope', { path: '/x', headers: {}, rawBody: Buffer.from('{}') })).toBeNull();
    expect(gateway.channelIds).toEqual(['sim-citybank', 'sim-cardnet', 'sim-wallet']);
  });
});

describe('a test card bound at the simulated channels', () => {
  it('is signed at every channel offering quick pay for its bank, and a charge through its contract succeeds', async () => {
    const { setup, gateway } = channels();
    const card = await bindTestCard(setup, 0);
    expect(card.contracts.map((c) => c.channelId)).toEqual([SIMULATED_BANK, SIMULATED_CARD_NETWORK]);
    const decision = gateway.route(cityQuickPay(10_000n), channelsHolding({ method: 'quick_pay', card }));
    const chosen = decision.chosen!;
    const outcome = await gateway.call(chosen, (port, options) =>
      port.charge(
        {
          orderNo: 'gw-bound-1',
          amount: { amountMinor: 10_000n, currency: CNY },
          instrument: chargeInstrumentAt({ method: 'quick_pay', card }, chosen)!,
          notifyUrl: null,
          description: 'gateway test',
        },
        options,
      ),
    );
    expect(outcome).toMatchObject({ status: 'succeeded', feeMinor: 20n });
  });
});
