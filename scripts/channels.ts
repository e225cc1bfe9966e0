import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { defaultSimulatorConfig } from '../src/adapters/channels/simulator/default-simulator-config.js';
import { SMS_SEND_PATH } from '../src/adapters/sms/sms-wire.js';
import { parseSimulatorConfig } from '../src/adapters/channels/simulator/simulator-config.js';
import { startChannelSimulator } from '../src/adapters/channels/simulator/simulator-server.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError('a port is 0..65535');
  return parsed;
}

/**
 * `ledger channels simulate`: the channel simulator as its own process on 127.0.0.1, until SIGINT or
 * SIGTERM. Prints one line `listening <url>` first (a test waits for it), then a line per channel and the SMS gateway.
 */
export function channelsCommand(): Command {
  const channels = new Command('channels').description('Payment channels: run the channel simulator');
  channels
    .command('simulate')
    .description('Run the simulated bank, card network and wallet platform as an HTTP server on 127.0.0.1')
    .option('--port <port>', 'port to listen on (0: a free one)', port, 0)
    .option('--seed <seed>', 'seed of every random draw (a run with the same seed and requests repeats)', 'ledger')
    .option('--config <file>', 'a JSON simulator configuration instead of the three default channels')
    .action(async (options: { port: number; seed: string; config?: string }) => {
      const config = options.config
        ? parseSimulatorConfig(JSON.parse(readFileSync(options.config, 'utf8')))
        : defaultSimulatorConfig(options.seed);
      const running = await startChannelSimulator(config, { port: options.port });
      console.log(`listening ${running.url}`);
      for (const [channelId, channel] of Object.entries(config.channels))
        console.log(`channel ${channelId} (${channel.kind}) at ${running.url}/${channelId}/v1, key ${channel.keyId}`);
      if (config.smsGateway)
        console.log(`sms gateway at ${running.url}${SMS_SEND_PATH}, key ${config.smsGateway.keyId}`);
      const stop = () => {
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  return channels;
}
