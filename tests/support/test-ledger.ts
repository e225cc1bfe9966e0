import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { bootstrapEntity } from '../../src/adapters/entity-bootstrap.js';
import { buildHttpServer, type HttpServerOptions } from '../../src/adapters/http/server.js';
import {
  startLedgerService,
  type LedgerService,
  type LedgerServiceOptions,
} from '../../src/adapters/ledger-service.js';
import { signRequest } from '../../src/client/signing.js';
import { loadConfig } from '../../src/config.js';
import type { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import type { BoundCard, PayerInstrument } from '../../src/domain/channels/payer-instrument.js';
import type { Clock } from '../../src/ports/clock.js';
import { registerTestChannels, testCard, testChannelOptions, testPayer } from './test-channels.js';

/** Someone who can sign requests: an entity and one of its keys. */
export interface Credentials {
  readonly entityId: string;
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly privateKeyPem: string;
}

export interface TestLedger {
  readonly service: LedgerService;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  /** The operator every helper signs as unless told otherwise. */
  readonly operator: Credentials;
  /** `app.inject`, signed as `as` (default: the test operator). */
  inject(options: SignedInjectOptions, as?: Credentials): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface SignedInjectOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  /** An object is sent as JSON; a string is sent as it is (as JSON). */
  readonly payload?: object | string;
  readonly headers?: Record<string, string>;
  /**
   * Commands (POST, PUT) get a fresh Idempotency-Key unless the headers name one, as the typed client
   * gives them; true sends none, to test the refusal.
   */
  readonly withoutIdempotencyKey?: boolean;
}

/**
 * What startTestLedger records before any test runs: the test operator's stream (`entity-op-...`:
 * EntityRegistered, ApiKeyRegistered at positions 1 and 2). Tests that count streams or events add these.
 */
export const SETUP_STREAMS = 1;
export const SETUP_EVENTS = 2;

/** Each app's test operator, so helpers taking only `app` (openWallet, recharge) can sign. */
const operators = new WeakMap<FastifyInstance, Credentials>();
/** Each app's service, so helpers taking only `app` find its channels (the test card). */
const services = new WeakMap<FastifyInstance, LedgerService>();

/** Quick pay with the test card at this app's channels: the `payer` of a recharge body. */
export function payerOf(app: FastifyInstance): Promise<PayerInstrument> {
  const service = services.get(app);
  if (!service) throw new Error('not an app of startTestLedger');
  return testPayer(service.channels);
}

/** The test card at this app's channels: the `payee` of a withdrawal body. */
export function payeeOf(app: FastifyInstance): Promise<BoundCard> {
  const service = services.get(app);
  if (!service) throw new Error('not an app of startTestLedger');
  return testCard(service.channels);
}

/** A whole ledger on the embedded engines in a fresh temporary directory (or the one given), with a test operator. */
export async function startTestLedger(
  dataDir: string = mkdtempSync(join(tmpdir(), 'ledger-test-')),
  env: Record<string, string> = {},
  options: {
    readonly clock?: Clock;
    readonly http?: HttpServerOptions;
    /** Channels that outlive this service (a test restarting it in front of the same bank). */
    readonly simulator?: ChannelSimulator;
    /** More of the service's options (the channels' callback delivery, channel payments' risk rules). */
    readonly service?: LedgerServiceOptions;
  } = {},
): Promise<TestLedger> {
  // ONE_COMMIT=off in the environment runs a suite on the per-stream process path (the fallback engines take).
  const oneCommit = process.env['ONE_COMMIT'] ? { ONE_COMMIT: process.env['ONE_COMMIT'] } : {};
  // No exploration: a test's recharges go to the cheapest channel, so their fees are known.
  const config = loadConfig({
    DATA_DIR: dataDir,
    READ_YOUR_WRITES_TIMEOUT_MS: '5000',
    CHANNEL_EXPLORATION_PPM: '0',
    ...oneCommit,
    ...env,
  });
  const service = await startLedgerService(config, {
    // Every test ledger has a fresh DATA_DIR, so a generated vault KEK: no warning for each.
    onKeyGenerated: () => {},
    ...options.service,
    ...(options.clock ? { clock: options.clock } : {}),
    channels: { ...testChannelOptions(options.simulator), ...options.service?.channels },
  });
  registerTestChannels(service.channels);
  const app = await buildHttpServer(
    service,
    options.http ?? { logger: process.env['TEST_LOG'] ? { level: 'error' } : false },
  );
  const operator = await createCaller(service, 'operator', 'Test operator');
  operators.set(app, operator);
  services.set(app, service);
  return {
    service,
    app,
    dataDir,
    operator,
    inject: (options, as = operator) => signedInject(app, options, as),
    async close() {
      await app.close();
      await service.close();
    },
  };
}

/** Registers an operator or merchant with a fresh key, through the command layer (as the CLI does). */
export async function createCaller(
  service: LedgerService,
  kind: 'operator' | 'merchant',
  displayName: string,
): Promise<Credentials> {
  const created = await bootstrapEntity(service.entities, service.clock, { kind, displayName, actor: 'test-setup' });
  return {
    entityId: created.entityId,
    keyId: created.keyId,
    privateKey: createPrivateKey(created.privateKeyPem),
    privateKeyPem: created.privateKeyPem,
  };
}

export function operatorOf(app: FastifyInstance): Credentials {
  const operator = operators.get(app);
  if (!operator) throw new Error('this app was not started by startTestLedger: no test operator to sign as');
  return operator;
}

/** `app.inject` with the body serialised once and signed byte for byte. */
export function signedInject(
  app: FastifyInstance,
  options: SignedInjectOptions,
  as: Credentials = operatorOf(app),
): Promise<LightMyRequestResponse> {
  const body =
    options.payload === undefined
      ? undefined
      : typeof options.payload === 'string'
        ? options.payload
        : JSON.stringify(options.payload);
  const signature = signRequest({
    method: options.method,
    pathWithQuery: options.url,
    body: body ?? null,
    keyId: as.keyId,
    privateKeyPem: as.privateKey,
  });
  const isCommand = options.method === 'POST' || options.method === 'PUT';
  const request: InjectOptions = {
    method: options.method,
    url: options.url,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(isCommand && !options.withoutIdempotencyKey ? { 'idempotency-key': freshKey() } : {}),
      ...signature,
      ...options.headers,
    },
    ...(body !== undefined ? { payload: body } : {}),
  };
  return app.inject(request);
}

/** Registers a user (wallets belong to users) and returns its entity id. */
export async function registerUser(app: FastifyInstance, displayName = 'Test user'): Promise<string> {
  const response = await signedInject(app, {
    method: 'POST',
    url: '/v1/entities',
    payload: { kind: 'user', displayName },
  });
  if (response.statusCode !== 201)
    throw new Error(`registering a user failed: ${response.statusCode} ${response.body}`);
  return response.json<{ entityId: string }>().entityId;
}

/** Opens a wallet for `ownerId`, or for a user registered for it. */
export async function openWallet(
  app: FastifyInstance,
  currency = 'CNY',
  ownerId?: string,
): Promise<{ accountId: string; position: string; ownerId: string }> {
  const owner = ownerId ?? (await registerUser(app));
  const response = await signedInject(app, {
    method: 'POST',
    url: '/v1/accounts',
    payload: { ownerId: owner, type: 'wallet', currency },
  });
  if (response.statusCode !== 201) throw new Error(`opening a wallet failed: ${response.statusCode} ${response.body}`);
  const opened = response.json<{ accountId: string; position: string }>();
  return { accountId: opened.accountId, position: opened.position, ownerId: owner };
}

let keySeq = 0;
export function freshKey(): string {
  keySeq += 1;
  return `key-${process.pid}-${Date.now()}-${keySeq}`;
}

export async function recharge(
  app: FastifyInstance,
  accountId: string,
  amount: string,
  key = freshKey(),
  currency = 'CNY',
) {
  return signedInject(app, {
    method: 'POST',
    url: '/v1/recharges',
    headers: { 'idempotency-key': key },
    payload: { accountId, amount, currency, payer: await payerOf(app) },
  });
}
