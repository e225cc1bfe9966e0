import {
  setUpChannels,
  type ChannelSetup,
  type ChannelSetupOptions,
} from '../../src/adapters/channels/channel-setup.js';
import { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import {
  SIMULATED_CARD_NETWORK,
  simulatorConfigForLoad,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { CallbackPost } from '../../src/adapters/channels/simulator/notice-dispatcher.js';
import type { SimulatorConfig } from '../../src/adapters/channels/simulator/simulator-config.js';
import type { ChannelGateway } from '../../src/commands/channels/channel-gateway.js';
import type { LedgerCommands } from '../../src/commands/ledger-commands.js';
import type { BoundCard, PayerInstrument } from '../../src/domain/channels/payer-instrument.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';

/**
 * The default simulated channels (same profiles, fees and limits) for tests: no latency, async results
 * and settlement notices soon, cardholders who never run out of money.
 */
export function testSimulatorConfig(seed = 'ledger'): SimulatorConfig {
  const config = simulatorConfigForLoad(seed);
  const soon = { min: 20, max: 50 };
  return {
    ...config,
    channels: Object.fromEntries(
      Object.entries(config.channels).map(([id, channel]) => [
        id,
        { ...channel, asyncResultMs: soon, settlementNoticeMs: soon },
      ]),
    ),
  };
}

/** Callbacks nobody receives in command-level tests (no notify endpoint): acknowledged and dropped. */
export const droppedCallbacks: CallbackPost = async () => 200;

/** Channel options for a test service: the test configuration, or a simulator shared across restarts. */
export function testChannelOptions(simulator?: ChannelSimulator): ChannelSetupOptions {
  return simulator ? { simulator } : { simulatorConfig: testSimulatorConfig() };
}

/** A simulator that outlives the services a test starts in front of it (close it at the end). */
export function sharedTestSimulator(): ChannelSimulator {
  return new ChannelSimulator(testSimulatorConfig(), { post: droppedCallbacks });
}

/** The channels of a command-level test (no HTTP service): the in-process simulator, no exploration. */
export function testChannels(options: { simulator?: ChannelSimulator; callTimeoutMs?: number } = {}): ChannelSetup {
  return registerTestChannels(
    setUpChannels(
      {
        channelsUrl: undefined,
        channelsSeed: 'ledger',
        publicBaseUrl: 'http://127.0.0.1:9',
        callTimeoutMs: options.callTimeoutMs ?? 5_000,
        explorationSharePpm: 0,
        accountingTimeZone: 'Asia/Shanghai',
      },
      options.simulator
        ? { simulator: options.simulator }
        : { simulatorConfig: testSimulatorConfig(), callbackPost: droppedCallbacks },
    ),
  );
}

/** One bound card per simulator (its contracts live there): test holder 0's CITY debit card. */
const cards = new WeakMap<ChannelSimulator, Promise<BoundCard>>();

/** The test cardholder's card bound at every channel that takes it (the same card for every call). */
export function testCard(channels: ChannelSetup): Promise<BoundCard> {
  const simulator = channels.simulator;
  if (!simulator) throw new Error('testCard binds through the in-process simulator');
  let card = cards.get(simulator);
  if (!card) {
    card = bindTestCard(channels);
    cards.set(simulator, card);
  }
  return card;
}

/** Quick pay with the test card: what recharges in tests pay with. */
export async function testPayer(channels: ChannelSetup): Promise<PayerInstrument> {
  return { method: 'quick_pay', card: await testCard(channels) };
}

/** The channel setup of each gateway tests made (testChannels, startTestLedger), so a test holding only the commands finds its card. */
const setups = new WeakMap<ChannelGateway, ChannelSetup>();

export function registerTestChannels(channels: ChannelSetup): ChannelSetup {
  setups.set(channels.gateway, channels);
  return channels;
}

function setupOf(commands: LedgerCommands): ChannelSetup {
  const channels = setups.get(commands.gateway);
  if (!channels) throw new Error('these commands were not made over testChannels() or startTestLedger');
  return channels;
}

/** Quick pay with the test card at the channels of these commands. */
export function payerFor(commands: LedgerCommands): Promise<PayerInstrument> {
  return testPayer(setupOf(commands));
}

/** The test card as a withdrawal's payee, at the channels of these commands. */
export function payeeFor(commands: LedgerCommands): Promise<BoundCard> {
  return testCard(setupOf(commands));
}

/**
 * Runs `run` while every channel declines charges and payouts (`insufficient_funds`): how tests get a
 * refusal from the channels now that no amount is declined by its digits.
 */
export async function whileChannelsDecline<T>(channels: ChannelSetup, run: () => Promise<T>): Promise<T> {
  const simulator = channels.simulator;
  if (!simulator) throw new Error('declines are set on the in-process simulator');
  const ids = channels.gateway.channelIds;
  for (const id of ids) simulator.setFailures(id, { declineRatePpm: 1_000_000, declineWith: ['insufficient_funds'] });
  try {
    return await run();
  } finally {
    for (const id of ids) simulator.setFailures(id, { declineRatePpm: 0 });
  }
}

/**
 * The test card bound at the card network of a simulator process (`ledger channels simulate`, seed
 * `ledger`), for tests running `ledger serve` processes with CHANNELS_URL: the network signs at the
 * verify step, so no SMS code is read.
 */
export async function bindCardAtSimulatorProcess(url: string): Promise<BoundCard> {
  const channels = setUpChannels({
    channelsUrl: url,
    channelsSeed: 'ledger',
    publicBaseUrl: 'http://127.0.0.1:9',
    callTimeoutMs: 5_000,
    explorationSharePpm: 0,
    accountingTimeZone: 'Asia/Shanghai',
  });
  try {
    return await bindTestCard(channels, 0, [SIMULATED_CARD_NETWORK]);
  } finally {
    await channels.close();
  }
}
