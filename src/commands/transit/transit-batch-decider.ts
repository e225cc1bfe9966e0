import type { TransitBatchEvent } from '../../domain/transit/transit-events.js';

/**
 * A transit operator's batch record (`transitbatch-<recordId>`): written once, after its scans were
 * decided, so the same batch uploaded again is answered from it. Recording it again records nothing.
 */
export type TransitBatchRecord = TransitBatchEvent['data'];
export type TransitBatchState = { readonly recorded: false } | ({ readonly recorded: true } & TransitBatchRecord);
export interface RecordTransitBatch {
  readonly type: 'RecordTransitBatch';
  readonly record: TransitBatchRecord;
}

export const transitBatchDecider = {
  decide: (command: RecordTransitBatch, state: TransitBatchState): TransitBatchEvent[] =>
    state.recorded ? [] : [{ type: 'TransitBatchRecorded', data: command.record }],
  evolve: (_state: TransitBatchState, event: TransitBatchEvent): TransitBatchState => ({
    recorded: true,
    ...event.data,
  }),
  initialState: (): TransitBatchState => ({ recorded: false }),
};
