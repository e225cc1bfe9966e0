import { ReconciliationBreaks } from '../commands/reconciliation/break-commands.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { checkTransitKeyShared, checkVaultKeysShared, checkWebhookKeyShared, type LedgerConfig } from '../config.js';
import { IdempotencyKeeper } from '../commands/idempotency.js';
import { InstanceHeartbeats } from '../commands/claim-owners.js';
import { LedgerCommands } from '../commands/ledger-commands.js';
import type { CommandContext } from '../commands/command-context.js';
import { DEFAULT_HANDLER_LIMITS } from '../commands/stream-command-handler.js';
import { EntityCommands } from '../commands/entities/entity-commands.js';
import { AccountOwners } from '../commands/accounts/account-owners.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { NonceRegistry } from '../ports/nonce-registry.js';
import type { InstanceRegistry } from '../ports/instance-registry.js';
import type { ReadModelStore } from '../ports/read-model-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { StreamSnapshots, type SnapshotWarning } from '../commands/stream-snapshots.js';
import { accountStateCodec } from '../domain/accounts/account-state-codec.js';
import { resumeStalledOperations } from '../commands/operations/resume-operations.js';
import {
  ChannelPaymentCommands,
  DEFAULT_STEP_UP_POLICY,
  defaultRiskRules,
} from '../commands/channel-payments/channel-payment-commands.js';
import { ChannelPaymentPoller } from '../commands/channel-payments/channel-payment-poller.js';
import { loadRiskRulesFile } from './risk-rules-file.js';
import { ReadModelRiskHistory } from '../commands/channel-payments/read-model-risk-history.js';
import { rulesFor, type RiskRules } from '../domain/risk/risk-rules.js';
import type { StepUpPolicy } from '../domain/risk/step-up-events.js';
import { OneTimeCodes } from './crypto/one-time-codes.js';
import { expireDuePreauths } from '../commands/preauths/preauth-expiry.js';
import type { Projection } from '../projections/projection.js';
import { projectionsFor } from '../projections/all-projections.js';
import { LeasedProjections, leaseTimingFor } from '../projections/leased-projections.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { RebuildRefusedError, type RebuildStatus } from '../projections/online-rebuild.js';
import { onlineRebuildAreaFor } from './online-rebuild-area.js';
import { ProjectionWorkerHost } from './projection-worker-host.js';
import { setUpChannels, type ChannelSetup, type ChannelSetupOptions } from './channels/channel-setup.js';
import { ScryptPasswordHasher } from './crypto/scrypt-password-hasher.js';
import {
  openEventStore,
  openNonceRegistry,
  openInstanceRegistry,
  openReadModelStore,
  openSnapshotStore,
  openVaultStore,
  openWebhookOutbox,
  openStatementStore,
} from './storage.js';
import type { SecretVault } from '../ports/secret-vault.js';
import type { BinTable } from '../domain/cards/bin-table.js';
import { EnvelopeVault } from './crypto/envelope-vault.js';
import { ConfiguredKeyEncryptionKeys } from './crypto/configured-key-encryption-keys.js';
import { CardFingerprints } from './crypto/card-fingerprints.js';
import { CardBindings, DEFAULT_BINDING_POLICY } from '../commands/contracts/card-bindings.js';
import type { BindingPolicy } from '../domain/contracts/contract-events.js';
import { loadBinTable } from './cards/bin-table-file.js';
import { WebhookEndpointCommands } from '../commands/webhooks/webhook-endpoint-commands.js';
import { PaymentCodeSeeds } from '../commands/payment-codes/payment-code-seeds.js';
import { PaymentCodeRedemptions } from '../commands/payment-codes/payment-code-redemptions.js';
import { OPENED_SEED_LIMITS, OpenedSeeds } from '../commands/payment-codes/opened-seeds.js';
import { PaymentCodes, SEED_BYTES } from '../client/payment-codes/payment-code.js';
import { PayerPasswordGuard } from './http/payer-password-guard.js';
import type { WebhookOutboxStore } from '../ports/webhook-outbox.js';
import type { StatementStore } from '../ports/statement-store.js';
import { StatementImports } from '../commands/reconciliation/statement-imports.js';
import { sweepStatementDownloads, type StatementDownloadDeps } from '../commands/reconciliation/statement-downloads.js';
import { statementParserFor } from './reconciliation/statement-formats/statement-parsers.js';
import { sweepReconciliations, type ReconcileDeps } from '../commands/reconciliation/reconcile-day.js';
import { startWebhookNotifications, type WebhookNotifications } from './webhooks/webhook-notifications.js';
import { WebhookSecrets } from './webhooks/webhook-secrets.js';
import { systemClock } from './system-clock.js';
import { TransitCommands } from '../commands/transit/transit-commands.js';
import { TransitDebtSweep } from '../commands/transit/transit-debt-sweep.js';
import { ConfiguredTransitKeyring, transitSigningSeed } from './crypto/transit-keyring.js';
import { setUpIdentity, type IdentitySetup } from './identity/identity-setup.js';
import type { IdentitySimulatorConfig } from './identity/simulator/identity-simulator-config.js';
import { IdentityVerifications } from '../commands/identity/identity-verifications.js';
import { UserErasures } from '../commands/identity/user-erasures.js';
import { BindingExpirySweep } from '../commands/contracts/binding-expiry-sweep.js';

export { projectionsFor } from '../projections/all-projections.js';

/** Entities whose keys are kept in memory for request authentication (merchants and operators). */
const ENTITY_DIRECTORY_SIZE = 10_000;

/** What the request thread needs of the live projections, wherever they run. */
export interface LiveProjections {
  /** False while the projections fail and restart (readiness reports it). */
  readonly healthy: boolean;
  /** This instance's holder id for the projections lease; undefined when it runs no projections. */
  readonly holder: string | undefined;
  /** True while this instance holds the projections lease and runs them. */
  readonly holding: boolean;
  /** Read-your-writes: resolves once `projection` has written `position`, or fails after `timeoutMs`. */
  waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void>;
  /** Starts an online rebuild where the projections run (RebuildRefusedError when it cannot here). */
  rebuild(projections: readonly string[] | 'all'): Promise<RebuildStatus>;
  /** This instance's running online rebuild, or its last one; null before any. */
  readonly rebuildStatus: RebuildStatus | null;
  stop(): Promise<void>;
}

/** The composition root: stores, channels, command side and projections, wired once. */
export interface LedgerService {
  readonly config: LedgerConfig;
  readonly clock: Clock;
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly commands: LedgerCommands;
  /** Users, merchants and operators; their payment passwords and API keys. */
  readonly entities: EntityCommands;
  /** Nonces of signed requests already accepted (replay protection). */
  readonly nonces: NonceRegistry;
  /** Who owns each account, from the event store (for authorisation). */
  readonly accountOwners: AccountOwners;
  readonly idempotency: IdempotencyKeeper;
  /** This instance's id and heartbeat, and which owners of idempotency claims are gone. */
  readonly instance: InstanceHeartbeats;
  /** The live projections, in this thread or a worker thread (PROJECTIONS_THREAD). */
  readonly projections: LiveProjections;
  /** The read models the runner keeps (for the configured accounting time zone). */
  readonly readModelProjections: readonly Projection[];
  /** The payment channels (ports, router, live health), the SMS gateway, the in-process simulator if any. */
  readonly channels: ChannelSetup;
  /** Merchants' webhook endpoints (their streams), the outbox of messages owed to them, and the machinery. */
  readonly webhookEndpoints: WebhookEndpointCommands;
  readonly webhookOutbox: WebhookOutboxStore;
  readonly webhookSecrets: WebhookSecrets;
  readonly webhooks: WebhookNotifications;
  /** Payments through the channels (routing, risk, step-up, asynchronous results). */
  readonly channelPayments: ChannelPaymentCommands;
  /** The poller of pending and unknown channel payments (run periodically; tests sweep it themselves). */
  readonly channelPaymentPoller: ChannelPaymentPoller;
  /** Card and identity data, sealed (its own store: DATA_DIR/vault.sqlite, or MongoDB collections). */
  readonly vault: SecretVault;
  /** The card BIN table (the shipped one, or CARD_BIN_TABLE_FILE). */
  readonly cardBins: BinTable;
  /** Keyed fingerprints of card numbers, to find a card bound twice. */
  readonly cardFingerprints: CardFingerprints;
  /** The channels' normalised statements, and what stores them (downloads, imports by hand). */
  readonly statements: StatementStore;
  readonly statementImports: StatementImports;
  readonly statementDownloads: StatementDownloadDeps;
  /** Reconciliation breaks: what runs record, the automatic resolutions, the review queue's commands. */
  readonly reconciliationBreaks: ReconciliationBreaks;
  /** What runs a day's reconciliation (reconcile-day.ts): the API's and the CLI's re-runs, the sweep. */
  readonly reconciliation: ReconcileDeps;
  /** Transit credentials, scan batches, fares and debts (docs/transit.md). */
  readonly transit: TransitCommands;
  /** The platform transit keys (terminals are provisioned with `verificationKeys`). */
  readonly transitKeys: ConfiguredTransitKeyring;
  /** The sweep that charges unpaid fares when money arrives (run periodically; tests sweep it themselves). */
  readonly transitDebtSweep: TransitDebtSweep;
  /** Offline payment codes: the code scheme, seeds (issued, revoked), redemptions (docs/payment-codes.md). */
  readonly paymentCodes: PaymentCodeService;
  /** Bind-card contracts: start, confirm, resend, cancel, unbind, status. */
  readonly cardBindings: CardBindings;
  /** The identity service (its adapter, and the in-process simulator if any). */
  readonly identityService: IdentitySetup;
  /** Real-name verifications of users (2, 3 or 4 elements), and the verification a bound card gives. */
  readonly identity: IdentityVerifications;
  /** Erasure of users (crypto-shredding): contracts unsigned, seeds revoked, the data key destroyed. */
  readonly erasures: UserErasures;
  /** The sweep that expires bindings left unconfirmed (run periodically; tests sweep it themselves). */
  readonly bindingExpirySweep: BindingExpirySweep;
  close(): Promise<void>;
}

export interface PaymentCodeService {
  readonly codes: PaymentCodes;
  readonly seeds: PaymentCodeSeeds;
  readonly redemptions: PaymentCodeRedemptions;
}

/**
 * Wrong payment codes: 20 per terminal per 10 minutes, 5 per slot per hour (the figures behind the
 * guessing probability in docs/payment-codes.md), per instance, in bounded memory.
 */
export const PAYMENT_CODE_TERMINAL_GUARD = { maxFailures: 20, windowMs: 10 * 60_000, maxTrackedPayers: 100_000 };
export const PAYMENT_CODE_SLOT_GUARD = { maxFailures: 5, windowMs: 60 * 60_000, maxTrackedPayers: 200_000 };

function startPaymentCodes(
  config: LedgerConfig,
  eventStore: EventStore,
  vault: SecretVault,
  commands: LedgerCommands,
  clock: Clock,
  riskRules: RiskRules,
): PaymentCodeService {
  const { paymentCodes } = config;
  const codes = new PaymentCodes(paymentCodes);
  const seeds = new PaymentCodeSeeds(
    eventStore,
    vault,
    {
      algorithm: paymentCodes.algorithm,
      stepSeconds: paymentCodes.stepSeconds,
      prefix: paymentCodes.issuePrefix,
      newSeed: () => randomBytes(SEED_BYTES[paymentCodes.algorithm]),
    },
    new OpenedSeeds(OPENED_SEED_LIMITS, () => clock.now().toMillis()),
  );
  const nowMs = () => clock.now().toMillis();
  const redemptions = new PaymentCodeRedemptions({
    seeds,
    verifier: codes,
    windowSteps: paymentCodes.windowSteps,
    commands,
    accountingTimeZone: config.accountingTimeZone,
    riskRules: rulesFor(riskRules, 'payment_code'),
    terminalGuard: new PayerPasswordGuard(PAYMENT_CODE_TERMINAL_GUARD, nowMs),
    slotGuard: new PayerPasswordGuard(PAYMENT_CODE_SLOT_GUARD, nowMs),
  });
  return { codes, seeds, redemptions };
}

export interface LedgerServiceOptions {
  readonly clock?: Clock;
  /** Run the projections in this process (the default); false for tools that only write. */
  readonly runProjections?: boolean;
  readonly onProjectionError?: (error: unknown) => void;
  /** A snapshot ignored or not saved (the service reads the stream in full instead); console.warn by default. */
  readonly onSnapshotWarning?: SnapshotWarning;
  /** The in-process channel simulator's callback delivery and configuration (tests). */
  readonly channels?: ChannelSetupOptions;
  /** The channel payments' risk rules and step-up policy (default: defaultRiskRules, DEFAULT_STEP_UP_POLICY). */
  readonly channelPayments?: { readonly riskRules?: RiskRules; readonly stepUpPolicy?: StepUpPolicy };
  /** Told when the embedded default generates its vault KEK file (console.warn by default). */
  readonly onKeyGenerated?: (message: string) => void;
  readonly cardBindingPolicy?: BindingPolicy;
  /** The in-process identity simulator's configuration, and the adapter's pause between retries (tests). */
  readonly identity?: { readonly simulatorConfig?: IdentitySimulatorConfig; readonly retryPauseMs?: number };
}

export async function startLedgerService(
  config: LedgerConfig,
  options: LedgerServiceOptions = {},
): Promise<LedgerService> {
  const clock = options.clock ?? systemClock;
  // Before any store is opened: a bad rules file stops the start with nothing to close.
  const riskRules =
    options.channelPayments?.riskRules ??
    (config.riskRulesFile === undefined
      ? defaultRiskRules(config.accountingTimeZone)
      : loadRiskRulesFile(config.riskRulesFile, config.accountingTimeZone));
  const eventStore = await openEventStore(config);
  let readModels: ReadModelStore;
  try {
    readModels = await openReadModelStore(config);
  } catch (error) {
    await eventStore.close();
    throw error;
  }
  let nonces: NonceRegistry;
  try {
    nonces = await openNonceRegistry(config, eventStore);
  } catch (error) {
    await Promise.all([eventStore.close(), readModels.close()]);
    throw error;
  }
  let snapshotStore: SnapshotStore | undefined;
  try {
    if (config.snapshotEveryEvents > 0) snapshotStore = await openSnapshotStore(config);
  } catch (error) {
    await Promise.all([eventStore.close(), readModels.close(), nonces.close()]);
    throw error;
  }
  let webhookOutbox: WebhookOutboxStore | undefined;
  let statementStore: StatementStore | undefined;
  let webhookSecrets: WebhookSecrets;
  try {
    // A service that runs the background work sends webhooks; tools that only write never sign.
    if (options.runProjections ?? true) checkWebhookKeyShared(config);
    webhookOutbox = await openWebhookOutbox(config);
    statementStore = await openStatementStore(config);
    mkdirSync(config.dataDir, { recursive: true });
    webhookSecrets = WebhookSecrets.load(config.webhooks.secretKey, config.dataDir);
  } catch (error) {
    await Promise.all([
      eventStore.close(),
      readModels.close(),
      nonces.close(),
      snapshotStore?.close(),
      webhookOutbox?.close(),
      statementStore?.close(),
    ]);
    throw error;
  }
  const outbox: WebhookOutboxStore = webhookOutbox;
  const statements: StatementStore = statementStore;
  let vault: SecretVault;
  let cardBins: BinTable;
  let cardFingerprints: CardFingerprints;
  try {
    checkVaultKeysShared(config);
    const keks = ConfiguredKeyEncryptionKeys.load({ ...config.vault, dataDir: config.dataDir }, (file) =>
      (options.onKeyGenerated ?? console.warn)(
        `vault: generated a key-encryption key in ${file} (mode 0600), beside the data it protects: configure VAULT_KEK_FILE or VAULT_KEK outside DATA_DIR for anything but development`,
      ),
    );
    cardBins = loadBinTable(config.cards.binTableFile);
    cardFingerprints = CardFingerprints.load(config.cards.fingerprintKey, config.dataDir);
    vault = new EnvelopeVault(await openVaultStore(config), keks, clock);
  } catch (error) {
    await Promise.all([
      eventStore.close(),
      readModels.close(),
      nonces.close(),
      snapshotStore?.close(),
      outbox.close(),
      statements.close(),
    ]);
    throw error;
  }
  const accountSnapshots =
    snapshotStore &&
    new StreamSnapshots(eventStore, snapshotStore, accountStateCodec, {
      everyEvents: config.snapshotEveryEvents,
      warn: options.onSnapshotWarning,
    });
  const channelSetup = setUpChannels(
    {
      channelsUrl: config.channelsUrl,
      channelsSeed: config.channelsSeed,
      publicBaseUrl: config.publicBaseUrl,
      callTimeoutMs: config.channelCallTimeoutMs,
      explorationSharePpm: config.channelExplorationPpm,
      accountingTimeZone: config.accountingTimeZone,
    },
    { nowMs: () => clock.now().toMillis(), ...options.channels },
  );
  const readModelProjections = projectionsFor(config.accountingTimeZone);
  let projections: LiveProjections;
  try {
    projections = await startProjections(config, eventStore, readModels, readModelProjections, options);
  } catch (error) {
    await Promise.all([
      eventStore.close(),
      readModels.close(),
      nonces.close(),
      snapshotStore?.close(),
      channelSetup.close(),
      outbox.close(),
      vault.close(),
    ]);
    throw error;
  }
  const commands = new LedgerCommands(
    eventStore,
    channelSetup.gateway,
    config.accountingTimeZone,
    DEFAULT_HANDLER_LIMITS,
    accountSnapshots,
    config.oneCommit === 'auto',
  );
  // Without a configured key, codes verify only in the process that sent them (until it restarts).
  const codes = new OneTimeCodes(config.stepUpCodeKey ?? randomBytes(32));
  const entities = new EntityCommands(eventStore, new ScryptPasswordHasher(), {
    directory: { maxEntities: ENTITY_DIRECTORY_SIZE, refreshAfterMs: config.authEntityRefreshMs },
  });
  const channelPayments = new ChannelPaymentCommands({
    eventStore,
    accounts: commands.accountHandler,
    gateway: channelSetup.gateway,
    riskRules: rulesFor(riskRules, 'channel_payment'),
    riskHistory: new ReadModelRiskHistory(readModels, config.accountingTimeZone),
    stepUpPolicy: options.channelPayments?.stepUpPolicy ?? DEFAULT_STEP_UP_POLICY,
    codes,
    sms: channelSetup.sms,
    accountingTimeZone: config.accountingTimeZone,
  });
  const resumer = {
    resumeOperation: (
      kind: Parameters<LedgerCommands['resumeOperation']>[0] | 'channel_payment',
      id: string,
      context: CommandContext,
    ) =>
      kind === 'channel_payment' ? channelPayments.resume(id, context) : commands.resumeOperation(kind, id, context),
  };
  const poller = new ChannelPaymentPoller(channelPayments, readModels);
  checkTransitKeyShared(config);
  const transitKeys = new ConfiguredTransitKeyring({
    ...config.transit,
    signingKeySeed: transitSigningSeed(config.transit.signingKeySeed, config.dataDir),
  });
  const transit = new TransitCommands({
    eventStore,
    accounts: commands.accountHandler,
    keyring: transitKeys,
    settings: config.transit,
  });
  const transitDebtSweep = new TransitDebtSweep(transit, readModels);
  // Background work runs where the projections run (the read models say what is due): in the instance
  // holding the projections lease, so several instances do not sweep the same operations at once (the
  // commands would stay correct, by their expected revisions, but repeat the work and its conflicts).
  const background = options.runProjections ?? true;
  const whileHolding = (task: () => Promise<unknown>) => async () => (projections.holding ? task() : undefined);
  const sweeps = [
    startPeriodic(
      'pre-authorisation expiry sweep',
      background ? config.preauthExpirySweepIntervalMs : 0,
      whileHolding(() => expireDuePreauths(commands, readModels, clock.now().toISO()!)),
      options.onProjectionError,
    ),
    startPeriodic(
      'recovery sweep',
      background ? config.recoverySweepIntervalMs : 0,
      whileHolding(() => resumeStalledOperations(resumer, readModels, clock.now().toISO()!, config.recoveryGraceMs)),
      options.onProjectionError,
    ),
    startPeriodic(
      'channel payment poller',
      background ? config.channelPollIntervalMs : 0,
      whileHolding(() => poller.sweep(clock.now().toISO()!)),
      options.onProjectionError,
    ),
    startPeriodic(
      'transit debt sweep',
      background ? config.transit.debtSweepIntervalMs : 0,
      whileHolding(() => transitDebtSweep.sweep(clock.now().toISO()!)),
      options.onProjectionError,
    ),
  ];
  const identityService = setUpIdentity(
    { identityUrl: config.identity.url, seed: config.channelsSeed },
    options.identity ?? {},
  );
  const identity = new IdentityVerifications({
    eventStore,
    entities,
    vault,
    verifier: identityService.verifier,
    timeoutMs: config.identity.timeoutMs,
  });
  const cardBindings = new CardBindings({
    eventStore,
    entities,
    gateway: channelSetup.gateway,
    vault,
    fingerprints: cardFingerprints,
    cardBins,
    codes,
    sms: channelSetup.sms,
    policy: options.cardBindingPolicy ?? DEFAULT_BINDING_POLICY,
    identity,
  });
  const bindingExpirySweep = new BindingExpirySweep(cardBindings, readModels, config.bindingExpiry.maxPerSweep);
  sweeps.push(
    startPeriodic(
      'card binding expiry sweep',
      background ? config.bindingExpiry.sweepIntervalMs : 0,
      whileHolding(() => bindingExpirySweep.sweep(clock.now().toISO()!)),
      options.onProjectionError,
    ),
  );
  const statementImports = new StatementImports(statements, eventStore);
  const reconciliationBreaks = new ReconciliationBreaks(eventStore);
  const downloads: StatementDownloadDeps = {
    gateway: channelSetup.gateway,
    imports: statementImports,
    parserFor: statementParserFor,
    schedule: config.reconciliation,
    timeZone: config.accountingTimeZone,
  };
  const reconciliation: ReconcileDeps = {
    statements,
    readModels,
    imports: statementImports,
    resultsDir: config.reconciliation.resultsDir,
    accountingTimeZone: config.accountingTimeZone,
    cutOffWindowMs: config.reconciliation.cutOffWindowMs,
    breaks: {
      breaks: reconciliationBreaks,
      readModels,
      headPosition: () => eventStore.headPosition(),
      waitForPosition: (projection, position, timeoutMs) =>
        projections.waitForPosition(projection, position, timeoutMs),
      channelPayments,
    },
  };
  sweeps.push(
    startPeriodic(
      'statement download sweep',
      background ? config.reconciliation.downloadIntervalMs : 0,
      // Each day stored (or replaced) is reconciled right after, in day order (reconcile-day.ts).
      whileHolding(async () => {
        await sweepStatementDownloads(downloads, clock.now().toISO()!);
        await sweepReconciliations(
          {
            ...reconciliation,
            channels: () => channelSetup.gateway.statementChannels(),
            daysBack: config.reconciliation.daysBack,
          },
          clock.now().toISO()!,
        );
      }),
      options.onProjectionError,
    ),
  );
  const webhookEndpoints = new WebhookEndpointCommands(eventStore);
  const paymentCodes = startPaymentCodes(config, eventStore, vault, commands, clock, riskRules);
  const webhooks = startWebhookNotifications(config.webhooks, {
    eventStore,
    outbox,
    endpoints: webhookEndpoints,
    secrets: webhookSecrets,
    clock,
    background,
    // The subscription runs where the projections run, as the sweeps do (it would be correct anywhere:
    // its messages are idempotent; one instance spares the others the work).
    subscribe: () => projections.holding,
    onError: options.onProjectionError ?? ((e) => console.error('webhooks failed; retrying', e)),
  });
  const closeTheRest = async () => {
    for (const sweep of sweeps) clearInterval(sweep);
    await webhooks.stop();
    await projections.stop();
    await channelSetup.close();
    await identityService.close();
    // Snapshots being written read the event store: let them finish (briefly) before it closes.
    await accountSnapshots?.close();
    await eventStore.close();
    await snapshotStore?.close();
    await readModels.close();
    await nonces.close();
    await outbox.close();
    await vault.close();
    await statements.close();
  };
  let instanceRegistry: InstanceRegistry;
  try {
    instanceRegistry = await openInstanceRegistry(config);
  } catch (error) {
    await closeTheRest();
    throw error;
  }
  const instance = new InstanceHeartbeats(instanceRegistry, clock, config.instanceHeartbeat);
  const service: LedgerService = {
    config,
    clock,
    eventStore,
    readModels,
    commands,
    entities,
    nonces,
    accountOwners: new AccountOwners(eventStore),
    idempotency: new IdempotencyKeeper(eventStore, clock, { owners: instance }),
    instance,
    projections,
    readModelProjections,
    channels: channelSetup,
    webhookEndpoints,
    webhookOutbox: outbox,
    webhookSecrets,
    webhooks,
    channelPayments,
    channelPaymentPoller: poller,
    vault,
    cardBins,
    cardFingerprints,
    statements,
    statementImports,
    statementDownloads: downloads,
    reconciliationBreaks,
    reconciliation,
    transit,
    transitKeys,
    transitDebtSweep,
    paymentCodes,
    cardBindings,
    identityService,
    identity,
    erasures: new UserErasures({
      eventStore,
      entities,
      vault,
      cardBindings,
      seeds: paymentCodes.seeds,
      readModels,
      waitForPosition: (projection, position, timeoutMs) =>
        projections.waitForPosition(projection, position, timeoutMs),
      waitTimeoutMs: config.readYourWritesTimeoutMs,
    }),
    bindingExpirySweep,
    async close() {
      for (const sweep of sweeps) clearInterval(sweep);
      // Ended first: from here this instance finishes no claim, and a retry elsewhere takes it at once.
      await instance.stop();
      await closeTheRest();
    },
  };
  try {
    // Recorded before the first request: every claim's owner is on record.
    await instance.start();
  } catch (error) {
    await service.close();
    throw error;
  }
  return service;
}

async function startProjections(
  config: LedgerConfig,
  eventStore: EventStore,
  readModels: ReadModelStore,
  readModelProjections: readonly Projection[],
  options: LedgerServiceOptions,
): Promise<LiveProjections> {
  if (!(options.runProjections ?? true)) {
    // A tool that only writes: no lease, no live loop; it may still wait for positions others write.
    const runner = new ProjectionRunner(eventStore, readModels, readModelProjections);
    await runner.prepare();
    return {
      holder: undefined,
      holding: false,
      get healthy() {
        return runner.healthy;
      },
      waitForPosition: (projection, position, timeoutMs) => runner.waitForPosition(projection, position, timeoutMs),
      rebuild: () =>
        Promise.reject(new RebuildRefusedError('projections_not_held', 'this process runs no projections')),
      rebuildStatus: null,
      stop: () => runner.stop(),
    };
  }
  const holder = projectionLeaseHolder();
  if (config.projectionsThread === 'worker') {
    // This thread's connection serves the queries: it must know the collections too.
    await readModels.ensureCollections(readModelProjections.flatMap((p) => p.collections));
    const host = new ProjectionWorkerHost(
      config,
      holder,
      eventStore,
      readModels,
      options.onProjectionError ?? ((e) => console.error('projection worker failed; restarting', e)),
    );
    try {
      await host.start();
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }
  const live = new LeasedProjections(eventStore, readModels, readModelProjections, {
    holder,
    timing: leaseTimingFor(config.projectionLeaseTtlMs),
    ...(options.onProjectionError ? { onError: options.onProjectionError } : {}),
    onLeaseChange: (_grant, reason) => {
      if (reason !== undefined) console.warn(`projections lease: ${reason}`);
    },
    rebuildArea: onlineRebuildAreaFor(config, readModels),
    rebuildBatchEvents: config.onlineRebuildBatchEvents,
  });
  await live.start();
  return live;
}

/**
 * Unique per process start, and readable in status output: which host and process holds the lease. The
 * random part tells a restarted process (same pid in a container) from the one before it.
 */
function projectionLeaseHolder(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/** Runs `task` every `intervalMs` (0: never), one run at a time, reporting failures without stopping. */
function startPeriodic(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: ((error: unknown) => void) | undefined,
): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((error: unknown) => (onError ?? ((e) => console.error(`${name} failed:`, e)))(error))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return timer;
}
