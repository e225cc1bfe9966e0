import { z } from 'zod';
import { minorUnits } from '../shared/codecs.js';
import type { AccountType } from './account-type.js';

/** Control flags of an account (DESIGN 2.1): what money may do on it. */
export const accountFlagsSchema = z.strictObject({
  mayRecharge: z.boolean(),
  mayWithdraw: z.boolean(),
  mayPay: z.boolean(),
  mayReceive: z.boolean(),
  maySendTransfers: z.boolean(),
  mayReceiveTransfers: z.boolean(),
  mayOverdraw: z.boolean(),
  /** How far below zero available funds may go when mayOverdraw; 0 otherwise. */
  overdraftLimitMinor: minorUnits,
});
export type AccountFlags = z.output<typeof accountFlagsSchema>;

const NONE: AccountFlags = {
  mayRecharge: false,
  mayWithdraw: false,
  mayPay: false,
  mayReceive: false,
  maySendTransfers: false,
  mayReceiveTransfers: false,
  mayOverdraw: false,
  overdraftLimitMinor: 0n,
};

/** Flags an account of each kind opens with; operators change them by command. */
export function defaultFlags(type: AccountType): AccountFlags {
  switch (type) {
    case 'wallet':
      return {
        ...NONE,
        mayRecharge: true,
        mayWithdraw: true,
        mayPay: true,
        mayReceive: true,
        maySendTransfers: true,
        mayReceiveTransfers: true,
      };
    case 'merchant_settlement':
      return { ...NONE, mayWithdraw: true, mayPay: true, mayReceive: true };
    case 'channel_clearing':
    case 'suspense':
      // Money passes through these in both directions before it is sorted out.
      return { ...NONE, mayPay: true, mayReceive: true, mayOverdraw: true, overdraftLimitMinor: 10n ** 15n };
    case 'fee_income':
      return { ...NONE, mayReceive: true };
    case 'platform':
      return { ...NONE, mayPay: true, mayReceive: true, maySendTransfers: true, mayReceiveTransfers: true };
  }
}
