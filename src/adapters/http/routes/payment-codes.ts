import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Secret } from 'otpauth';
import { z } from 'zod';
import { PAYMENT_CODE_PATTERN } from '../../../client/payment-codes/payment-code.js';
import { MAX_SEED_TTL_SECONDS } from '../../../commands/payment-codes/payment-code-seeds.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DEVICE_ID, PAYMENT_CODE_ENTITY_ID, TERMINAL_ID } from '../../../domain/payment-codes/payment-code-events.js';
import type { Redemption, Seed } from '../../../domain/payment-codes/seed-decider.js';
import type { ExistingPayment } from '../../../domain/payments/payment-state.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { accountNotFound, principalOf, requireAccountOwner, requireOperator } from '../authorization.js';
import { answeredInOneCommit, commandContextOf, runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { payerPasswordField, requirePayerConsent, requirePayerMayPay, takePayerPassword } from '../payer-consent.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { merchantOrderNo, paymentView, toPaymentView } from './payments.js';

/**
 * Offline payment codes (docs/payment-codes.md). Seeds are issued, listed and revoked by operators only:
 * the platform's login service signs as an operator when a user logs in on a device. A merchant never
 * touches seeds (a merchant that could issue a seed for a user could pay itself from that user's wallet);
 * users never call the API. Merchants redeem codes at their terminals, into their own accounts.
 */
const userParams = z.object({ userId: PAYMENT_CODE_ENTITY_ID.describe('The user (payer) entity id') });
const seedParams = userParams.extend({ seedId: z.uuid() });

export const issueSeedBody = z
  .strictObject({
    deviceId: DEVICE_ID.describe("The device's id as the app reports it; one seed per user and device"),
    accountId: accountIdString.describe("The user's wallet the codes pay from (its currency is the limits')"),
    perCodeLimit: amountString.describe('The most one code pays without the payer confirming'),
    dailyLimit: amountString.describe("The most the seed's codes pay per accounting day, at least perCodeLimit"),
    ttlSeconds: z
      .int()
      .min(60)
      .max(MAX_SEED_TTL_SECONDS)
      .default(30 * 86_400)
      .describe('How long the seed lives (default 30 days)'),
  })
  .meta({
    example: { deviceId: 'ios-7f3a9c', accountId: '1015550123456782', perCodeLimit: '200.00', dailyLimit: '1000.00' },
  });

export const revokeSeedBody = z
  .strictObject({
    reason: z.enum(['user', 'operator', 'risk']).describe('user: the user asked; risk: e.g. a device reported rooted'),
    note: z.string().max(200).default(''),
  })
  .meta({ example: { reason: 'risk', note: 'device reported rooted' } });

export const seedView = z
  .object({
    seedId: z.uuid(),
    userId: z.string(),
    deviceId: z.string().describe('Masked: its last four characters'),
    status: z.enum(['live', 'revoked', 'expired']),
    revocation: z.object({ reason: z.string(), note: z.string(), at: z.string() }).nullable(),
    accountId: accountIdString,
    currency: currencyString,
    perCodeLimit: amountString,
    dailyLimit: amountString,
    issuedAt: z.string(),
    expiresAt: z.string(),
    position: positionString.optional(),
  })
  .meta({ id: 'PaymentCodeSeed' });

export const issuedSeedView = seedView
  .extend({
    seed: z.string().describe('The seed, RFC 4648 base32: shown in this answer only, never again; keep it in the app'),
    slot: z.int().describe("The seed's slot, the first half of every code before the permutation"),
    prefix: z.int().describe("The code's prefix (10..15): names the permutation key"),
    permutationKey: z.string().describe("The prefix's FF1 key (hex): public, the same in every app"),
    algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']),
    stepSeconds: z.int(),
  })
  .meta({ id: 'IssuedPaymentCodeSeed' });

export const redeemBody = z
  .strictObject({
    code: z.string().regex(PAYMENT_CODE_PATTERN, '18 digits starting 10..15').describe('The code as scanned'),
    amount: amountString,
    currency: currencyString,
    merchantOrderNo,
    terminalId: TERMINAL_ID.describe("The merchant's terminal that scanned the code"),
    payeeAccountId: accountIdString.describe("The merchant's own account the money goes to"),
    description: z.string().max(200).default(''),
    payerPassword: payerPasswordField.describe(
      "The payer's payment password, entered on the terminal's PIN pad when a redemption was refused payment_code_confirmation_required (above the seed's per-code limit, or a risk step-up): send the same order again with it (a new Idempotency-Key; the same or the next code). Never stored or logged.",
    ),
  })
  .meta({
    example: {
      code: '102202262513802927',
      amount: '12.50',
      currency: 'CNY',
      merchantOrderNo: 'POS-20261201-0001',
      terminalId: 'till-03',
      payeeAccountId: '2014440123456787',
    },
  });

export const redemptionView = z
  .object({
    paymentId: z.uuid(),
    seedId: z.uuid(),
    merchantId: z.string(),
    merchantOrderNo: z.string(),
    terminalId: z.string(),
    amount: amountString,
    currency: currencyString,
    step: z.int().describe('The time step of the code'),
    at: z.string(),
    risk: z
      .object({
        ruleVersion: z.string(),
        verdict: z.enum(['allow', 'review', 'step_up']),
        rules: z.array(z.string()).describe('The ids of the rules that fired'),
        confirmedBy: z.enum(['payment_password']).nullable().describe('How the payer confirmed, when it had to'),
      })
      .nullable()
      .describe('The risk verdict (null on redemptions recorded before the rules judged codes)'),
  })
  .meta({ id: 'PaymentCodeRedemption' });

export const redeemedView = z
  .object({
    redemption: redemptionView,
    payment: paymentView,
    position: positionString.describe('Pass as minPosition to read the payment back from the read models'),
  })
  .meta({ id: 'RedeemedPaymentCode' });

export const seedListView = z.object({ items: z.array(seedView) }).meta({ id: 'PaymentCodeSeedList' });
export const redemptionListView = z
  .object({ items: z.array(redemptionView) })
  .meta({ id: 'PaymentCodeRedemptionList' });

function masked(deviceId: string): string {
  return `${'*'.repeat(Math.max(0, deviceId.length - 4))}${deviceId.slice(-4)}`;
}

function toSeedView(seed: Seed, at: string, position?: bigint): z.output<typeof seedView> {
  const expired = Date.parse(at) >= Date.parse(seed.expiresAt);
  return {
    seedId: seed.seedId,
    userId: seed.userId,
    deviceId: masked(seed.deviceId),
    status: seed.status === 'revoked' ? 'revoked' : expired ? 'expired' : 'live',
    revocation: seed.revocation,
    accountId: seed.accountId,
    currency: seed.currency,
    perCodeLimit: formatAmount(seed.perCodeLimitMinor, seed.currency),
    dailyLimit: formatAmount(seed.dailyLimitMinor, seed.currency),
    issuedAt: seed.issuedAt,
    expiresAt: seed.expiresAt,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

function toRedemptionView(redemption: Redemption): z.output<typeof redemptionView> {
  return {
    paymentId: redemption.paymentId,
    seedId: redemption.seedId,
    merchantId: redemption.merchantId,
    merchantOrderNo: redemption.merchantOrderNo,
    terminalId: redemption.terminalId,
    amount: formatAmount(redemption.amountMinor, redemption.currency),
    currency: redemption.currency,
    step: redemption.step,
    at: redemption.at,
    risk: redemption.risk
      ? {
          ruleVersion: redemption.risk.ruleVersion,
          verdict: redemption.risk.verdict,
          rules: redemption.risk.fired.map((rule) => rule.ruleId),
          confirmedBy: redemption.risk.confirmedBy,
        }
      : null,
  };
}

export function paymentCodeRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const { paymentCodes } = service;
  /** Seeds belong to registered users: another id is 404, whoever asks (an operator). */
  async function requireUser(userId: string): Promise<void> {
    const entity = await service.entities.get(userId);
    if (!entity || entity.kind !== 'user')
      throw new DomainError('entity_not_found', `user ${userId} does not exist`, { entityId: userId });
  }
  return async (app) => {
    app.post(
      '/v1/users/:userId/payment-code-seeds',
      {
        schema: {
          tags: ['payment codes'],
          summary: "Issue a payment-code seed for a user's device (at login)",
          description:
            "Operators only (the platform's login service). Revokes the user's seed on that device and another user's seed there. The answer carries the seed, the only time it is shown: it is kept sealed in the vault and never answered again (a retry with the same Idempotency-Key is refused payment_code_seed_answered: issue with a new key). The wallet must be the user's.",
          headers: idempotencyHeaders,
          params: userParams,
          body: issueSeedBody,
          response: {
            201: issuedSeedView,
            ...problemResponses(
              'forbidden',
              'entity_not_found',
              'account_not_found',
              'invalid_amount',
              'payment_code_seed_answered',
              'payment_code_seed_limit',
              'payment_code_slots_exhausted',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { userId } = request.params;
        await requireUser(userId);
        const body = request.body;
        const account = await service.commands.getAccountState(body.accountId);
        if (!account.exists || account.ownerId !== userId) throw accountNotFound(body.accountId);
        const perCode = parseAmount(body.perCodeLimit, account.currency);
        const daily = parseAmount(body.dailyLimit, account.currency);
        if (daily.amountMinor < perCode.amountMinor)
          throw new DomainError('invalid_amount', 'the daily limit is below the per-code limit', {});
        // Not through the recorded answers (runCommand): they are events, and this answer holds the seed.
        const issued = await paymentCodes.seeds.issue(
          {
            userId,
            deviceId: body.deviceId,
            accountId: body.accountId,
            currency: account.currency,
            perCodeLimitMinor: perCode.amountMinor,
            dailyLimitMinor: daily.amountMinor,
            ttlSeconds: body.ttlSeconds,
          },
          commandContextOf(request, service.clock),
        );
        const { seed } = issued;
        const key = service.config.paymentCodes.keys.get(seed.prefix)!;
        await reply.status(201).send({
          ...toSeedView(seed, seed.issuedAt, issued.position),
          seed: new Secret({ buffer: Uint8Array.from(issued.secret).buffer }).base32,
          slot: seed.slot,
          prefix: seed.prefix,
          permutationKey: key.toString('hex').toUpperCase(),
          algorithm: seed.algorithm,
          stepSeconds: seed.stepSeconds,
        });
        issued.secret.fill(0);
      },
    );

    app.get(
      '/v1/users/:userId/payment-code-seeds',
      {
        schema: {
          tags: ['payment codes'],
          summary: "A user's payment-code seeds, masked",
          description: 'Operators only. Newest first, from the event store; never a seed, a slot or a full device id.',
          params: userParams,
          response: {
            200: seedListView,
            ...problemResponses('forbidden', 'entity_not_found'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        await requireUser(request.params.userId);
        const { seeds } = await paymentCodes.seeds.list(request.params.userId);
        const at = service.clock.now().toISO()!;
        return { items: seeds.map((seed) => toSeedView(seed, at)) };
      },
    );

    app.post(
      '/v1/users/:userId/payment-code-seeds/:seedId/revoke',
      {
        schema: {
          tags: ['payment codes'],
          summary: 'Revoke a payment-code seed',
          description:
            "Operators only, with the reason (the user asked, the operator's own decision, or risk such as a rooted device). The seed is forgotten in the vault (crypto-shredded); its codes are refused payment_code_revoked on every instance from now. Revoking a revoked seed changes nothing.",
          headers: idempotencyHeaders,
          params: seedParams,
          body: revokeSeedBody,
          response: {
            200: seedView,
            ...problemResponses('forbidden', 'entity_not_found', 'payment_code_seed_not_found'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { userId, seedId } = request.params;
        await requireUser(userId);
        await runCommand(request, reply, service, async (context) => {
          const { seed, position } = await paymentCodes.seeds.revoke(userId, seedId, request.body, context);
          return { statusCode: 200, body: toSeedView(seed, context.occurredAt, position) };
        });
      },
    );

    app.get(
      '/v1/users/:userId/payment-code-redemptions',
      {
        schema: {
          tags: ['payment codes'],
          summary: "A user's payment-code history: the codes redeemed",
          description: 'Operators only. The newest 100 redemptions, newest first, from the event store.',
          params: userParams,
          response: {
            200: redemptionListView,
            ...problemResponses('forbidden', 'entity_not_found'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        await requireUser(request.params.userId);
        const { state } = await paymentCodes.seeds.list(request.params.userId);
        return { items: [...state.redemptions].reverse().map(toRedemptionView) };
      },
    );

    app.post(
      '/v1/payment-codes/redeem',
      {
        schema: {
          tags: ['payment codes'],
          summary: "Redeem a payer's payment code: pay the merchant from the payer's wallet",
          description:
            "Merchants only, into their own account. The code is checked for the server's time step within PAYMENT_CODE_WINDOW_STEPS; it pays once per seed and step (payment_code_used, on any instance); the risk rules judge it (risk_blocked; a step-up, like an amount above the seed's per-code limit, is refused payment_code_confirmation_required until the same order comes again with the payer's payment password in payerPassword), above its daily limit payment_code_daily_limit; a refusal records nothing, so the code stays usable. Every wrong code answers payment_code_wrong and counts against the terminal and the slot (payment_code_rate_limited). Then an ordinary balance payment, idempotent by the merchant order number.",
          headers: idempotencyHeaders,
          body: redeemBody,
          response: {
            201: redeemedView,
            ...problemResponses(
              ...MONEY_MOVEMENT_CODES,
              'duplicate_order_no',
              'insufficient_funds',
              'same_account',
              'payment_code_wrong',
              'payment_code_revoked',
              'payment_code_expired',
              'payment_code_used',
              'payment_code_currency_mismatch',
              'payment_code_confirmation_required',
              'payment_code_daily_limit',
              'payment_code_rate_limited',
              'payer_may_not_pay',
              'risk_blocked',
              'payer_password_invalid',
              'payer_password_not_set',
              'payer_password_locked',
            ),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'merchant')
          throw new DomainError('forbidden', 'payment codes are redeemed by merchants: sign as the merchant', {});
        const body = request.body;
        const payerPassword = takePayerPassword(body);
        const amount = parseAmount(body.amount, parseCurrency(body.currency));
        const payee = await service.commands.getAccountState(body.payeeAccountId);
        if (!payee.exists) throw accountNotFound(body.payeeAccountId);
        requireAccountOwner(request, body.payeeAccountId, payee.ownerId);
        const redeemRequest = {
          code: body.code,
          merchantId: principal.entityId,
          payeeAccountId: body.payeeAccountId,
          amount,
          merchantOrderNo: body.merchantOrderNo,
          terminalId: body.terminalId,
          description: body.description,
          payerConfirmed: false,
        };
        // Checked before the key is claimed (it reads the vault, and a one-commit decision cannot wait);
        // a refusal is thrown inside runCommand, so that a retry of an answered request replays its answer.
        const checked = await paymentCodes.redemptions
          .check(redeemRequest, commandContextOf(request, service.clock))
          .then(
            (code) => ({ code, refusal: null }),
            (refusal: unknown) => ({
              code: null,
              refusal: refusal instanceof Error ? refusal : new Error(String(refusal)),
            }),
          );
        // The code is the payer's consent; a payer barred from paying is refused all the same. Its payment
        // password, when given, confirms what the code alone may not pay (wrong ones count per payer).
        let confirmed = redeemRequest;
        if (checked.code && payerPassword !== undefined) {
          await requirePayerConsent(service, request, checked.code.seed.userId, payerPassword);
          confirmed = { ...redeemRequest, payerConfirmed: true };
        } else if (checked.code) await requirePayerMayPay(service, checked.code.seed.userId);
        const view = (redeemed: { redemption: Redemption; payment: ExistingPayment }, position: bigint) => ({
          redemption: toRedemptionView(redeemed.redemption),
          payment: toPaymentView(redeemed.payment),
          position: position.toString(),
        });
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            if (checked.refusal !== null) throw checked.refusal;
            const redeemed = await paymentCodes.redemptions.redeem(confirmed, context, checked.code ?? undefined);
            const { payment } = redeemed;
            if (payment.status === 'failed' && payment.failure) {
              throw new HttpProblem(422, payment.failure.reasonCode, 'Payment failed', payment.failure.reason, {
                details: { paymentId: payment.order.paymentId },
              });
            }
            return { statusCode: 201, body: view(redeemed, redeemed.position) };
          },
          (context) =>
            checked.code &&
            answeredInOneCommit(
              paymentCodes.redemptions.redeemInOneCommit(checked.code, confirmed, context),
              201,
              view,
            ),
        );
      },
    );
  };
}
