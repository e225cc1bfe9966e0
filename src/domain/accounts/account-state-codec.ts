import { z } from 'zod';
import { minorUnits, minorUnitsTotal } from '../shared/codecs.js';
import { assert } from '../shared/domain-error.js';
import type { JsonObject } from '../shared/json.js';
import type { StateCodec } from '../shared/state-codec.js';
import { FREEZE_PURPOSES, accountOpened, accountStatusChanged } from './account-events.js';
import type { AccountState, OpenFreeze } from './account-state.js';

/**
 * The account state (account-state.ts) as JSON, version 1. Amounts are decimal strings, as in events
 * (totals may be longer than any one amount); the open freezes are a list of [freezeId, freeze] pairs in
 * the Map's own order, so a decoded state iterates its freezes exactly as the folded one does.
 */
const openFreezeJson = z.strictObject({ remainingMinor: minorUnits, purpose: z.enum(FREEZE_PURPOSES) });

const freezesJson = z.codec(z.array(z.tuple([z.uuid(), openFreezeJson])), z.map(z.string(), z.custom<OpenFreeze>()), {
  decode: (entries) => new Map(entries),
  encode: (freezes) => [...freezes.entries()],
});

/**
 * The fields an account opens with are validated as the AccountOpened event's, defined once there: a change
 * to that event changes this JSON too, so `version` goes up with it (the codec's property test fails first).
 */
const accountStateJson = z.union([
  z.strictObject({ exists: z.literal(false) }),
  accountOpened.shape.data.extend({
    exists: z.literal(true),
    status: accountStatusChanged.shape.data.shape.status,
    balanceMinor: minorUnitsTotal,
    frozenMinor: minorUnitsTotal,
    freezes: freezesJson,
  }),
]);

type Schema = z.ZodType<AccountState, JsonObject>;

/** What evolveAccount keeps true of every state; a decoded state that breaks it was not folded by it. */
function assertFolded(state: AccountState): AccountState {
  if (!state.exists) return state;
  let heldMinor = 0n;
  for (const freeze of state.freezes.values()) {
    assert(freeze.remainingMinor > 0n, 'an open freeze still holds something');
    heldMinor += freeze.remainingMinor;
  }
  assert(heldMinor === state.frozenMinor, 'frozen funds are what the open freezes hold');
  return state;
}

export const accountStateCodec: StateCodec<AccountState> = {
  schema: 'account-state',
  version: 1,
  encode: (state) => (accountStateJson as unknown as Schema).encode(state),
  decode: (json) => assertFolded((accountStateJson as unknown as Schema).decode(json)),
};
