import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountFlags } from '../../../domain/accounts/account-flags.js';
import { parseLimit } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import {
  accountFlagSwitches,
  accountFlagsView,
  accountIdString,
  amountString,
  idempotencyHeaders,
  positionString,
} from '../api-schemas.js';
import { flagsViewOf } from './accounts.js';
import { requireOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { problemResponses } from '../problem-responses.js';

export const flagsBody = z.strictObject({
  ...accountFlagSwitches,
  overdraftLimit: amountString.describe('Major units, as the account view shows it ("0.00"); zero unless mayOverdraw'),
});

export const controlsView = z
  .object({
    accountId: accountIdString,
    status: z.enum(['active', 'frozen', 'closed']),
    flags: accountFlagsView,
    position: positionString.optional(),
  })
  .meta({ id: 'AccountControls' });

export const flagsChangeBody = z.strictObject({ flags: flagsBody, reason: z.string().min(1).max(200) });

export const statusChangeBody = z.strictObject({
  status: z.enum(['active', 'frozen', 'closed']),
  reason: z.string().min(1).max(200),
});

/** Operators change what an account may do (flags) and whether it may do anything (status). */
export function accountControlRoutes(service: LedgerService): FastifyPluginAsyncZod {
  async function view(accountId: string, position: bigint) {
    const state = await service.commands.getAccountState(accountId);
    if (!state.exists) throw new DomainError('account_not_found', `account ${accountId} does not exist`, { accountId });
    return {
      accountId,
      status: state.status,
      flags: flagsViewOf(state.flags, state.currency),
      ...(position >= 0n ? { position: position.toString() } : {}),
    };
  }

  return async (app) => {
    const params = z.object({ accountId: accountIdString });
    app.put(
      '/v1/accounts/:accountId/flags',
      {
        schema: {
          tags: ['accounts'],
          summary: "Set an account's control flags (operator)",
          headers: idempotencyHeaders,
          params,
          body: flagsChangeBody,
          response: {
            200: controlsView,
            ...problemResponses(
              'forbidden',
              'account_not_found',
              'invalid_flags',
              'invalid_amount',
              'account_not_active',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const state = await service.commands.getAccountState(request.params.accountId);
        if (!state.exists)
          throw new DomainError('account_not_found', `account ${request.params.accountId} does not exist`, {
            accountId: request.params.accountId,
          });
        const { overdraftLimit, ...switches } = request.body.flags;
        const overdraftLimitMinor = parseLimit(overdraftLimit, state.currency).amountMinor;
        const flags: AccountFlags = { ...switches, overdraftLimitMinor };
        await runCommand(request, reply, service, async (context) => {
          const handled = await service.commands.changeAccountFlags(
            request.params.accountId,
            flags,
            request.body.reason,
            context,
          );
          return { statusCode: 200, body: await view(request.params.accountId, handled.position) };
        });
      },
    );

    app.put(
      '/v1/accounts/:accountId/status',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Freeze, unfreeze or close a whole account (operator)',
          description:
            'A frozen account refuses new payments, transfers, withdrawals and recharges but still receives money returned to it (refunds, reversals). Closing needs a zero balance and is final.',
          headers: idempotencyHeaders,
          params,
          body: statusChangeBody,
          response: {
            200: controlsView,
            ...problemResponses('forbidden', 'account_not_found', 'account_not_empty', 'account_not_active'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        await runCommand(request, reply, service, async (context) => {
          const handled = await service.commands.changeAccountStatus(
            request.params.accountId,
            request.body.status,
            request.body.reason,
            context,
          );
          return { statusCode: 200, body: await view(request.params.accountId, handled.position) };
        });
      },
    );
  };
}
