import type { ExistingChannelPayment } from '../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelRefundState } from '../../domain/channel-payments/channel-refund-rules.js';
import type { ExistingBreak } from '../../domain/reconciliation/break-decider.js';
import type { StatementRecord } from '../../domain/reconciliation/statement-record.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { CommandContext } from '../command-context.js';
import type { ReconciliationBreaks } from './break-commands.js';

/**
 * The breaks the ledger resolves itself, where DESIGN.md 2.6 says the channel is right: a pay the
 * channel settled that we hold at the channel (submitted, pending, unknown) is marked paid, a refund it
 * settled is marked refunded, through the channel payments' own flow (channel-statement-results.ts: the
 * same command a callback or an order query's answer records), so the payee is credited, the books post
 * and the merchant's webhook goes out exactly once. Only when the flow finished it (the payment
 * completed, the refund completed) is the break resolved; otherwise (a payment we failed or that expired,
 * another amount, a recharge or a withdrawal, whose flows take no statement's word) it stays in the
 * review queue.
 */
export interface StatementResults {
  applyStatementLine(
    line: StatementRecord,
    context: CommandContext,
  ): Promise<{ readonly payment: ExistingChannelPayment; readonly refund?: ChannelRefundState } | null>;
}

export type AutomaticOutcome = 'marked_paid' | 'marked_refunded' | 'left_for_review' | 'not_automatic';

export interface AutomaticResult {
  readonly outcome: AutomaticOutcome;
  /** Where what it recorded ends (-1n: it recorded nothing). */
  readonly position: bigint;
}

export async function resolveAutomatically(
  deps: { readonly breaks: ReconciliationBreaks; readonly channelPayments: StatementResults },
  state: ExistingBreak,
  context: CommandContext,
): Promise<AutomaticResult> {
  const line = state.statement;
  const automatic =
    (state.matchClass === 'we_not_paid_channel_paid' && line?.kind === 'pay') ||
    state.matchClass === 'we_not_refunded_channel_refunded';
  const nothing = (outcome: AutomaticOutcome): AutomaticResult => ({ outcome, position: -1n });
  if (!automatic || line === null || line.status !== 'settled') return nothing('not_automatic');
  // Resolved before (the day run again): nothing more to do, and nothing to count.
  if (state.status === 'resolved') return nothing('not_automatic');
  let applied: Awaited<ReturnType<StatementResults['applyStatementLine']>>;
  try {
    applied = await deps.channelPayments.applyStatementLine(line, context);
  } catch (error) {
    // The flow refused to go on (the payee's account closed, a state it cannot take the result in): the
    // payment stays as the flow left it, and the break waits for an operator. Anything else is the run's.
    if (error instanceof DomainError && error.code !== 'invariant_violated') return nothing('left_for_review');
    throw error;
  }
  const where = `the channel's statement of ${line.accountingDate} (line ${line.sourceLine}, channel order ${line.channelOrderNo})`;
  if (line.kind === 'refund') {
    if (applied?.refund?.status !== 'completed') return nothing('left_for_review');
    const done = await deps.breaks.resolveAutomatically(
      state.breakId,
      'marked_refunded',
      `refunded by ${where}`,
      context,
    );
    return { outcome: 'marked_refunded', position: done.position };
  }
  if (applied?.payment.status !== 'completed') return nothing('left_for_review');
  const done = await deps.breaks.resolveAutomatically(state.breakId, 'marked_paid', `paid by ${where}`, context);
  return { outcome: 'marked_paid', position: done.position };
}
