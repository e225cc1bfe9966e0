import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient, ProblemError, ROUTES, type LedgerClientOptions } from '../../src/client/index.js';
import { EventStoreUnavailableError, type AppendResult, type EventStore } from '../../src/ports/event-store.js';
import { openApiRoutes } from '../docs/openapi-routes.js';
import { isEntityId } from '../../src/domain/entities/entity-id.js';
import {
  createCaller,
  registerUser,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
  payeeOf,
} from '../support/test-ledger.js';

/** The client against a listening server: real HTTP, real body bytes, every call signed. */
describe('LedgerClient over HTTP', () => {
  let ledger: TestLedger;
  let baseUrl: string;
  let merchant: Credentials;
  /** Short waits between retries, so the retry tests take milliseconds, not Retry-After's seconds. */
  const quickRetry = { baseDelayMs: 5, maxDelayMs: 20 };

  beforeAll(async () => {
    // The client's retries are tested against a key held while the operation runs, which is the per-stream
    // process (a request in one commit holds its key only for that commit); and an append held back here
    // would hold back every operation of the one-commit coordinator's round, as a stuck disk would.
    ledger = await startTestLedger(undefined, { ONE_COMMIT: 'off' });
    baseUrl = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
    merchant = await createCaller(ledger.service, 'merchant', 'Client test shop');
  });
  afterAll(async () => {
    await ledger.close();
  });

  function clientFor(who: Credentials, options: Partial<LedgerClientOptions> = {}): LedgerClient {
    return new LedgerClient({ baseUrl, keyId: who.keyId, privateKeyPem: who.privateKeyPem, ...options });
  }

  /** fetch as it is, recording each request's method, path and answer status. */
  function recordingFetch() {
    const calls: Array<{ method: string; path: string; status: number; idempotencyKey: string | null }> = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(init?.headers);
      calls.push({
        method: init?.method ?? 'GET',
        path: new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname,
        status: response.status,
        idempotencyKey: headers.get('idempotency-key'),
      });
      return response;
    };
    return { calls, fetch: recording };
  }

  /**
   * The real store, with its next append to a stream of `category` handed to `intercept` (test-only: every
   * other append, and every read, goes to the store as it is). Returns a way to undo it.
   */
  function interceptNextAppend(
    store: EventStore,
    category: string,
    intercept: (proceed: () => Promise<AppendResult>) => Promise<AppendResult>,
  ): () => void {
    const real = store.appendToStream.bind(store);
    let armed = true;
    store.appendToStream = (streamId, events, expected) => {
      if (!armed || !streamId.startsWith(category)) return real(streamId, events, expected);
      armed = false;
      return intercept(() => real(streamId, events, expected));
    };
    return () => {
      store.appendToStream = real;
    };
  }

  /** Wallets belong to registered users: one per name, registered beside the client under test (not through it). */
  const users = new Map<string, Promise<string>>();
  function userNamed(name: string): Promise<string> {
    if (isEntityId(name)) return Promise.resolve(name);
    const known = users.get(name) ?? registerUser(ledger.app, name);
    users.set(name, known);
    return known;
  }

  async function fundedWallet(operator: LedgerClient, owner: string, amount: string) {
    const wallet = await operator.openAccount({ ownerId: await userNamed(owner), type: 'wallet', currency: 'CNY' });
    const recharged = await operator.recharge({
      accountId: wallet.accountId,
      amount,
      currency: 'CNY',
      payer: await payerOf(ledger.app),
    });
    return { accountId: wallet.accountId, position: recharged.position };
  }

  it('has a method for every route of the OpenAPI document, and no route the server lacks', async () => {
    // The channels' notify endpoint is theirs (signed with their keys), not a merchant's to call.
    const served = (await openApiRoutes(ledger.app)).filter((route) => !route.includes('/v1/channel-notifications/'));
    const covered = Object.values(ROUTES).map((route) => `${route.method} ${route.path}`);
    expect([...covered].sort()).toEqual([...served].sort());
    const client = clientFor(ledger.operator);
    for (const name of Object.keys(ROUTES)) expect(typeof client[name as keyof LedgerClient], name).toBe('function');
  });

  it('runs a payment from user registration to refund, reading each effect back with minPosition', async () => {
    const operator = clientFor(ledger.operator);
    const shop = clientFor(merchant);
    const user = await operator.registerEntity({ kind: 'user', displayName: 'Lǐ Nà 李娜', phone: '+8613800138001' });
    expect(user).toMatchObject({ kind: 'user', paymentPasswordSet: false });
    await expect(operator.setPaymentPassword(user.entityId, { newPassword: '583920' })).resolves.toMatchObject({
      paymentPasswordSet: true,
      reason: 'initial',
    });
    const wallet = await fundedWallet(operator, user.entityId, '100.00');
    const till = await operator.openAccount({
      ownerId: merchant.entityId,
      type: 'merchant_settlement',
      currency: 'CNY',
    });
    expect(await operator.getAccount(wallet.accountId, { minPosition: wallet.position })).toMatchObject({
      balance: '100.00',
    });

    const paid = await shop.pay({
      payerAccountId: wallet.accountId,
      payeeAccountId: till.accountId,
      amount: '30.00',
      currency: 'CNY',
      merchantOrderNo: 'CLIENT-1',
      payerPassword: '583920',
    });
    expect(paid).toMatchObject({ status: 'completed', amount: '30.00', merchantId: merchant.entityId });
    expect(await shop.getPayment(paid.paymentId)).toMatchObject({ paymentId: paid.paymentId });
    const byOrderNo = { merchantOrderNo: 'CLIENT-1', minPosition: paid.position! };
    expect((await shop.listPayments(byOrderNo)).items).toMatchObject([{ operationId: paid.paymentId }]);
    const listed = operator.listed((q) => operator.listPayments(q), { ...byOrderNo, merchantId: merchant.entityId });
    const found: string[] = [];
    for await (const payment of listed) found.push(payment.operationId);
    expect(found).toEqual([paid.paymentId]);

    const refunded = await shop.refundPayment(paid.paymentId, { refundNo: 'RF-1', amount: '10.00', currency: 'CNY' });
    expect(refunded).toMatchObject({ refundedAmount: '10.00', refunds: [{ refundNo: 'RF-1', status: 'completed' }] });
    expect(await shop.getAccount(till.accountId, { minPosition: refunded.position! })).toMatchObject({
      balance: '20.00',
    });
    const statement = await operator.getStatement(wallet.accountId, { minPosition: refunded.position! });
    expect(statement.lines.map((line) => [line.direction, line.amount])).toEqual([
      ['credit', '100.00'],
      ['debit', '30.00'],
      ['credit', '10.00'],
    ]);
    const csv = await operator.exportStatementCsv(wallet.accountId, { minPosition: refunded.position! });
    expect(csv.split('\r\n')[0]).toMatch(/^sequence,occurred_at,/);
    const day = statement.lines[0]!.accountingDate;
    const trial = await operator.trialBalance({ date: day, currency: 'CNY', minPosition: refunded.position! });
    expect(trial).toMatchObject({ balanced: true });
    const journal: string[] = [];
    for await (const entry of operator.journalEntries({ operationId: paid.paymentId, limit: 1 }))
      journal.push(entry.eventType);
    expect(journal.length).toBeGreaterThan(1);
  });

  it('covers freezes, pre-authorisations, transfers, withdrawals, account controls, keys and the books', async () => {
    const operator = clientFor(ledger.operator);
    const wallet = await fundedWallet(operator, 'u-client-more', '500.00');
    const other = await operator.openAccount({
      ownerId: await userNamed('u-client-other'),
      type: 'wallet',
      currency: 'CNY',
    });
    const till = await operator.openAccount({
      ownerId: merchant.entityId,
      type: 'merchant_settlement',
      currency: 'CNY',
    });

    const freeze = await operator.placeFreeze(wallet.accountId, { amount: '50.00', currency: 'CNY' });
    expect(freeze).toMatchObject({ status: 'placed', remaining: '50.00' });
    expect(await operator.releaseFreeze(freeze.freezeId, { amount: '10.00', currency: 'CNY' })).toMatchObject({
      remaining: '40.00',
    });
    const deducted = await operator.deductFromFreeze(freeze.freezeId, {
      amount: '15.00',
      currency: 'CNY',
      payeeAccountId: till.accountId,
    });
    expect(deducted.deductionId).toBeDefined();
    expect(await operator.releaseFreeze(freeze.freezeId)).toMatchObject({ remaining: '0.00' });
    expect(await operator.getFreeze(freeze.freezeId)).toMatchObject({ freezeId: freeze.freezeId });

    const hold = await operator.authorisePreauth({
      payerAccountId: wallet.accountId,
      payeeAccountId: till.accountId,
      amount: '80.00',
      currency: 'CNY',
      merchantOrderNo: 'CLIENT-HOLD-1',
    });
    expect(hold.status).toBe('authorised');
    expect(await operator.completePreauth(hold.preauthId, { amount: '60.00', currency: 'CNY' })).toMatchObject({
      status: 'completed',
      captured: '60.00',
    });
    expect(await operator.cancelPreauthCompletion(hold.preauthId)).toMatchObject({ status: 'authorised' });
    expect(await operator.cancelPreauth(hold.preauthId)).toMatchObject({ status: 'cancelled' });
    expect(await operator.getPreauth(hold.preauthId)).toMatchObject({ cancelReason: 'merchant' });

    const sent = await operator.transfer({
      fromAccountId: wallet.accountId,
      toAccountId: other.accountId,
      amount: '5.00',
      currency: 'CNY',
    });
    expect(await operator.getTransfer(sent.transferId)).toMatchObject({ status: 'completed' });
    const batch = await operator.transferBatch({
      mode: 'independent',
      items: [
        {
          fromAccountId: wallet.accountId,
          toAccountId: other.accountId,
          amount: '1.00',
          currency: 'CNY',
          reference: 'b-1',
        },
        { fromAccountId: other.accountId, toAccountId: wallet.accountId, amount: '9999.00', currency: 'CNY' },
      ],
    });
    expect(batch).toMatchObject({ status: 'partially_applied', appliedCount: 1 });
    expect(await operator.getTransferBatch(batch.batchId)).toEqual(batch);
    const batches = await operator.listTransferBatches({ status: 'partially_applied', minPosition: batch.position });
    expect(batches.items.map((b) => b.batchId)).toContain(batch.batchId);
    const payout = await operator.withdraw({
      accountId: wallet.accountId,
      amount: '20.00',
      currency: 'CNY',
      payee: await payeeOf(ledger.app),
    });
    expect(await operator.getWithdrawal(payout.withdrawalId)).toMatchObject({ status: 'completed' });

    const flags = await operator.setAccountFlags(other.accountId, {
      flags: {
        mayRecharge: true,
        mayWithdraw: false,
        mayPay: true,
        mayReceive: true,
        maySendTransfers: true,
        mayReceiveTransfers: true,
        mayOverdraw: false,
        overdraftLimit: '0',
      },
      reason: 'no payouts',
    });
    expect(flags.flags.mayWithdraw).toBe(false);
    expect(await operator.setAccountStatus(other.accountId, { status: 'frozen', reason: 'review' })).toMatchObject({
      status: 'frozen',
    });

    const spare = await createCaller(ledger.service, 'merchant', 'Key rotation shop');
    const publicKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const added = await operator.addKey(spare.entityId, { publicKey });
    expect(added.keyNo).toBe(2);
    expect(await operator.revokeKey(spare.entityId, 2, { reason: 'rotated' })).toMatchObject({ status: 'revoked' });
    expect(await operator.changePaymentSettings(spare.entityId, { mayPay: false })).toMatchObject({ mayPay: false });

    const chart = await operator.chartOfAccounts();
    const code = chart.accounts[0]!.code;
    const balances = await operator.getBookAccountBalances(code, { minPosition: payout.position! });
    const subLedgers = [];
    for await (const subLedger of operator.subLedgerBalances(code, { limit: 1, minPosition: payout.position! }))
      subLedgers.push(subLedger);
    expect(subLedgers.length).toBeGreaterThanOrEqual(balances.subLedgers.length);
    expect(await operator.liveness()).toEqual({ status: 'ok' });
    expect(await operator.readiness()).toMatchObject({ status: 'ok' });
  });

  it('sends an Idempotency-Key with every command, the same one on a retry, and a given one as it is', async () => {
    const recorded = recordingFetch();
    const operator = clientFor(ledger.operator, { fetch: recorded.fetch });
    const wallet = await fundedWallet(operator, 'u-client-keys', '10.00');
    const [opened, recharged] = recorded.calls;
    expect(opened!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(recharged!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(opened!.idempotencyKey).not.toBe(recharged!.idempotencyKey);

    const body = { accountId: wallet.accountId, amount: '1.00', currency: 'CNY', payer: await payerOf(ledger.app) };
    const first = await operator.recharge(body, { idempotencyKey: 'client-test-recharge-1' });
    const again = await operator.recharge(body, { idempotencyKey: 'client-test-recharge-1' });
    expect(again).toEqual(first);
    expect(await operator.getAccount(wallet.accountId, { minPosition: again.position })).toMatchObject({
      balance: '11.00',
    });
    expect(recorded.calls.filter((call) => call.method === 'GET').every((call) => call.idempotencyKey === null)).toBe(
      true,
    );
  });

  it('retries a 503 under the same Idempotency-Key: the command runs once', async () => {
    const operator = clientFor(ledger.operator, { retry: quickRetry });
    const wallet = await fundedWallet(operator, 'u-client-503', '10.00');
    const recorded = recordingFetch();
    const retrying = clientFor(ledger.operator, { fetch: recorded.fetch, retry: quickRetry });
    const restore = interceptNextAppend(ledger.service.eventStore, 'recharge-', () =>
      Promise.reject(new EventStoreUnavailableError('test: the store is away for one append')),
    );
    try {
      const recharged = await retrying.recharge({
        accountId: wallet.accountId,
        amount: '5.00',
        currency: 'CNY',
        payer: await payerOf(ledger.app),
      });
      expect(recorded.calls.map((call) => call.status)).toEqual([503, 201]);
      expect(new Set(recorded.calls.map((call) => call.idempotencyKey)).size).toBe(1);
      expect(await operator.getAccount(wallet.accountId, { minPosition: recharged.position })).toMatchObject({
        balance: '15.00',
      });
    } finally {
      restore();
    }
  });

  it('retries 409 idempotency_request_in_progress until the first request has answered', async () => {
    const operator = clientFor(ledger.operator, { retry: quickRetry });
    const wallet = await fundedWallet(operator, 'u-client-409', '10.00');
    let releaseFirst!: () => void;
    const firstMayGoOn = new Promise<void>((resolve) => (releaseFirst = resolve));
    // The first request holds its key while its append waits here; then the append goes to the store.
    let reachedGate!: () => void;
    const firstHoldsTheKey = new Promise<void>((resolve) => (reachedGate = resolve));
    const restore = interceptNextAppend(ledger.service.eventStore, 'recharge-', async (proceed) => {
      reachedGate();
      await firstMayGoOn;
      return proceed();
    });
    const second = recordingFetch();
    const body = { accountId: wallet.accountId, amount: '2.00', currency: 'CNY', payer: await payerOf(ledger.app) };
    try {
      const first = operator.recharge(body, { idempotencyKey: 'client-test-in-progress' });
      const secondClient = clientFor(ledger.operator, {
        retry: { ...quickRetry, maxAttempts: 10 },
        fetch: async (input, init) => {
          const response = await second.fetch(input, init);
          if (response.status === 409) releaseFirst();
          return response;
        },
      });
      await firstHoldsTheKey;
      const replay = await secondClient.recharge(body, { idempotencyKey: 'client-test-in-progress' });
      expect(second.calls[0]!.status).toBe(409);
      expect(second.calls.at(-1)!.status).toBe(201);
      expect(replay).toEqual(await first);
      expect(await operator.getAccount(wallet.accountId, { minPosition: replay.position })).toMatchObject({
        balance: '12.00',
      });
    } finally {
      releaseFirst();
      restore();
    }
  });

  it('stops after its limit, and never retries a refusal: ProblemError carries the problem', async () => {
    const recorded = recordingFetch();
    const operator = clientFor(ledger.operator, { fetch: recorded.fetch, retry: { ...quickRetry, maxAttempts: 2 } });
    const wallet = await fundedWallet(operator, 'u-client-limit', '1.00');
    const away = () => Promise.reject(new EventStoreUnavailableError('test: the store stays away'));
    const restoreFirst = interceptNextAppend(ledger.service.eventStore, 'recharge-', away);
    const restoreSecond = interceptNextAppend(ledger.service.eventStore, 'recharge-', away);
    recorded.calls.length = 0;
    try {
      const error = await operator
        .recharge({ accountId: wallet.accountId, amount: '1.00', currency: 'CNY', payer: await payerOf(ledger.app) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProblemError);
      expect(error).toMatchObject({ status: 503, code: 'storage_unavailable', attempts: 2 });
      expect((error as ProblemError).idempotencyKey).toBe(recorded.calls[0]!.idempotencyKey);
      expect(recorded.calls.map((call) => call.status)).toEqual([503, 503]);
    } finally {
      restoreSecond();
      restoreFirst();
    }

    recorded.calls.length = 0;
    const refused = await operator
      .transfer({ fromAccountId: wallet.accountId, toAccountId: wallet.accountId, amount: '9.00', currency: 'CNY' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).problem).toMatchObject({
      type: 'urn:ledger:problem:same_account',
      status: 400,
      code: 'same_account',
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(recorded.calls).toHaveLength(1);

    const shop = clientFor(merchant);
    await expect(
      shop.openAccount({ ownerId: merchant.entityId, type: 'wallet', currency: 'CNY' }),
    ).rejects.toMatchObject({ name: 'ProblemError', status: 403, code: 'forbidden', attempts: 1 });
    const impostor = new LedgerClient({
      baseUrl,
      keyId: `${merchant.entityId}/2`,
      privateKeyPem: merchant.privateKeyPem,
    });
    await expect(impostor.getEntity(merchant.entityId)).rejects.toMatchObject({
      status: 401,
      problem: { code: 'key_unknown' },
    });
  });

  it('sends a request that got no answer again', async () => {
    let dropped = 0;
    const operator = clientFor(ledger.operator, {
      retry: quickRetry,
      fetch: async (input, init) => {
        if (dropped === 0) {
          dropped += 1;
          throw new TypeError('fetch failed (test: connection reset before the request left)');
        }
        return fetch(input, init);
      },
    });
    const opened = await operator.openAccount({
      ownerId: await userNamed('u-client-drop'),
      type: 'wallet',
      currency: 'CNY',
    });
    expect(dropped).toBe(1);
    expect(opened.accountId).toMatch(/^101[0-9]{13}$/);
  });

  it('iterates a statement page by page, fetching a page only when the loop gets to it', async () => {
    const recorded = recordingFetch();
    const operator = clientFor(ledger.operator, { fetch: recorded.fetch });
    const wallet = await operator.openAccount({
      ownerId: await userNamed('u-client-pages'),
      type: 'wallet',
      currency: 'CNY',
    });
    let last = '';
    for (const amount of ['1.00', '2.00', '3.00', '4.00', '5.00']) {
      last = (
        await operator.recharge({
          accountId: wallet.accountId,
          amount,
          currency: 'CNY',
          payer: await payerOf(ledger.app),
        })
      ).position;
    }
    const statementPages = () => recorded.calls.filter((call) => call.path.endsWith('/statement')).length;

    const amounts: string[] = [];
    for await (const line of operator.statementLines(wallet.accountId, { limit: 2, minPosition: last }))
      amounts.push(line.amount);
    expect(amounts).toEqual(['1.00', '2.00', '3.00', '4.00', '5.00']);
    expect(statementPages()).toBe(3);

    const before = statementPages();
    for await (const line of operator.statementLines(wallet.accountId, { limit: 2 })) {
      expect(line.sequence).toBe(1);
      break;
    }
    expect(statementPages() - before).toBe(1);
  });
});
