import { randomInt } from 'node:crypto';
import { ChannelGateway, type RoutingPolicy } from '../../commands/channels/channel-gateway.js';
import type { HealthPolicy } from '../../domain/channels/channel-health.js';
import type { SmsGateway } from '../../ports/sms-gateway.js';
import { HttpSmsGateway } from '../sms/http-sms-gateway.js';
import { fetchTransport, injectTransport, type ChannelTransport } from './channel-transport.js';
import { simulatedChannelAdapters } from './simulated-channel-adapters.js';
import { ChannelSimulator } from './simulator/channel-simulator.js';
import { defaultSimulatorConfig } from './simulator/default-simulator-config.js';
import type { CallbackPost } from './simulator/notice-dispatcher.js';
import { buildSimulatorServer, fetchCallbackPost } from './simulator/simulator-server.js';
import type { SimulatorConfig } from './simulator/simulator-config.js';

/** What the service is told about its channels (from `LedgerConfig`). */
export interface ChannelSetupConfig {
  /** The channel simulator process (`ledger channels simulate`); undefined: a simulator inside this process. */
  readonly channelsUrl: string | undefined;
  /** The simulator configuration's seed: its keys and the in-process simulator's draws. */
  readonly channelsSeed: string;
  /** Our base URL as the channels reach it, for notify URLs (`<base>/v1/channel-notifications/<channel>`). */
  readonly publicBaseUrl: string;
  readonly callTimeoutMs: number;
  readonly explorationSharePpm: number;
  readonly accountingTimeZone: string;
}

export interface ChannelSetup {
  readonly gateway: ChannelGateway;
  readonly sms: SmsGateway | null;
  /** The in-process simulator (tests set its failures and read its records), null when it is a process. */
  readonly simulator: ChannelSimulator | null;
  close(): Promise<void>;
}

export interface ChannelSetupOptions {
  /** How the in-process simulator posts its callbacks (default: real HTTP to the notify URL). */
  readonly callbackPost?: CallbackPost;
  /** Overrides the default simulator configuration (tests: latency, failures, limits). */
  readonly simulatorConfig?: SimulatorConfig;
  /**
   * An in-process simulator made by the caller, which outlives this service (tests restarting the service
   * in front of the same channels: their orders and contracts stay, as a bank's do); the caller closes it.
   */
  readonly simulator?: ChannelSimulator;
  readonly nowMs?: () => number;
}

/** Routing defaults: a channel below 90% success or above 3 s mean latency (over 20 calls) is degraded. */
export const ROUTING_POLICY_DEFAULTS: Omit<RoutingPolicy, 'explorationSharePpm'> = {
  ruleVersion: 'routing-1',
  minSuccessRatePpm: 900_000,
  minSamples: 20,
  maxMeanLatencyMs: 3_000,
};

/** Health over the last 5 minutes (at most 500 calls); the breaker opens after 5 failures in a row for 30 s. */
export const HEALTH_POLICY_DEFAULTS: HealthPolicy = {
  windowMs: 5 * 60_000,
  maxSamples: 500,
  breaker: { failureThreshold: 5, openMs: 30_000, maxProbes: 1, probeTimeoutMs: 30_000 },
};

export const CHANNEL_NOTIFICATIONS_PATH = '/v1/channel-notifications';

/**
 * The channels of a service: HTTP channel adapters (the same code a real bank's adapter is) over a
 * transport to the simulator, its process when `CHANNELS_URL` is set, else one started inside this
 * process (reached through `inject`, no socket; its callbacks still go to our notify endpoint over
 * HTTP). Real channels would be configured here the same way: a profile, keys and a base URL each.
 */
export function setUpChannels(config: ChannelSetupConfig, options: ChannelSetupOptions = {}): ChannelSetup {
  const simulatorConfig =
    options.simulator?.config ?? options.simulatorConfig ?? defaultSimulatorConfig(config.channelsSeed);
  let simulator: ChannelSimulator | null = null;
  let transport: ChannelTransport;
  let closeTransport = async () => {};
  if (config.channelsUrl) {
    transport = fetchTransport(config.channelsUrl);
  } else {
    simulator =
      options.simulator ?? new ChannelSimulator(simulatorConfig, { post: options.callbackPost ?? fetchCallbackPost });
    const app = buildSimulatorServer(simulator, { ownsSimulator: options.simulator === undefined });
    transport = injectTransport(app);
    closeTransport = () => app.close();
  }
  const base = config.publicBaseUrl.replace(/\/+$/, '');
  const adapters = simulatedChannelAdapters(simulatorConfig, () => transport);
  const gateway = new ChannelGateway(adapters.values(), {
    routing: { ...ROUTING_POLICY_DEFAULTS, explorationSharePpm: config.explorationSharePpm },
    health: HEALTH_POLICY_DEFAULTS,
    callTimeoutMs: config.callTimeoutMs,
    timeZone: config.accountingTimeZone,
    nowMs: options.nowMs ?? Date.now,
    drawPpm: () => randomInt(1_000_000),
    notifyUrlFor: (channelId) => `${base}${CHANNEL_NOTIFICATIONS_PATH}/${encodeURIComponent(channelId)}`,
  });
  const smsConfig = simulatorConfig.smsGateway;
  const sms = smsConfig
    ? new HttpSmsGateway({
        key: { keyId: smsConfig.keyId, secret: Buffer.from(smsConfig.secretBase64, 'base64') },
        accountId: simulatorConfig.merchantId,
        transport,
      })
    : null;
  return { gateway, sms, simulator, close: closeTransport };
}
