import type { BreakFinding } from '../../domain/reconciliation/break-decider.js';
import { breakIdOf } from '../../domain/reconciliation/break-id.js';
import type { MatchBreak } from '../../domain/reconciliation/match-run.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import {
  RECON_BREAKS_COLLECTION,
  RECON_BREAKS_PROJECTION,
  openRunRange,
  type ReconBreakDocument,
} from '../../projections/recon-breaks.js';
import type { CommandContext } from '../command-context.js';
import { resolveAutomatically, type AutomaticOutcome, type StatementResults } from './automatic-resolutions.js';
import type { ReconciliationBreaks } from './break-commands.js';

/**
 * A reconciliation run's breaks onto their streams (break-decider.ts), after `matchDay`:
 *
 * - each break's id comes from its key and its occurrence under the key (breakIdOf), so the same day run
 *   again finds the same breaks: a finding with nothing changed records nothing, a changed one records
 *   BreakSeenAgain, a cleared one found again reopens itself;
 * - the classes the ledger resolves itself are resolved as they are recorded (automatic-resolutions.ts);
 * - the breaks an earlier run of the same day left open that this run no longer finds are cleared: read
 *   from the `recon_breaks` read model (a range read per channel and run day), once it has caught up with
 *   the log's head. Only when `complete` (every break of the run was given): a list cut short says
 *   nothing about the breaks it left out.
 *
 * Streams are appended to `concurrency` at a time (each its own stream, so they never conflict), and the
 * ids of the run's breaks are held in memory to find the ones gone: at most MAX_BREAKS_RECORDED per run.
 */
export const DEFAULT_BREAK_CONCURRENCY = 16;
export const MAX_BREAK_CONCURRENCY = 64;
/** More breaks than this in one channel's day is not a day to work through break by break. */
export const MAX_BREAKS_RECORDED = 200_000;
/** Open breaks read per page when looking for the ones a run no longer finds. */
const OPEN_BREAKS_PAGE = 500;
/** How long to wait for recon_breaks to apply the run's findings before clearing (it runs beside us). */
const READ_MODEL_WAIT_MS = 30_000;

export interface RecordBreaksDeps {
  readonly breaks: ReconciliationBreaks;
  readonly readModels: ReadModelStore;
  /** The log's head (EventStore.headPosition): the read model is waited for up to it before clearing. */
  readonly headPosition: () => Promise<bigint | 'start'>;
  /** Resolves once the projection has applied `position` (LiveProjections.waitForPosition). */
  readonly waitForPosition: (projection: string, position: bigint, timeoutMs: number) => Promise<void>;
  /** The channel payments' statement results; null: nothing is resolved automatically. */
  readonly channelPayments: StatementResults | null;
  readonly concurrency?: number;
}

export interface RecordBreaksRequest {
  readonly runId: string;
  readonly channel: string;
  readonly accountingDate: string;
  readonly breaks: AsyncIterable<MatchBreak>;
  /** False when `breaks` is not all the run found (matchDay lists at most maxBreaksListed): nothing is cleared. */
  readonly complete: boolean;
  /** Who ran it (`sweep`, `cli:<os user>`, an operator's id): the actor of the events. */
  readonly ranBy: string;
  readonly at: string;
}

export interface RecordBreaksResult {
  readonly recorded: number;
  readonly found: number;
  readonly seenAgain: number;
  readonly reopened: number;
  readonly unchanged: number;
  readonly cleared: number;
  readonly markedPaid: number;
  readonly markedRefunded: number;
  readonly leftForReview: number;
  /** The highest position written: wait for it to read the run's breaks back. */
  readonly position: bigint;
}

export async function recordRunBreaks(
  deps: RecordBreaksDeps,
  request: RecordBreaksRequest,
): Promise<RecordBreaksResult> {
  const concurrency = deps.concurrency ?? DEFAULT_BREAK_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_BREAK_CONCURRENCY)
    throw new RangeError(`concurrency is 1 to ${MAX_BREAK_CONCURRENCY}`);
  const counts = {
    recorded: 0,
    found: 0,
    seenAgain: 0,
    reopened: 0,
    unchanged: 0,
    cleared: 0,
    markedPaid: 0,
    markedRefunded: 0,
    leftForReview: 0,
  };
  let position = -1n;
  const seen = new Set<string>();
  const context = (purpose: string): CommandContext => ({
    actor: request.ranBy,
    correlationId: request.runId,
    causationId: request.runId,
    idempotencyKey: null,
    operationKey: purpose,
    occurredAt: request.at,
  });
  const onAutomatic = (outcome: AutomaticOutcome) => {
    if (outcome === 'marked_paid') counts.markedPaid += 1;
    else if (outcome === 'marked_refunded') counts.markedRefunded += 1;
    else if (outcome === 'left_for_review') counts.leftForReview += 1;
  };

  const record = async (finding: BreakFinding) => {
    const handled = await deps.breaks.recordFinding(
      finding,
      context(`recon-run\u0000${request.runId}\u0000${finding.breakId}`),
    );
    position = handled.position > position ? handled.position : position;
    const types = handled.events.map((event) => event.type);
    if (types.includes('BreakFound')) counts.found += 1;
    else if (types.includes('BreakReopened')) counts.reopened += 1;
    else if (types.includes('BreakSeenAgain')) counts.seenAgain += 1;
    else counts.unchanged += 1;
    if (!handled.state.exists || deps.channelPayments === null) return;
    // Keyed by the break, not the run: a day run again resolves (and pays) nothing twice.
    const automatic = await resolveAutomatically(
      { breaks: deps.breaks, channelPayments: deps.channelPayments },
      handled.state,
      context(`recon-auto\u0000${finding.breakId}`),
    );
    onAutomatic(automatic.outcome);
    position = automatic.position > position ? automatic.position : position;
  };

  await inPool(concurrency, findingsOf(request), async (finding) => {
    if (seen.has(finding.breakId))
      throw new Error(`reconciliation run ${request.runId}: break ${finding.breakId} twice`);
    if (seen.size >= MAX_BREAKS_RECORDED)
      throw new RangeError(`reconciliation run ${request.runId}: more than ${MAX_BREAKS_RECORDED} breaks`);
    seen.add(finding.breakId);
    counts.recorded += 1;
    await record(finding);
  });

  if (request.complete) {
    // Up to the log's head, not just this run's last event: a run that found nothing must still see
    // what the run before it left open.
    const head = await deps.headPosition();
    if (head !== 'start') await deps.waitForPosition(RECON_BREAKS_PROJECTION, head, READ_MODEL_WAIT_MS);
    const run = { runId: request.runId, runDate: request.accountingDate };
    await inPool(concurrency, openBreaksOf(deps.readModels, request.channel, request.accountingDate), async (doc) => {
      if (seen.has(doc.breakId)) return;
      const handled = await deps.breaks.clear(
        doc.breakId,
        run,
        context(`recon-clear\u0000${request.runId}\u0000${doc.breakId}`),
      );
      if (handled.events.length > 0) counts.cleared += 1;
      position = handled.position > position ? handled.position : position;
    });
  }
  return { ...counts, position };
}

/**
 * The run's breaks as findings, with their ids. Under one key matching judges the first line and order as
 * the pair (occurrence 0, whatever its class: it may be no break) and reports every further one as a
 * `duplicate_rows` break, one after another: those are occurrences 1, 2..., so a duplicate keeps its id
 * whether or not its pair is a break.
 */
async function* findingsOf(request: RecordBreaksRequest): AsyncIterable<BreakFinding> {
  let previousKey: string | null = null;
  let duplicates = 0;
  for await (const item of request.breaks) {
    const key = `${item.merchantOrderNo}\u0000${item.refundNo ?? ''}`;
    if (key !== previousKey) duplicates = 0;
    previousKey = key;
    if (item.matchClass === 'duplicate_rows') duplicates += 1;
    const occurrence = item.matchClass === 'duplicate_rows' ? duplicates : 0;
    yield {
      breakId: breakIdOf({
        channel: request.channel,
        originDate: item.originDate,
        merchantOrderNo: item.merchantOrderNo,
        refundNo: item.refundNo,
        occurrence,
      }),
      channel: request.channel,
      originDate: item.originDate,
      runId: request.runId,
      runDate: request.accountingDate,
      matchClass: item.matchClass,
      merchantOrderNo: item.merchantOrderNo,
      refundNo: item.refundNo,
      occurrence,
      ageDays: item.ageDays,
      statement: item.statement,
      ours: item.ours,
    };
  }
}

/** The breaks still open that an earlier run of the channel's day saw last, a page at a time. */
async function* openBreaksOf(readModels: ReadModelStore, channel: string, runDate: string) {
  const range = openRunRange(channel, runDate);
  let gte = range.gte;
  for (;;) {
    const page = await readModels.find<ReconBreakDocument>(RECON_BREAKS_COLLECTION, {
      range: { field: 'openRunKey', gte, lt: range.lt },
      orderBy: 'openRunKey',
      limit: OPEN_BREAKS_PAGE,
    });
    // Collected before clearing: a cleared break leaves the range, which would move a cursor under us.
    const docs = page.items.map((item) => item.data);
    for (const doc of docs) yield doc;
    const last = docs.at(-1);
    if (page.nextCursor === null || last?.openRunKey == null) return;
    gte = `${last.openRunKey}\u0000`;
  }
}

/** Runs `work` on each item, at most `limit` at once; the first failure stops taking new items and is thrown. */
async function inPool<T>(limit: number, items: AsyncIterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = work(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw (failure as { error: unknown }).error;
}

export { readBreaksFile } from './match-day.js';
