import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import {
  MAX_STEP_SECONDS,
  MIN_STEP_SECONDS,
  PAYMENT_CODE_ALGORITHMS,
  type PaymentCodeAlgorithm,
} from './client/payment-codes/payment-code.js';
import { MAX_CUT_OFF_WINDOW_MS } from './domain/reconciliation/match-run.js';

/**
 * Service configuration, from the environment, validated once at start-up. A bad value stops the
 * service with a message naming the variable, rather than running half-configured.
 */
const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

/** An optional key: base64 of at least 32 bytes. */
const optionalKey32 = z.preprocess(
  emptyAsUndefined,
  z
    .base64()
    .refine((text) => Buffer.from(text, 'base64').length >= 32, 'must be at least 32 bytes')
    .optional(),
);

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  EVENTSTORE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^(esdb|esdb\+discover|kurrentdb|kurrent):\/\//, 'must be an esdb:// connection string')
      .optional(),
  ),
  MONGODB_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// connection string')
      .optional(),
  ),
  ACCOUNTING_TIME_ZONE: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long GET ...?minPosition= waits for the read model before answering 503. */
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** How long a pre-authorisation holds funds when the request does not say (default 7 days). */
  PREAUTH_HOLD_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(7 * 86_400),
  /** How often the service looks for expired pre-authorisations to cancel; 0 turns the sweep off. */
  PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  /** How often the service resumes operations left half-done by a crash; 0 turns the sweep off. */
  RECOVERY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /** How long an operation must have been quiet before the sweep resumes it (a live request is left alone). */
  RECOVERY_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  /** Fee the simulated bank channel charges, in parts per million of the amount. */
  /** How far a signed request's X-Ledger-Timestamp may be from our clock, either way. */
  AUTH_MAX_CLOCK_SKEW_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  /** How long an entity's keys are served from memory before re-reading the events written since. */
  AUTH_ENTITY_REFRESH_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** A snapshot of an account each time its event count passes a multiple of this; 0 turns snapshots off. */
  SNAPSHOT_EVERY_EVENTS: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
  /** Where the projections run: a worker thread (the second core), or the request thread. */
  PROJECTIONS_THREAD: z.enum(['worker', 'main']).default('worker'),
  /**
   * The projections lease: one instance among those sharing the stores runs the projections, renewing
   * every third of this; when it dies another takes over within this long.
   */
  PROJECTION_LEASE_TTL_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  /** How often each service instance records its heartbeat (who may still own an idempotency claim). */
  INSTANCE_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** An instance silent this long is gone: its unanswered idempotency claims are taken over at once. */
  INSTANCE_STALE_AFTER_MS: z.coerce.number().int().min(1_000).max(600_000).default(10_000),
  // Events an online rebuild reads and applies per step (src/projections/online-rebuild.ts): smaller steps
  // leave the live projections more turns on the projection worker's core, and take longer.
  ONLINE_REBUILD_BATCH_EVENTS: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** `auto`: an operation in one commit where the event store can (SQLite); `off`: always the per-stream process. */
  ONE_COMMIT: z.enum(['auto', 'off']).default('auto'),
  /** The channel simulator process (`ledger channels simulate`); unset: a simulator runs inside the service. */
  CHANNELS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Seed of the simulated channels' keys (and of the in-process simulator's draws): the simulator's `--seed`. */
  CHANNELS_SEED: z.string().min(1).max(100).default('ledger'),
  /** Our base URL as the channels reach it (their callbacks); default http://HOST:PORT. */
  PUBLIC_BASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Timeout of every call to a channel: a call that takes longer has an unknown outcome, asked again later. */
  CHANNEL_CALL_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(10_000),
  /** Share of routing decisions (parts per million) sent to a healthy channel other than the cheapest. */
  CHANNEL_EXPLORATION_PPM: z.coerce.number().int().min(0).max(1_000_000).default(20_000),
  /** base64 of at least 32 random bytes: the key every endpoint's signing secret is derived from. */
  WEBHOOK_SECRET_KEY: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9+/]{43,}={0,2}$/, 'must be base64 of at least 32 bytes')
      .optional(),
  ),
  /** 1: webhook URLs may point at private, loopback and link-local addresses (development, tests). */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  /** Comma-separated hosts allowed whatever they resolve to (an internal receiver you trust). */
  WEBHOOK_ALLOWED_HOSTS: z.string().default(''),
  /** 1: plain http:// webhook URLs are accepted besides https://. */
  WEBHOOK_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
  /** How long one delivery may take, connection to answer. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** First retry delay; later ones grow by WEBHOOK_RETRY_FACTOR up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_INITIAL_DELAY_MS: z.coerce.number().int().min(1).max(3_600_000).default(5_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(1).max(604_800_000).default(86_400_000),
  WEBHOOK_RETRY_FACTOR: z.coerce.number().min(1).max(100).default(3),
  /** Attempts of one message (the first included) before it is marked failed. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  /** Deliveries in flight per process, and to one endpoint. */
  WEBHOOK_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(64),
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(4),
  /** How often the outbox subscription and the dispatcher look for work; 0 turns webhooks off in this process. */
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  /** How long a rotated-out secret still signs, beside the new one. */
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(604_800).default(86_400),
  /** How often the poller asks channels about pending and unknown channel payments (0: never). */
  CHANNEL_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** Key of the step-up codes' HMAC (base64, at least 32 bytes); unset: a random key per process start. */
  STEP_UP_CODE_KEY: optionalKey32,
  /** How often the statement download sweep runs (0: never in this process). */
  RECON_DOWNLOAD_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** The local hour (accounting time zone) from which yesterday's statements are asked for. */
  RECON_AVAILABLE_FROM_HOUR: z.coerce.number().int().min(0).max(23).default(2),
  RECON_RETRY_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  RECON_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(48),
  RECON_DAYS_BACK: z.coerce.number().int().min(1).max(31).default(3),
  /** Before the day's cut-off, how long an item found on one side only waits for the next day's run. */
  RECON_CUT_OFF_WINDOW_MS: z.coerce.number().int().min(0).max(MAX_CUT_OFF_WINDOW_MS).default(300_000),
  /** A JSON file of channel-payment risk rules (risk-rules.ts's schema); unset: the built-in defaults. */
  RISK_RULES_FILE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /**
   * The vault's key-encryption keys: `<version>:<base64 of 32 bytes>` entries, comma-separated, the highest
   * version current. VAULT_KEK_FILE names a file holding the same (one entry a line). Required when the
   * stores are shared; unset in the embedded default: a key file generated under DATA_DIR.
   */
  VAULT_KEK: z.preprocess(emptyAsUndefined, z.string().max(2_000).optional()),
  VAULT_KEK_FILE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** The embedded vault's SQLite file (default DATA_DIR/vault.sqlite); unused with MONGODB_URL. */
  VAULT_SQLITE_FILE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** Key of the card fingerprints' HMAC (base64, at least 32 bytes): required when the stores are shared. */
  CARD_FINGERPRINT_KEY: optionalKey32,
  /** An operator's card BIN table (CSV, the shipped table's columns) used instead of resources/card-bins.csv. */
  CARD_BIN_TABLE_FILE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** base64 of the 32-byte Ed25519 seed of the platform transit key; unset: DATA_DIR/transit-signing.key (generated once). */
  TRANSIT_SIGNING_KEY: z.preprocess(
    emptyAsUndefined,
    z
      .base64()
      .refine((text) => Buffer.from(text, 'base64').length === 32, 'must be base64 of a 32-byte Ed25519 seed')
      .optional(),
  ),
  /** The id (1..255) credentials signed with TRANSIT_SIGNING_KEY carry, so the key can rotate. */
  TRANSIT_KEY_ID: z.coerce.number().int().min(1).max(255).default(1),
  /** Keys rotated out whose credentials still verify: `id:base64url-raw-public-key`, comma-separated. */
  TRANSIT_RETIRED_KEYS: z
    .string()
    .regex(/^([0-9]{1,3}:[A-Za-z0-9_-]{43}(,[0-9]{1,3}:[A-Za-z0-9_-]{43})*)?$/, 'must be id:key,id:key')
    .default(''),
  /** How long a transit credential is valid from its issuance (at most 30 days). */
  TRANSIT_CREDENTIAL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(7 * 86_400),
  /** Scans older than this at upload are refused (at most 30 days). */
  TRANSIT_MAX_SCAN_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(3 * 86_400),
  /** Unpaid transit fares (minor units) above which a new credential is refused; 0: any debt blocks. */
  TRANSIT_ISSUE_DEBT_ALLOWANCE_MINOR: z.coerce
    .bigint()
    .min(0n)
    .max(10n ** 12n)
    .default(0n),
  /** How often unpaid transit fares are charged again from wallets that can pay them now; 0: never. */
  TRANSIT_DEBT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /**
   * Payment-code permutation keys by prefix, `10:<hex>,11:<hex>` (16, 24 or 32 bytes each: AES); the last
   * listed is the one new seeds get. Public by design (every app holds them: docs/payment-codes.md); unset:
   * one development key (prefix 10) derived from a fixed label, the same in every process.
   */
  PAYMENT_CODE_KEYS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(
        /^1[0-5]:(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})(?:,1[0-5]:(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64}))*$/,
        'must be prefix:hexkey pairs (prefix 10..15, AES-128/192/256 key)',
      )
      .refine(
        (text) => new Set(text.split(',').map((pair) => pair.slice(0, 2))).size === text.split(',').length,
        'a prefix is listed twice',
      )
      .optional(),
  ),
  PAYMENT_CODE_ALGORITHM: z.enum(PAYMENT_CODE_ALGORITHMS).default('SHA1'),
  /** The code's time step (TOTP X): it changes every this many seconds. */
  PAYMENT_CODE_STEP_SECONDS: z.coerce.number().int().min(MIN_STEP_SECONDS).max(MAX_STEP_SECONDS).default(60),
  /** Steps either side of the redemption's own that a code may come from (clock skew, a slow scan). */
  PAYMENT_CODE_WINDOW_STEPS: z.coerce.number().int().min(0).max(2).default(1),
  /** The identity simulator process (`ledger identity simulate`); unset: a simulator runs inside the service. */
  IDENTITY_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Each attempt at the identity service (the adapter makes at most 3): longer is an unknown answer. */
  IDENTITY_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(5_000),
  /** How often bindings left unconfirmed past their time are expired (pre-bindings unsigned); 0: never. */
  BINDING_EXPIRY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /** Contracts one pass of the binding expiry sweep settles at most; the next pass takes the rest. */
  BINDING_EXPIRY_SWEEP_LIMIT: z.coerce.number().int().min(1).max(1_000).default(100),
});

export type LedgerConfig = {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly eventStoreUrl: string | undefined;
  readonly mongoUrl: string | undefined;
  readonly accountingTimeZone: string;
  readonly logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  readonly readYourWritesTimeoutMs: number;
  readonly preauthHoldSeconds: number;
  readonly preauthExpirySweepIntervalMs: number;
  readonly recoverySweepIntervalMs: number;
  readonly recoveryGraceMs: number;
  readonly authMaxClockSkewMs: number;
  /** Also the bound on how long a key revoked through another instance still works in this one. */
  readonly authEntityRefreshMs: number;
  /** 0: no snapshots are taken or read. */
  readonly snapshotEveryEvents: number;
  readonly projectionsThread: 'worker' | 'main';
  readonly projectionLeaseTtlMs: number;
  /** Each instance's heartbeat in the instance registry (src/commands/claim-owners.ts). */
  readonly instanceHeartbeat: { readonly beatIntervalMs: number; readonly staleAfterMs: number };
  readonly onlineRebuildBatchEvents: number;
  readonly oneCommit: 'auto' | 'off';
  readonly channelsUrl: string | undefined;
  readonly channelsSeed: string;
  readonly publicBaseUrl: string;
  readonly channelCallTimeoutMs: number;
  readonly channelExplorationPpm: number;
  readonly webhooks: WebhookConfig;
  readonly channelPollIntervalMs: number;
  /** Shared by every instance, so a code sent by one verifies on another; undefined: random per process. */
  readonly stepUpCodeKey: Buffer | undefined;
  readonly riskRulesFile: string | undefined;
  readonly vault: VaultConfig;
  readonly cards: CardsConfig;
  readonly reconciliation: ReconciliationConfig;
  readonly transit: TransitConfig;
  readonly paymentCodes: PaymentCodeConfig;
  readonly identity: IdentityConfig;
  readonly bindingExpiry: BindingExpiryConfig;
};

export interface IdentityConfig {
  /** undefined: a simulated identity service inside this process (seeded by CHANNELS_SEED). */
  readonly url: string | undefined;
  readonly timeoutMs: number;
}

export interface BindingExpiryConfig {
  /** 0: never. */
  readonly sweepIntervalMs: number;
  readonly maxPerSweep: number;
}

export interface VaultConfig {
  /** The KEK entries (VAULT_KEK), or the file holding them (VAULT_KEK_FILE); both unset: generated. */
  readonly kek: string | undefined;
  readonly kekFile: string | undefined;
  readonly sqliteFile: string | undefined;
}

export interface CardsConfig {
  /** undefined: a key file generated under DATA_DIR (the embedded default). */
  readonly fingerprintKey: Buffer | undefined;
  /** undefined: the table shipped in data/card-bins.csv. */
  readonly binTableFile: string | undefined;
}

export interface ReconciliationConfig {
  readonly downloadIntervalMs: number;
  readonly availableFromHour: number;
  readonly retryIntervalMs: number;
  readonly maxAttempts: number;
  readonly daysBack: number;
  readonly cutOffWindowMs: number;
  /** Where runs write their results (`<channel>/<date>/`): DATA_DIR/recon. */
  readonly resultsDir: string;
}

export interface PaymentCodeConfig {
  readonly algorithm: PaymentCodeAlgorithm;
  readonly stepSeconds: number;
  readonly windowSteps: number;
  readonly keys: ReadonlyMap<number, Buffer>;
  /** The prefix new seeds are issued with: the last key listed. */
  readonly issuePrefix: number;
}

/** The development permutation key (prefix 10) when PAYMENT_CODE_KEYS is unset. */
export const DEVELOPMENT_PAYMENT_CODE_KEY_HEX = createHash('sha256')
  .update('ledger-core payment-code development key')
  .digest('hex')
  .slice(0, 32);

function paymentCodeKeys(text: string | undefined): Map<number, Buffer> {
  const pairs = (text ?? `10:${DEVELOPMENT_PAYMENT_CODE_KEY_HEX}`).split(',');
  return new Map(pairs.map((pair) => [Number(pair.slice(0, 2)), Buffer.from(pair.slice(3), 'hex')]));
}

export interface TransitConfig {
  /** The platform transit key's 32-byte seed; undefined: random per process (credentials die with it). */
  readonly signingKeySeed: Buffer | undefined;
  readonly keyId: number;
  /** Raw Ed25519 public keys (base64url) of rotated-out key ids that still verify. */
  readonly retiredKeys: ReadonlyMap<number, string>;
  readonly credentialTtlSeconds: number;
  readonly maxScanAgeSeconds: number;
  readonly issueDebtAllowanceMinor: bigint;
  readonly debtSweepIntervalMs: number;
}

export interface WebhookConfig {
  readonly secretKey: string | undefined;
  readonly allowPrivate: boolean;
  readonly allowedHosts: readonly string[];
  readonly allowHttp: boolean;
  readonly timeoutMs: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly retryFactor: number;
  readonly maxAttempts: number;
  readonly maxInFlight: number;
  readonly endpointConcurrency: number;
  /** 0: no outbox subscription or dispatcher in this process. */
  readonly pollIntervalMs: number;
  readonly secretOverlapSeconds: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * For a service that sends webhooks: with shared stores every instance must derive the same endpoint
 * secrets, so the key must be configured (each would otherwise generate its own in its DATA_DIR, and sign
 * with secrets the merchants were never given).
 */
export function checkWebhookKeyShared(config: LedgerConfig): void {
  if ((config.eventStoreUrl !== undefined || config.mongoUrl !== undefined) && config.webhooks.secretKey === undefined)
    throw new ConfigError(
      'invalid configuration: WEBHOOK_SECRET_KEY: required when the stores are shared (EVENTSTORE_URL or MONGODB_URL): every instance must derive the same webhook secrets',
    );
}

/**
 * With shared stores every instance must sign and verify transit credentials with the same platform key:
 * one generated in each instance's DATA_DIR would refuse the credentials the others issued.
 */
export function checkTransitKeyShared(config: LedgerConfig): void {
  if (
    (config.eventStoreUrl !== undefined || config.mongoUrl !== undefined) &&
    config.transit.signingKeySeed === undefined
  )
    throw new ConfigError(
      'invalid configuration: TRANSIT_SIGNING_KEY: required when the stores are shared (EVENTSTORE_URL or MONGODB_URL): every instance must sign and verify transit credentials with the same key',
    );
}

/**
 * With shared stores the vault's ciphertexts and the fingerprints in the log are shared by every instance:
 * each must have the same KEKs and fingerprint key, and a key generated beside one instance's data would
 * make the others' data unreadable (or the fingerprints not match). So they must be configured.
 */
export function checkVaultKeysShared(config: LedgerConfig): void {
  if (config.eventStoreUrl === undefined && config.mongoUrl === undefined) return;
  if (config.vault.kek === undefined && config.vault.kekFile === undefined)
    throw new ConfigError(
      'invalid configuration: VAULT_KEK or VAULT_KEK_FILE: required when the stores are shared (EVENTSTORE_URL or MONGODB_URL): the vault key-encryption key must be configured, never generated beside the data',
    );
  if (config.cards.fingerprintKey === undefined)
    throw new ConfigError(
      'invalid configuration: CARD_FINGERPRINT_KEY: required when the stores are shared (EVENTSTORE_URL or MONGODB_URL): every instance must compute the same card fingerprints',
    );
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const parsed = configSchema.safeParse(env);
  if (parsed.success && parsed.data.VAULT_KEK !== undefined && parsed.data.VAULT_KEK_FILE !== undefined)
    throw new ConfigError('invalid configuration: VAULT_KEK, VAULT_KEK_FILE: set one of them, not both');
  if (parsed.success && parsed.data.INSTANCE_STALE_AFTER_MS < 2 * parsed.data.INSTANCE_HEARTBEAT_INTERVAL_MS)
    throw new ConfigError(
      'invalid configuration: INSTANCE_STALE_AFTER_MS must be at least twice INSTANCE_HEARTBEAT_INTERVAL_MS',
    );
  if (!parsed.success) {
    throw new ConfigError(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: c.DATA_DIR,
    eventStoreUrl: c.EVENTSTORE_URL,
    mongoUrl: c.MONGODB_URL,
    accountingTimeZone: c.ACCOUNTING_TIME_ZONE,
    logLevel: c.LOG_LEVEL,
    readYourWritesTimeoutMs: c.READ_YOUR_WRITES_TIMEOUT_MS,
    preauthHoldSeconds: c.PREAUTH_HOLD_SECONDS,
    preauthExpirySweepIntervalMs: c.PREAUTH_EXPIRY_SWEEP_INTERVAL_MS,
    recoverySweepIntervalMs: c.RECOVERY_SWEEP_INTERVAL_MS,
    recoveryGraceMs: c.RECOVERY_GRACE_MS,
    authMaxClockSkewMs: c.AUTH_MAX_CLOCK_SKEW_MS,
    authEntityRefreshMs: c.AUTH_ENTITY_REFRESH_MS,
    snapshotEveryEvents: c.SNAPSHOT_EVERY_EVENTS,
    projectionsThread: c.PROJECTIONS_THREAD,
    projectionLeaseTtlMs: c.PROJECTION_LEASE_TTL_MS,
    instanceHeartbeat: { beatIntervalMs: c.INSTANCE_HEARTBEAT_INTERVAL_MS, staleAfterMs: c.INSTANCE_STALE_AFTER_MS },
    onlineRebuildBatchEvents: c.ONLINE_REBUILD_BATCH_EVENTS,
    oneCommit: c.ONE_COMMIT,
    channelsUrl: c.CHANNELS_URL,
    channelsSeed: c.CHANNELS_SEED,
    publicBaseUrl: c.PUBLIC_BASE_URL ?? `http://${c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.PORT}`,
    channelCallTimeoutMs: c.CHANNEL_CALL_TIMEOUT_MS,
    channelExplorationPpm: c.CHANNEL_EXPLORATION_PPM,
    webhooks: {
      secretKey: c.WEBHOOK_SECRET_KEY,
      allowPrivate: c.WEBHOOK_ALLOW_PRIVATE === '1',
      allowedHosts: c.WEBHOOK_ALLOWED_HOSTS.split(',')
        .map((host) => host.trim())
        .filter((host) => host !== ''),
      allowHttp: c.WEBHOOK_ALLOW_HTTP === '1',
      timeoutMs: c.WEBHOOK_TIMEOUT_MS,
      retryInitialDelayMs: c.WEBHOOK_RETRY_INITIAL_DELAY_MS,
      retryMaxDelayMs: Math.max(c.WEBHOOK_RETRY_MAX_DELAY_MS, c.WEBHOOK_RETRY_INITIAL_DELAY_MS),
      retryFactor: c.WEBHOOK_RETRY_FACTOR,
      maxAttempts: c.WEBHOOK_MAX_ATTEMPTS,
      maxInFlight: c.WEBHOOK_MAX_IN_FLIGHT,
      endpointConcurrency: c.WEBHOOK_ENDPOINT_CONCURRENCY,
      pollIntervalMs: c.WEBHOOK_POLL_INTERVAL_MS,
      secretOverlapSeconds: c.WEBHOOK_SECRET_OVERLAP_SECONDS,
    },
    channelPollIntervalMs: c.CHANNEL_POLL_INTERVAL_MS,
    stepUpCodeKey: c.STEP_UP_CODE_KEY === undefined ? undefined : Buffer.from(c.STEP_UP_CODE_KEY, 'base64'),
    riskRulesFile: c.RISK_RULES_FILE,
    vault: { kek: c.VAULT_KEK, kekFile: c.VAULT_KEK_FILE, sqliteFile: c.VAULT_SQLITE_FILE },
    cards: {
      fingerprintKey: c.CARD_FINGERPRINT_KEY === undefined ? undefined : Buffer.from(c.CARD_FINGERPRINT_KEY, 'base64'),
      binTableFile: c.CARD_BIN_TABLE_FILE,
    },
    reconciliation: {
      downloadIntervalMs: c.RECON_DOWNLOAD_INTERVAL_MS,
      availableFromHour: c.RECON_AVAILABLE_FROM_HOUR,
      retryIntervalMs: c.RECON_RETRY_INTERVAL_MS,
      maxAttempts: c.RECON_MAX_ATTEMPTS,
      daysBack: c.RECON_DAYS_BACK,
      cutOffWindowMs: c.RECON_CUT_OFF_WINDOW_MS,
      resultsDir: join(c.DATA_DIR, 'recon'),
    },
    transit: {
      signingKeySeed: c.TRANSIT_SIGNING_KEY === undefined ? undefined : Buffer.from(c.TRANSIT_SIGNING_KEY, 'base64'),
      keyId: c.TRANSIT_KEY_ID,
      retiredKeys: retiredTransitKeys(c.TRANSIT_RETIRED_KEYS, c.TRANSIT_KEY_ID),
      credentialTtlSeconds: c.TRANSIT_CREDENTIAL_TTL_SECONDS,
      maxScanAgeSeconds: c.TRANSIT_MAX_SCAN_AGE_SECONDS,
      issueDebtAllowanceMinor: c.TRANSIT_ISSUE_DEBT_ALLOWANCE_MINOR,
      debtSweepIntervalMs: c.TRANSIT_DEBT_SWEEP_INTERVAL_MS,
    },
    paymentCodes: paymentCodeConfig(c),
    identity: { url: c.IDENTITY_URL, timeoutMs: c.IDENTITY_TIMEOUT_MS },
    bindingExpiry: { sweepIntervalMs: c.BINDING_EXPIRY_SWEEP_INTERVAL_MS, maxPerSweep: c.BINDING_EXPIRY_SWEEP_LIMIT },
  };
}

function paymentCodeConfig(c: z.infer<typeof configSchema>): PaymentCodeConfig {
  const keys = paymentCodeKeys(c.PAYMENT_CODE_KEYS);
  return {
    algorithm: c.PAYMENT_CODE_ALGORITHM,
    stepSeconds: c.PAYMENT_CODE_STEP_SECONDS,
    windowSteps: c.PAYMENT_CODE_WINDOW_STEPS,
    keys,
    issuePrefix: [...keys.keys()].at(-1)!,
  };
}

function retiredTransitKeys(text: string, currentKeyId: number): ReadonlyMap<number, string> {
  const keys = new Map<number, string>();
  for (const entry of text.split(',').filter((part) => part !== '')) {
    const [id, key] = entry.split(':') as [string, string];
    const keyId = Number(id);
    if (keyId < 1 || keyId > 255 || keyId === currentKeyId || keys.has(keyId))
      throw new ConfigError(
        `invalid configuration: TRANSIT_RETIRED_KEYS: key id ${id} must be 1..255, once, and not TRANSIT_KEY_ID`,
      );
    keys.set(keyId, key);
  }
  return keys;
}
