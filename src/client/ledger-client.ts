import type * as Api from './api-types.js';
import { eachItem } from './pages.js';
import { ROUTES, pathWithQuery, type PathParams, type QueryValues } from './routes.js';
import { SignedTransport, type TransportOptions } from './signed-transport.js';

/**
 * A typed client for the ledger API: one method per route (routes.ts), every request signed (signing.ts).
 *
 * - Commands carry an Idempotency-Key: the one given, or a fresh one per call, kept on every retry, so a
 *   retried command runs once. Pass your own key (and keep it) to learn a command's outcome after a crash.
 * - Answers that say "try again" (503, 409 concurrent_modification, 409 idempotency_request_in_progress,
 *   no answer at all) are retried a bounded number of times with back-off (retry-policy.ts).
 * - Reads that take `minPosition` wait until the read model has applied that position: pass the
 *   `position` a command answered to read its effects.
 * - Listings come a page at a time (`getStatement`, `listPayments`, ...) or as async iterators over every
 *   page (`statementLines`, `listed(...)` for any `list...` method).
 * - Refusals throw ProblemError, carrying the RFC 9457 problem; a request that got no answer on any
 *   attempt throws what fetch threw (a command's outcome is then unknown: send it again with the same
 *   Idempotency-Key to learn it).
 */
export type LedgerClientOptions = TransportOptions;

export interface CommandOptions {
  /** Sent as Idempotency-Key; default: a fresh UUID per call. 1 to 255 printable ASCII characters. */
  readonly idempotencyKey?: string;
}

type Route<Path extends string> = { readonly method: 'GET' | 'POST' | 'PUT'; readonly path: Path };
const NO_PARAMS = {} as const;

export class LedgerClient {
  private readonly transport: SignedTransport;

  constructor(options: LedgerClientOptions) {
    this.transport = new SignedTransport(options);
  }

  // Health (unsigned on the server's side; a signature does no harm)

  liveness(): Promise<Api.Health> {
    return this.read(ROUTES.liveness, NO_PARAMS);
  }

  /** 200 or 503, both with their checks: readiness is an answer either way. */
  async readiness(): Promise<Api.Health> {
    const answer = await this.transport.send({
      method: 'GET',
      pathWithQuery: ROUTES.readiness.path,
      answerStatuses: [503],
    });
    return JSON.parse(answer.text) as Api.Health;
  }

  // Accounts

  openAccount(body: Api.OpenAccountRequest, options?: CommandOptions): Promise<Api.OpenedAccount> {
    return this.command(ROUTES.openAccount, NO_PARAMS, body, options);
  }

  getAccount(accountId: string, query: Api.AccountQuery = {}): Promise<Api.Account> {
    return this.read(ROUTES.getAccount, { accountId }, query);
  }

  /** One page of accounts (a merchant's own; an operator's by owner, kind, currency, status). */
  listAccounts(query: Api.AccountListQuery = {}): Promise<Api.AccountPage> {
    return this.read(ROUTES.listAccounts, NO_PARAMS, query);
  }

  /** Balance, available and frozen at a past instant (`at`) or at the end of an `accountingDate`. */
  getBalanceAsOf(accountId: string, query: Api.BalanceAsOfQuery): Promise<Api.BalanceAsOf> {
    return this.read(ROUTES.getBalanceAsOf, { accountId }, query);
  }

  setAccountFlags(
    accountId: string,
    body: Api.AccountFlagsRequest,
    options?: CommandOptions,
  ): Promise<Api.AccountControls> {
    return this.command(ROUTES.setAccountFlags, { accountId }, body, options);
  }

  setAccountStatus(
    accountId: string,
    body: Api.AccountStatusRequest,
    options?: CommandOptions,
  ): Promise<Api.AccountControls> {
    return this.command(ROUTES.setAccountStatus, { accountId }, body, options);
  }

  getStatement(accountId: string, query: Api.StatementQuery = {}): Promise<Api.Statement> {
    return this.read(ROUTES.getStatement, { accountId }, query);
  }

  /** Every line of the statement (in the range asked), page after page. */
  statementLines(accountId: string, query: Omit<Api.StatementQuery, 'cursor'> = {}) {
    return eachItem(
      (cursor) => this.getStatement(accountId, { ...query, cursor }),
      (page) => page.lines,
    );
  }

  /** RFC 4180 CSV text. */
  async exportStatementCsv(accountId: string, query: Api.StatementCsvQuery = {}): Promise<string> {
    const answer = await this.transport.send({
      method: 'GET',
      pathWithQuery: pathWithQuery(ROUTES.exportStatementCsv.path, { accountId }, query),
    });
    return answer.text;
  }

  // Entities

  registerEntity(body: Api.RegisterEntityRequest, options?: CommandOptions): Promise<Api.EntityWithAccounts> {
    return this.command(ROUTES.registerEntity, NO_PARAMS, body, options);
  }

  getEntity(entityId: string): Promise<Api.EntityWithAccounts> {
    return this.read(ROUTES.getEntity, { entityId });
  }

  listEntities(query: Api.EntityListQuery = {}): Promise<Api.EntityPage> {
    return this.read(ROUTES.listEntities, NO_PARAMS, query);
  }

  addKey(entityId: string, body: Api.AddKeyRequest, options?: CommandOptions): Promise<Api.ApiKey> {
    return this.command(ROUTES.addKey, { entityId }, body, options);
  }

  revokeKey(
    entityId: string,
    keyNo: number,
    body: Api.RevokeKeyRequest,
    options?: CommandOptions,
  ): Promise<Api.ApiKey> {
    return this.command(ROUTES.revokeKey, { entityId, keyNo: String(keyNo) }, body, options);
  }

  /** Passwords are kept out of the Idempotency-Key fingerprint: each call gets its own key (the default). */
  setPaymentPassword(
    entityId: string,
    body: Api.PaymentPasswordRequest,
    options?: CommandOptions,
  ): Promise<Api.PaymentPasswordSet> {
    return this.command(ROUTES.setPaymentPassword, { entityId }, body, options);
  }

  changePaymentSettings(
    entityId: string,
    body: Api.PaymentSettingsRequest,
    options?: CommandOptions,
  ): Promise<Api.EntityWithAccounts> {
    return this.command(ROUTES.changePaymentSettings, { entityId }, body, options);
  }

  // Recharges

  recharge(body: Api.RechargeRequest, options?: CommandOptions): Promise<Api.Recharge> {
    return this.command(ROUTES.recharge, NO_PARAMS, body, options);
  }

  /** A merchant names one of its accounts (`accountId`); an operator may list all. */
  listRecharges(query: Api.RechargeListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listRecharges, NO_PARAMS, query);
  }

  /** Also a recharge the service finished by itself after a crash: its outcome and `position`. */
  getRecharge(rechargeId: string, query: Api.RechargeLookupQuery = {}): Promise<Api.Recharge> {
    return this.read(ROUTES.getRecharge, { rechargeId }, query);
  }

  // Payments

  pay(body: Api.PayRequest, options?: CommandOptions): Promise<Api.Payment> {
    return this.command(ROUTES.pay, NO_PARAMS, body, options);
  }

  /** One page of payments; by the merchant's order number with `merchantOrderNo` (at most one per merchant). */
  listPayments(query: Api.PaymentListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listPayments, NO_PARAMS, query);
  }

  getPayment(paymentId: string): Promise<Api.Payment> {
    return this.read(ROUTES.getPayment, { paymentId });
  }

  // Channel payments

  /** Answers the order as it stands: completed, pending (send the payer to payerActionUrl), awaiting_verification... */
  payThroughChannel(body: Api.ChannelPaymentRequest, options?: CommandOptions): Promise<Api.ChannelPayment> {
    return this.command(ROUTES.payThroughChannel, NO_PARAMS, body, options);
  }

  listChannelPayments(query: Api.ChannelPaymentListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listChannelPayments, NO_PARAMS, query);
  }

  /** A pending or unknown payment is asked about at its channel first. */
  getChannelPayment(paymentId: string): Promise<Api.ChannelPayment> {
    return this.read(ROUTES.getChannelPayment, { paymentId });
  }

  verifyChannelPayment(
    paymentId: string,
    body: Api.ChannelPaymentVerificationRequest,
    options?: CommandOptions,
  ): Promise<Api.ChannelPayment> {
    return this.command(ROUTES.verifyChannelPayment, { paymentId }, body, options);
  }

  resendChannelPaymentCode(
    paymentId: string,
    body: Api.ChannelPaymentResendRequest,
    options?: CommandOptions,
  ): Promise<Api.ChannelPayment> {
    return this.command(ROUTES.resendChannelPaymentCode, { paymentId }, body, options);
  }

  /** Through the payment's channel: completed, or (the channel has not said yet) pending or unknown. */
  refundChannelPayment(
    paymentId: string,
    body: Api.RefundRequest,
    options?: CommandOptions,
  ): Promise<Api.ChannelRefund> {
    return this.command(ROUTES.refundChannelPayment, { paymentId }, body, options);
  }

  listChannelPaymentRefunds(paymentId: string): Promise<Api.ChannelRefundList> {
    return this.read(ROUTES.listChannelPaymentRefunds, { paymentId });
  }

  /** Asks the channel once while the refund is pending or unknown. */
  getChannelPaymentRefund(paymentId: string, refundId: string): Promise<Api.ChannelRefund> {
    return this.read(ROUTES.getChannelPaymentRefund, { paymentId, refundId });
  }

  /** A same-day void of the whole payment, where its channel has one. */
  cancelChannelPayment(
    paymentId: string,
    body?: Api.CancelPaymentRequest,
    options?: CommandOptions,
  ): Promise<Api.ChannelRefund> {
    return this.command(ROUTES.cancelChannelPayment, { paymentId }, body, options);
  }

  /** Operators: the routing table and each channel's health. */
  listChannels(): Promise<Api.ChannelStandings> {
    return this.read(ROUTES.listChannels, NO_PARAMS);
  }

  cancelPayment(paymentId: string, body?: Api.CancelPaymentRequest, options?: CommandOptions): Promise<Api.Payment> {
    return this.command(ROUTES.cancelPayment, { paymentId }, body, options);
  }

  refundPayment(paymentId: string, body: Api.RefundRequest, options?: CommandOptions): Promise<Api.RefundedPayment> {
    return this.command(ROUTES.refundPayment, { paymentId }, body, options);
  }

  /** A merchant names one of its payments (`paymentId`); an operator may list all, or by `refundNo`. */
  listRefunds(query: Api.RefundListQuery = {}): Promise<Api.RefundPage> {
    return this.read(ROUTES.listRefunds, NO_PARAMS, query);
  }

  // Freezes

  placeFreeze(accountId: string, body: Api.PlaceFreezeRequest, options?: CommandOptions): Promise<Api.Freeze> {
    return this.command(ROUTES.placeFreeze, { accountId }, body, options);
  }

  getFreeze(freezeId: string): Promise<Api.Freeze> {
    return this.read(ROUTES.getFreeze, { freezeId });
  }

  listFreezes(query: Api.FreezeListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listFreezes, NO_PARAMS, query);
  }

  /** Everything the freeze still holds when no amount is given. */
  releaseFreeze(freezeId: string, body?: Api.ReleaseFreezeRequest, options?: CommandOptions): Promise<Api.Freeze> {
    return this.command(ROUTES.releaseFreeze, { freezeId }, body, options);
  }

  deductFromFreeze(
    freezeId: string,
    body: Api.DeductFromFreezeRequest,
    options?: CommandOptions,
  ): Promise<Api.FreezeDeduction> {
    return this.command(ROUTES.deductFromFreeze, { freezeId }, body, options);
  }

  // Pre-authorisations

  authorisePreauth(body: Api.AuthorisePreauthRequest, options?: CommandOptions): Promise<Api.Preauth> {
    return this.command(ROUTES.authorisePreauth, NO_PARAMS, body, options);
  }

  getPreauth(preauthId: string): Promise<Api.Preauth> {
    return this.read(ROUTES.getPreauth, { preauthId });
  }

  listPreauths(query: Api.PreauthListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listPreauths, NO_PARAMS, query);
  }

  cancelPreauth(preauthId: string, options?: CommandOptions): Promise<Api.Preauth> {
    return this.command(ROUTES.cancelPreauth, { preauthId }, undefined, options);
  }

  completePreauth(preauthId: string, body: Api.CompletePreauthRequest, options?: CommandOptions): Promise<Api.Preauth> {
    return this.command(ROUTES.completePreauth, { preauthId }, body, options);
  }

  cancelPreauthCompletion(preauthId: string, options?: CommandOptions): Promise<Api.Preauth> {
    return this.command(ROUTES.cancelPreauthCompletion, { preauthId }, undefined, options);
  }

  // Transfers and withdrawals

  transfer(body: Api.TransferRequest, options?: CommandOptions): Promise<Api.Transfer> {
    return this.command(ROUTES.transfer, NO_PARAMS, body, options);
  }

  getTransfer(transferId: string): Promise<Api.Transfer> {
    return this.read(ROUTES.getTransfer, { transferId });
  }

  listTransfers(query: Api.TransferListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listTransfers, NO_PARAMS, query);
  }

  /** Up to MAX_TRANSFER_BATCH_ITEMS transfers under one key; each item's result is in the answer. */
  transferBatch(body: Api.TransferBatchRequest, options?: CommandOptions): Promise<Api.TransferBatch> {
    return this.command(ROUTES.transferBatch, NO_PARAMS, body, options);
  }

  getTransferBatch(batchId: string): Promise<Api.TransferBatch> {
    return this.read(ROUTES.getTransferBatch, { batchId });
  }

  /** The caller's transfer batches, each as a whole (getTransferBatch for the items). */
  listTransferBatches(query: Api.TransferBatchListQuery = {}): Promise<Api.TransferBatchPage> {
    return this.read(ROUTES.listTransferBatches, NO_PARAMS, query);
  }

  // Transit (docs/transit.md; the device signer and terminal verifier are in ./transit.js)

  /** The platform transit public keys terminals are provisioned with. */
  transitKeys(): Promise<Api.TransitKeys> {
    return this.read(ROUTES.transitKeys, NO_PARAMS);
  }

  /** Operators: a credential for a payer's device key, its QR payload in the answer. */
  issueTransitCredential(
    userId: string,
    body: Api.IssueTransitCredentialRequest,
    options?: CommandOptions,
  ): Promise<Api.TransitCredential> {
    return this.command(ROUTES.issueTransitCredential, { userId }, body, options);
  }

  listTransitCredentials(userId: string): Promise<Api.TransitCredentialList> {
    return this.read(ROUTES.listTransitCredentials, { userId });
  }

  revokeTransitCredential(
    userId: string,
    credentialId: string,
    body: Api.RevokeTransitCredentialRequest,
    options?: CommandOptions,
  ): Promise<Api.TransitCredential> {
    return this.command(ROUTES.revokeTransitCredential, { userId, credentialId }, body, options);
  }

  getTransitDebt(userId: string): Promise<Api.TransitDebt> {
    return this.read(ROUTES.getTransitDebt, { userId });
  }

  listTransitScans(userId: string, query: Api.TransitScanListQuery = {}): Promise<Api.TransitScanPage> {
    return this.read(ROUTES.listTransitScans, { userId }, query);
  }

  /** A transit operator's batch of scans; each scan's result is in the answer (the same batchId: the same answer). */
  uploadTransitScans(body: Api.TransitScanBatchRequest, options?: CommandOptions): Promise<Api.TransitScanBatch> {
    return this.command(ROUTES.uploadTransitScans, NO_PARAMS, body, options);
  }

  withdraw(body: Api.WithdrawalRequest, options?: CommandOptions): Promise<Api.Withdrawal> {
    return this.command(ROUTES.withdraw, NO_PARAMS, body, options);
  }

  getWithdrawal(withdrawalId: string): Promise<Api.Withdrawal> {
    return this.read(ROUTES.getWithdrawal, { withdrawalId });
  }

  listWithdrawals(query: Api.WithdrawalListQuery = {}): Promise<Api.OperationPage> {
    return this.read(ROUTES.listWithdrawals, NO_PARAMS, query);
  }

  // Books (operators)

  chartOfAccounts(): Promise<Api.ChartOfAccounts> {
    return this.read(ROUTES.chartOfAccounts, NO_PARAMS);
  }

  /** One page of journal entries, by accounting `date` or by `operationId` (exactly one of the two). */
  getJournal(query: Api.JournalQuery): Promise<Api.JournalPage> {
    return this.read(ROUTES.getJournal, NO_PARAMS, query);
  }

  journalEntries(query: Omit<Api.JournalQuery, 'cursor'>) {
    return eachItem(
      (cursor) => this.getJournal({ ...query, cursor }),
      (page) => page.entries,
    );
  }

  getBookAccountBalances(code: string, query: Api.BookBalancesQuery = {}): Promise<Api.BookAccountBalances> {
    return this.read(ROUTES.getBookAccountBalances, { code }, query);
  }

  /** Every sub-ledger of a book account, page after page. */
  subLedgerBalances(code: string, query: Omit<Api.BookBalancesQuery, 'cursor'> = {}) {
    return eachItem(
      (cursor) => this.getBookAccountBalances(code, { ...query, cursor }),
      (page) => page.subLedgers,
    );
  }

  trialBalance(query: Api.TrialBalanceQuery): Promise<Api.TrialBalance> {
    return this.read(ROUTES.trialBalance, NO_PARAMS, query);
  }

  listAccountingDates(query: Api.AccountingDateListQuery = {}): Promise<Api.AccountingDatePage> {
    return this.read(ROUTES.listAccountingDates, NO_PARAMS, query);
  }

  // Reconciliation breaks (operators: the review queue)

  listReconciliationBreaks(query: Api.ReconciliationBreakListQuery = {}): Promise<Api.ReconciliationBreakPage> {
    return this.read(ROUTES.listReconciliationBreaks, NO_PARAMS, query);
  }

  /** RFC 4180 CSV text of the breaks the filters select. */
  async exportReconciliationBreaksCsv(query: Api.ReconciliationBreakCsvQuery = {}): Promise<string> {
    const answer = await this.transport.send({
      method: 'GET',
      pathWithQuery: pathWithQuery(ROUTES.exportReconciliationBreaksCsv.path, NO_PARAMS, query),
    });
    return answer.text;
  }

  getReconciliationBreak(breakId: string): Promise<Api.ReconciliationBreakDetail> {
    return this.read(ROUTES.getReconciliationBreak, { breakId });
  }

  /** Takes the channel's amount: the difference goes to suspense (2241) or fee variance (6604). */
  acceptBreakChannelAmount(
    breakId: string,
    body: Api.BreakReasonRequest,
    options?: CommandOptions,
  ): Promise<Api.ReconciliationBreakDetail> {
    return this.command(ROUTES.acceptBreakChannelAmount, { breakId }, body, options);
  }

  writeOffBreak(
    breakId: string,
    body: Api.BreakReasonRequest,
    options?: CommandOptions,
  ): Promise<Api.ReconciliationBreakDetail> {
    return this.command(ROUTES.writeOffBreak, { breakId }, body, options);
  }

  investigateBreak(
    breakId: string,
    body: Api.BreakNoteRequest,
    options?: CommandOptions,
  ): Promise<Api.ReconciliationBreakDetail> {
    return this.command(ROUTES.investigateBreak, { breakId }, body, options);
  }

  reopenBreak(
    breakId: string,
    body: Api.BreakReasonRequest,
    options?: CommandOptions,
  ): Promise<Api.ReconciliationBreakDetail> {
    return this.command(ROUTES.reopenBreak, { breakId }, body, options);
  }

  // Reconciliation days (operators; docs/reconciliation.md)

  listReconciliationDays(query: Api.ReconciliationDayListQuery = {}): Promise<Api.ReconciliationDayPage> {
    return this.read(ROUTES.listReconciliationDays, NO_PARAMS, query);
  }

  getReconciliationDay(channel: string, date: string): Promise<Api.ReconciliationDay> {
    return this.read(ROUTES.getReconciliationDay, { channel, date });
  }

  /** RFC 4180 CSV text. */
  async exportReconciliationDaysCsv(query: Api.ReconciliationDayCsvQuery = {}): Promise<string> {
    const answer = await this.transport.send({
      method: 'GET',
      pathWithQuery: pathWithQuery(ROUTES.exportReconciliationDaysCsv.path, NO_PARAMS, query),
    });
    return answer.text;
  }

  /** Stores a statement file for a channel's day (the file's bytes as they are); refused whole: ProblemError. */
  async uploadStatement(
    channel: string,
    date: string,
    query: Api.StatementUploadQuery,
    file: Uint8Array,
  ): Promise<Api.StoredStatement> {
    const answer = await this.transport.send({
      method: 'POST',
      pathWithQuery: pathWithQuery(ROUTES.uploadStatement.path, { channel, date }, query),
      bytes: file,
    });
    return JSON.parse(answer.text) as Api.StoredStatement;
  }

  /** Runs the day again (and earlier days due before it); each call is one more run. */
  runReconciliationDay(channel: string, date: string): Promise<Api.ReconciliationRuns> {
    return this.command(ROUTES.runReconciliationDay, { channel, date }, undefined);
  }

  // The log

  // Offline payment codes (docs/payment-codes.md)

  /** Operators, at a user's login: the answer holds the seed, the only time it is shown. */
  issuePaymentCodeSeed(
    userId: string,
    body: Api.IssuePaymentCodeSeedRequest,
    options?: CommandOptions,
  ): Promise<Api.IssuedPaymentCodeSeed> {
    return this.command(ROUTES.issuePaymentCodeSeed, { userId }, body, options);
  }

  listPaymentCodeSeeds(userId: string): Promise<Api.PaymentCodeSeedList> {
    return this.read(ROUTES.listPaymentCodeSeeds, { userId });
  }

  revokePaymentCodeSeed(
    userId: string,
    seedId: string,
    body: Api.RevokePaymentCodeSeedRequest,
    options?: CommandOptions,
  ): Promise<Api.PaymentCodeSeed> {
    return this.command(ROUTES.revokePaymentCodeSeed, { userId, seedId }, body, options);
  }

  listPaymentCodeRedemptions(userId: string): Promise<Api.PaymentCodeRedemptionList> {
    return this.read(ROUTES.listPaymentCodeRedemptions, { userId });
  }

  /** Merchants: the code a terminal scanned, paid from the payer's wallet into the merchant's account. */
  redeemPaymentCode(body: Api.RedeemPaymentCodeRequest, options?: CommandOptions): Promise<Api.RedeemedPaymentCode> {
    return this.command(ROUTES.redeemPaymentCode, NO_PARAMS, body, options);
  }

  // Webhooks (merchants)

  /** The answer holds the endpoint's signing secret: the only time it is shown. */
  registerWebhookEndpoint(
    body: Api.RegisterWebhookEndpointRequest,
    options?: CommandOptions,
  ): Promise<Api.WebhookEndpointWithSecret> {
    return this.command(ROUTES.registerWebhookEndpoint, NO_PARAMS, body, options);
  }

  listWebhookEndpoints(query: Api.WebhookEndpointListQuery = {}): Promise<Api.WebhookEndpointPage> {
    return this.read(ROUTES.listWebhookEndpoints, NO_PARAMS, query);
  }

  getWebhookEndpoint(endpointId: string): Promise<Api.WebhookEndpoint> {
    return this.read(ROUTES.getWebhookEndpoint, { endpointId });
  }

  updateWebhookEndpoint(
    endpointId: string,
    body: Api.UpdateWebhookEndpointRequest,
    options?: CommandOptions,
  ): Promise<Api.WebhookEndpoint> {
    return this.command(ROUTES.updateWebhookEndpoint, { endpointId }, body, options);
  }

  disableWebhookEndpoint(endpointId: string, options?: CommandOptions): Promise<Api.WebhookEndpoint> {
    return this.command(ROUTES.disableWebhookEndpoint, { endpointId }, undefined, options);
  }

  enableWebhookEndpoint(endpointId: string, options?: CommandOptions): Promise<Api.WebhookEndpoint> {
    return this.command(ROUTES.enableWebhookEndpoint, { endpointId }, undefined, options);
  }

  deleteWebhookEndpoint(endpointId: string, options?: CommandOptions): Promise<Api.WebhookEndpoint> {
    return this.command(ROUTES.deleteWebhookEndpoint, { endpointId }, undefined, options);
  }

  /** A new secret (in the answer only); the previous one keeps signing beside it during the overlap. */
  rotateWebhookSecret(endpointId: string, options?: CommandOptions): Promise<Api.WebhookEndpointWithSecret> {
    return this.command(ROUTES.rotateWebhookSecret, { endpointId }, undefined, options);
  }

  listWebhookMessages(endpointId: string, query: Api.WebhookMessageListQuery = {}): Promise<Api.WebhookMessagePage> {
    return this.read(ROUTES.listWebhookMessages, { endpointId }, query);
  }

  listWebhookDeliveries(
    endpointId: string,
    query: Api.WebhookDeliveryListQuery = {},
  ): Promise<Api.WebhookDeliveryPage> {
    return this.read(ROUTES.listWebhookDeliveries, { endpointId }, query);
  }

  /** Each call is one more delivery of the message (no Idempotency-Key semantics). */
  redeliverWebhookMessage(endpointId: string, messageId: string): Promise<Api.WebhookMessage> {
    return this.command(ROUTES.redeliverWebhookMessage, { endpointId, messageId }, undefined);
  }

  /** The bank, kind and network of a card number (sent in the body, never the URL); records nothing. */
  lookupCard(body: Api.CardLookupRequest): Promise<Api.CardLookup> {
    return this.command(ROUTES.lookupCard, NO_PARAMS, body);
  }

  /** Starts binding a card for a user (card and identity data in the body only). */
  startCardBinding(body: Api.StartBindingRequest, options?: CommandOptions): Promise<Api.CardContract> {
    return this.command(ROUTES.startCardBinding, NO_PARAMS, body, options);
  }

  /** With `payment` (bind-and-pay): once bound, the channel payment is made with the contract, in `payment`. */
  confirmCardBinding(contractId: string, body: Api.ConfirmBindingRequest): Promise<Api.ConfirmedCardContract> {
    return this.command(ROUTES.confirmCardBinding, { contractId }, body);
  }

  resendCardBindingCode(contractId: string, body: Api.ResendBindingCodeRequest): Promise<Api.CardContract> {
    return this.command(ROUTES.resendCardBindingCode, { contractId }, body);
  }

  cancelCardBinding(contractId: string): Promise<Api.CardContract> {
    return this.command(ROUTES.cancelCardBinding, { contractId }, undefined);
  }

  unbindCard(contractId: string): Promise<Api.CardContract> {
    return this.command(ROUTES.unbindCard, { contractId }, undefined);
  }

  /** Ours, and the channel's answer (asked now). */
  getCardContract(contractId: string): Promise<Api.CardContractStatus> {
    return this.read(ROUTES.getCardContract, { contractId });
  }

  /** Real-name verification of a user (2, 3 or 4 elements; the elements in the body only). */
  verifyIdentity(
    userId: string,
    body: Api.VerifyIdentityRequest,
    options?: CommandOptions,
  ): Promise<Api.IdentityVerification> {
    return this.command(ROUTES.verifyIdentity, { userId }, body, options);
  }

  getIdentityVerification(userId: string, verificationId: string): Promise<Api.IdentityVerification> {
    return this.read(ROUTES.getIdentityVerification, { userId, verificationId });
  }

  /** Operators only: contracts unsigned, seeds revoked, the user's data key destroyed. Safe to repeat. */
  eraseUser(userId: string, body: Api.EraseUserRequest): Promise<Api.UserErasure> {
    return this.command(ROUTES.eraseUser, { userId }, body);
  }

  getUserErasure(userId: string): Promise<Api.UserErasure> {
    return this.read(ROUTES.getUserErasure, { userId });
  }

  /** The user's contracts, masked, newest first (a merchant: those it started). */
  listUserCardContracts(userId: string, query: Api.UserCardContractListQuery = {}): Promise<Api.CardContractPage> {
    return this.read(ROUTES.listUserCardContracts, { userId }, query);
  }

  /** Read with `minPosition` set to its `position` to see everything recorded so far. */
  logHead(): Promise<Api.LogHead> {
    return this.read(ROUTES.logHead, NO_PARAMS);
  }

  /** Each read model's checkpoint, and which instance holds the projections lease until when. Operators only. */
  getProjectionStatus(): Promise<Api.ProjectionStatus> {
    return this.read(ROUTES.getProjectionStatus, NO_PARAMS);
  }

  /** Starts an online rebuild of a read model (`all`: every one) on the lease holder. Operators only. */
  rebuildProjection(name: string): Promise<Api.ProjectionRebuildAnswer> {
    return this.command(ROUTES.rebuildProjection, { name }, undefined);
  }

  /** The running online rebuild, or the last one (null before any): phase, position / head. Operators only. */
  getProjectionRebuild(): Promise<Api.ProjectionRebuildAnswer> {
    return this.read(ROUTES.getProjectionRebuild, NO_PARAMS);
  }

  /** A ledger stream's raw events with their hashes and the hash chain checked, a page at a time. Operators only. */
  getStreamEvents(streamId: string, query: Api.StreamEventsQuery = {}): Promise<Api.StreamEvents> {
    return this.read(ROUTES.getStreamEvents, { streamId }, query);
  }

  /** A one-time sign-in link into the web console (`path`, to open under the ledger's URL). Operators only. */
  createConsoleLink(body: Api.ConsoleLinkRequest = {}): Promise<Api.ConsoleLink> {
    return this.command(ROUTES.createConsoleLink, NO_PARAMS, body);
  }

  /**
   * Every item of one of the `list...` listings, page after page:
   * `for await (const p of client.listed((q) => client.listPayments(q), { status: 'completed' }))`.
   */
  listed<Query extends { readonly cursor?: string | undefined }, Item>(
    list: (query: Query) => Promise<{ readonly items: readonly Item[]; readonly nextCursor: string | null }>,
    query: Omit<Query, 'cursor'>,
  ) {
    return eachItem(
      (cursor) => list({ ...query, cursor } as Query),
      (page) => page.items,
    );
  }

  // The two shapes every method above takes

  private async command<Answer, Path extends string>(
    route: Route<Path>,
    params: PathParams<Path>,
    body: unknown,
    options: CommandOptions = {},
  ): Promise<Answer> {
    const answer = await this.transport.send({
      method: route.method,
      pathWithQuery: pathWithQuery(route.path, params),
      // An empty object where the caller gives none: the server reads a body-less POST as a null body,
      // which its optional-body schemas refuse (400 validation_failed).
      body: body ?? {},
      idempotencyKey: options.idempotencyKey ?? SignedTransport.newIdempotencyKey(),
    });
    return JSON.parse(answer.text) as Answer;
  }

  private async read<Answer, Path extends string>(
    route: Route<Path>,
    params: PathParams<Path>,
    query: QueryValues = {},
  ): Promise<Answer> {
    const answer = await this.transport.send({
      method: 'GET',
      pathWithQuery: pathWithQuery(route.path, params, query),
    });
    return JSON.parse(answer.text) as Answer;
  }
}
