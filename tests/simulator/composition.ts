import { join } from 'node:path';
import { ROUTING_POLICY_DEFAULTS, HEALTH_POLICY_DEFAULTS } from '../../src/adapters/channels/channel-setup.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { ChannelGateway } from '../../src/commands/channels/channel-gateway.js';
import {
  ChannelPaymentCommands,
  DEFAULT_STEP_UP_POLICY,
  defaultRiskRules,
} from '../../src/commands/channel-payments/channel-payment-commands.js';
import { ChannelPaymentPoller } from '../../src/commands/channel-payments/channel-payment-poller.js';
import { ReadModelRiskHistory } from '../../src/commands/channel-payments/read-model-risk-history.js';
import { OneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { rulesFor } from '../../src/domain/risk/risk-rules.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { DEFAULT_HANDLER_LIMITS } from '../../src/commands/stream-command-handler.js';
import type { Projection } from '../../src/projections/projection.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { FaultyReadModelStore } from '../contract/faulty-read-model-store.js';
import type { PeerChannel } from './peer-channel.js';
import { SimulatedEventStore, type AppendFault } from './simulated-event-store.js';

export const SIMULATION_TIME_ZONE = 'Asia/Shanghai';

export interface CompositionDeps {
  readonly dataDir: string;
  readonly peers: readonly PeerChannel[];
  readonly projections: readonly Projection[];
  readonly nowMs: () => number;
  readonly drawPpm: () => number;
  readonly nextAppendFault: () => AppendFault;
  /** Events per projection batch (seeded: small batches make more checkpoints and more faulted writes). */
  readonly batchEvents: number;
}

/**
 * Everything one ledger process holds, built from the files in `dataDir` alone (as a start after a crash
 * is): the real embedded event store and read-model store (with the simulation's faults around them),
 * the channel gateway over the simulated peers, the command side and a projection runner. Dropping it
 * and opening another is the simulation's crash: no object of the old one is used again.
 */
export class Composition {
  private constructor(
    readonly eventStore: SimulatedEventStore,
    private readonly innerEvents: SqliteEventStore,
    readonly readModels: FaultyReadModelStore,
    readonly commands: LedgerCommands,
    readonly channelPayments: ChannelPaymentCommands,
    readonly poller: ChannelPaymentPoller,
    public runner: ProjectionRunner,
    private readonly deps: CompositionDeps,
  ) {}

  static async open(deps: CompositionDeps): Promise<Composition> {
    const innerEvents = new SqliteEventStore(join(deps.dataDir, 'events.sqlite'));
    const eventStore = new SimulatedEventStore(innerEvents, deps.nextAppendFault);
    const readModels = new FaultyReadModelStore(new SqliteReadModelStore(join(deps.dataDir, 'read-models.sqlite')));
    // The production gateway over the peers, its health and breaker on the simulated clock.
    const gateway = new ChannelGateway(deps.peers, {
      routing: { ...ROUTING_POLICY_DEFAULTS, explorationSharePpm: 0 },
      health: HEALTH_POLICY_DEFAULTS,
      callTimeoutMs: 5_000,
      timeZone: SIMULATION_TIME_ZONE,
      nowMs: deps.nowMs,
      drawPpm: deps.drawPpm,
      // Where the peers post their callbacks (the simulation delivers them itself, in any order).
      notifyUrlFor: (channelId) => `http://127.0.0.1:9/v1/channel-notifications/${channelId}`,
    });
    const commands = new LedgerCommands(
      eventStore,
      gateway,
      SIMULATION_TIME_ZONE,
      DEFAULT_HANDLER_LIMITS,
      undefined,
      // The operations run as their processes of separate appends (the paths a crash mid-way and the
      // recovery sweep exercise); the API's one-commit path commits beside the idempotency record and is
      // not driven here.
      false,
    );
    // As the service composes them (ledger-service.ts), with no SMS gateway: no payment is stepped up here.
    const channelPayments = new ChannelPaymentCommands({
      eventStore,
      accounts: commands.accountHandler,
      gateway,
      riskRules: rulesFor(defaultRiskRules(SIMULATION_TIME_ZONE), 'channel_payment'),
      riskHistory: new ReadModelRiskHistory(readModels, SIMULATION_TIME_ZONE),
      stepUpPolicy: DEFAULT_STEP_UP_POLICY,
      codes: new OneTimeCodes(Buffer.alloc(32, 7)),
      sms: null,
      accountingTimeZone: SIMULATION_TIME_ZONE,
    });
    const poller = new ChannelPaymentPoller(channelPayments, readModels);
    const runner = Composition.runnerOf(eventStore, readModels, deps);
    // As the service's start does: the read models' collections exist before anything queries them.
    await runner.prepare();
    return new Composition(eventStore, innerEvents, readModels, commands, channelPayments, poller, runner, deps);
  }

  private static runnerOf(eventStore: SimulatedEventStore, readModels: FaultyReadModelStore, deps: CompositionDeps) {
    return new ProjectionRunner(eventStore, readModels, deps.projections, { maxBatchEvents: deps.batchEvents });
  }

  /** A projection run failed: its in-memory state is not trusted; a fresh runner resumes from the stored checkpoints (as the live loop restarts). */
  restartProjections(): void {
    this.runner = Composition.runnerOf(this.eventStore, this.readModels, this.deps);
  }

  /** The raw store, for the simulation's own observations (they must not be faulted). */
  get log(): SqliteEventStore {
    return this.innerEvents;
  }

  async close(): Promise<void> {
    await this.innerEvents.close();
    await this.readModels.close();
  }
}
