import type { Prng } from './prng.js';

/** What a simulated client asks the ledger (amounts in minor units; ids of the client's earlier operations). */
export type Op =
  | { op: 'recharge'; amountMinor: bigint }
  | { op: 'pay'; merchant: number; amountMinor: bigint }
  | { op: 'refund'; paymentId: string; amountMinor: bigint }
  | { op: 'transfer'; to: number; amountMinor: bigint }
  | { op: 'withdraw'; amountMinor: bigint }
  | { op: 'freeze'; amountMinor: bigint }
  | { op: 'release'; freezeId: string }
  | { op: 'deduct'; freezeId: string; merchant: number; amountMinor: bigint }
  | { op: 'preauth'; merchant: number; amountMinor: bigint }
  | { op: 'complete'; preauthId: string; amountMinor: bigint }
  | { op: 'cancelPreauth'; preauthId: string }
  | { op: 'channelPay'; merchant: number; amountMinor: bigint; platform: string }
  | { op: 'channelRefund'; paymentId: string; amountMinor: bigint }
  | { op: 'resolveRecharge'; rechargeId: string }
  | { op: 'resolveWithdrawal'; withdrawalId: string };

export interface Request {
  readonly key: string;
  readonly op: Op;
  tries: number;
}

export interface Client {
  readonly index: number;
  readonly wallet: string;
  serial: number;
  pending: Request | null;
  /** Answered requests, kept to resend one now and then (a duplicate delivery): the answer must not change. */
  readonly answers: Map<string, { request: Request; answer: string }>;
  readonly payments: string[];
  readonly freezes: string[];
  readonly preauths: string[];
  /** Channel payments the channel took (completed), for refunds. */
  readonly channelPayments: string[];
  readonly openRecharges: Set<string>;
  readonly openWithdrawals: Set<string>;
}

/** A client's next request, drawn from the seed: mostly new money movements, now and then one on an earlier operation. */
export function newOp(prng: Prng, client: Client, clients: number, merchants: number): Op {
  const amountMinor = BigInt(1 + prng.below(8_000));
  const kind = prng.weighted<string>([
    [6, 'recharge'],
    [6, 'pay'],
    [2, 'refund'],
    [3, 'transfer'],
    [2, 'withdraw'],
    [2, 'freeze'],
    [1, 'release'],
    [1, 'deduct'],
    [2, 'preauth'],
    [1, 'complete'],
    [1, 'cancelPreauth'],
    [2, 'resolve'],
    [4, 'channelPay'],
    [1, 'channelRefund'],
  ]);
  const merchant = prng.below(merchants);
  switch (kind) {
    case 'refund':
      if (client.payments.length > 0) return { op: 'refund', paymentId: prng.pick(client.payments), amountMinor };
      break;
    case 'transfer':
      return { op: 'transfer', to: prng.below(clients), amountMinor };
    case 'withdraw':
      return { op: 'withdraw', amountMinor };
    case 'freeze':
      return { op: 'freeze', amountMinor };
    case 'release':
      if (client.freezes.length > 0) return { op: 'release', freezeId: prng.pick(client.freezes) };
      break;
    case 'deduct':
      if (client.freezes.length > 0)
        return {
          op: 'deduct',
          freezeId: prng.pick(client.freezes),
          merchant,
          amountMinor: amountMinor / 4n + 1n,
        };
      break;
    case 'preauth':
      return { op: 'preauth', merchant, amountMinor };
    case 'complete':
      if (client.preauths.length > 0)
        return { op: 'complete', preauthId: prng.pick(client.preauths), amountMinor: amountMinor / 2n + 1n };
      break;
    case 'cancelPreauth':
      if (client.preauths.length > 0) return { op: 'cancelPreauth', preauthId: prng.pick(client.preauths) };
      break;
    case 'resolve': {
      const recharge = [...client.openRecharges][0];
      if (recharge) return { op: 'resolveRecharge', rechargeId: recharge };
      const withdrawal = [...client.openWithdrawals][0];
      if (withdrawal) return { op: 'resolveWithdrawal', withdrawalId: withdrawal };
      break;
    }
    case 'pay':
      return { op: 'pay', merchant, amountMinor };
    case 'channelPay':
      return { op: 'channelPay', merchant, amountMinor, platform: prng.pick(['wechat', 'alipay']) };
    case 'channelRefund':
      if (client.channelPayments.length > 0)
        return {
          op: 'channelRefund',
          paymentId: prng.pick(client.channelPayments),
          amountMinor: amountMinor / 3n + 1n,
        };
      break;
  }
  return { op: 'recharge', amountMinor };
}

/**
 * A request answered again (a retry under its key) names the same operation and the same outcome: a
 * refusal or failure stays one, a success stays one. An open answer (the channel's result still to come)
 * may be followed by either; the operation may have moved on meanwhile (a freeze released later).
 */
export function consistentAnswers(first: string, later: string): boolean {
  const [a, b] = [outcomeOf(first), outcomeOf(later)];
  if (a.id !== undefined && b.id !== undefined && a.id !== b.id) return false;
  return a.outcome === 'open' || b.outcome === 'open' || a.outcome === b.outcome;
}

function outcomeOf(answer: string): { id: string | undefined; outcome: 'failed' | 'open' | 'done' } {
  const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(answer)?.[0];
  if (answer.startsWith('refused') || /\b(failed|declined)\b/.test(answer)) return { id, outcome: 'failed' };
  if (/\b(requested|initiated)\b/.test(answer)) return { id, outcome: 'open' };
  return { id, outcome: 'done' };
}

export function describe(op: Op): string {
  return JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

/** The status-like fields of an answer, in a stable form for the trace. */
export function summary(value: unknown): string {
  const out: string[] = [];
  const visit = (v: unknown, path: string, depth: number) => {
    if (depth > 3 || v === null || typeof v !== 'object') return;
    for (const [k, inner] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'status' && typeof inner === 'string') out.push(`${path}${k}=${inner}`);
      else visit(inner, `${path}${k}.`, depth + 1);
    }
  };
  visit(value, '', 0);
  return out.sort().join(' ');
}
