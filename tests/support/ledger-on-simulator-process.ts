import { defaultSimulatorConfig } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { freePort } from './built-cli.js';
import type { SimulatorProcess } from './channel-simulator-process.js';
import { startTestLedger, type TestLedger } from './test-ledger.js';

/**
 * A test ledger whose channels and SMS gateway are the simulator PROCESS (CHANNELS_URL), listening on its
 * own loopback port so the channels' callbacks reach its notify endpoint over real HTTP. `seed` is the
 * process's `--seed`: both sides derive the same keys from it.
 */
export async function startLedgerOnSimulatorProcess(simulator: SimulatorProcess, seed: string): Promise<TestLedger> {
  const port = await freePort();
  const ledger = await startTestLedger(
    undefined,
    {
      CHANNELS_URL: simulator.url,
      CHANNELS_SEED: seed,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      CHANNEL_POLL_INTERVAL_MS: '0',
      CHANNEL_EXPLORATION_PPM: '0',
    },
    // The adapters' keys are the process's: its seed's default configuration.
    { service: { channels: { simulatorConfig: defaultSimulatorConfig(seed) } } },
  );
  await ledger.app.listen({ port, host: '127.0.0.1' });
  return ledger;
}
