import { Command, InvalidArgumentError } from 'commander';
import { IDENTITY_VERIFY_PATH } from '../src/adapters/identity/identity-wire.js';
import { defaultIdentitySimulatorConfig } from '../src/adapters/identity/simulator/identity-simulator-config.js';
import { startIdentitySimulator } from '../src/adapters/identity/simulator/identity-simulator-server.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError('a port is 0..65535');
  return parsed;
}

/**
 * `ledger identity simulate`: the simulated identity service as its own process on 127.0.0.1, until
 * SIGINT or SIGTERM. Prints one line `listening <url>` first (a test waits for it), then its endpoint and key id.
 */
export function identityCommand(): Command {
  const identity = new Command('identity').description('Real-name verification: run the identity service simulator');
  identity
    .command('simulate')
    .description('Run the simulated identity service (2, 3 and 4 elements) as an HTTP server on 127.0.0.1')
    .option('--port <port>', 'port to listen on (0: a free one)', port, 0)
    .option('--seed <seed>', "seed of its key and draws (the service's CHANNELS_SEED)", 'ledger')
    .action(async (options: { port: number; seed: string }) => {
      const config = defaultIdentitySimulatorConfig(options.seed);
      const running = await startIdentitySimulator(config, { port: options.port });
      console.log(`listening ${running.url}`);
      console.log(
        `identity service at ${running.url}${IDENTITY_VERIFY_PATH}, key ${config.keyId}, ${config.persons.length} test persons`,
      );
      const stop = () => {
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  return identity;
}
