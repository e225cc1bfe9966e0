import type { ExistingChannelPayment } from '../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelRefundState } from '../../domain/channel-payments/channel-refund-rules.js';
import type { ExistingBreak } from '../../domain/reconciliation/break-decider.js';
import type { StatementRecord } from '../../domain/reconciliation/statement-record.js';
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

export async function resolveAutomatically(
  deps: { readonly breaks: ReconciliationBreaks; readonly channelPayments: StatementResults },
  state: ExistingBreak,
  context: CommandContext,
): Promise<AutomaticOutcome> {
  const line = state.statement;
  const automatic =
    (state.matchClass === 'we_not_paid_channel_paid' && line?.kind === 'pay') ||
    state.matchClass === 'we_not_refunded_channel_refunded';
  if (!automatic || line === null || line.status !== 'settled') return 'not_automatic';
  if (state.status === 'resolved') return state.resolution === 'marked_refunded' ? 'marked_refunded' : 'marked_paid';
  const applied = await deps.channelPayments.applyStatementLine(line, context);
  const where = `the channel's statement of ${line.accountingDate} (line ${line.sourceLine}, channel order ${line.channelOrderNo})`;
  if (line.kind === 'refund') {
    if (applied?.refund?.status !== 'completed') return 'left_for_review';
    await deps.breaks.resolveAutomatically(state.breakId, 'marked_refunded', `refunded by ${where}`, context);
    return 'marked_refunded';
  }
  if (applied?.payment.status !== 'completed') return 'left_for_review';
  await deps.breaks.resolveAutomatically(state.breakId, 'marked_paid', `paid by ${where}`, context);
  return 'marked_paid';
}
