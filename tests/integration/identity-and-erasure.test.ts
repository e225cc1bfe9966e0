import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { TEST_PERSON_ZHANG } from '../../src/adapters/identity/simulator/identity-simulator-config.js';
import { MAX_IDENTITY_ATTEMPTS } from '../../src/adapters/identity/http-identity-verifier.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { BindingExpirySweep } from '../../src/commands/contracts/binding-expiry-sweep.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import type { StartBindingRequest } from '../../src/commands/contracts/card-bindings.js';
import type { VerifyIdentityRequest } from '../../src/commands/identity/identity-verifications.js';
import { CARD_CONTRACTS_PROJECTION } from '../../src/projections/card-contracts.js';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import {
  bindingRequest,
  filesUnder,
  refusal,
  registerPayingUser,
  TEST_PAYMENT_PASSWORD,
} from '../support/binding-fixtures.js';
import { context } from '../support/command-fixtures.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

const PASSWORD = TEST_PAYMENT_PASSWORD;
type Holder = (typeof testCardholders)[0];
const [cityDebit, , icbcDebit, ccbDebit] = testCardholders as [Holder, Holder, Holder, Holder];

/** A ledger of its own for the describe block it is called in (cards are claimed ledger-wide). */
function ledgerForBlock(): () => TestLedger {
  let ledger: TestLedger | undefined;
  beforeAll(async () => {
    ledger = await startLedger();
  }, 30_000);
  afterAll(async () => {
    await ledger?.close();
  });
  return () => ledger!;
}

async function startLedger(): Promise<TestLedger> {
  return startTestLedger(
    undefined,
    { BINDING_EXPIRY_SWEEP_INTERVAL_MS: '0' },
    { service: { identity: { retryPauseMs: 0 } } },
  );
}

function newUser(ledger: TestLedger, phone = '+8613900000001'): Promise<string> {
  return registerPayingUser(ledger.service, phone, 'Identity test');
}

function verification(userId: string, overrides: Partial<VerifyIdentityRequest> = {}): VerifyIdentityRequest {
  return {
    userId,
    requestedBy: 'merchant-test',
    paymentPassword: PASSWORD,
    name: TEST_PERSON_ZHANG.name,
    idNumber: TEST_PERSON_ZHANG.idNumber,
    phone: TEST_PERSON_ZHANG.phone,
    cardNumber: null,
    ...overrides,
  };
}

const binding = bindingRequest;

/** Binds `holder`'s card on the bank path (the bank's code from the simulator's SMS outbox). */
async function bind(ledger: TestLedger, userId: string, holder: Holder, overrides: Partial<StartBindingRequest> = {}) {
  const bindings = ledger.service.cardBindings;
  const started = await bindings.start(binding(userId, holder, overrides), context());
  const outbox = ledger.service.channels.simulator!.smsOutbox().filter((m) => m.maskedPhone === started.maskedPhone);
  return bindings.confirm(started.contractId, secretText(outbox.at(-1)!.code), context());
}

describe('real-name verification through the identity simulator', () => {
  const current = ledgerForBlock();
  let ledger: TestLedger;
  beforeAll(() => {
    ledger = current();
  });

  it('two, three and four elements that match verify the user; the entity shows the masked name', async () => {
    const identity = ledger.service.identity;
    const userId = await newUser(ledger);
    const two = await identity.verify(verification(userId, { phone: null }), context());
    expect(two).toMatchObject({ status: 'verified', elements: ['name', 'id_number'], maskedName: '*三' });
    const four = await identity.verify(
      verification(userId, {
        name: cityDebit.holderName,
        idNumber: cityDebit.idNumber,
        phone: cityDebit.phone,
        cardNumber: cityDebit.cardNumber,
      }),
      context(),
    );
    expect(four).toMatchObject({ status: 'verified', elements: ['name', 'id_number', 'phone', 'card_number'] });
    expect(four.maskedCard).toBe(`000000******${cityDebit.cardNumber.slice(-4)}`);
    // The first verification is the user's identity.
    expect(await identity.identityOf(userId)).toMatchObject({
      verified: true,
      maskedName: '*三',
      source: 'identity_service',
      elements: ['name', 'id_number'],
    });
    expect(await identity.get(userId, two.verificationId)).toEqual(two);
  });

  it('a mismatch names the element, no record is its own refusal; neither verifies the user', async () => {
    const identity = ledger.service.identity;
    const userId = await newUser(ledger);
    const phone = await refusal(identity.verify(verification(userId, { phone: '10000000042' }), context()));
    expect(phone.code).toBe('identity_mismatch');
    expect(phone.details['mismatched']).toBe('phone');
    const name = await refusal(identity.verify(verification(userId, { name: '李四' }), context()));
    expect(name).toMatchObject({ code: 'identity_mismatch', details: { mismatched: 'name' } });
    const card = await refusal(identity.verify(verification(userId, { cardNumber: cityDebit.cardNumber }), context()));
    expect(card.details['mismatched']).toBe('card_number');
    const none = await refusal(identity.verify(verification(userId, { idNumber: 'TEST00000000000777' }), context()));
    expect(none.code).toBe('identity_no_record');
    expect((await identity.get(userId, none.details['verificationId']!))?.status).toBe('no_record');
    expect((await identity.identityOf(userId)).verified).toBe(false);
    expect((await refusal(identity.verify(verification(userId, { paymentPassword: '740261' }), context()))).code).toBe(
      'payment_password_mismatch',
    );
  });

  it('no verdict (outage, 500s, timeouts) is recorded unknown after bounded retries; the same request asks again', async () => {
    const identity = ledger.service.identity;
    const simulator = ledger.service.identityService.simulator!;
    const userId = await newUser(ledger);
    const ctx = context();
    simulator.setFailures({ outage: true });
    const before = simulator.attempts();
    const busy = await refusal(identity.verify(verification(userId), ctx));
    expect(busy.code).toBe('identity_service_unavailable');
    expect(simulator.attempts() - before).toBe(MAX_IDENTITY_ATTEMPTS);
    const verificationId = busy.details['verificationId']!;
    expect((await identity.get(userId, verificationId))?.status).toBe('unknown');
    simulator.setFailures({ outage: false, serverErrorRatePpm: 1_000_000 });
    expect((await refusal(identity.verify(verification(userId), ctx))).code).toBe('identity_service_unavailable');
    // Recovered: the same request (its operation key) asks again, from the sealed elements, and settles it.
    simulator.setFailures({ serverErrorRatePpm: 0 });
    const settled = await identity.verify(verification(userId, { name: 'ignored on a retry' }), ctx);
    expect(settled).toMatchObject({ verificationId, status: 'verified' });
  });

  it('a held answer is a timeout: unknown, never a verdict', async () => {
    const slow = await startTestLedger(
      undefined,
      { IDENTITY_TIMEOUT_MS: '50', BINDING_EXPIRY_SWEEP_INTERVAL_MS: '0' },
      { service: { identity: { retryPauseMs: 0 } } },
    );
    try {
      slow.service.identityService.simulator!.setFailures({ timeoutRatePpm: 1_000_000 });
      const userId = await newUser(slow);
      const held = await refusal(slow.service.identity.verify(verification(userId), context()));
      expect(held.code).toBe('identity_service_unavailable');
      expect((await slow.service.identity.identityOf(userId)).verified).toBe(false);
    } finally {
      await slow.close();
    }
  });

  it('a bound card verifies the user (four elements, by the channel); a verified user binds without name and ID', async () => {
    const identity = ledger.service.identity;
    const userId = await newUser(ledger);
    const bound = await bind(ledger, userId, cityDebit);
    expect(bound.status).toBe('bound');
    expect(await identity.identityOf(userId)).toMatchObject({
      verified: true,
      source: 'card_binding',
      elements: ['name', 'id_number', 'phone', 'card_number'],
      maskedName: `${'*'.repeat(cityDebit.holderName.length - 1)}${cityDebit.holderName.at(-1)}`,
    });
    // Verified by the identity service: the user's card binds without the name and ID number typed again.
    const verified = await newUser(ledger);
    await identity.verify(
      verification(verified, { name: icbcDebit.holderName, idNumber: icbcDebit.idNumber, phone: null }),
      context(),
    );
    const next = await ledger.service.cardBindings.start(
      binding(verified, icbcDebit, { holderName: null, idNumber: null }),
      context(),
    );
    expect(next.status).toBe('pre_bound');
    await ledger.service.cardBindings.cancel(next.contractId, context());
    const unverified = await newUser(ledger);
    expect(
      (
        await refusal(
          ledger.service.cardBindings.start(
            binding(unverified, icbcDebit, { holderName: null, idNumber: null }),
            context(),
          ),
        )
      ).code,
    ).toBe('card_identity_required');
  });
});

describe('erasure of a user', () => {
  const current = ledgerForBlock();
  let ledger: TestLedger;
  beforeAll(() => {
    ledger = current();
  });

  it('unsigns the contracts, revokes the seeds, destroys the data key; events stay, the chain verifies, nothing in clear', async () => {
    const { cardBindings, erasures, vault, identity, paymentCodes, eventStore } = ledger.service;
    const userId = await newUser(ledger);
    await identity.verify(
      verification(userId, { name: cityDebit.holderName, idNumber: cityDebit.idNumber, phone: cityDebit.phone }),
      context(),
    );
    const bound = await bind(ledger, userId, cityDebit);
    expect(bound.status).toBe('bound');
    const inProgress = await cardBindings.start(binding(userId, icbcDebit), context());
    expect(inProgress.status).toBe('pre_bound');
    const seed = await paymentCodes.seeds.issue(
      {
        userId,
        deviceId: 'device-erasure-1',
        accountId: 'wallet-of-the-user',
        currency: parseCurrency('CNY'),
        perCodeLimitMinor: 10_000n,
        dailyLimitMinor: 100_000n,
        ttlSeconds: 3_600,
      },
      context(),
    );

    // A channel that cannot confirm the unsign: the erasure waits, on record, nothing destroyed.
    const simulator = ledger.service.channels.simulator!;
    simulator.setFailures(bound.channelId, { outage: true });
    const waiting = await refusal(
      erasures.erase({ userId, requestedBy: 'op-test', reason: 'user request' }, context()),
    );
    expect(waiting.code).toBe('channel_unavailable');
    expect(waiting.details['contractIds']).toBe(bound.contractId);
    expect(await erasures.get(userId)).toMatchObject({ status: 'requested', reason: 'user request' });
    const { state: started } = await (async () => {
      for await (const event of eventStore.readStream(`bindcard-${bound.contractId}`, { maxCount: 1 }))
        return { state: event };
      throw new Error('no start');
    })();
    const secrets = (started.data as { secrets: Record<string, string> }).secrets;
    expect(await vault.open(secrets['cardNumber']!)).not.toBe('erased');

    simulator.setFailures(bound.channelId, { outage: false });
    const erased = await erasures.erase({ userId, requestedBy: 'op-other', reason: 'asked again' }, context());
    expect(erased).toMatchObject({ status: 'erased', requestedBy: 'op-test', reason: 'user request' });
    expect([...(erased.forgotten?.contracts ?? [])].sort()).toEqual([bound.contractId, inProgress.contractId].sort());
    expect(erased.forgotten?.paymentCodeSeeds).toEqual([seed.seed.seedId]);
    expect(erased.forgotten?.vaultSubjects).toContain(userId);

    // The contracts ended at the channel first.
    expect(await cardBindings.status(bound.contractId)).toMatchObject({
      contract: { status: 'terminated' },
      channel: { state: 'terminated' },
    });
    expect((await cardBindings.get(inProgress.contractId))?.status).toBe('failed');
    expect((await cardBindings.status(inProgress.contractId)).channel).toEqual({ state: 'terminated' });
    expect((await paymentCodes.seeds.list(userId)).seeds[0]?.status).toBe('revoked');
    // Every sealed field of the user answers erased; nothing more can be sealed for it.
    for (const reference of Object.values(secrets)) expect(await vault.open(reference)).toBe('erased');
    expect((await refusal(cardBindings.start(binding(userId, ccbDebit), context()))).code).toBe('user_erased');
    expect((await refusal(identity.verify(verification(userId), context()))).code).toBe('user_erased');
    // Idempotent: asked again, the erasure it was.
    expect(await erasures.erase({ userId, requestedBy: 'op-test', reason: 'again' }, context())).toEqual(erased);

    // The events stay and the hash chain still verifies.
    const chain = await verifyChain(eventStore);
    expect(chain.firstBreak).toBeNull();
    expect(chain.events).toBeGreaterThan(10);

    // No card number or ID number of the test in clear anywhere under the data directory.
    const bytes = Buffer.concat(filesUnder(ledger.dataDir).map((path) => readFileSync(path)));
    for (const holder of [cityDebit, icbcDebit, ccbDebit]) {
      expect(bytes.includes(Buffer.from(holder.cardNumber))).toBe(false);
      expect(bytes.includes(Buffer.from(holder.idNumber))).toBe(false);
    }
  });

  it('only users are erased, and an erasure needs its reason', async () => {
    const userId = await newUser(ledger);
    expect(
      (await refusal(ledger.service.erasures.erase({ userId, requestedBy: 'op-test', reason: ' ' }, context()))).code,
    ).toBe('erasure_reason_required');
    expect(
      (
        await refusal(
          ledger.service.erasures.erase(
            { userId: ledger.operator.entityId, requestedBy: 'op-test', reason: 'no' },
            context(),
          ),
        )
      ).code,
    ).toBe('entity_kind_denies');
  });
});

describe('the binding expiry sweep', () => {
  const current = ledgerForBlock();
  let ledger: TestLedger;
  beforeAll(() => {
    ledger = current();
  });

  it('expires unconfirmed bindings past their time, unsigns pre-bindings, touches nothing early', async () => {
    const { cardBindings, bindingExpirySweep, eventStore, projections } = ledger.service;
    const bank = await cardBindings.start(binding(await newUser(ledger), cityDebit), context());
    const network = await cardBindings.start(binding(await newUser(ledger), icbcDebit), context());
    expect([bank.status, network.status]).toEqual(['awaiting_bank_code', 'pre_bound']);
    const head = await eventStore.headPosition();
    await projections.waitForPosition(CARD_CONTRACTS_PROJECTION, head as bigint, 5_000);

    // Before their time: nothing.
    expect(await bindingExpirySweep.sweep(new Date().toISOString())).toEqual({ expired: 0, failed: 0 });
    expect((await cardBindings.get(bank.contractId))?.status).toBe('awaiting_bank_code');

    const after = new Date(Date.parse(bank.expiresAt) + 60_000).toISOString();
    // The card network does not answer: the pre-binding fails, its unsign is left to the next pass.
    ledger.service.channels.simulator!.setFailures(network.channelId, { outage: true });
    expect(await bindingExpirySweep.sweep(after)).toEqual({ expired: 1, failed: 1 });
    expect((await cardBindings.get(bank.contractId))?.failure).toBe('expired');
    ledger.service.channels.simulator!.setFailures(network.channelId, { outage: false });
    await projections.waitForPosition(CARD_CONTRACTS_PROJECTION, (await eventStore.headPosition()) as bigint, 5_000);
    expect(await bindingExpirySweep.sweep(after)).toEqual({ expired: 1, failed: 0 });
    expect(await cardBindings.status(network.contractId)).toMatchObject({
      contract: { status: 'failed', failure: 'expired' },
      channel: { state: 'terminated' },
    });
    // Settled: the next pass finds nothing.
    await projections.waitForPosition(CARD_CONTRACTS_PROJECTION, (await eventStore.headPosition()) as bigint, 5_000);
    expect(await bindingExpirySweep.sweep(after)).toEqual({ expired: 0, failed: 0 });
  });

  it('is bounded per pass', async () => {
    const { cardBindings, readModels } = ledger.service;
    expect(() => new BindingExpirySweep(cardBindings, readModels, 0)).toThrow(RangeError);
    expect(() => new BindingExpirySweep(cardBindings, readModels, 1_001)).toThrow(RangeError);
  });
});
