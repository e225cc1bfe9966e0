import { z } from 'zod';

/** Schema pieces shared by routes. Amounts cross the API as decimal strings of major units. */
export const amountString = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,17})(\.[0-9]{1,4})?$/, 'a decimal string of major units such as "12.34"')
  .describe('Decimal amount in major units, as a string ("100.00"); at most the currency\'s minor-unit decimals');

export const currencyString = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "CNY"')
  .describe('ISO 4217 currency code');

export const accountIdString = z
  .string()
  .regex(/^[0-9]{16}$/, '16 digits')
  .describe('Account number: 16 digits, the first three give the account type');

export const positionString = z
  .string()
  .regex(/^[0-9]{1,20}$/)
  .describe('Global log position (decimal string)');

/** The switches of an account's control flags (DESIGN 2.1), as the API shows and takes them. */
export const accountFlagSwitches = {
  mayRecharge: z.boolean(),
  mayWithdraw: z.boolean(),
  mayPay: z.boolean(),
  mayReceive: z.boolean(),
  maySendTransfers: z.boolean(),
  mayReceiveTransfers: z.boolean(),
  mayOverdraw: z.boolean(),
};

export const accountFlagsView = z.object({
  ...accountFlagSwitches,
  overdraftLimit: z.string().describe('Major units'),
});

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .describe('Client-chosen key: retries with the same key and body get the first response; the command runs once'),
});

export const optionalIdempotencyHeaders = idempotencyHeaders.partial();
