/**
 * Account kinds a payment platform holds, and the three-digit prefix that starts every account number of
 * that kind, so the kind is known from the number alone (DESIGN 2.1), the chart-of-accounts subject
 * code its balance rolls up to by default, and who may own one (see account-owner.ts).
 */
export const ACCOUNT_TYPES = {
  wallet: {
    prefix: '101',
    subjectCode: '2201',
    ownerKind: 'user',
    description: 'customer wallet (stored-value balance owed to a user)',
  },
  merchant_settlement: {
    prefix: '201',
    subjectCode: '2202',
    ownerKind: 'merchant',
    description: 'merchant settlement account (what we owe a merchant)',
  },
  channel_clearing: {
    prefix: '301',
    subjectCode: '1122',
    ownerKind: 'platform',
    description: 'clearing account for one payment channel',
  },
  fee_income: { prefix: '401', subjectCode: '6001', ownerKind: 'platform', description: "platform's fee income" },
  suspense: {
    prefix: '501',
    subjectCode: '2241',
    ownerKind: 'platform',
    description: 'suspense: money whose owner is not yet known',
  },
  platform: {
    prefix: '601',
    subjectCode: '1002',
    ownerKind: 'platform',
    description: "the platform's own operating account",
  },
} as const;

export type AccountType = keyof typeof ACCOUNT_TYPES;

export const ACCOUNT_TYPE_NAMES = Object.keys(ACCOUNT_TYPES) as [AccountType, ...AccountType[]];

export function accountTypeOfPrefix(prefix: string): AccountType | undefined {
  return ACCOUNT_TYPE_NAMES.find((type) => ACCOUNT_TYPES[type].prefix === prefix);
}
