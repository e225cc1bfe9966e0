import { z } from 'zod';
import { partySnapshot } from '../payments/payment-events.js';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/** A transfer between two wallets (`transfer-<transferId>`): the request, then its outcome. */
const transferId = z.uuid();

export const transferRequested = z.strictObject({
  type: z.literal('TransferRequested'),
  data: z.strictObject({
    transferId,
    fromAccountId: z.string(),
    toAccountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    memo: z.string().max(200),
    from: partySnapshot,
    to: partySnapshot,
  }),
});
export const transferCompleted = z.strictObject({
  type: z.literal('TransferCompleted'),
  data: z.strictObject({ transferId }),
});
export const transferFailed = z.strictObject({
  type: z.literal('TransferFailed'),
  data: z.strictObject({ transferId, reasonCode: z.string(), reason: z.string().max(300) }),
});

export const transferEventSchemas = [transferRequested, transferCompleted, transferFailed] as const;
export type TransferEvent = z.output<(typeof transferEventSchemas)[number]>;
export type TransferRequested = z.output<typeof transferRequested>;
