import type { EventStore } from '../../ports/event-store.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import { ReconciliationBreaks } from '../../commands/reconciliation/break-commands.js';
import type { RecordBreaksDeps } from '../../commands/reconciliation/record-breaks.js';
import { channelOrdersProjection } from '../../projections/channel-orders.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { reconBreaksProjection } from '../../projections/recon-breaks.js';

/**
 * Reconciliation where the data is, with no service running beside it (`ledger recon run`, tests): the
 * two read models a run reads, our side (`channel-orders`) and the open breaks (`recon-breaks`), are
 * brought up to the log's head here, by a runner of their own, before the run and whenever the run waits
 * for its findings to be applied. A service running at the same time does no harm: documents and
 * checkpoints are position-guarded, so two runners applying the same log write the same thing.
 *
 * No automatic resolution here (`channelPayments` null): continuing a channel payment needs the channel
 * gateway and the whole service. Breaks of the classes the ledger resolves itself are left open; an
 * operator's re-run through the service (`POST /v1/reconciliation/days/{channel}/{date}/run`) resolves them.
 */
export interface LocalBreakRecording {
  readonly deps: RecordBreaksDeps;
  /** Brings our side and the breaks up to the log's head. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

export async function localBreakRecording(
  eventStore: EventStore,
  readModels: ReadModelStore,
  accountingTimeZone: string,
): Promise<LocalBreakRecording> {
  const runner = new ProjectionRunner(eventStore, readModels, [
    channelOrdersProjection(accountingTimeZone),
    reconBreaksProjection,
  ]);
  await runner.prepare();
  const catchUp = async () => {
    await runner.catchUp();
  };
  return {
    deps: {
      breaks: new ReconciliationBreaks(eventStore),
      readModels,
      headPosition: () => eventStore.headPosition(),
      waitForPosition: catchUp,
      channelPayments: null,
    },
    catchUp,
    close: () => runner.stop(),
  };
}
