import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import { TEST_PERSON_ZHANG } from '../../src/adapters/identity/simulator/identity-simulator-config.js';
import { filesUnder } from '../support/binding-fixtures.js';
import { context } from '../support/command-fixtures.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

const PASSWORD = '583920';

type Step =
  | { readonly kind: 'start'; readonly holder: number; readonly user: number; readonly wrongName: boolean }
  | { readonly kind: 'confirm'; readonly right: boolean }
  | { readonly kind: 'resend' }
  | { readonly kind: 'cancel' }
  | { readonly kind: 'unbind' }
  | { readonly kind: 'verify'; readonly holder: number; readonly user: number; readonly elements: 2 | 3 | 4 };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('start' as const),
    holder: fc.nat({ max: testCardholders.length - 1 }),
    user: fc.nat({ max: 1 }),
    wrongName: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('confirm' as const), right: fc.boolean() }),
  fc.constant({ kind: 'resend' as const }),
  fc.constant({ kind: 'cancel' as const }),
  fc.constant({ kind: 'unbind' as const }),
  fc.record({
    kind: fc.constant('verify' as const),
    holder: fc.nat({ max: testCardholders.length }),
    user: fc.nat({ max: 1 }),
    elements: fc.constantFrom(2 as const, 3 as const, 4 as const),
  }),
);

/**
 * Whatever the commands and their order (bindings started, right and wrong codes, resends, cancels,
 * unbinds, real-name verifications of 2, 3 and 4 elements, refusals of every kind), no file under the data directory ever holds a test card's number,
 * ID number or holder name in clear: not the event log, the vault, the read models nor their WAL files.
 */
describe('card and identity data at rest (property)', () => {
  let ledger: TestLedger;
  const users: string[] = [];

  beforeAll(async () => {
    ledger = await startTestLedger();
    for (const n of [1, 2]) {
      const { entityId } = await ledger.service.entities.register(
        { kind: 'user', displayName: `Property user ${n}`, phone: `+861390000000${n}` },
        context(),
      );
      await ledger.service.entities.setPaymentPassword(
        entityId,
        { newPassword: PASSWORD, currentPassword: null },
        context(),
        { takeover: false },
      );
      users.push(entityId);
    }
  }, 30_000);
  afterAll(async () => {
    await ledger.close();
  });

  it('no sequence of commands leaves a clear card or ID number anywhere on disk', async () => {
    const bindings = ledger.service.cardBindings;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const contracts: string[] = [];
        for (const s of steps) {
          const last = contracts.at(-1);
          try {
            if (s.kind === 'verify') {
              // A real-name verification (the last holder index: the Chinese-named test person, no card).
              const holder = testCardholders[s.holder];
              const person = holder
                ? { name: holder.holderName, idNumber: holder.idNumber, phone: holder.phone, card: holder.cardNumber }
                : { ...TEST_PERSON_ZHANG, card: null };
              await ledger.service.identity.verify(
                {
                  userId: users[s.user]!,
                  requestedBy: 'property-merchant',
                  paymentPassword: PASSWORD,
                  name: person.name,
                  idNumber: person.idNumber,
                  phone: s.elements >= 3 ? person.phone : null,
                  cardNumber: s.elements === 4 ? person.card : null,
                },
                context(),
              );
            } else if (s.kind === 'start') {
              const holder = testCardholders[s.holder]!;
              const started = await bindings.start(
                {
                  userId: users[s.user]!,
                  requestedBy: 'property-merchant',
                  paymentPassword: PASSWORD,
                  cardNumber: holder.cardNumber,
                  holderName: s.wrongName ? `${holder.holderName} X` : holder.holderName,
                  idNumber: holder.idNumber,
                  phone: holder.phone,
                  expiry: holder.cardKind === 'credit' ? '1230' : null,
                  cvn2: holder.cardKind === 'credit' ? '123' : null,
                },
                context(),
              );
              contracts.push(started.contractId);
            } else if (last !== undefined) {
              const contract = (await bindings.get(last))!;
              if (s.kind === 'confirm') {
                const sms = ledger.service.channels
                  .simulator!.smsOutbox()
                  .filter((m) => m.maskedPhone === contract.maskedPhone)
                  .at(-1);
                const code = s.right && sms ? sms.code : '999999';
                await bindings.confirm(last, secretText(code), context());
              } else if (s.kind === 'resend') {
                const holder = testCardholders.find((h) => h.cardNumber.endsWith(contract.maskedCard.slice(-4)))!;
                await bindings.resend(last, holder.phone, context());
              } else if (s.kind === 'cancel') await bindings.cancel(last, context());
              else await bindings.unbind(last, 'unbound', context());
            }
          } catch (error) {
            // Refusals are part of the sequence; anything else is a failure of the property.
            if (!(error instanceof DomainError)) throw error;
          }
        }
        // Leave the cards free for the next run.
        for (const contractId of contracts) {
          const contract = await bindings.get(contractId);
          if (contract?.status === 'bound') await bindings.unbind(contractId, 'unbound', context());
          else if (contract && ['verifying', 'awaiting_bank_code', 'pre_bound'].includes(contract.status))
            await bindings.cancel(contractId, context());
        }
        const bytes = Buffer.concat(filesUnder(ledger.dataDir).map((path) => readFileSync(path)));
        expect(bytes.includes(Buffer.from(TEST_PERSON_ZHANG.idNumber))).toBe(false);
        expect(bytes.includes(Buffer.from(TEST_PERSON_ZHANG.name))).toBe(false);
        for (const holder of testCardholders) {
          expect(bytes.includes(Buffer.from(holder.cardNumber))).toBe(false);
          expect(bytes.includes(Buffer.from(holder.idNumber))).toBe(false);
          expect(bytes.includes(Buffer.from(holder.holderName))).toBe(false);
        }
      }),
      { numRuns: 8 },
    );
  }, 120_000);
});
