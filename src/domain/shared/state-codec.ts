import type { JsonObject } from './json.js';

/**
 * A decider's state to and from JSON, for snapshots. One codec per decider state, versioned.
 *
 * `version` names the meaning of the JSON, not just its shape: bump it whenever the state's fields change
 * OR `evolve` would fold the same events into a different state (a new rule, a new field derived from
 * old events). A snapshot of another version is ignored and the stream is read in full, so a stale
 * snapshot can never stand in for what today's code would have folded.
 *
 * `decode(encode(state))` equals `state` (tests/property/state-codecs.property.test.ts); `decode` refuses
 * anything that is not a state this version encodes, including states that break the decider's invariants.
 */
export interface StateCodec<State> {
  /** Whose state ("account-state"); a snapshot of another schema is never decoded. */
  readonly schema: string;
  readonly version: number;
  encode(state: State): JsonObject;
  /** Throws on anything `encode` of this version could not have produced. */
  decode(json: JsonObject): State;
}
