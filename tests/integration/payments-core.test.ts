import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import {
  OneCommitUnsuitableError,
  type OneCommitDecisions,
  type TrackedStream,
} from '../../src/commands/one-commit.js';
import { cny, commandFixture, context, openFunded } from '../support/command-fixtures.js';
import { payeeFor, whileChannelsDecline } from '../support/test-channels.js';

type Fixture = ReturnType<typeof commandFixture>;

async function balances(f: Fixture, accountId: string) {
  const state = await f.commands.getAccountState(accountId);
  if (!state.exists) throw new Error('no account');
  return { balance: state.balanceMinor, available: availableMinor(state), frozen: state.frozenMinor };
}

async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('payments core, on the embedded event store', () => {
  let f: Fixture;
  beforeAll(() => {
    f = commandFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  describe('balance payments', () => {
    it('moves money from the payer wallet to the merchant account', async () => {
      const payer = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-1');
      const { payment, position } = await f.commands.pay(
        {
          merchantId: 'm-1',
          merchantOrderNo: 'order-1',
          description: 'coffee',
          payerAccountId: payer,
          payeeAccountId: merchant,
          amount: cny('12.50'),
          payerIp: '203.0.113.7',
          payerPlatform: 'ios',
        },
        context(),
      );
      expect(payment.status).toBe('completed');
      expect(position > 0n).toBe(true);
      expect(payment.order.payer).toMatchObject({ accountId: payer, ip: '203.0.113.7', platform: 'ios' });
      expect(await balances(f, payer)).toEqual({ balance: 8_750n, available: 8_750n, frozen: 0n });
      expect(await balances(f, merchant)).toEqual({ balance: 1_250n, available: 1_250n, frozen: 0n });
    });

    it('refuses insufficient funds and records nothing', async () => {
      const payer = await openFunded(f.commands, 'wallet', '5.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-2');
      const before = (await f.eventStore.readAll({ after: 'start', maxCount: 10_000 })).length;
      const code = await refused(
        f.commands.pay(
          {
            merchantId: 'm-2',
            merchantOrderNo: 'o',
            description: '',
            payerAccountId: payer,
            payeeAccountId: merchant,
            amount: cny('5.01'),
            payerIp: null,
            payerPlatform: null,
          },
          context(),
        ),
      );
      expect(code).toBe('insufficient_funds');
      expect((await f.eventStore.readAll({ after: 'start', maxCount: 10_000 })).length).toBe(before);
    });

    it('pays an order number once: a retry resumes, other terms are refused', async () => {
      const payer = await openFunded(f.commands, 'wallet', '50.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-3');
      const request = {
        merchantId: 'm-3',
        merchantOrderNo: 'dup-1',
        description: '',
        payerAccountId: payer,
        payeeAccountId: merchant,
        amount: cny('10.00'),
        payerIp: null,
        payerPlatform: null,
      };
      const first = await f.commands.pay(request, context());
      const again = await f.commands.pay(request, context());
      expect(again.payment.order.paymentId).toBe(first.payment.order.paymentId);
      expect(await balances(f, payer)).toMatchObject({ balance: 4_000n });
      expect(await refused(f.commands.pay({ ...request, amount: cny('11.00') }, context()))).toBe('duplicate_order_no');
    });

    it('says which rule refused: flag, frozen account, currency', async () => {
      const payer = await openFunded(f.commands, 'wallet', '50.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-4');
      const pay = (orderNo: string, amount = cny('1.00')) =>
        f.commands.pay(
          {
            merchantId: 'm-4',
            merchantOrderNo: orderNo,
            description: '',
            payerAccountId: payer,
            payeeAccountId: merchant,
            amount,
            payerIp: null,
            payerPlatform: null,
          },
          context(),
        );
      const state = await f.commands.getAccountState(payer);
      if (!state.exists) throw new Error('no account');
      await f.commands.changeAccountFlags(payer, { ...state.flags, mayPay: false }, 'risk review', context());
      expect(await refused(pay('a'))).toBe('account_flag_denies');
      await f.commands.changeAccountFlags(payer, { ...state.flags, mayPay: true }, 'cleared', context());
      await f.commands.changeAccountStatus(merchant, 'frozen', 'investigation', context());
      expect(await refused(pay('b'))).toBe('account_not_active');
      await f.commands.changeAccountStatus(merchant, 'active', 'cleared', context());
      expect((await pay('c')).payment.status).toBe('completed');
    });
  });

  describe('cancellations and refunds', () => {
    async function paid(amount: string) {
      const payer = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-r');
      const { payment } = await f.commands.pay(
        {
          merchantId: 'm-r',
          merchantOrderNo: `r-${Math.random()}`,
          description: '',
          payerAccountId: payer,
          payeeAccountId: merchant,
          amount: cny(amount),
          payerIp: null,
          payerPlatform: null,
        },
        context(),
      );
      return { payer, merchant, paymentId: payment.order.paymentId };
    }

    it('cancels a same-day payment in full', async () => {
      const { payer, merchant, paymentId } = await paid('30.00');
      const { payment } = await f.commands.cancelPayment(paymentId, 'customer changed mind', context());
      expect(payment.status).toBe('cancelled');
      expect(await balances(f, payer)).toMatchObject({ balance: 10_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 0n });
    });

    it('refunds partially, several times, never above what was paid', async () => {
      const { payer, paymentId } = await paid('30.00');
      await f.commands.refundPayment({ paymentId, refundNo: 'rf-1', amount: cny('10.00'), reason: '' }, context());
      await f.commands.refundPayment({ paymentId, refundNo: 'rf-2', amount: cny('15.00'), reason: '' }, context());
      expect(
        await refused(
          f.commands.refundPayment({ paymentId, refundNo: 'rf-3', amount: cny('5.01'), reason: '' }, context()),
        ),
      ).toBe('refund_exceeds_payment');
      const { payment } = await f.commands.refundPayment(
        { paymentId, refundNo: 'rf-3', amount: cny('5.00'), reason: '' },
        context(),
      );
      expect(payment.refundedMinor).toBe(3_000n);
      expect(await balances(f, payer)).toMatchObject({ balance: 10_000n });
      expect(
        await refused(
          f.commands.refundPayment({ paymentId, refundNo: 'rf-1', amount: cny('1.00'), reason: '' }, context()),
        ),
      ).toBe('duplicate_refund_no');
      expect(await refused(f.commands.cancelPayment(paymentId, '', context()))).toBe('operation_state_conflict');
    });

    it('fails a refund the merchant cannot cover, leaving everything as it was', async () => {
      const { merchant, paymentId } = await paid('30.00');
      const other = await openFunded(f.commands, 'wallet', null);
      const state = await f.commands.getAccountState(merchant);
      if (!state.exists) throw new Error('no account');
      // The merchant spends its takings elsewhere first.
      await f.commands.changeAccountFlags(merchant, { ...state.flags, maySendTransfers: true }, 'test', context());
      await f.commands.transfer(
        { fromAccountId: merchant, toAccountId: other, amount: cny('25.00'), memo: '' },
        context(),
      );
      expect(
        await refused(
          f.commands.refundPayment({ paymentId, refundNo: 'big', amount: cny('10.00'), reason: '' }, context()),
        ),
      ).toBe('insufficient_funds');
      const payment = await f.commands.getPayment(paymentId);
      expect(payment.refundedMinor).toBe(0n);
      expect(payment.refunds.get('big')?.status).toBe('failed');
      // The failed refund's reservation is gone: a smaller one still fits.
      const { payment: after } = await f.commands.refundPayment(
        { paymentId, refundNo: 'small', amount: cny('5.00'), reason: '' },
        context(),
      );
      expect(after.refundedMinor).toBe(500n);
    });

    it('decides a refund whole for one commit, and leaves one the merchant cannot cover to the process', async () => {
      const { payer, merchant, paymentId } = await paid('30.00');
      const coordinator = f.commands.oneCommit;
      if (!coordinator) throw new Error('the embedded store commits an operation whole');
      const payment = await f.commands.getPayment(paymentId);
      const refund = (refundNo: string, amount: string) => {
        const command = f.commands.refundInOneCommit(
          { paymentId, refundNo, amount: cny(amount), reason: '' },
          context(),
          payment,
        );
        return coordinator.commit(command.streams, command.decide);
      };
      const { value } = await refund('whole-1', '10.00');
      expect(value.payment.refunds.get('whole-1')?.status).toBe('completed');
      expect(await balances(f, payer)).toMatchObject({ balance: 8_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 2_000n });
      // The same refund number again, and a refund the merchant cannot cover, are the process's to answer.
      await expect(refund('whole-1', '10.00')).rejects.toBeInstanceOf(OneCommitUnsuitableError);
      const state = await f.commands.getAccountState(merchant);
      if (!state.exists) throw new Error('no account');
      const other = await openFunded(f.commands, 'wallet', null);
      await f.commands.changeAccountFlags(merchant, { ...state.flags, maySendTransfers: true }, 'test', context());
      await f.commands.transfer(
        { fromAccountId: merchant, toAccountId: other, amount: cny('15.00'), memo: '' },
        context(),
      );
      await expect(refund('whole-2', '10.00')).rejects.toBeInstanceOf(OneCommitUnsuitableError);
      const after = await f.commands.getPayment(paymentId);
      expect(after.refunds.has('whole-2')).toBe(false);
      expect(await balances(f, merchant)).toMatchObject({ balance: 500n });
    });
  });

  describe('retrying a failed cancellation', () => {
    it('cancels once on the second attempt, with nothing moved twice', async () => {
      const payer = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-retry');
      const other = await openFunded(f.commands, 'wallet', '50.00');
      const { payment } = await f.commands.pay(
        {
          merchantId: 'm-retry',
          merchantOrderNo: 'retry-1',
          description: '',
          payerAccountId: payer,
          payeeAccountId: merchant,
          amount: cny('30.00'),
          payerIp: null,
          payerPlatform: null,
        },
        context(),
      );
      const merchantState = await f.commands.getAccountState(merchant);
      if (!merchantState.exists) throw new Error('no account');
      await f.commands.changeAccountFlags(
        merchant,
        { ...merchantState.flags, maySendTransfers: true, mayReceiveTransfers: true },
        'test',
        context(),
      );
      // The merchant moves most of the takings away: the first cancellation cannot take them back.
      await f.commands.transfer(
        { fromAccountId: merchant, toAccountId: other, amount: cny('25.00'), memo: '' },
        context(),
      );
      expect(await refused(f.commands.cancelPayment(payment.order.paymentId, '', context()))).toBe(
        'insufficient_funds',
      );
      expect((await f.commands.getPayment(payment.order.paymentId)).status).toBe('completed');
      // The money comes back; a second cancellation goes through, exactly once.
      await f.commands.transfer(
        { fromAccountId: other, toAccountId: merchant, amount: cny('25.00'), memo: '' },
        context(),
      );
      const { payment: cancelled } = await f.commands.cancelPayment(payment.order.paymentId, '', context());
      expect(cancelled.status).toBe('cancelled');
      expect(await balances(f, payer)).toMatchObject({ balance: 10_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 0n });
      const payerEvents = await f.commands.getAccountEvents(payer);
      expect(
        payerEvents.filter((e) => e.type === 'FundsCredited' && e.data.kind === 'payment_cancellation'),
      ).toHaveLength(1);
    });
  });

  describe('freezes', () => {
    it('freezes, releases part, deducts part to a payee', async () => {
      const wallet = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-f');
      const { freeze } = await f.commands.placeFreeze(
        { accountId: wallet, amount: cny('60.00'), reason: 'order 42' },
        context(),
      );
      expect(freeze.status).toBe('placed');
      expect(await balances(f, wallet)).toEqual({ balance: 10_000n, available: 4_000n, frozen: 6_000n });
      await f.commands.releaseFreeze(freeze.request.freezeId, 1_000n, 'partial cancel', context());
      expect(await balances(f, wallet)).toEqual({ balance: 10_000n, available: 5_000n, frozen: 5_000n });
      await f.commands.deductFromFreeze(
        { freezeId: freeze.request.freezeId, amountMinor: 4_000n, payeeAccountId: merchant, memo: 'shipped' },
        context(),
      );
      expect(await balances(f, wallet)).toEqual({ balance: 6_000n, available: 5_000n, frozen: 1_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 4_000n });
      expect(
        await refused(
          f.commands.deductFromFreeze(
            { freezeId: freeze.request.freezeId, amountMinor: 1_001n, payeeAccountId: merchant, memo: '' },
            context(),
          ),
        ),
      ).toBe('deduction_exceeds_frozen');
      const { freeze: released } = await f.commands.releaseFreeze(freeze.request.freezeId, null, 'rest', context());
      expect(released.remainingMinor).toBe(0n);
      expect(await balances(f, wallet)).toEqual({ balance: 6_000n, available: 6_000n, frozen: 0n });
    });

    it('refuses to freeze more than is available', async () => {
      const wallet = await openFunded(f.commands, 'wallet', '10.00');
      expect(
        await refused(f.commands.placeFreeze({ accountId: wallet, amount: cny('10.01'), reason: '' }, context())),
      ).toBe('insufficient_funds');
    });
  });

  describe('pre-authorisations', () => {
    async function authorised(amount: string) {
      const payer = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-p');
      const { preauth } = await f.commands.authorisePreauth(
        {
          merchantId: 'm-p',
          merchantOrderNo: `p-${Math.random()}`,
          payerAccountId: payer,
          payeeAccountId: merchant,
          amount: cny(amount),
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
        context(),
      );
      return { payer, merchant, preauthId: preauth.request.preauthId, preauth };
    }

    it('holds, then cancels in full', async () => {
      const { payer, preauthId, preauth } = await authorised('40.00');
      expect(preauth.status).toBe('authorised');
      expect(await balances(f, payer)).toEqual({ balance: 10_000n, available: 6_000n, frozen: 4_000n });
      await f.commands.cancelPreauth(preauthId, 'merchant', context());
      expect(await balances(f, payer)).toEqual({ balance: 10_000n, available: 10_000n, frozen: 0n });
    });

    it('completes below the hold once, releasing the rest; cancelling the completion restores the hold', async () => {
      const { payer, merchant, preauthId } = await authorised('40.00');
      expect(await refused(f.commands.completePreauth(preauthId, cny('40.01'), context()))).toBe(
        'capture_exceeds_authorisation',
      );
      const { preauth } = await f.commands.completePreauth(preauthId, cny('30.00'), context());
      expect(preauth.status).toBe('completed');
      expect(await balances(f, payer)).toEqual({ balance: 7_000n, available: 7_000n, frozen: 0n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 3_000n });
      expect(await refused(f.commands.completePreauth(preauthId, cny('1.00'), context()))).toBe(
        'operation_state_conflict',
      );

      const { preauth: again } = await f.commands.cancelPreauthCompletion(preauthId, context());
      expect(again.status).toBe('authorised');
      expect(await balances(f, payer)).toEqual({ balance: 10_000n, available: 6_000n, frozen: 4_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 0n });
      const { preauth: completed } = await f.commands.completePreauth(preauthId, cny('40.00'), context());
      expect(completed.status).toBe('completed');
      expect(await balances(f, payer)).toEqual({ balance: 6_000n, available: 6_000n, frozen: 0n });
    });
  });

  describe('one commit, then the process under the same key', () => {
    /** Commits `whole` in one multi-stream append, as the HTTP layer does for a new key. */
    async function inOneCommit<T>(
      whole: { streams: readonly TrackedStream[]; decide: (decisions: OneCommitDecisions) => T } | null,
    ): Promise<T> {
      const coordinator = f.commands.oneCommit;
      if (!coordinator || !whole) throw new Error('the embedded store commits an operation whole');
      return (await coordinator.commit(whole.streams, whole.decide)).value;
    }

    it('finds each operation done and moves no money again (cancellation, release, deduction, pre-authorisation)', async () => {
      const payer = await openFunded(f.commands, 'wallet', '100.00');
      const merchant = await openFunded(f.commands, 'merchant_settlement', null, 'm-o');
      const { payment } = await f.commands.pay(
        {
          merchantId: 'm-o',
          merchantOrderNo: `o-${Math.random()}`,
          description: '',
          payerAccountId: payer,
          payeeAccountId: merchant,
          amount: cny('10.00'),
          payerIp: null,
          payerPlatform: null,
        },
        context(),
      );
      const paymentId = payment.order.paymentId;
      const cancelling = context();
      const cancelled = await inOneCommit(f.commands.cancelInOneCommit(paymentId, 'asked', cancelling, payment));
      expect(cancelled.status).toBe('cancelled');
      expect((await f.commands.cancelPayment(paymentId, 'asked', cancelling)).payment.status).toBe('cancelled');
      expect(await balances(f, payer)).toMatchObject({ balance: 10_000n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 0n });

      const { freeze } = await f.commands.placeFreeze(
        { accountId: payer, amount: cny('30.00'), reason: '' },
        context(),
      );
      const freezeId = freeze.request.freezeId;
      const releasing = context();
      await inOneCommit(f.commands.releaseInOneCommit(freeze, 1_000n, 'part', releasing));
      await f.commands.releaseFreeze(freezeId, 1_000n, 'part', releasing);
      expect(await balances(f, payer)).toEqual({ balance: 10_000n, available: 8_000n, frozen: 2_000n });
      const deduct = { freezeId, amountMinor: 1_500n, payeeAccountId: merchant, memo: 'shipped' };
      const deducting = context();
      const deducted = await inOneCommit(
        f.commands.deductInOneCommit(await f.commands.getFreeze(freezeId), deduct, deducting),
      );
      const again = await f.commands.deductFromFreeze(deduct, deducting);
      expect(again.deductionId).toBe(deducted.deductionId);
      expect(await balances(f, payer)).toEqual({ balance: 8_500n, available: 8_000n, frozen: 500n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 1_500n });

      const authorisation = {
        merchantId: 'm-o',
        merchantOrderNo: `o-${Math.random()}`,
        payerAccountId: payer,
        payeeAccountId: merchant,
        amount: cny('40.00'),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      };
      const authorising = context();
      const held = await inOneCommit(f.commands.authoriseInOneCommit(authorisation, authorising));
      expect((await f.commands.authorisePreauth(authorisation, authorising)).preauth).toEqual(held);
      expect(await balances(f, payer)).toEqual({ balance: 8_500n, available: 4_000n, frozen: 4_500n });
      const preauthId = held.request.preauthId;
      const completing = context();
      await inOneCommit(f.commands.completeInOneCommit(held, cny('25.00'), completing));
      expect((await f.commands.completePreauth(preauthId, cny('25.00'), completing)).preauth.status).toBe('completed');
      expect(await balances(f, payer)).toEqual({ balance: 6_000n, available: 5_500n, frozen: 500n });
      expect(await balances(f, merchant)).toMatchObject({ balance: 4_000n });
      const uncompleting = context();
      const completed = await f.commands.getPreauth(preauthId);
      await inOneCommit(f.commands.cancelCompletionInOneCommit(completed, uncompleting));
      expect((await f.commands.cancelPreauthCompletion(preauthId, uncompleting)).preauth.status).toBe('authorised');
      expect(await balances(f, payer)).toEqual({ balance: 8_500n, available: 4_000n, frozen: 4_500n });
      // A second cancellation of the completion (another key) is refused: the authorisation is valid again.
      await expect(inOneCommit(f.commands.cancelCompletionInOneCommit(completed, context()))).rejects.toMatchObject({
        code: 'operation_state_conflict',
      });
      const cancelling2 = context();
      await inOneCommit(f.commands.cancelPreauthInOneCommit(await f.commands.getPreauth(preauthId), cancelling2));
      expect((await f.commands.cancelPreauth(preauthId, 'merchant', cancelling2)).preauth.status).toBe('cancelled');
      expect(await balances(f, payer)).toEqual({ balance: 8_500n, available: 8_000n, frozen: 500n });
      // Cancelled already: the process answers it as it is.
      await expect(
        inOneCommit(f.commands.cancelPreauthInOneCommit(await f.commands.getPreauth(preauthId), context())),
      ).rejects.toBeInstanceOf(OneCommitUnsuitableError);
    });
  });

  describe('transfers and withdrawals', () => {
    it('transfers between wallets and withdraws to a card', async () => {
      const a = await openFunded(f.commands, 'wallet', '20.00');
      const b = await openFunded(f.commands, 'wallet', null);
      const { transfer } = await f.commands.transfer(
        { fromAccountId: a, toAccountId: b, amount: cny('7.00'), memo: 'dinner' },
        context(),
      );
      expect(transfer.status).toBe('completed');
      const { withdrawal } = await f.commands.withdraw(
        { accountId: b, amount: cny('5.00'), payee: await payeeFor(f.commands) },
        context(),
      );
      expect(withdrawal.status).toBe('completed');
      expect(await balances(f, b)).toMatchObject({ balance: 200n });
    });

    it('credits the wallet back when the channel declines the payout', async () => {
      const a = await openFunded(f.commands, 'wallet', '20.00');
      const payee = await payeeFor(f.commands);
      const { withdrawal } = await whileChannelsDecline(f.channels, () =>
        f.commands.withdraw({ accountId: a, amount: cny('5.99'), payee }, context()),
      );
      expect(withdrawal.status).toBe('failed');
      expect(await balances(f, a)).toMatchObject({ balance: 2_000n });
    });

    it('resumes, as its process, a withdrawal whose first commit is all that was recorded', async () => {
      const coordinator = f.commands.oneCommit;
      if (!coordinator) throw new Error('the embedded store commits an operation whole');
      for (const [amount, status, balance] of [
        ['5.00', 'completed', 1_500n],
        ['5.99', 'failed', 2_000n],
      ] as const) {
        const a = await openFunded(f.commands, 'wallet', '20.00');
        const request = { accountId: a, amount: cny(amount), payee: await payeeFor(f.commands) };
        const ctx = context();
        const inTwo = f.commands.withdrawalInTwoCommits(request, ctx);
        if (!inTwo) throw new Error('a known channel takes two commits');
        // The request and the debit are durable; the process stopped before the payout (a crash).
        await coordinator.commit(inTwo.request.streams, inTwo.request.decide);
        expect(await balances(f, a)).toMatchObject({ balance: 2_000n - request.amount.amountMinor });
        const resume = () => f.commands.withdraw(request, ctx);
        const { withdrawal } = await (status === 'failed' ? whileChannelsDecline(f.channels, resume) : resume());
        expect(withdrawal.status).toBe(status);
        expect(await balances(f, a)).toMatchObject({ balance });
        // The debit was recorded once, by the first commit: the process found it instead of debiting again.
        const debits = (await f.commands.getAccountEvents(a)).filter(
          (e) => e.type === 'FundsDebited' && e.data.kind === 'withdrawal',
        );
        expect(debits).toHaveLength(1);
      }
    });
  });
});
