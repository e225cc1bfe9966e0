import type { IdentityVerifier } from '../../ports/identity-verifier.js';
import { fetchTransport, injectTransport } from '../channels/channel-transport.js';
import { HttpIdentityVerifier } from './http-identity-verifier.js';
import { IdentitySimulator } from './simulator/identity-simulator.js';
import { defaultIdentitySimulatorConfig, type IdentitySimulatorConfig } from './simulator/identity-simulator-config.js';
import { buildIdentitySimulatorServer } from './simulator/identity-simulator-server.js';

export interface IdentitySetup {
  readonly verifier: IdentityVerifier;
  /** The in-process simulator (tests inject failures and read its queries), null when it is a process. */
  readonly simulator: IdentitySimulator | null;
  close(): Promise<void>;
}

/**
 * The identity service of a service: the HTTP adapter (the code a real provider's adapter is) to the
 * simulator process when `IDENTITY_URL` is set, else to a simulator inside this process reached through
 * `inject` (no socket), as the channels are. A real provider is configured the same way: a URL and a key.
 */
export function setUpIdentity(
  config: { readonly identityUrl: string | undefined; readonly seed: string },
  options: { readonly simulatorConfig?: IdentitySimulatorConfig; readonly retryPauseMs?: number } = {},
): IdentitySetup {
  const simulatorConfig = options.simulatorConfig ?? defaultIdentitySimulatorConfig(config.seed);
  const key = { keyId: simulatorConfig.keyId, secret: Buffer.from(simulatorConfig.secretBase64, 'base64') };
  const retry = options.retryPauseMs === undefined ? {} : { retryPauseMs: options.retryPauseMs };
  if (config.identityUrl) {
    const transport = fetchTransport(config.identityUrl);
    return {
      verifier: new HttpIdentityVerifier({ key, accountId: simulatorConfig.accountId, transport, ...retry }),
      simulator: null,
      close: async () => {},
    };
  }
  const simulator = new IdentitySimulator(simulatorConfig);
  const app = buildIdentitySimulatorServer(simulator);
  return {
    verifier: new HttpIdentityVerifier({
      key,
      accountId: simulatorConfig.accountId,
      transport: injectTransport(app),
      ...retry,
    }),
    simulator,
    close: () => app.close(),
  };
}
