import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultSimulatorConfig,
  SIMULATED_PLATFORM,
  simulatedChannelSecret,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { simulatorConfig } from '../../src/adapters/channels/simulator/simulator-config.js';
import { fetchTransport } from '../../src/adapters/channels/channel-transport.js';
import { HttpSmsGateway } from '../../src/adapters/sms/http-sms-gateway.js';
import { phoneNumber, secretText } from '../../src/domain/shared/sensitive-text.js';
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

  it('runs the SMS gateway of a --config file with its failure modes, and none when the file has none', async () => {
    const config = defaultSimulatorConfig('sms-file');
    const withOutage = join(dir, 'sms-outage.json');
    writeFileSync(
      withOutage,
      JSON.stringify(
        simulatorConfig.encode({
          ...config,
          smsGateway: { ...config.smsGateway!, failures: { ...config.smsGateway!.failures, outage: true } },
        }),
      ),
    );
    const { smsGateway: _gateway, ...channelsOnly } = config;
    const withoutGateway = join(dir, 'no-sms.json');
    writeFileSync(withoutGateway, JSON.stringify(simulatorConfig.encode(channelsOnly)));
    const message = {
      messageId: 'm-1',
      phone: phoneNumber('13800000001'),
      template: 'payment_step_up' as const,
      code: secretText('123456'),
    };
    const key = { keyId: 'sim-sms-key-1', secret: simulatedChannelSecret('sms-file', 'sim-sms') };
    for (const [file, outcome] of [
      [withOutage, 'unavailable'],
      // No gateway: an unsigned 404, which the adapter cannot take for a refusal.
      [withoutGateway, 'unknown'],
    ] as const) {
      const simulator = await startSimulatorProcess(['--config', file]);
      try {
        const gateway = new HttpSmsGateway({
          key,
          accountId: config.merchantId,
          transport: fetchTransport(simulator.url),
        });
        expect((await gateway.send(message, { timeoutMs: 5_000 })).outcome).toBe(outcome);
        const unsigned = await fetch(`${simulator.url}/sms/v1/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        // With a gateway, an unsigned request is refused; without one, there is no such route.
        expect(unsigned.status).toBe(outcome === 'unknown' ? 404 : 401);
      } finally {
        await simulator.stop();
      }
    }
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
