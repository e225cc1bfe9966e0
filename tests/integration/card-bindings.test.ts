import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import { bindingRequest, filesUnder, refusal } from '../support/binding-fixtures.js';
import { context } from '../support/command-fixtures.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

const PASSWORD = '583920';
const [cityDebit, cityCredit, icbcDebit, ccbDebit] = testCardholders as [
  (typeof testCardholders)[0],
  (typeof testCardholders)[0],
  (typeof testCardholders)[0],
  (typeof testCardholders)[0],
];

/**
 * The binding process through the in-process channel simulator: its bank (verify_then_sign: the bank's
 * code from its SMS outbox) and its card network (sign_at_verify: pre-bound, our own code through the SMS
 * gateway), the card claims, the four-element refusals, unbind, and the data directory holding no card
 * or ID number in clear afterwards.
 */
describe('card bindings through the in-process simulator', () => {
  let ledger: TestLedger;
  let seq = 0;
  const user = async (phone: string | null = '+8613900000001') => {
    const entities = ledger.service.entities;
    const { entityId } = await entities.register({ kind: 'user', displayName: `Binder ${++seq}`, phone }, context());
    await entities.setPaymentPassword(entityId, { newPassword: PASSWORD, currentPassword: null }, context(), {
      takeover: false,
    });
    return entityId;
  };
  const request = bindingRequest;
  const simulator = () => ledger.service.channels.simulator!;

  beforeAll(async () => {
    ledger = await startTestLedger();
  }, 30_000);
  afterAll(async () => {
    await ledger.close();
  });

  it('bank path: the bank texts its code, the contract is signed with it: bound', async () => {
    const bindings = ledger.service.cardBindings;
    const userId = await user();
    const started = await bindings.start(request(userId, cityDebit), context());
    expect(started).toMatchObject({ status: 'awaiting_bank_code', signing: 'verify_then_sign', contractNo: null });
    expect(started.maskedCard).toBe('000000******' + cityDebit.cardNumber.slice(-4));
    const sms = simulator()
      .smsOutbox()
      .filter((m) => m.maskedPhone === started.maskedPhone)
      .at(-1)!;
    const wrong = sms.code === '000000' ? '111111' : '000000';
    expect((await refusal(bindings.confirm(started.contractId, secretText(wrong), context()))).code).toBe(
      'verification_code_invalid',
    );
    const bound = await bindings.confirm(started.contractId, secretText(sms.code), context());
    expect(bound).toMatchObject({ status: 'bound', contractId: started.contractId });
    expect(bound.contractNo).not.toBeNull();
    expect((await bindings.status(started.contractId)).channel).toEqual({ state: 'active' });

    // The same card again by the same user: its contract; by another user: refused.
    expect(await bindings.start(request(userId, cityDebit), context())).toMatchObject({
      contractId: started.contractId,
    });
    const other = await user();
    expect((await refusal(bindings.start(request(other, cityDebit), context()))).code).toBe(
      'card_bound_to_another_user',
    );

    // Unbind: unsigned at the channel, terminated, the card free again.
    expect(await bindings.unbind(started.contractId, 'unbound', context())).toMatchObject({ status: 'terminated' });
    expect((await bindings.status(started.contractId)).channel).toEqual({ state: 'terminated' });
    const again = await bindings.start(request(other, cityDebit), context());
    expect(again.status).toBe('awaiting_bank_code');
    await bindings.cancel(again.contractId, context());
  });

  it('pre-bind path: signed at verify, pre-bound; our own code binds it', async () => {
    const bindings = ledger.service.cardBindings;
    const userId = await user();
    const started = await bindings.start(request(userId, icbcDebit), context());
    expect(started).toMatchObject({ status: 'pre_bound', signing: 'sign_at_verify' });
    // One binding of a card at a time: the same user again while it is pre-bound is refused.
    expect((await refusal(bindings.start(request(userId, icbcDebit), context()))).code).toBe(
      'card_binding_in_progress',
    );
    const sms = simulator()
      .smsOutbox()
      .find((m) => m.verificationId.endsWith('-1') && m.maskedPhone === started.maskedPhone)!;
    expect(sms).toBeDefined();
    expect(await bindings.confirm(started.contractId, secretText(sms.code), context())).toMatchObject({
      status: 'bound',
    });
  });

  it('pre-bind path: wrong codes too often fail it and unsign the pre-binding at the channel', async () => {
    const bindings = ledger.service.cardBindings;
    const userId = await user();
    const started = await bindings.start(request(userId, ccbDebit), context());
    expect(started.status).toBe('pre_bound');
    const sms = simulator()
      .smsOutbox()
      .filter((m) => m.maskedPhone === started.maskedPhone)
      .at(-1)!;
    const wrong = sms.code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 2; i++)
      expect((await refusal(bindings.confirm(started.contractId, secretText(wrong), context()))).code).toBe(
        'verification_code_invalid',
      );
    expect((await refusal(bindings.confirm(started.contractId, secretText(wrong), context()))).code).toBe(
      'verification_failed',
    );
    const { contract, channel } = await bindings.status(started.contractId);
    expect(contract).toMatchObject({ status: 'failed', failure: 'attempts_exhausted' });
    expect(channel).toEqual({ state: 'terminated' });
    // Released: the card can be bound again.
    expect((await bindings.start(request(userId, ccbDebit), context())).status).toBe('pre_bound');
  });

  it('the four-element refusals are distinct problem codes; the preconditions are checked first', async () => {
    const bindings = ledger.service.cardBindings;
    const userId = await user();
    const mismatch = await refusal(
      bindings.start(request(userId, cityCredit, { holderName: 'Someone Else' }), context()),
    );
    expect(mismatch.code).toBe('card_elements_mismatch');
    const details = await refusal(bindings.start(request(userId, cityCredit, { cvn2: null }), context()));
    expect(details.code).toBe('card_details_invalid');
    const unknownCard = await refusal(
      bindings.start(request(userId, cityDebit, { cardNumber: '0000000099000004' }), context()),
    );
    expect(['card_invalid', 'card_not_supported']).toContain(unknownCard.code);
    const password = await refusal(
      bindings.start(request(userId, cityCredit, { paymentPassword: '740261' }), context()),
    );
    expect(password.code).toBe('payment_password_mismatch');
    const noPhone = await user(null);
    expect((await refusal(bindings.start(request(noPhone, cityCredit), context()))).code).toBe(
      'entity_contact_missing',
    );
    // A mismatch released the card: the right elements bind it.
    expect((await bindings.start(request(userId, cityCredit), context())).status).toBe('awaiting_bank_code');
  });

  it('leaves no card number or ID number in clear anywhere under the data directory', async () => {
    const bytes = Buffer.concat(filesUnder(ledger.dataDir).map((path) => readFileSync(path)));
    for (const holder of testCardholders) {
      expect(bytes.includes(Buffer.from(holder.cardNumber))).toBe(false);
      expect(bytes.includes(Buffer.from(holder.idNumber))).toBe(false);
      expect(bytes.includes(Buffer.from(holder.holderName))).toBe(false);
    }
  });
});
