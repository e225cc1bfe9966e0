import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultSimulatorConfig,
  SIMULATED_PLATFORM,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { simulatorConfig } from '../../src/adapters/channels/simulator/simulator-config.js';
import { startSimulatorProcess } from '../support/channel-simulator-process.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ledger-channels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ledger channels simulate', () => {
  it('runs the channels of a --config file, with their failure modes, until SIGTERM', async () => {
    const config = defaultSimulatorConfig('from-file');
    const { [SIMULATED_PLATFORM]: wallet } = config.channels;
    const file = join(dir, 'one-channel.json');
    const onlyWallet = {
      ...config,
      channels: { [SIMULATED_PLATFORM]: { ...wallet!, failures: { ...wallet!.failures, outage: true } } },
    };
    writeFileSync(file, JSON.stringify(simulatorConfig.encode(onlyWallet)));
    const simulator = await startSimulatorProcess(['--config', file]);
    try {
      expect(await simulator.control('GET', '/channels')).toEqual([
        {
          channelId: SIMULATED_PLATFORM,
          kind: 'platform',
          keyId: `${SIMULATED_PLATFORM}-key-1`,
          failures: expect.objectContaining({ outage: true }),
          busy: true,
        },
      ]);
    } finally {
      await simulator.stop();
    }
    expect(simulator.child.exitCode).toBe(0);
  });

  it('refuses a configuration it cannot run, and a bad port, with a message and a non-zero exit', () => {
    const file = join(dir, 'bad.json');
    const config = simulatorConfig.encode(defaultSimulatorConfig('bad'));
    writeFileSync(file, JSON.stringify({ ...config, channels: { 'sim-x': config.channels[SIMULATED_PLATFORM] } }));
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', './tests/support/typescript-hooks.ts', 'scripts/cli.ts', 'channels', 'simulate', ...args],
        { cwd: root, encoding: 'utf8', timeout: 20_000 },
      );
    const badConfig = cli('--config', file);
    expect(badConfig.status).not.toBe(0);
    expect(badConfig.stderr).toContain('channel sim-x: its profile names sim-wallet');
    const badPort = cli('--port', '70000');
    expect(badPort.status).not.toBe(0);
    expect(badPort.stderr).toContain('a port is 0..65535');
  });
});
