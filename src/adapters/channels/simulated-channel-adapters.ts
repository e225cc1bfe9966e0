import type { ChannelTransport } from './channel-transport.js';
import { HttpChannelAdapter } from './http-channel-adapter.js';
import type { SimulatorConfig } from './simulator/simulator-config.js';

/**
 * The adapters for every channel of a simulator configuration (the same file the simulator runs with
 * gives the ledger its keys and profiles), each over the transport given for it.
 */
export function simulatedChannelAdapters(
  config: SimulatorConfig,
  transportFor: (channelId: string) => ChannelTransport,
): Map<string, HttpChannelAdapter> {
  return new Map(
    Object.entries(config.channels).map(([channelId, channel]) => [
      channelId,
      new HttpChannelAdapter({
        channelId,
        kind: channel.kind,
        profile: channel.profile,
        merchantId: config.merchantId,
        key: { keyId: channel.keyId, secret: Buffer.from(channel.secretBase64, 'base64') },
        transport: transportFor(channelId),
      }),
    ]),
  );
}
