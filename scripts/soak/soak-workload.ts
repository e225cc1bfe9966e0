import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { drawBetween, drawPpm } from '../../src/adapters/channels/simulator/seeded-draw.js';
import { PaymentCodes, type PaymentCodeParameters } from '../../src/client/payment-codes/payment-code.js';
import { generatePaymentCode } from '../../src/client/payment-codes/reference-client.js';
import { signScan } from '../../src/client/transit.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import {
  bankCodeFor,
  MAX_BINDINGS_PER_CLIENT,
  maskedSoakCard,
  soakBindingBody,
  soakCardholder,
  type SoakBinding,
} from './soak-card-binding.js';
import type { SoakAnswer, SoakRequest, SoakSender } from './soak-requests.js';

/**
 * One soak client: a user with two wallets, paying the shared shop, sending one request at a time (the
 * clients run side by side), each step an operation kind drawn from the seed. What it was answered is
 * kept per operation; the money each acknowledged answer moved is added to the expected balances.
 */

export const OPERATION_KINDS = [
  'register_entity',
  'open_account',
  'recharge',
  'withdrawal',
  'payment',
  'refund',
  'payment_cancel',
  'freeze',
  'freeze_release',
  'freeze_deduct',
  'preauth',
  'preauth_complete',
  'preauth_completion_cancel',
  'preauth_cancel',
  'transfer',
  'transfer_batch',
  'channel_payment',
  'channel_refund',
  'payment_code_redeem',
  'transit_upload',
  'bind_card',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Draw weights: money movements most often, the steps that need an earlier operation when one is open. */
const WEIGHTS: Record<OperationKind, number> = {
  register_entity: 1,
  open_account: 2,
  recharge: 10,
  withdrawal: 5,
  payment: 12,
  refund: 5,
  payment_cancel: 3,
  freeze: 6,
  freeze_release: 4,
  freeze_deduct: 4,
  preauth: 6,
  preauth_complete: 4,
  preauth_completion_cancel: 2,
  preauth_cancel: 3,
  transfer: 10,
  transfer_batch: 4,
  channel_payment: 6,
  channel_refund: 3,
  payment_code_redeem: 6,
  transit_upload: 5,
  bind_card: 3,
};

export interface SoakOperation {
  readonly client: number;
  readonly step: number;
  readonly kind: OperationKind;
  readonly request: SoakRequest;
  /** Every answer, "ask again" ones included, in order; the last decides. */
  readonly answers: SoakAnswer[];
  /** The request's own answer (null: the retry budget ran out, a breach). */
  final: SoakAnswer | null;
  /** Attempts sent: past 1, the answer is a retry's by the Idempotency-Key. */
  attempts: number;
}

export interface SoakWorld {
  readonly seed: string;
  readonly currency: 'CNY';
  readonly shopAccountId: string;
  readonly channelShopAccountId: string;
  /** The shop's account its transit terminals upload fares to (the scans' operator account). */
  readonly transitAccountId: string;
  /** The shop's merchant id (the payment-code redemptions' lookup by order number names it). */
  readonly merchantId: string;
  readonly card: BoundCard;
  /** Expected balance per account, in minor units, from the acknowledged answers. */
  readonly expected: Map<string, bigint>;
  readonly operations: SoakOperation[];
  /** The setup's recharges (one per wallet, before the load): in the lists and the money in. */
  readonly setupRechargeIds: string[];
  setupRechargedMinor: bigint;
  /** Fares accepted as the payers' debt (their wallets could not pay): owed, in the receivable 1123. */
  transitDebtMinor: bigint;
  /** The payers (the clients' users) with a transit credential: their scan histories and debts are read. */
  readonly transitUserIds: string[];
  /** The channel simulator process (its SMS outbox holds the banks' bind-card codes). */
  readonly simulatorUrl: string;
  /** Every binding the clients started, answered or not (soak-card-binding.ts checks them). */
  readonly bindings: SoakBinding[];
}

/** A payment-code seed as its issuance answered it, kept in the payer's app (here: the client). */
export interface CodeSeed {
  readonly seed: Uint8Array;
  readonly slot: number;
  readonly prefix: number;
  readonly parameters: PaymentCodeParameters;
  /** The last time step a code of this seed was shown in: a seed pays once per step. */
  lastStep: number;
}

/** A payer's phone with its transit credential (docs/transit.md). */
export interface TransitDevice {
  readonly privateKey: KeyObject;
  readonly credential: string;
  readonly credentialId: string;
}

/** What a client pays with besides its wallet's id: its app's payment-code seeds and transit credential. */
export interface ClientInstruments {
  readonly codeSeeds: readonly CodeSeed[];
  readonly transit: TransitDevice;
  /** The user the client binds its cards for (a phone and a payment password set). */
  readonly bindingUserId: string;
}

/** A transit scan as uploaded (the body's shape, POST /v1/transit/scan-batches). */
export interface TransitScan {
  readonly credential: string;
  readonly deviceSignature: string;
  readonly terminalId: string;
  readonly nonce: string;
  readonly scannedAt: string;
  readonly fare: string;
  readonly currency: string;
}
/** Highest fare a soak scan draws: the credentials' fare cap (run-soak.ts issues them with it). */
export const TRANSIT_FARE_CAP_MINOR = 500n;
const MAX_SCANS_PER_UPLOAD = 3;

interface OpenPayment {
  paymentId: string;
  amountMinor: bigint;
  refundedMinor: bigint;
}
interface OpenFreeze {
  freezeId: string;
  remainingMinor: bigint;
}
interface OpenPreauth {
  preauthId: string;
  amountMinor: bigint;
  capturedMinor: bigint | null;
}

export function minorOf(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = (negative ? amount.slice(1) : amount).split('.');
  const minor = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  return negative ? -minor : minor;
}

export function majorOf(amountMinor: bigint): string {
  const sign = amountMinor < 0n ? '-' : '';
  const magnitude = amountMinor < 0n ? -amountMinor : amountMinor;
  return `${sign}${magnitude / 100n}.${String(magnitude % 100n).padStart(2, '0')}`;
}

export class SoakClient {
  private step = 0;
  private readonly payments: OpenPayment[] = [];
  private readonly channelPayments: OpenPayment[] = [];
  private readonly freezes: OpenFreeze[] = [];
  private readonly preauths: OpenPreauth[] = [];
  /** The scans of this client's last acknowledged upload: a terminal may send one again (a duplicate). */
  private lastScans: TransitScan[] = [];
  /** Cards this client has started binding (each a fresh card of its own). */
  private bindingsStarted = 0;

  constructor(
    private readonly index: number,
    private readonly world: SoakWorld,
    private readonly sender: SoakSender,
    private readonly userId: string,
    private readonly wallet: string,
    private readonly otherWallet: string,
    private readonly instruments: ClientInstruments,
  ) {}

  /** Runs steps until `until()` says stop (the soak's duration is over) and at least `minSteps` are done. */
  async run(until: () => boolean, minSteps: number): Promise<void> {
    while (!until() || this.step < minSteps) await this.next();
  }

  private draw(purpose: string, range: { min: number; max: number }): number {
    return drawBetween(this.world.seed, range, 'client', this.index, 'step', this.step, purpose);
  }

  /** 0.01 to `maxMinor` (at most 50.00), drawn. */
  private amount(purpose: string, maxMinor = 5_000n): bigint {
    const max = Number(maxMinor < 5_000n ? maxMinor : 5_000n);
    return BigInt(this.draw(purpose, { min: 1, max: Math.max(1, max) }));
  }

  private pickKind(): OperationKind {
    const possible = OPERATION_KINDS.filter((kind) => this.possible(kind));
    const total = possible.reduce((sum, kind) => sum + WEIGHTS[kind], 0);
    let ticket = (drawPpm(this.world.seed, 'client', this.index, 'step', this.step, 'kind') * total) / 1_000_000;
    for (const kind of possible) {
      ticket -= WEIGHTS[kind];
      if (ticket < 0) return kind;
    }
    return possible.at(-1)!;
  }

  private possible(kind: OperationKind): boolean {
    switch (kind) {
      case 'refund':
      case 'payment_cancel':
        return this.payments.some((p) => p.refundedMinor < p.amountMinor);
      case 'channel_refund':
        return this.channelPayments.some((p) => p.refundedMinor < p.amountMinor);
      case 'freeze_release':
      case 'freeze_deduct':
        return this.freezes.length > 0;
      case 'preauth_complete':
      case 'preauth_cancel':
        return this.preauths.some((p) => p.capturedMinor === null);
      case 'preauth_completion_cancel':
        return this.preauths.some((p) => p.capturedMinor !== null);
      case 'payment_code_redeem':
        return this.freeCodeSeed(Date.now()) !== undefined;
      case 'bind_card':
        return this.bindingsStarted < MAX_BINDINGS_PER_CLIENT;
      default:
        return true;
    }
  }

  private pickFrom<T>(items: readonly T[], purpose: string): T {
    return items[this.draw(purpose, { min: 0, max: items.length - 1 })]!;
  }

  /** A seed that has not shown a code in the step of `atMs` (a second code of a step is refused as used). */
  private freeCodeSeed(atMs: number): CodeSeed | undefined {
    return this.instruments.codeSeeds.find((s) => s.lastStep < new PaymentCodes(s.parameters).stepAt(atMs));
  }

  /** One tap of this client's phone at a terminal: a fresh nonce, signed by the device. */
  private scan(terminalId: string, fareMinor: bigint): TransitScan {
    const device = this.instruments.transit;
    const scannedAt = new Date().toISOString();
    const nonce = randomBytes(16).toString('hex');
    const challenge = {
      credentialId: device.credentialId,
      terminalId,
      scannedAtMs: Date.parse(scannedAt),
      nonceHex: nonce,
    };
    return {
      credential: device.credential,
      deviceSignature: signScan(challenge, device.privateKey),
      terminalId,
      nonce,
      scannedAt,
      fare: majorOf(fareMinor),
      currency: this.world.currency,
    };
  }

  private async next(): Promise<void> {
    this.step += 1;
    const kind = this.pickKind();
    const key = `soak-${this.world.seed}-${this.index}-${this.step}`;
    const orderNo = `soak-${this.world.seed}-${this.index}-${this.step}`;
    const currency = this.world.currency;
    const shop = this.world.shopAccountId;
    /** `keySuffix`: a step's second request (a binding's confirm) under a key of its own. */
    const send = async (request: Omit<SoakRequest, 'idempotencyKey'>, keySuffix = '') => {
      const operation: SoakOperation = {
        client: this.index,
        step: this.step,
        kind,
        request: { ...request, idempotencyKey: `${key}${keySuffix}` },
        answers: [],
        final: null,
        attempts: 0,
      };
      this.world.operations.push(operation);
      const { answers, final, attempts } = await this.sender.untilAnswered(operation.request);
      operation.answers.push(...answers);
      operation.final = final;
      operation.attempts = attempts;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of an acknowledged answer
      return final !== null && final.status < 300 ? (final.body as any) : null;
    };
    const move = (accountId: string, deltaMinor: bigint) =>
      this.world.expected.set(accountId, (this.world.expected.get(accountId) ?? 0n) + deltaMinor);
    /** From one account to another, as an acknowledged answer moved it. */
    const moved = (from: string, to: string, amountMinor: bigint) => {
      move(from, -amountMinor);
      move(to, amountMinor);
    };
    /** A balance payment's or a pre-authorisation's order: this client's wallet pays the shop. */
    const order = (amountMinor: bigint) => ({
      payerAccountId: this.wallet,
      payeeAccountId: shop,
      amount: majorOf(amountMinor),
      currency,
      merchantOrderNo: orderNo,
    });

    switch (kind) {
      case 'register_entity': {
        await send({ method: 'POST', path: '/v1/entities', body: { kind: 'user', displayName: `Soak ${key}` } });
        return;
      }
      case 'open_account': {
        const opened = await send({
          method: 'POST',
          path: '/v1/accounts',
          body: { ownerId: this.userId, type: 'wallet', currency },
        });
        if (opened) this.world.expected.set(opened.accountId, 0n);
        return;
      }
      case 'recharge': {
        const amountMinor = this.amount('amount', 20_000n);
        const payer = { method: 'quick_pay', card: this.world.card };
        const body = { accountId: this.wallet, amount: majorOf(amountMinor), currency, payer };
        await send({ method: 'POST', path: '/v1/recharges', body });
        // Its effect is read from the ledger at the end (a 202 finishes later): see channelOutcomes.
        return;
      }
      case 'withdrawal': {
        const amountMinor = this.amount('amount');
        const body = { accountId: this.wallet, amount: majorOf(amountMinor), currency, payee: this.world.card };
        await send({ method: 'POST', path: '/v1/withdrawals', body });
        return;
      }
      case 'payment': {
        const amountMinor = this.amount('amount');
        const paid = await send({
          method: 'POST',
          path: '/v1/payments',
          body: order(amountMinor),
        });
        if (paid?.status === 'completed') {
          moved(this.wallet, shop, amountMinor);
          this.payments.push({ paymentId: paid.paymentId, amountMinor, refundedMinor: 0n });
        }
        return;
      }
      case 'refund': {
        const payment = this.pickFrom(
          this.payments.filter((p) => p.refundedMinor < p.amountMinor),
          'payment',
        );
        const amountMinor = this.amount('amount', payment.amountMinor - payment.refundedMinor);
        const refunded = await send({
          method: 'POST',
          path: `/v1/payments/${payment.paymentId}/refunds`,
          body: { refundNo: `RF-${this.step}`, amount: majorOf(amountMinor), currency, reason: 'soak' },
        });
        if (refunded) {
          payment.refundedMinor += amountMinor;
          moved(shop, this.wallet, amountMinor);
        }
        return;
      }
      case 'payment_cancel': {
        const payment = this.pickFrom(
          this.payments.filter((p) => p.refundedMinor < p.amountMinor),
          'payment',
        );
        const cancelled = await send({
          method: 'POST',
          path: `/v1/payments/${payment.paymentId}/cancel`,
          body: { reason: 'soak' },
        });
        if (cancelled?.status === 'cancelled') {
          this.payments.splice(this.payments.indexOf(payment), 1);
          moved(shop, this.wallet, payment.amountMinor);
        }
        return;
      }
      case 'freeze': {
        const amountMinor = this.amount('amount');
        const frozen = await send({
          method: 'POST',
          path: `/v1/accounts/${this.wallet}/freezes`,
          body: { amount: majorOf(amountMinor), currency, reason: 'soak' },
        });
        if (frozen?.status === 'placed') this.freezes.push({ freezeId: frozen.freezeId, remainingMinor: amountMinor });
        return;
      }
      case 'freeze_release': {
        const freeze = this.pickFrom(this.freezes, 'freeze');
        const released = await send({
          method: 'POST',
          path: `/v1/freezes/${freeze.freezeId}/release`,
          body: { amount: majorOf(freeze.remainingMinor), currency, reason: 'soak' },
        });
        if (released) this.freezes.splice(this.freezes.indexOf(freeze), 1);
        return;
      }
      case 'freeze_deduct': {
        const freeze = this.pickFrom(this.freezes, 'freeze');
        const amountMinor = this.amount('amount', freeze.remainingMinor);
        const deducted = await send({
          method: 'POST',
          path: `/v1/freezes/${freeze.freezeId}/deduct`,
          body: { amount: majorOf(amountMinor), currency, payeeAccountId: shop },
        });
        if (deducted) {
          moved(this.wallet, shop, amountMinor);
          freeze.remainingMinor -= amountMinor;
          if (freeze.remainingMinor === 0n) this.freezes.splice(this.freezes.indexOf(freeze), 1);
        }
        return;
      }
      case 'preauth': {
        const amountMinor = this.amount('amount');
        const held = await send({
          method: 'POST',
          path: '/v1/preauths',
          body: order(amountMinor),
        });
        if (held?.status === 'authorised')
          this.preauths.push({ preauthId: held.preauthId, amountMinor, capturedMinor: null });
        return;
      }
      case 'preauth_complete': {
        const preauth = this.pickFrom(
          this.preauths.filter((p) => p.capturedMinor === null),
          'preauth',
        );
        const capturedMinor = this.amount('amount', preauth.amountMinor);
        const completed = await send({
          method: 'POST',
          path: `/v1/preauths/${preauth.preauthId}/complete`,
          body: { amount: majorOf(capturedMinor), currency },
        });
        if (completed?.status === 'completed') {
          preauth.capturedMinor = capturedMinor;
          moved(this.wallet, shop, capturedMinor);
        }
        return;
      }
      case 'preauth_completion_cancel': {
        const preauth = this.pickFrom(
          this.preauths.filter((p) => p.capturedMinor !== null),
          'preauth',
        );
        const uncompleted = await send({ method: 'POST', path: `/v1/preauths/${preauth.preauthId}/completion/cancel` });
        if (uncompleted?.status === 'authorised') {
          moved(shop, this.wallet, preauth.capturedMinor!);
          preauth.capturedMinor = null;
        }
        return;
      }
      case 'preauth_cancel': {
        const preauth = this.pickFrom(
          this.preauths.filter((p) => p.capturedMinor === null),
          'preauth',
        );
        const cancelled = await send({ method: 'POST', path: `/v1/preauths/${preauth.preauthId}/cancel` });
        if (cancelled?.status === 'cancelled') this.preauths.splice(this.preauths.indexOf(preauth), 1);
        return;
      }
      case 'transfer': {
        const amountMinor = this.amount('amount');
        const [from, to] =
          this.draw('direction', { min: 0, max: 1 }) === 0
            ? [this.wallet, this.otherWallet]
            : [this.otherWallet, this.wallet];
        const sent = await send({
          method: 'POST',
          path: '/v1/transfers',
          body: { fromAccountId: from, toAccountId: to, amount: majorOf(amountMinor), currency },
        });
        if (sent?.status === 'completed') {
          moved(from, to, amountMinor);
        }
        return;
      }
      case 'transfer_batch': {
        const count = this.draw('items', { min: 1, max: 4 });
        const items = Array.from({ length: count }, (_, i) => {
          const [from, to] = i % 2 === 0 ? [this.wallet, this.otherWallet] : [this.otherWallet, this.wallet];
          return { fromAccountId: from, toAccountId: to, amount: majorOf(this.amount(`item-${i}`)), currency };
        });
        const mode = this.draw('mode', { min: 0, max: 1 }) === 0 ? 'all_or_nothing' : 'independent';
        const batch = await send({ method: 'POST', path: '/v1/transfer-batches', body: { mode, items } });
        for (const item of (batch?.items ?? []) as {
          status: string;
          fromAccountId: string;
          toAccountId: string;
          amount: string;
        }[]) {
          if (item.status !== 'completed') continue;
          moved(item.fromAccountId, item.toAccountId, minorOf(item.amount));
        }
        return;
      }
      case 'channel_payment': {
        const amountMinor = this.amount('amount');
        const paid = await send({
          method: 'POST',
          path: '/v1/channel-payments',
          body: {
            payeeAccountId: this.world.channelShopAccountId,
            amount: majorOf(amountMinor),
            currency,
            merchantOrderNo: orderNo,
            instrument: { method: 'quick_pay', card: this.world.card },
            payer: { ip: '198.51.100.9', deviceId: `soak-device-${this.index}` },
          },
        });
        if (paid?.status === 'completed')
          this.channelPayments.push({ paymentId: paid.paymentId, amountMinor, refundedMinor: 0n });
        return;
      }
      case 'channel_refund': {
        const payment = this.pickFrom(
          this.channelPayments.filter((p) => p.refundedMinor < p.amountMinor),
          'payment',
        );
        const amountMinor = this.amount('amount', payment.amountMinor - payment.refundedMinor);
        const refunded = await send({
          method: 'POST',
          path: `/v1/channel-payments/${payment.paymentId}/refunds`,
          body: { refundNo: `RF-${this.step}`, amount: majorOf(amountMinor), currency, reason: 'soak' },
        });
        if (refunded) payment.refundedMinor += amountMinor;
        return;
      }
      case 'payment_code_redeem': {
        // The payer's app shows its code now; the shop's terminal scans it and redeems it as the merchant.
        const atMs = Date.now();
        const seed = this.freeCodeSeed(atMs)!;
        const shown = generatePaymentCode({ ...seed, atMs });
        seed.lastStep = shown.step;
        const amountMinor = this.amount('amount');
        const redeemed = await send({
          method: 'POST',
          path: '/v1/payment-codes/redeem',
          as: 'merchant',
          body: {
            code: shown.code,
            amount: majorOf(amountMinor),
            currency,
            merchantOrderNo: orderNo,
            terminalId: `till-${this.index}`,
            payeeAccountId: shop,
          },
        });
        if (redeemed?.payment?.status === 'completed') {
          moved(this.wallet, shop, amountMinor);
          // An ordinary balance payment: refunded and cancelled as any other.
          this.payments.push({ paymentId: redeemed.payment.paymentId, amountMinor, refundedMinor: 0n });
        }
        return;
      }
      case 'transit_upload': {
        const count = this.draw('scans', { min: 1, max: MAX_SCANS_PER_UPLOAD });
        const scans = Array.from({ length: count }, (_, i) =>
          this.scan(`bus-${this.index}-${i}`, this.amount(`fare-${i}`, TRANSIT_FARE_CAP_MINOR)),
        );
        // A terminal sending a scan it uploaded before (a double read, a lost answer): refused as a duplicate.
        if (this.lastScans.length > 0 && this.draw('repeat', { min: 0, max: 2 }) === 0)
          scans.push(this.pickFrom(this.lastScans, 'repeated'));
        const uploaded = await send({
          method: 'POST',
          path: '/v1/transit/scan-batches',
          as: 'merchant',
          body: { batchId: randomUUID(), operatorAccountId: this.world.transitAccountId, scans },
        });
        if (!uploaded) return;
        const results = uploaded.results as { index: number; status: string }[];
        for (const result of results) {
          const fareMinor = minorOf(scans[result.index]!.fare);
          if (result.status === 'charged') moved(this.wallet, this.world.transitAccountId, fareMinor);
          if (result.status === 'debt') {
            move(this.world.transitAccountId, fareMinor);
            this.world.transitDebtMinor += fareMinor;
          }
        }
        this.lastScans = results.filter((r) => r.status !== 'refused').map((r) => scans[r.index]!);
        return;
      }
      case 'bind_card': {
        this.bindingsStarted += 1;
        const holder = soakCardholder(this.index, this.bindingsStarted);
        const userId = this.instruments.bindingUserId;
        const binding: SoakBinding = {
          userId,
          maskedCard: maskedSoakCard(holder),
          contractId: null,
          acknowledgedBound: false,
        };
        this.world.bindings.push(binding);
        const started = await send({
          method: 'POST',
          path: '/v1/card-contracts',
          body: soakBindingBody(userId, holder),
        });
        if (started === null) return;
        binding.contractId = started.contractId;
        // The bank texted its code at verify (the simulator outlives the kills, its outbox too); a retry
        // that verified again texted a newer one: the newest is the one the bank takes.
        const code =
          started.status === 'awaiting_bank_code'
            ? await bankCodeFor(this.world.simulatorUrl, started.maskedPhone)
            : null;
        if (code === null) return;
        const confirmed = await send(
          { method: 'POST', path: `/v1/card-contracts/${started.contractId}/confirm`, body: { code } },
          '-confirm',
        );
        if (confirmed?.status === 'bound') binding.acknowledgedBound = true;
        return;
      }
    }
  }
}
