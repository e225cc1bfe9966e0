import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/client/signing.js';
import { freshKey, startTestLedger, type TestLedger } from '../support/test-ledger.js';

describe('entities over HTTP', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function register(payload: object, key?: string) {
    return ledger.inject({
      method: 'POST',
      url: '/v1/entities',
      payload,
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  }

  async function everyStoredEvent(): Promise<string> {
    const events = await ledger.service.eventStore.readAll({ after: 'start', maxCount: 10_000 });
    return events.map((e) => JSON.stringify({ data: e.data, metadata: e.metadata })).join('\n');
  }

  describe('POST /v1/entities', () => {
    it('registers a merchant and a user with kind-prefixed ids and defaults', async () => {
      const merchant = await register({
        kind: 'merchant',
        displayName: 'Blue Lantern',
        phone: '+8613800138000',
        email: 'ops@bluelantern.example',
      });
      expect(merchant.statusCode).toBe(201);
      expect(merchant.json()).toEqual({
        entityId: expect.stringMatching(/^m-[0-9a-f-]{36}$/),
        kind: 'merchant',
        displayName: 'Blue Lantern',
        mayPay: true,
        phone: '+8613800138000',
        email: 'ops@bluelantern.example',
        securityLevel: 'standard',
        paymentPasswordSet: false,
        keys: [],
        accounts: [],
        moreAccounts: false,
        identity: null,
      });
      const user = await register({ kind: 'user', displayName: 'Li Wei', mayPay: false, securityLevel: 'high' });
      expect(user.json()).toMatchObject({
        entityId: expect.stringMatching(/^u-/),
        mayPay: false,
        securityLevel: 'high',
        phone: null,
        email: null,
        // Not yet verified: POST /v1/users/{userId}/identity-verifications, or a bound card.
        identity: { verified: false, maskedName: null, elements: [], source: null },
      });
    });

    it('registers one entity per Idempotency-Key', async () => {
      const key = freshKey();
      const first = await register({ kind: 'user', displayName: 'Once' }, key);
      const again = await register({ kind: 'user', displayName: 'Once' }, key);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it.each([
      [{ kind: 'operator', displayName: 'Escalation' }],
      [{ kind: 'merchant', displayName: '' }],
      [{ kind: 'merchant', displayName: 'X', phone: '13800138000' }],
      [{ kind: 'merchant', displayName: 'X', email: 'not-an-email' }],
      [{ kind: 'merchant', displayName: 'X', passwordHash: 'smuggled' }],
    ])('refuses %j', async (payload) => {
      const response = await register(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    });
  });

  describe('keys', () => {
    it('adds keys given as PEM or base64 DER; a new key signs at once; refuses duplicates and non-Ed25519 keys', async () => {
      const merchant = (await register({ kind: 'merchant', displayName: 'Key holder' })).json();
      const pair = generateKeyPairSync('ed25519');
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const der = pair.publicKey.export({ type: 'spki', format: 'der' });

      const added = await ledger.inject({
        method: 'POST',
        url: `/v1/entities/${merchant.entityId}/keys`,
        payload: { publicKey: pem },
      });
      expect(added.statusCode).toBe(201);
      expect(added.json()).toEqual({
        keyId: `${merchant.entityId}/1`,
        keyNo: 1,
        algorithm: 'ed25519',
        publicKey: der.toString('base64'),
        fingerprint: createHash('sha256').update(der).digest('hex'),
        status: 'active',
      });

      const duplicate = await ledger.inject({
        method: 'POST',
        url: `/v1/entities/${merchant.entityId}/keys`,
        payload: { publicKey: der.toString('base64') },
      });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.json().code).toBe('api_key_exists');

      const second = generateKeyPairSync('ed25519')
        .publicKey.export({ type: 'spki', format: 'der' })
        .toString('base64');
      const viaBase64 = await ledger.inject({
        method: 'POST',
        url: `/v1/entities/${merchant.entityId}/keys`,
        payload: { publicKey: second },
      });
      expect(viaBase64.json()).toMatchObject({ keyNo: 2, status: 'active' });

      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
      for (const publicKey of [rsa, 'garbage', pem.replace('MC', 'XX')]) {
        const refused = await ledger.inject({
          method: 'POST',
          url: `/v1/entities/${merchant.entityId}/keys`,
          payload: { publicKey },
        });
        expect(refused.statusCode).toBe(400);
        expect(refused.json().code).toBe('invalid_public_key');
      }

      const path = `/v1/entities/${merchant.entityId}`;
      const signed = signRequest({
        method: 'GET',
        pathWithQuery: path,
        keyId: `${merchant.entityId}/1`,
        privateKeyPem: pair.privateKey,
      });
      const asMerchant = await ledger.app.inject({ method: 'GET', url: path, headers: signed });
      expect(asMerchant.statusCode).toBe(200);
      expect(asMerchant.json().keys).toHaveLength(2);
    });

    it('refuses keys for users (they never call the API) and for unknown entities', async () => {
      const user = (await register({ kind: 'user', displayName: 'No keys' })).json();
      const publicKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const forUser = await ledger.inject({
        method: 'POST',
        url: `/v1/entities/${user.entityId}/keys`,
        payload: { publicKey },
      });
      expect(forUser.statusCode).toBe(422);
      expect(forUser.json().code).toBe('entity_kind_denies');
      const forNobody = await ledger.inject({
        method: 'POST',
        url: '/v1/entities/m-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3/keys',
        payload: { publicKey },
      });
      expect(forNobody.statusCode).toBe(404);
      expect(forNobody.json().code).toBe('entity_not_found');
    });

    it('revokes a key once; revoking it again changes nothing; an unknown key is 404', async () => {
      const merchant = (await register({ kind: 'merchant', displayName: 'Rotator' })).json();
      const publicKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      await ledger.inject({ method: 'POST', url: `/v1/entities/${merchant.entityId}/keys`, payload: { publicKey } });
      const revoke = () =>
        ledger.inject({
          method: 'POST',
          url: `/v1/entities/${merchant.entityId}/keys/1/revoke`,
          payload: { reason: 'rotated' },
        });
      expect((await revoke()).json()).toMatchObject({ keyNo: 1, status: 'revoked' });
      const before = await everyStoredEvent();
      expect((await revoke()).json()).toMatchObject({ keyNo: 1, status: 'revoked' });
      expect((await everyStoredEvent()).split('ApiKeyRevoked').length).toBe(before.split('ApiKeyRevoked').length);
      const unknown = await ledger.inject({
        method: 'POST',
        url: `/v1/entities/${merchant.entityId}/keys/7/revoke`,
        payload: { reason: 'x' },
      });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().code).toBe('api_key_not_found');
    });
  });

  describe('payment passwords', () => {
    it('sets, changes (old one verified) and resets a password; stores only a slow hash; never returns it', async () => {
      const user = (await register({ kind: 'user', displayName: 'Payer', phone: '+8613900139000' })).json();
      const url = `/v1/entities/${user.entityId}/payment-password`;
      const post = (payload: object) =>
        ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': freshKey() } });

      expect((await post({ newPassword: '123456' })).json().code).toBe('payment_password_weak');
      const initial = await post({ newPassword: '583920' });
      expect(initial.statusCode).toBe(200);
      expect(initial.json()).toEqual({ entityId: user.entityId, paymentPasswordSet: true, reason: 'initial' });

      const withoutOld = await post({ newPassword: '740261' });
      expect(withoutOld.statusCode).toBe(422);
      expect(withoutOld.json().code).toBe('payment_password_mismatch');
      expect((await post({ newPassword: '740261', currentPassword: '000001' })).json().code).toBe(
        'payment_password_mismatch',
      );
      expect((await post({ newPassword: '740261', currentPassword: '583920' })).json()).toMatchObject({
        reason: 'change',
      });

      expect((await post({ newPassword: '915372', reset: { verifiedVia: 'email' } })).json().code).toBe(
        'entity_contact_missing',
      );
      expect((await post({ newPassword: '915372', reset: { verifiedVia: 'phone' } })).json()).toMatchObject({
        reason: 'reset',
      });
      expect(
        (await post({ newPassword: '915372', currentPassword: '740261', reset: { verifiedVia: 'phone' } })).statusCode,
      ).toBe(400);

      expect(await ledger.service.entities.verifyPaymentPassword(user.entityId, '915372')).toBe(true);
      expect(await ledger.service.entities.verifyPaymentPassword(user.entityId, '740261')).toBe(false);

      const read = await ledger.inject({ method: 'GET', url: `/v1/entities/${user.entityId}` });
      expect(read.json().paymentPasswordSet).toBe(true);
      expect(read.body).not.toMatch(/scrypt|583920|740261|915372/);

      // Not in any event (entity or idempotency record), nor a fast hash of it in a request fingerprint.
      const stored = await everyStoredEvent();
      for (const password of ['583920', '740261', '915372']) {
        expect(stored).not.toContain(password);
        expect(stored).not.toContain(createHash('sha256').update(password).digest('hex'));
      }
      expect(stored).toMatch(/\$scrypt\$ln=15,r=8,p=1\$/);
    });
  });

  describe('payment settings', () => {
    it('changes may-pay and security level, recording only what changed', async () => {
      const user = (await register({ kind: 'user', displayName: 'Settings' })).json();
      const change = (payload: object) =>
        ledger.inject({ method: 'POST', url: `/v1/entities/${user.entityId}/payment-settings`, payload });
      expect((await change({ mayPay: false, securityLevel: 'high' })).json()).toMatchObject({
        mayPay: false,
        securityLevel: 'high',
      });
      expect((await change({ mayPay: false })).statusCode).toBe(200);
      expect((await change({})).json().code).toBe('validation_failed');
    });
  });

  it('documents the entity routes in OpenAPI', async () => {
    const doc = (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/entities',
        '/v1/entities/{entityId}',
        '/v1/entities/{entityId}/keys',
        '/v1/entities/{entityId}/keys/{keyNo}/revoke',
        '/v1/entities/{entityId}/payment-password',
        '/v1/entities/{entityId}/payment-settings',
      ]),
    );
    expect(Object.keys(doc.components.securitySchemes)).toEqual([
      'ledgerKeyId',
      'ledgerTimestamp',
      'ledgerNonce',
      'ledgerSignature',
    ]);
  });
});
