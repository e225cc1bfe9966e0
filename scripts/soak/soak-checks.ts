import { isDeepStrictEqual } from 'node:util';
import { checkBindings } from './soak-card-binding.js';
import type { SoakSender } from './soak-requests.js';
import {
  majorOf,
  minorOf,
  type OperationKind,
  type SoakOperation,
  type SoakWorld,
  type TransitScan,
} from './soak-workload.js';

/**
 * The soak's verdict, read from the ledger itself once the load is over and the service is up again:
 * every acknowledged operation found once, every answer replayed as first given, balances as the
 * acknowledged answers moved them, the books balanced and the money conserved.
 */

export interface CheckReport {
  /** Checks run, by name (each counted once per item it was run on). */
  readonly checks: Record<string, number>;
  /** Acknowledged operations the ledger does not have. */
  lost: number;
  /** Operations the ledger has twice or without an acknowledged answer, and balances moved twice. */
  doubled: number;
  readonly breaches: string[];
}

/** Where the ledger keeps each kind's record: the lookup route and the id the answer names. */
const LOOKUPS: Partial<Record<OperationKind, { path: (id: string) => string; idField: string; readModel?: true }>> = {
  register_entity: { path: (id) => `/v1/entities/${id}`, idField: 'entityId' },
  // An account is read from the balances read model: read at the log's head (the others, from their streams).
  open_account: { path: (id) => `/v1/accounts/${id}`, idField: 'accountId', readModel: true },
  recharge: { path: (id) => `/v1/recharges/${id}`, idField: 'rechargeId' },
  withdrawal: { path: (id) => `/v1/withdrawals/${id}`, idField: 'withdrawalId' },
  payment: { path: (id) => `/v1/payments/${id}`, idField: 'paymentId' },
  freeze: { path: (id) => `/v1/freezes/${id}`, idField: 'freezeId' },
  preauth: { path: (id) => `/v1/preauths/${id}`, idField: 'preauthId' },
  transfer: { path: (id) => `/v1/transfers/${id}`, idField: 'transferId' },
  transfer_batch: { path: (id) => `/v1/transfer-batches/${id}`, idField: 'batchId' },
  channel_payment: { path: (id) => `/v1/channel-payments/${id}`, idField: 'paymentId' },
};

/** The operation lists whose ids must be exactly the acknowledged ones, per account filtered on. */
const LISTS: { kind: OperationKind; route: string; idField: string }[] = [
  { kind: 'recharge', route: '/v1/recharges', idField: 'rechargeId' },
  { kind: 'withdrawal', route: '/v1/withdrawals', idField: 'withdrawalId' },
  { kind: 'payment', route: '/v1/payments', idField: 'paymentId' },
  { kind: 'freeze', route: '/v1/freezes', idField: 'freezeId' },
  { kind: 'preauth', route: '/v1/preauths', idField: 'preauthId' },
  { kind: 'transfer', route: '/v1/transfers', idField: 'transferId' },
];
/** Listed statuses of operations that moved nothing and need no acknowledgement (refused before any effect). */
const NOTHING_MOVED = new Set(['failed', 'refused']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read back from the ledger
type Json = any;

const acknowledged = (operation: SoakOperation) => operation.final !== null && operation.final.status < 300;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of an acknowledged answer
const bodyOf = (operation: SoakOperation): any => operation.final!.body;

export async function checkLedger(world: SoakWorld, sender: SoakSender): Promise<CheckReport> {
  const report: CheckReport = { checks: {}, lost: 0, doubled: 0, breaches: [] };
  const ran = (name: string) => (report.checks[name] = (report.checks[name] ?? 0) + 1);
  const breach = (text: string) => report.breaches.push(text);

  // 1. Every answer replays: the same request again gets what it got first (status and body).
  for (const operation of world.operations) {
    if (operation.final === null) {
      breach(`unanswered: ${operation.kind} ${operation.request.idempotencyKey} after the retry budget`);
      continue;
    }
    const again = await sender.untilAnswered(operation.request);
    ran('answer replayed');
    // A binding's start is answered its contract as it is now (docs/operations.md: the same card again by
    // the same user answers its contract): once confirmed, the replay says bound where the first said
    // awaiting_bank_code. Everything else of the answer must repeat.
    const asReplayed = isBindingStart(operation) ? contractAsStarted : replayed;
    if (again.final === null || !isDeepStrictEqual(asReplayed(again.final), asReplayed(operation.final)))
      breach(
        `replay of ${operation.kind} ${operation.request.idempotencyKey}: first ${JSON.stringify(operation.final)}, again ${JSON.stringify(again.final)}`,
      );
    if (operation.kind === 'payment_code_redeem') {
      // A code pays once, but its retry by the same key is the same redemption: it must get the first
      // answer again (above), never "used". No soak code is shown twice in a step (one per seed and step),
      // so "used" is never the right answer here, to a retry after a kill or to the replay after the load.
      ran('payment code replayed after the kills');
      if (operation.attempts > 1) ran('payment code retried by key');
      for (const answer of [operation.final, again.final])
        if (answer?.code === 'payment_code_used')
          breach(`redemption ${operation.request.idempotencyKey} (${operation.attempts} attempts) answered used`);
    }
  }

  const head: string = (await sender.read<{ position: string }>('/v1/log/head')).position;
  const at = `minPosition=${head}`;

  // 2. Every acknowledged operation is in the ledger, as answered; channel operations' outcomes read back.
  const expected = new Map(world.expected);
  const move = (accountId: string, deltaMinor: bigint) =>
    expected.set(accountId, (expected.get(accountId) ?? 0n) + deltaMinor);
  let rechargedMinor = 0n;
  let withdrawnMinor = 0n;
  let channelNetMinor = 0n;
  for (const operation of world.operations.filter(acknowledged)) {
    const lookup = LOOKUPS[operation.kind];
    if (!lookup) continue;
    const id: string = bodyOf(operation)[lookup.idField];
    const path = lookup.readModel ? `${lookup.path(id)}?${at}` : lookup.path(id);
    const { final } = await sender.untilAnswered({ method: 'GET', path });
    ran('acknowledged operation found');
    if (final === null || final.status !== 200) {
      report.lost += 1;
      breach(`lost: ${operation.kind} ${id} answered ${operation.final!.status}, lookup ${JSON.stringify(final)}`);
      continue;
    }
    const record: Json = final.body;
    if ('amount' in record && record.amount !== bodyOf(operation).amount)
      breach(`${operation.kind} ${id}: answered ${bodyOf(operation).amount}, the ledger has ${record.amount}`);
    if (operation.kind === 'recharge' && record.status === 'completed') {
      move(record.accountId, minorOf(record.amount));
      rechargedMinor += minorOf(record.amount);
    }
    if (operation.kind === 'withdrawal' && record.status === 'completed') {
      move(record.accountId, -minorOf(record.amount));
      withdrawnMinor += minorOf(record.amount);
    }
    if (operation.kind === 'channel_payment' && record.status === 'completed') {
      // The channel's fee is the platform's expense: the payee is credited the whole amount.
      const netMinor = minorOf(record.amount) - minorOf(record.refundedAmount);
      move(record.payeeAccountId, netMinor);
      channelNetMinor += netMinor;
    }
  }
  rechargedMinor += world.setupRechargedMinor;

  // 3. The lists hold each acknowledged operation once, and nothing that moved money unacknowledged.
  const merchantAccounts = new Set([world.shopAccountId, world.channelShopAccountId, world.transitAccountId]);
  const wallets = [...world.expected.keys()].filter((id) => !merchantAccounts.has(id));
  checkRedemptions(await redemptionsByOrder(world, sender, at), report);
  for (const list of LISTS) {
    const answered = new Set(
      world.operations
        .filter((o) => o.kind === list.kind && acknowledged(o))
        .map((o) => bodyOf(o)[list.idField] as string),
    );
    if (list.kind === 'recharge') for (const id of world.setupRechargeIds) answered.add(id);
    // A redeemed payment code is an ordinary balance payment, listed as any other.
    if (list.kind === 'payment')
      for (const redemption of world.operations.filter((o) => o.kind === 'payment_code_redeem' && acknowledged(o)))
        answered.add(bodyOf(redemption).payment.paymentId);
    // A batch's items are transfers of their own, listed as any other.
    if (list.kind === 'transfer')
      for (const batch of world.operations.filter((o) => o.kind === 'transfer_batch' && acknowledged(o)))
        for (const item of bodyOf(batch).items as { transferId: string; status: string }[])
          if (item.status === 'completed') answered.add(item.transferId);
    const listed = new Map<string, number>();
    for (const accountId of wallets) {
      for await (const item of pages(sender, `${list.route}?accountId=${accountId}&limit=200&${at}`)) {
        listed.set(item.operationId, (listed.get(item.operationId) ?? 0) + 1);
        ran(`${list.kind} listed`);
        if (!answered.has(item.operationId) && !NOTHING_MOVED.has(item.status)) {
          report.doubled += 1;
          breach(`${list.kind} ${item.operationId} (${item.status}) in the ledger without an acknowledged answer`);
        }
      }
    }
    for (const [id, count] of listed)
      if (count > 1) {
        report.doubled += 1;
        breach(`${list.kind} ${id} listed ${count} times`);
      }
    for (const id of answered)
      if (!listed.has(id)) {
        report.lost += 1;
        breach(`${list.kind} ${id} acknowledged but not listed`);
      }
  }

  // 4. Balances as the acknowledged answers moved them; balance = available + frozen; statements end there.
  let balancesMinor = 0n;
  /** The wallets' statement lines by operation id: a transit fare's charge is one debit named by its scan. */
  const walletLines = new Map<string, Json[]>();
  for (const [accountId, expectedMinor] of expected) {
    const account: Json = await sender.read(`/v1/accounts/${accountId}?${at}`);
    ran('balance = expected');
    ran('balance = available + frozen');
    const balanceMinor = minorOf(account.balance);
    balancesMinor += balanceMinor;
    if (balanceMinor !== expectedMinor) {
      if (balanceMinor > expectedMinor) report.doubled += 1;
      else report.lost += 1;
      breach(
        `account ${accountId}: balance ${account.balance}, the acknowledged answers make ${majorOf(expectedMinor)}`,
      );
    }
    if (balanceMinor !== minorOf(account.available) + minorOf(account.frozen))
      breach(
        `account ${accountId}: balance ${account.balance} != available ${account.available} + frozen ${account.frozen}`,
      );
    let last: Json = null;
    for await (const line of pages(sender, `/v1/accounts/${accountId}/statement?limit=200&${at}`, 'lines')) {
      if (last === null || line.sequence > last.sequence) last = line;
      if (!merchantAccounts.has(accountId))
        walletLines.set(line.operationId, [...(walletLines.get(line.operationId) ?? []), line]);
    }
    ran('statement ends at the balance');
    const statementEnd = last === null ? 0n : minorOf(last.balanceAfter);
    if (statementEnd !== balanceMinor)
      breach(`account ${accountId}: statement ends at ${last?.balanceAfter ?? '0.00'}, balance ${account.balance}`);
  }

  // 5. Transit: each accepted scan once in its payer's history, each charge one debit in the wallet's
  // statement, every repeated scan refused as a duplicate, the fares owed in the debts and the receivable.
  await checkTransit(world, sender, at, walletLines, report);

  // 5b. Card bindings: each one answered bound listed once, bound and masked; none bound unanswered.
  const bindings = await checkBindings(world.bindings, sender, at, ran, breach);
  report.lost += bindings.lost;
  report.doubled += bindings.doubled;

  // 6. Money conserved: what is in the customers' accounts came in by recharges and channel payments and
  // did not go out by withdrawals (the channels' fees are the platform's expense, not the customers'),
  // plus the transit fares the payers still owe (credited to the operator, owed in 1123).
  ran('money conserved');
  const inMinor = rechargedMinor + channelNetMinor - withdrawnMinor + world.transitDebtMinor;
  if (balancesMinor !== inMinor)
    breach(
      `money: the accounts hold ${majorOf(balancesMinor)}, recharges ${majorOf(rechargedMinor)} + channel payments ${majorOf(channelNetMinor)} - withdrawals ${majorOf(withdrawnMinor)} + transit fares owed ${majorOf(world.transitDebtMinor)} = ${majorOf(inMinor)}`,
    );

  // 7. The books: every accounting day's trial balance balances.
  for await (const day of pages(sender, `/v1/books/accounting-dates?limit=200&${at}`)) {
    for (const currency of day.currencies as string[]) {
      const trial: Json = await sender.read(
        `/v1/books/trial-balance?date=${day.accountingDate}&currency=${currency}&${at}`,
      );
      ran('trial balance zero');
      if (!trial.balanced || trial.totalDebit !== trial.totalCredit)
        breach(
          `trial balance ${day.accountingDate} ${currency}: debit ${trial.totalDebit}, credit ${trial.totalCredit}`,
        );
    }
  }
  return report;
}

/** Each acknowledged redemption's order, looked up by its number as the merchant's terminal would. */
async function redemptionsByOrder(
  world: SoakWorld,
  sender: SoakSender,
  at: string,
): Promise<Map<SoakOperation, Json[]>> {
  const found = new Map<SoakOperation, Json[]>();
  for (const operation of world.operations.filter((o) => o.kind === 'payment_code_redeem' && acknowledged(o))) {
    const orderNo = encodeURIComponent((operation.request.body as { merchantOrderNo: string }).merchantOrderNo);
    const page: Json = await sender.read(
      `/v1/payments?merchantOrderNo=${orderNo}&merchantId=${world.merchantId}&${at}`,
    );
    found.set(operation, page.items as Json[]);
  }
  return found;
}

/** Every acknowledged redemption once, by its order number: its payment, its amount. */
function checkRedemptions(found: Map<SoakOperation, Json[]>, report: CheckReport): void {
  for (const [operation, items] of found) {
    report.checks['redemption found once by its order'] =
      (report.checks['redemption found once by its order'] ?? 0) + 1;
    const answered = bodyOf(operation);
    const key = operation.request.idempotencyKey;
    if (items.length === 0) {
      report.lost += 1;
      report.breaches.push(`lost: redemption ${key} (payment ${answered.payment.paymentId}) not found by its order`);
    } else if (items.length > 1) {
      report.doubled += 1;
      report.breaches.push(`redemption ${key}: ${items.length} payments under its order number`);
    } else if (items[0].operationId !== answered.payment.paymentId || items[0].amount !== answered.redemption.amount)
      report.breaches.push(
        `redemption ${key}: answered ${JSON.stringify(answered.payment)}, found ${JSON.stringify(items[0])}`,
      );
  }
}

async function checkTransit(
  world: SoakWorld,
  sender: SoakSender,
  at: string,
  walletLines: Map<string, Json[]>,
  report: CheckReport,
): Promise<void> {
  const ran = (name: string) => (report.checks[name] = (report.checks[name] ?? 0) + 1);
  const breach = (text: string) => report.breaches.push(text);
  /** Accepted scans by scan id, with their fares and results; the scans already accepted by their nonce. */
  const accepted = new Map<string, { fare: string; status: string }>();
  const acceptedNonces = new Set<string>();
  for (const operation of world.operations.filter((o) => o.kind === 'transit_upload' && acknowledged(o))) {
    const scans = (operation.request.body as { scans: TransitScan[] }).scans;
    for (const result of bodyOf(operation).results as {
      index: number;
      scanId: string;
      status: string;
      code: string;
    }[]) {
      const scan = scans[result.index]!;
      const identity = `${scan.credential}/${scan.nonce}`;
      if (acceptedNonces.has(identity)) {
        ran('repeated scan refused as a duplicate');
        if (result.status !== 'refused' || result.code !== 'transit_scan_duplicate') {
          report.doubled += 1;
          breach(`scan ${scan.nonce} uploaded again answered ${result.status} ${result.code}`);
        }
        continue;
      }
      if (result.status === 'refused') continue;
      acceptedNonces.add(identity);
      accepted.set(result.scanId, { fare: scan.fare, status: result.status });
    }
  }
  // Each accepted scan once in its payer's history, nothing there the uploads were not answered.
  const listed = new Map<string, number>();
  let owedMinor = 0n;
  for (const userId of world.transitUserIds) {
    for await (const scan of pages(sender, `/v1/transit/users/${userId}/scans?limit=200&${at}`)) {
      ran('transit scan listed');
      listed.set(scan.scanId, (listed.get(scan.scanId) ?? 0) + 1);
      if (!accepted.has(scan.scanId)) {
        report.doubled += 1;
        breach(`transit scan ${scan.scanId} (${scan.status}) in the history without an acknowledged upload`);
      }
    }
    const debt: Json = await sender.read(`/v1/transit/users/${userId}/debt?${at}`);
    owedMinor += minorOf(debt.outstanding);
  }
  for (const [scanId, scan] of accepted) {
    ran('accepted scan once in the history');
    const times = listed.get(scanId) ?? 0;
    if (times !== 1) {
      if (times === 0) report.lost += 1;
      else report.doubled += 1;
      breach(`transit scan ${scanId} (${scan.status}) listed ${times} times`);
    }
    // A charged fare is one debit of its wallet, named by the scan; a fare owed is none yet.
    const lines = (walletLines.get(scanId) ?? []).filter((line) => line.direction === 'debit');
    ran('fare charged once in the statement');
    const expectedLines = scan.status === 'charged' ? 1 : 0;
    if (lines.length !== expectedLines || (expectedLines === 1 && lines[0].amount !== scan.fare)) {
      if (lines.length > expectedLines) report.doubled += 1;
      else report.lost += 1;
      breach(`transit scan ${scanId} (${scan.status}, ${scan.fare}): ${lines.length} debits in the wallet's statement`);
    }
  }
  ran('transit debt as answered');
  if (owedMinor !== world.transitDebtMinor)
    breach(
      `transit: the payers owe ${majorOf(owedMinor)}, the uploads' answers make ${majorOf(world.transitDebtMinor)}`,
    );
  const receivable: Json = await sender.read(`/v1/books/accounts/1123/balances?currency=${world.currency}&${at}`);
  const receivableMinor = receivable.totals.length === 0 ? 0n : minorOf(receivable.totals[0].balance);
  ran('transit receivable = fares owed');
  if (receivableMinor !== world.transitDebtMinor)
    breach(
      `transit: 1123 Transit fares receivable ${majorOf(receivableMinor)}, fares owed ${majorOf(world.transitDebtMinor)}`,
    );
}

const isBindingStart = (operation: SoakOperation) =>
  operation.kind === 'bind_card' && operation.request.path === '/v1/card-contracts';

/** A binding start's answer but for what its confirmation changes (its status and the channel's contract no). */
function contractAsStarted(answer: { status: number; body: unknown }) {
  if (answer.status !== 201) return replayed(answer);
  const { status: _status, contractNo: _contractNo, ...rest } = answer.body as Record<string, unknown>;
  return { status: answer.status, body: rest };
}

/** What a replay must repeat: the status and body (the position included: it is the recorded one). */
function replayed(answer: { status: number; body: unknown }) {
  return { status: answer.status, body: answer.body };
}

async function* pages(sender: SoakSender, path: string, field = 'items'): AsyncGenerator<Json> {
  for (let cursor: string | null = null; ;) {
    const page: Json = await sender.read(cursor === null ? path : `${path}&cursor=${encodeURIComponent(cursor)}`);
    yield* page[field] as Json[];
    cursor = page.nextCursor;
    if (cursor === null) return;
  }
}
