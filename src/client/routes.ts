/**
 * Every route of the API the client calls, one entry per route: the client's methods are named after
 * these keys, and a test checks that every route of /openapi.json is here. A new route is one line here,
 * its types in api-types.ts and one small method in ledger-client.ts. The channels' notify endpoint
 * (`POST /v1/channel-notifications/{channel}`) is not here: channels call it, signed with their own keys.
 */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** As the OpenAPI document writes it: parameters in braces. */
  readonly path: string;
}

export const ROUTES = {
  liveness: { method: 'GET', path: '/health/live' },
  readiness: { method: 'GET', path: '/health/ready' },

  openAccount: { method: 'POST', path: '/v1/accounts' },
  listAccounts: { method: 'GET', path: '/v1/accounts' },
  getAccount: { method: 'GET', path: '/v1/accounts/{accountId}' },
  setAccountFlags: { method: 'PUT', path: '/v1/accounts/{accountId}/flags' },
  setAccountStatus: { method: 'PUT', path: '/v1/accounts/{accountId}/status' },
  getStatement: { method: 'GET', path: '/v1/accounts/{accountId}/statement' },
  exportStatementCsv: { method: 'GET', path: '/v1/accounts/{accountId}/statement.csv' },
  getBalanceAsOf: { method: 'GET', path: '/v1/accounts/{accountId}/balance' },

  registerEntity: { method: 'POST', path: '/v1/entities' },
  listEntities: { method: 'GET', path: '/v1/entities' },
  getEntity: { method: 'GET', path: '/v1/entities/{entityId}' },
  addKey: { method: 'POST', path: '/v1/entities/{entityId}/keys' },
  revokeKey: { method: 'POST', path: '/v1/entities/{entityId}/keys/{keyNo}/revoke' },
  setPaymentPassword: { method: 'POST', path: '/v1/entities/{entityId}/payment-password' },
  changePaymentSettings: { method: 'POST', path: '/v1/entities/{entityId}/payment-settings' },

  recharge: { method: 'POST', path: '/v1/recharges' },
  listRecharges: { method: 'GET', path: '/v1/recharges' },
  getRecharge: { method: 'GET', path: '/v1/recharges/{rechargeId}' },

  pay: { method: 'POST', path: '/v1/payments' },
  listPayments: { method: 'GET', path: '/v1/payments' },
  getPayment: { method: 'GET', path: '/v1/payments/{paymentId}' },
  cancelPayment: { method: 'POST', path: '/v1/payments/{paymentId}/cancel' },
  refundPayment: { method: 'POST', path: '/v1/payments/{paymentId}/refunds' },
  listRefunds: { method: 'GET', path: '/v1/refunds' },

  payThroughChannel: { method: 'POST', path: '/v1/channel-payments' },
  listChannelPayments: { method: 'GET', path: '/v1/channel-payments' },
  getChannelPayment: { method: 'GET', path: '/v1/channel-payments/{paymentId}' },
  verifyChannelPayment: { method: 'POST', path: '/v1/channel-payments/{paymentId}/verification' },
  resendChannelPaymentCode: { method: 'POST', path: '/v1/channel-payments/{paymentId}/verification/resend' },
  refundChannelPayment: { method: 'POST', path: '/v1/channel-payments/{paymentId}/refunds' },
  listChannelPaymentRefunds: { method: 'GET', path: '/v1/channel-payments/{paymentId}/refunds' },
  getChannelPaymentRefund: { method: 'GET', path: '/v1/channel-payments/{paymentId}/refunds/{refundId}' },
  cancelChannelPayment: { method: 'POST', path: '/v1/channel-payments/{paymentId}/cancel' },
  listChannels: { method: 'GET', path: '/v1/channels' },

  placeFreeze: { method: 'POST', path: '/v1/accounts/{accountId}/freezes' },
  listFreezes: { method: 'GET', path: '/v1/freezes' },
  getFreeze: { method: 'GET', path: '/v1/freezes/{freezeId}' },
  releaseFreeze: { method: 'POST', path: '/v1/freezes/{freezeId}/release' },
  deductFromFreeze: { method: 'POST', path: '/v1/freezes/{freezeId}/deduct' },

  authorisePreauth: { method: 'POST', path: '/v1/preauths' },
  listPreauths: { method: 'GET', path: '/v1/preauths' },
  getPreauth: { method: 'GET', path: '/v1/preauths/{preauthId}' },
  cancelPreauth: { method: 'POST', path: '/v1/preauths/{preauthId}/cancel' },
  completePreauth: { method: 'POST', path: '/v1/preauths/{preauthId}/complete' },
  cancelPreauthCompletion: { method: 'POST', path: '/v1/preauths/{preauthId}/completion/cancel' },

  transfer: { method: 'POST', path: '/v1/transfers' },
  listTransfers: { method: 'GET', path: '/v1/transfers' },
  getTransfer: { method: 'GET', path: '/v1/transfers/{transferId}' },
  transferBatch: { method: 'POST', path: '/v1/transfer-batches' },
  listTransferBatches: { method: 'GET', path: '/v1/transfer-batches' },
  getTransferBatch: { method: 'GET', path: '/v1/transfer-batches/{batchId}' },
  transitKeys: { method: 'GET', path: '/v1/transit/keys' },
  issueTransitCredential: { method: 'POST', path: '/v1/transit/users/{userId}/credentials' },
  listTransitCredentials: { method: 'GET', path: '/v1/transit/users/{userId}/credentials' },
  revokeTransitCredential: { method: 'POST', path: '/v1/transit/users/{userId}/credentials/{credentialId}/revoke' },
  getTransitDebt: { method: 'GET', path: '/v1/transit/users/{userId}/debt' },
  listTransitScans: { method: 'GET', path: '/v1/transit/users/{userId}/scans' },
  uploadTransitScans: { method: 'POST', path: '/v1/transit/scan-batches' },
  withdraw: { method: 'POST', path: '/v1/withdrawals' },
  listWithdrawals: { method: 'GET', path: '/v1/withdrawals' },
  getWithdrawal: { method: 'GET', path: '/v1/withdrawals/{withdrawalId}' },

  chartOfAccounts: { method: 'GET', path: '/v1/books/chart-of-accounts' },
  getJournal: { method: 'GET', path: '/v1/books/journal' },
  getBookAccountBalances: { method: 'GET', path: '/v1/books/accounts/{code}/balances' },
  trialBalance: { method: 'GET', path: '/v1/books/trial-balance' },
  listAccountingDates: { method: 'GET', path: '/v1/books/accounting-dates' },

  registerWebhookEndpoint: { method: 'POST', path: '/v1/webhook-endpoints' },
  listWebhookEndpoints: { method: 'GET', path: '/v1/webhook-endpoints' },
  getWebhookEndpoint: { method: 'GET', path: '/v1/webhook-endpoints/{endpointId}' },
  updateWebhookEndpoint: { method: 'PUT', path: '/v1/webhook-endpoints/{endpointId}' },
  disableWebhookEndpoint: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/disable' },
  enableWebhookEndpoint: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/enable' },
  deleteWebhookEndpoint: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/delete' },
  rotateWebhookSecret: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/secret/rotate' },
  listWebhookMessages: { method: 'GET', path: '/v1/webhook-endpoints/{endpointId}/messages' },
  listWebhookDeliveries: { method: 'GET', path: '/v1/webhook-endpoints/{endpointId}/deliveries' },
  redeliverWebhookMessage: {
    method: 'POST',
    path: '/v1/webhook-endpoints/{endpointId}/messages/{messageId}/redeliveries',
  },

  lookupCard: { method: 'POST', path: '/v1/cards/lookup' },
  issuePaymentCodeSeed: { method: 'POST', path: '/v1/users/{userId}/payment-code-seeds' },
  listPaymentCodeSeeds: { method: 'GET', path: '/v1/users/{userId}/payment-code-seeds' },
  revokePaymentCodeSeed: { method: 'POST', path: '/v1/users/{userId}/payment-code-seeds/{seedId}/revoke' },
  listPaymentCodeRedemptions: { method: 'GET', path: '/v1/users/{userId}/payment-code-redemptions' },
  redeemPaymentCode: { method: 'POST', path: '/v1/payment-codes/redeem' },
  startCardBinding: { method: 'POST', path: '/v1/card-contracts' },
  confirmCardBinding: { method: 'POST', path: '/v1/card-contracts/{contractId}/confirm' },
  resendCardBindingCode: { method: 'POST', path: '/v1/card-contracts/{contractId}/resend' },
  cancelCardBinding: { method: 'POST', path: '/v1/card-contracts/{contractId}/cancel' },
  unbindCard: { method: 'POST', path: '/v1/card-contracts/{contractId}/unbind' },
  getCardContract: { method: 'GET', path: '/v1/card-contracts/{contractId}' },

  listReconciliationBreaks: { method: 'GET', path: '/v1/reconciliation/breaks' },
  exportReconciliationBreaksCsv: { method: 'GET', path: '/v1/reconciliation/breaks.csv' },
  getReconciliationBreak: { method: 'GET', path: '/v1/reconciliation/breaks/{breakId}' },
  acceptBreakChannelAmount: { method: 'POST', path: '/v1/reconciliation/breaks/{breakId}/resolve' },
  writeOffBreak: { method: 'POST', path: '/v1/reconciliation/breaks/{breakId}/write-off' },
  investigateBreak: { method: 'POST', path: '/v1/reconciliation/breaks/{breakId}/investigate' },
  reopenBreak: { method: 'POST', path: '/v1/reconciliation/breaks/{breakId}/reopen' },

  verifyIdentity: { method: 'POST', path: '/v1/users/{userId}/identity-verifications' },
  getIdentityVerification: { method: 'GET', path: '/v1/users/{userId}/identity-verifications/{verificationId}' },
  eraseUser: { method: 'POST', path: '/v1/users/{userId}/erasure' },
  getUserErasure: { method: 'GET', path: '/v1/users/{userId}/erasure' },
  listUserCardContracts: { method: 'GET', path: '/v1/users/{userId}/card-contracts' },

  logHead: { method: 'GET', path: '/v1/log/head' },
  getProjectionStatus: { method: 'GET', path: '/v1/projections' },
  rebuildProjection: { method: 'POST', path: '/v1/projections/{name}/rebuild' },
  getProjectionRebuild: { method: 'GET', path: '/v1/projections/rebuild' },
  getStreamEvents: { method: 'GET', path: '/v1/streams/{streamId}/events' },
  createConsoleLink: { method: 'POST', path: '/v1/console/links' },

  listReconciliationDays: { method: 'GET', path: '/v1/reconciliation/days' },
  exportReconciliationDaysCsv: { method: 'GET', path: '/v1/reconciliation/days.csv' },
  getReconciliationDay: { method: 'GET', path: '/v1/reconciliation/days/{channel}/{date}' },
  runReconciliationDay: { method: 'POST', path: '/v1/reconciliation/days/{channel}/{date}/run' },
  uploadStatement: { method: 'POST', path: '/v1/reconciliation/statements/{channel}/{date}' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

type ParamNames<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? Name | ParamNames<Rest>
  : never;
/** `{ accountId: string }` for "/v1/accounts/{accountId}". */
export type PathParams<Path extends string> = { readonly [Name in ParamNames<Path>]: string };

/** Values a query may carry; undefined ones are left out. */
export type QueryValues = { readonly [name: string]: string | number | boolean | undefined };

/** The path with its parameters filled in (URL-encoded) and the query appended, exactly as it is signed and sent. */
export function pathWithQuery<Path extends string>(
  path: Path,
  params: PathParams<Path>,
  query: QueryValues = {},
): string {
  const values = params as Readonly<Record<string, string>>;
  const filled = path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined || value === '') throw new TypeError(`path parameter ${name} is missing`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.append(name, String(value));
  const text = search.toString();
  return text === '' ? filled : `${filled}?${text}`;
}
