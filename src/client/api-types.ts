import type { z } from 'zod';
import type * as controls from '../adapters/http/routes/account-controls.js';
import type * as accountQueries from '../adapters/http/routes/account-queries.js';
import type * as accounts from '../adapters/http/routes/accounts.js';
import type * as books from '../adapters/http/routes/books.js';
import type * as cards from '../adapters/http/routes/cards.js';
import type * as cardContracts from '../adapters/http/routes/card-contracts.js';
import type * as userIdentity from '../adapters/http/routes/user-identity.js';
import type * as userCardContracts from '../adapters/http/routes/user-card-contracts.js';
import type * as channelPayments from '../adapters/http/routes/channel-payments.js';
import type * as channelRefunds from '../adapters/http/routes/channel-refunds.js';
import type * as channels from '../adapters/http/routes/channel-notifications.js';
import type * as entities from '../adapters/http/routes/entities.js';
import type * as entityQueries from '../adapters/http/routes/entity-queries.js';
import type * as freezes from '../adapters/http/routes/freezes.js';
import type * as health from '../adapters/http/routes/health.js';
import type * as log from '../adapters/http/routes/log-queries.js';
import type * as operations from '../adapters/http/routes/operation-views.js';
import type * as payments from '../adapters/http/routes/payments.js';
import type * as paymentCodes from '../adapters/http/routes/payment-codes.js';
import type * as preauths from '../adapters/http/routes/preauths.js';
import type * as projections from '../adapters/http/routes/projection-status.js';
import type * as rebuilds from '../adapters/http/routes/projection-rebuilds.js';
import type * as recharges from '../adapters/http/routes/recharges.js';
import type * as reconBreaks from '../adapters/http/routes/reconciliation-breaks.js';
import type * as reconciliation from '../adapters/http/routes/reconciliation.js';
import type * as statements from '../adapters/http/routes/statements.js';
import type * as statementUploads from '../adapters/http/routes/statement-uploads.js';
import type * as movements from '../adapters/http/routes/transfers-and-withdrawals.js';
import type * as batches from '../adapters/http/routes/transfer-batches.js';
import type * as transit from '../adapters/http/routes/transit.js';
import type * as webhookDeliveries from '../adapters/http/routes/webhook-deliveries.js';
import type * as webhooks from '../adapters/http/routes/webhook-endpoints.js';
import type * as streamEvents from '../adapters/http/routes/stream-events.js';
import type * as consoleLinks from '../adapters/http/console/console-links.js';

/**
 * What the client sends and receives, derived from the zod schemas the server validates and serialises
 * with (type-only imports: none of the server's code is loaded). Requests are the schemas' input types
 * (defaults may be left out), answers their output types.
 */
type In<Schema extends z.ZodType> = z.input<Schema>;
type Out<Schema extends z.ZodType> = z.output<Schema>;
/** Page sizes are coerced from the query string on the server (input `unknown`): a number here. */
type Paged<Query> = Omit<Query, 'limit'> & { readonly limit?: number };

export type Health = Out<typeof health.healthView>;

export type OpenAccountRequest = In<typeof accounts.openAccountBody>;
export type OpenedAccount = Out<typeof accounts.openedAccountView>;
export type AccountQuery = In<typeof accounts.accountQuery>;
export type Account = Out<typeof accounts.accountView>;
export type AccountListQuery = Paged<In<typeof accountQueries.accountListQuery>>;
export type AccountPage = Out<typeof accountQueries.accountPageView>;
export type BalanceAsOfQuery = In<typeof accountQueries.balanceAsOfQuery>;
export type BalanceAsOf = Out<typeof accountQueries.balanceAsOfView>;
export type AccountFlagsRequest = In<typeof controls.flagsChangeBody>;
export type AccountStatusRequest = In<typeof controls.statusChangeBody>;
export type AccountControls = Out<typeof controls.controlsView>;

export type StatementQuery = Paged<In<typeof statements.statementQuery>>;
export type StatementCsvQuery = In<typeof statements.statementCsvQuery>;
export type Statement = Out<typeof statements.statementView>;
export type StatementLine = Out<typeof statements.statementLineView>;

export type RegisterEntityRequest = In<typeof entities.registerEntityBody>;
export type Entity = Out<typeof entities.entityView>;
export type EntityWithAccounts = Out<typeof entities.entityWithAccountsView>;
export type EntityListQuery = Paged<In<typeof entityQueries.entityListQuery>>;
export type EntityPage = Out<typeof entityQueries.entityPageView>;
export type EntitySummary = Out<typeof entityQueries.entitySummaryView>;
export type AddKeyRequest = In<typeof entities.addKeyBody>;
export type RevokeKeyRequest = In<typeof entities.revokeKeyBody>;
export type ApiKey = Out<typeof entities.keyView>;
export type PaymentPasswordRequest = In<typeof entities.paymentPasswordBody>;
export type PaymentPasswordSet = Out<typeof entities.paymentPasswordView>;
export type PaymentSettingsRequest = In<typeof entities.paymentSettingsBody>;

export type RechargeRequest = In<typeof recharges.rechargeBody>;
export type Recharge = Out<typeof recharges.rechargeView>;
export type RechargeListQuery = Paged<In<typeof operations.rechargeListQuery>>;
export type RechargeLookupQuery = In<typeof operations.rechargeLookupQuery>;

/** What every operation list answers: operation summaries, a page at a time. */
export type OperationSummary = Out<typeof operations.operationSummaryView>;
export type OperationPage = Out<typeof operations.operationPageView>;

export type PayRequest = In<typeof payments.payBody>;
export type Payment = Out<typeof payments.paymentView>;
export type PaymentListQuery = Paged<In<typeof operations.paymentListQuery>>;

export type ChannelPaymentRequest = In<typeof channelPayments.channelPaymentBody>;
export type ChannelPayment = Out<typeof channelPayments.channelPaymentView>;
export type ChannelPaymentListQuery = Paged<In<typeof operations.channelPaymentListQuery>>;
export type ChannelPaymentVerificationRequest = In<typeof channelPayments.verificationBody>;
export type ChannelPaymentResendRequest = In<typeof channelPayments.resendBody>;
export type ChannelRefund = Out<typeof channelRefunds.channelRefundView>;
export type ChannelRefundList = Out<typeof channelRefunds.channelRefundListView>;
export type ChannelStandings = Out<typeof channels.channelsView>;
export type RefundListQuery = Paged<In<typeof operations.refundListQuery>>;
export type RefundPage = Out<typeof operations.refundPageView>;
export type RefundSummary = Out<typeof operations.refundSummaryView>;
export type CancelPaymentRequest = NonNullable<In<typeof payments.cancelPaymentBody>>;
export type RefundRequest = In<typeof payments.refundBody>;
export type RefundedPayment = Out<typeof payments.refundedPaymentView>;

export type PlaceFreezeRequest = In<typeof freezes.placeFreezeBody>;
export type Freeze = Out<typeof freezes.freezeView>;
export type ReleaseFreezeRequest = NonNullable<In<typeof freezes.releaseFreezeBody>>;
export type DeductFromFreezeRequest = In<typeof freezes.deductFreezeBody>;
export type FreezeDeduction = Out<typeof freezes.deductedFreezeView>;
export type FreezeListQuery = Paged<In<typeof operations.freezeListQuery>>;

export type AuthorisePreauthRequest = In<typeof preauths.authorisePreauthBody>;
export type CompletePreauthRequest = In<typeof preauths.completePreauthBody>;
export type Preauth = Out<typeof preauths.preauthView>;
export type PreauthListQuery = Paged<In<typeof operations.preauthListQuery>>;

export type TransferRequest = In<typeof movements.transferBody>;
export type Transfer = Out<typeof movements.transferView>;
export type TransferBatchRequest = In<typeof batches.transferBatchBody>;
export type TransferBatch = Out<typeof batches.transferBatchView>;
export type TransferBatchListQuery = Paged<In<typeof batches.transferBatchListQuery>>;
export type TransferBatchSummary = Out<typeof batches.transferBatchSummaryView>;
export type TransferBatchPage = Out<typeof batches.transferBatchPageView>;
export type TransitKeys = Out<typeof transit.transitKeysView>;
export type IssueTransitCredentialRequest = In<typeof transit.issueTransitCredentialBody>;
export type TransitCredential = Out<typeof transit.transitCredentialView>;
export type TransitCredentialList = Out<typeof transit.transitCredentialListView>;
export type RevokeTransitCredentialRequest = In<typeof transit.revokeTransitCredentialBody>;
export type TransitDebt = Out<typeof transit.transitDebtView>;
export type TransitScanListQuery = Paged<In<typeof transit.transitScanListQuery>>;
export type TransitScanPage = Out<typeof transit.transitScanPageView>;
export type TransitScanBatchRequest = In<typeof transit.transitScanBatchBody>;
export type TransitScanBatch = Out<typeof transit.transitScanBatchView>;
export type WithdrawalRequest = In<typeof movements.withdrawalBody>;
export type Withdrawal = Out<typeof movements.withdrawalView>;
export type TransferListQuery = Paged<In<typeof operations.transferListQuery>>;
export type WithdrawalListQuery = Paged<In<typeof operations.withdrawalListQuery>>;

export type ChartOfAccounts = Out<typeof books.chartOfAccountsView>;
export type BookAccount = Out<typeof books.bookAccountView>;
export type JournalQuery = Paged<In<typeof books.journalQuery>>;
export type JournalPage = Out<typeof books.journalView>;
export type JournalEntry = Out<typeof books.journalEntryView>;
export type BookBalancesQuery = Paged<In<typeof books.bookBalancesQuery>>;
export type BookAccountBalances = Out<typeof books.accountBalancesView>;
export type SubLedgerBalance = BookAccountBalances['subLedgers'][number];
export type TrialBalanceQuery = In<typeof books.trialBalanceQuery>;
export type TrialBalance = Out<typeof books.trialBalanceView>;
export type AccountingDateListQuery = Paged<In<typeof log.accountingDateListQuery>>;
export type AccountingDatePage = Out<typeof log.accountingDatePageView>;

export type CardLookupRequest = In<typeof cards.cardLookupBody>;
export type CardLookup = Out<typeof cards.cardLookupView>;
export type IssuePaymentCodeSeedRequest = In<typeof paymentCodes.issueSeedBody>;
export type RevokePaymentCodeSeedRequest = In<typeof paymentCodes.revokeSeedBody>;
export type PaymentCodeSeed = Out<typeof paymentCodes.seedView>;
export type IssuedPaymentCodeSeed = Out<typeof paymentCodes.issuedSeedView>;
export type PaymentCodeSeedList = Out<typeof paymentCodes.seedListView>;
export type RedeemPaymentCodeRequest = In<typeof paymentCodes.redeemBody>;
export type RedeemedPaymentCode = Out<typeof paymentCodes.redeemedView>;
export type PaymentCodeRedemptionList = Out<typeof paymentCodes.redemptionListView>;
export type StartBindingRequest = In<typeof cardContracts.startBindingBody>;
export type ConfirmBindingRequest = In<typeof cardContracts.confirmBindingBody>;
export type ResendBindingCodeRequest = In<typeof cardContracts.resendBindingCodeBody>;
export type CardContract = Out<typeof cardContracts.contractView>;
export type CardContractStatus = Out<typeof cardContracts.contractStatusView>;
export type ConfirmedCardContract = Out<typeof cardContracts.confirmedBindingView>;
export type VerifyIdentityRequest = In<typeof userIdentity.verifyIdentityBody>;
export type IdentityVerification = Out<typeof userIdentity.identityVerificationView>;
export type UserIdentity = Out<typeof userIdentity.userIdentityView>;
export type EraseUserRequest = In<typeof userIdentity.erasureBody>;
export type UserErasure = Out<typeof userIdentity.erasureView>;
export type UserCardContractListQuery = Paged<In<typeof userCardContracts.cardContractListQuery>>;
export type CardContractSummary = Out<typeof userCardContracts.cardContractSummaryView>;
export type CardContractPage = Out<typeof userCardContracts.cardContractPageView>;

export type RegisterWebhookEndpointRequest = In<typeof webhooks.registerWebhookEndpointBody>;
export type UpdateWebhookEndpointRequest = In<typeof webhooks.updateWebhookEndpointBody>;
export type WebhookEndpoint = Out<typeof webhooks.webhookEndpointView>;
export type WebhookEndpointWithSecret = Out<typeof webhooks.webhookEndpointWithSecretView>;
export type WebhookEndpointListQuery = Paged<In<typeof webhooks.webhookEndpointListQuery>>;
export type WebhookEndpointPage = Out<typeof webhooks.webhookEndpointPageView>;
export type WebhookMessage = Out<typeof webhookDeliveries.webhookMessageView>;
export type WebhookMessageListQuery = Paged<In<typeof webhookDeliveries.webhookMessageListQuery>>;
export type WebhookMessagePage = Out<typeof webhookDeliveries.webhookMessagePageView>;
export type WebhookDelivery = Out<typeof webhookDeliveries.webhookDeliveryView>;
export type WebhookDeliveryListQuery = Paged<In<typeof webhookDeliveries.webhookDeliveryListQuery>>;
export type WebhookDeliveryPage = Out<typeof webhookDeliveries.webhookDeliveryPageView>;

export type LogHead = Out<typeof log.logHeadView>;
export type ProjectionStatus = Out<typeof projections.projectionStatusView>;
export type ProjectionRebuildAnswer = Out<typeof rebuilds.rebuildAnswerView>;
export type StreamEvents = Out<typeof streamEvents.streamEventsView>;
/** The query's numbers are coerced from strings on the server: numbers here. */
export type StreamEventsQuery = { readonly [Key in keyof In<typeof streamEvents.streamEventsQuery>]?: number };
export type ConsoleLinkRequest = In<typeof consoleLinks.consoleLinkBody>;
export type ConsoleLink = Out<typeof consoleLinks.consoleLinkView>;

export type ReconciliationBreakListQuery = Paged<In<typeof reconBreaks.breakListQuery>>;
export type ReconciliationBreakCsvQuery = In<typeof reconBreaks.breakCsvQuery>;
export type ReconciliationBreakPage = Out<typeof reconBreaks.reconciliationBreakPageView>;
export type ReconciliationBreak = Out<typeof reconBreaks.reconciliationBreakView>;
export type ReconciliationBreakDetail = Out<typeof reconBreaks.reconciliationBreakDetailView>;
export type BreakReasonRequest = In<typeof reconBreaks.breakReasonBody>;
export type BreakNoteRequest = In<typeof reconBreaks.breakNoteBody>;
export type ReconciliationDayListQuery = Paged<In<typeof reconciliation.reconDayListQuery>>;
export type ReconciliationDayCsvQuery = In<typeof reconciliation.reconDayCsvQuery>;
export type ReconciliationDay = Out<typeof reconciliation.reconDayView>;
export type ReconciliationDayPage = Out<typeof reconciliation.reconDayPageView>;
export type ReconciliationRuns = Out<typeof reconciliation.reconRunsView>;
export type StatementUploadQuery = In<typeof statementUploads.statementUploadQuery>;
export type StoredStatement = Out<typeof statementUploads.storedStatementView>;
