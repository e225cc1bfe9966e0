import { accountDecider } from '../domain/accounts/account-decider.js';
import type { EventStore } from '../ports/event-store.js';
import type { PaymentChannel } from '../ports/payment-channel.js';
import type { CommandContext } from './command-context.js';
import { openAccount, type AccountHandler, type OpenAccountRequest } from './accounts/open-account-handler.js';
import { rechargeAccount, type RechargeRequest } from './recharges/recharge-handler.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler, type StreamCommandHandlerLimits } from './stream-command-handler.js';

/** The write side's front door: every command the ledger accepts. */
export class LedgerCommands {
  private readonly accounts: AccountHandler;

  constructor(
    private readonly eventStore: EventStore,
    private readonly channels: ReadonlyMap<string, PaymentChannel>,
    limits: StreamCommandHandlerLimits = DEFAULT_HANDLER_LIMITS,
  ) {
    this.accounts = new StreamCommandHandler(eventStore, accountDecider, limits);
  }

  openAccount(request: OpenAccountRequest, context: CommandContext) {
    return openAccount(this.eventStore, this.accounts, request, context);
  }

  recharge(request: RechargeRequest, context: CommandContext, options: { takeover: boolean }) {
    return rechargeAccount(this.eventStore, this.accounts, this.channels, request, context, options);
  }
}
