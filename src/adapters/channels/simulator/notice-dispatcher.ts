import { newNonce, signatureHeaders, type ChannelKey } from '../wire/wire-signing.js';
import type { WireNotification } from '../wire/wire-messages.js';
import type { FailureModes } from './simulator-config.js';
import type { CallbackAttempt } from './simulator-records.js';
import { happens } from './seeded-draw.js';

/** Posts a signed callback and gives the receiver's status code; throws when nothing came back. */
export type CallbackPost = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<number>;

export interface DispatchSettings {
  readonly seed: string;
  readonly channelId: string;
  readonly key: ChannelKey;
  readonly retryMs: readonly number[];
  readonly timeoutMs: number;
  readonly nowMs: () => number;
  readonly post: CallbackPost;
  readonly log: (attempt: CallbackAttempt) => void;
  /** Runs `task` after `delayMs` unless the simulator has closed. */
  readonly later: (delayMs: number, task: () => Promise<void>) => void;
}

/**
 * Delivers one order's notices the way a channel does, with the configured faults: all lost, each sent
 * twice, or newest first; each retried on the schedule until the receiver answers 2xx, at most
 * `retryMs.length` more times. Which fault applies is drawn from the seed and the order number.
 */
export async function dispatchNotices(
  settings: DispatchSettings,
  failures: FailureModes,
  url: string,
  notices: readonly WireNotification[],
): Promise<void> {
  const first = notices[0];
  if (!first) return;
  const orderKey = `${first.out_trade_no}:${first.out_refund_no ?? ''}:${first.seq}`;
  const { seed, channelId } = settings;
  if (happens(seed, failures.lostCallbackRatePpm, channelId, orderKey, 'lost')) {
    for (const notice of notices) {
      settings.log({
        notifyId: notice.notify_id,
        orderNo: notice.out_trade_no,
        seq: notice.seq,
        attempt: 0,
        atMs: settings.nowMs(),
        result: 'lost',
        statusCode: null,
      });
    }
    return;
  }
  const ordered = happens(seed, failures.outOfOrderCallbackRatePpm, channelId, orderKey, 'reorder')
    ? [...notices].reverse()
    : notices;
  const twice = happens(seed, failures.duplicateCallbackRatePpm, channelId, orderKey, 'duplicate');
  for (const notice of ordered) {
    await deliver(settings, url, notice, 1);
    if (twice) await deliver(settings, url, notice, 1);
  }
}

async function deliver(
  settings: DispatchSettings,
  url: string,
  notice: WireNotification,
  attempt: number,
): Promise<void> {
  const body = JSON.stringify(notice);
  const atMs = settings.nowMs();
  const headers = {
    'content-type': 'application/json',
    // Signed with the real clock, as the receiver checks freshness against its own.
    ...signatureHeaders(settings.key, {
      kind: 'POST',
      path: new URL(url).pathname,
      timestampMs: Date.now(),
      nonce: newNonce(),
      body,
    }),
  };
  let statusCode: number | null;
  try {
    statusCode = await settings.post(url, headers, body, settings.timeoutMs);
  } catch {
    statusCode = null;
  }
  const acknowledged = statusCode !== null && statusCode >= 200 && statusCode < 300;
  settings.log({
    notifyId: notice.notify_id,
    orderNo: notice.out_trade_no,
    seq: notice.seq,
    attempt,
    atMs,
    result: acknowledged ? 'acknowledged' : statusCode === null ? 'failed' : 'refused',
    statusCode,
  });
  const waitMs = settings.retryMs[attempt - 1];
  if (!acknowledged && waitMs !== undefined) {
    // Re-signed on every attempt: a retry carries a fresh timestamp and nonce.
    settings.later(waitMs, () => deliver(settings, url, notice, attempt + 1));
  }
}
