import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/client/signing.js';
import { collect } from '../support/events.js';
import {
  createCaller,
  freshKey,
  openWallet,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
} from '../support/test-ledger.js';

describe('request signing (Ed25519)', () => {
  let ledger: TestLedger;
  let walletId: string;
  /** A registered user, for the wallets the tests open. */
  let userId: string;
  beforeAll(async () => {
    ledger = await startTestLedger();
    const wallet = await openWallet(ledger.app);
    walletId = wallet.accountId;
    userId = wallet.ownerId;
    // Reads below go to the balances read model: let it catch up once.
    await ledger.service.projections.waitForPosition('balances', BigInt(wallet.position), 5_000);
  });
  afterAll(async () => {
    await ledger.close();
  });

  /** Signs as `as` and lets the test change the headers or the request before it is sent. */
  function send(options: {
    method?: 'GET' | 'POST';
    url: string;
    body?: string;
    sentBody?: string;
    sentUrl?: string;
    as?: Credentials;
    keyId?: string;
    now?: Date;
    nonce?: string;
    headers?: (signed: Record<string, string>) => Record<string, string>;
  }) {
    const as = options.as ?? ledger.operator;
    const method = options.method ?? 'GET';
    const signed: Record<string, string> = {
      ...signRequest({
        method,
        pathWithQuery: options.url,
        body: options.body ?? null,
        keyId: options.keyId ?? as.keyId,
        privateKeyPem: as.privateKey,
        ...(options.now ? { now: options.now } : {}),
        ...(options.nonce ? { nonce: options.nonce } : {}),
      }),
    };
    const body = options.sentBody ?? options.body;
    return ledger.app.inject({
      method,
      url: options.sentUrl ?? options.url,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(method === 'POST' ? { 'idempotency-key': freshKey() } : {}),
        ...(options.headers ? options.headers(signed) : signed),
      },
      ...(body !== undefined ? { payload: body } : {}),
    });
  }

  function expectRefused(
    response: { statusCode: number; headers: Record<string, unknown>; json(): { code: string; status: number } },
    code: string,
  ) {
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['www-authenticate']).toMatch(/^Ledger-Ed25519/);
    expect(response.json()).toMatchObject({ status: 401, code, type: `urn:ledger:problem:${code}` });
  }

  async function eventCount(): Promise<number> {
    return (await ledger.service.eventStore.readAll({ after: 'start', maxCount: 10_000 })).length;
  }

  it('accepts a correctly signed request', async () => {
    const response = await send({ url: `/v1/accounts/${walletId}` });
    expect(response.statusCode).toBe(200);
  });

  it('accepts a signed body and a signed query string', async () => {
    const created = await send({
      method: 'POST',
      url: '/v1/accounts',
      body: JSON.stringify({ ownerId: userId, type: 'wallet', currency: 'CNY' }),
    });
    expect(created.statusCode).toBe(201);
    const read = await send({ url: `/v1/accounts/${created.json().accountId}?minPosition=${created.json().position}` });
    expect(read.statusCode).toBe(200);
  });

  it('refuses an unsigned request, before looking at route or body', async () => {
    expectRefused(await ledger.app.inject({ method: 'GET', url: `/v1/accounts/${walletId}` }), 'signature_missing');
    expectRefused(
      await ledger.app.inject({ method: 'POST', url: '/v1/accounts', payload: { nonsense: true } }),
      'signature_missing',
    );
    expectRefused(await ledger.app.inject({ method: 'GET', url: '/v1/no-such-route' }), 'signature_missing');
  });

  it.each(['x-ledger-key-id', 'x-ledger-timestamp', 'x-ledger-nonce', 'x-ledger-signature'])(
    'refuses a request without %s',
    async (header) => {
      const response = await send({
        url: `/v1/accounts/${walletId}`,
        headers: (signed) => Object.fromEntries(Object.entries(signed).filter(([name]) => name !== header)),
      });
      expectRefused(response, 'signature_missing');
    },
  );

  it('refuses a signature made with another key', async () => {
    const impostor = generateKeyPairSync('ed25519').privateKey;
    const response = await send({ url: `/v1/accounts/${walletId}`, as: { ...ledger.operator, privateKey: impostor } });
    expectRefused(response, 'signature_invalid');
  });

  it('refuses a malformed signature or nonce', async () => {
    expectRefused(
      await send({
        url: `/v1/accounts/${walletId}`,
        headers: (s) => ({ ...s, 'x-ledger-signature': 'not-a-signature' }),
      }),
      'signature_invalid',
    );
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, headers: (s) => ({ ...s, 'x-ledger-nonce': 'short' }) }),
      'signature_invalid',
    );
  });

  it('refuses a body changed after signing, and records nothing', async () => {
    const before = await eventCount();
    const signedBody = JSON.stringify({
      accountId: walletId,
      amount: '1.00',
      currency: 'CNY',
      payer: await payerOf(ledger.app),
    });
    const response = await send({
      method: 'POST',
      url: '/v1/recharges',
      body: signedBody,
      sentBody: signedBody.replace('1.00', '9000.00'),
      headers: (s) => ({ ...s, 'idempotency-key': freshKey() }),
    });
    expectRefused(response, 'signature_invalid');
    // Even whitespace counts: the signature covers the exact bytes.
    const reformatted = await send({
      method: 'POST',
      url: '/v1/recharges',
      body: signedBody,
      sentBody: `${signedBody} `,
      headers: (s) => ({ ...s, 'idempotency-key': freshKey() }),
    });
    expectRefused(reformatted, 'signature_invalid');
    expect(await eventCount()).toBe(before);
  });

  it('refuses a path or query changed after signing', async () => {
    const other = await openWallet(ledger.app);
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, sentUrl: `/v1/accounts/${other.accountId}` }),
      'signature_invalid',
    );
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, sentUrl: `/v1/accounts/${walletId}?minPosition=1` }),
      'signature_invalid',
    );
  });

  it('refuses a timestamp outside ±300 s, or not UTC ISO-8601, and accepts one inside', async () => {
    const now = Date.now();
    expectRefused(await send({ url: `/v1/accounts/${walletId}`, now: new Date(now - 301_000) }), 'timestamp_skewed');
    expectRefused(await send({ url: `/v1/accounts/${walletId}`, now: new Date(now + 301_000) }), 'timestamp_skewed');
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, headers: (s) => ({ ...s, 'x-ledger-timestamp': String(now) }) }),
      'timestamp_skewed',
    );
    expectRefused(
      await send({
        url: `/v1/accounts/${walletId}`,
        headers: (s) => ({ ...s, 'x-ledger-timestamp': new Date(now).toISOString().replace('Z', '+00:00') }),
      }),
      'timestamp_skewed',
    );
    expect((await send({ url: `/v1/accounts/${walletId}`, now: new Date(now - 290_000) })).statusCode).toBe(200);
    expect((await send({ url: `/v1/accounts/${walletId}`, now: new Date(now + 290_000) })).statusCode).toBe(200);
  });

  it('accepts a nonce once per key: a captured request cannot be replayed', async () => {
    const nonce = `replay-${Date.now()}-abcdefgh`;
    const body = JSON.stringify({ ownerId: userId, type: 'wallet', currency: 'CNY' });
    const signed = signRequest({
      method: 'POST',
      pathWithQuery: '/v1/accounts',
      body,
      keyId: ledger.operator.keyId,
      privateKeyPem: ledger.operator.privateKey,
      nonce,
    });
    const replayKey = freshKey();
    const capture = () =>
      ledger.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: { 'content-type': 'application/json', 'idempotency-key': replayKey, ...signed },
        payload: body,
      });
    expect((await capture()).statusCode).toBe(201);
    const before = await eventCount();
    expectRefused(await capture(), 'nonce_reused');
    expect(await eventCount()).toBe(before);
    // The same nonce under another key is another key's business.
    const other = await createCaller(ledger.service, 'operator', 'Second operator');
    expect((await send({ url: `/v1/accounts/${walletId}`, as: other, nonce })).statusCode).toBe(200);
  });

  it('does not burn a nonce on a request whose signature fails', async () => {
    const nonce = `unburnt-${Date.now()}-abcdefgh`;
    const impostor = generateKeyPairSync('ed25519').privateKey;
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, as: { ...ledger.operator, privateKey: impostor }, nonce }),
      'signature_invalid',
    );
    expect((await send({ url: `/v1/accounts/${walletId}`, nonce })).statusCode).toBe(200);
  });

  it('refuses an unknown key: unknown entity, unknown key number, or malformed id', async () => {
    const unknownEntity = 'm-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3/1';
    expectRefused(await send({ url: `/v1/accounts/${walletId}`, keyId: unknownEntity }), 'key_unknown');
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, keyId: `${ledger.operator.entityId}/2` }),
      'key_unknown',
    );
    expectRefused(await send({ url: `/v1/accounts/${walletId}`, keyId: 'operator' }), 'key_unknown');
    expectRefused(
      await send({ url: `/v1/accounts/${walletId}`, keyId: `${ledger.operator.entityId}/0` }),
      'key_unknown',
    );
  });

  it('refuses a revoked key at once', async () => {
    const merchant = await createCaller(ledger.service, 'merchant', 'Soon revoked');
    expect((await send({ url: `/v1/entities/${merchant.entityId}`, as: merchant })).statusCode).toBe(200);
    const revoke = await ledger.inject({
      method: 'POST',
      url: `/v1/entities/${merchant.entityId}/keys/1/revoke`,
      payload: { reason: 'leaked' },
    });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toMatchObject({ keyId: merchant.keyId, status: 'revoked' });
    expectRefused(await send({ url: `/v1/entities/${merchant.entityId}`, as: merchant }), 'key_revoked');
  });

  it('serves the health probes and the API documentation unsigned', async () => {
    for (const url of ['/health/live', '/health/ready', '/openapi.json', '/docs', '/docs/json']) {
      expect((await ledger.app.inject({ method: 'GET', url })).statusCode, url).toBeLessThan(400);
    }
    expectRefused(await ledger.app.inject({ method: 'GET', url: '/healthz' }), 'signature_missing');
    expectRefused(await ledger.app.inject({ method: 'GET', url: '/docsx' }), 'signature_missing');
  });

  it('answers a body that is not JSON 415, once the key and timestamp have passed, before the signature', async () => {
    const body = 'ownerId=u-1';
    const signedFor = (payload: string) =>
      signRequest({
        method: 'POST',
        pathWithQuery: '/v1/accounts',
        body: payload,
        keyId: ledger.operator.keyId,
        privateKeyPem: ledger.operator.privateKey,
      });
    const post = (headers: Record<string, string>) =>
      ledger.app.inject({ method: 'POST', url: '/v1/accounts', headers, payload: body });
    for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      // Signed right, or signed for other bytes: the media type is refused before the body's signature.
      for (const signed of [signedFor(body), signedFor('{}')]) {
        const response = await post({ 'content-type': contentType, ...signed });
        expect(response.statusCode, contentType).toBe(415);
        expect(response.json(), contentType).toMatchObject({ status: 415, code: 'unsupported_media_type' });
      }
      // The headers' checks come first: an unsigned request is 401 whatever its body.
      expectRefused(await post({ 'content-type': contentType }), 'signature_missing');
    }
  });

  it('scopes Idempotency-Keys to the signer: two callers with the same key do not collide', async () => {
    const other = await createCaller(ledger.service, 'operator', 'Other operator');
    const key = freshKey();
    const open = (as: Credentials, ownerId: string) =>
      ledger.inject(
        {
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'idempotency-key': key },
          payload: { ownerId, type: 'wallet', currency: 'CNY' },
        },
        as,
      );
    const first = await open(ledger.operator, userId);
    const second = await open(other, userId);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json().accountId).not.toBe(first.json().accountId);
  });

  it('records the signer as the actor of the events it causes', async () => {
    const wallet = await openWallet(ledger.app, 'CNY');
    const [opened] = await collect(ledger.service.eventStore.readStream(`account-${wallet.accountId}`));
    expect(opened?.metadata.actor).toBe(ledger.operator.entityId);
  });
});
