import { DateTime } from 'luxon';
import type { ChannelProfile, RoutedOperation } from '../../domain/channels/channel-profile.js';
import {
  assertHealthPolicy,
  healthSnapshot,
  newChannelHealth,
  recordAdmission,
  recordCall,
  type ChannelHealth,
  type HealthPolicy,
  type HealthSnapshot,
} from '../../domain/channels/channel-health.js';
import { route, type RoutingDecision, type RoutingRequest, type RoutingRules } from '../../domain/channels/routing.js';
import type { Money } from '../../domain/money/money.js';
import { assert } from '../../domain/shared/domain-error.js';
import {
  isChannelFailure,
  type CallOptions,
  type ChannelPort,
  type InboundHttpMessage,
  type NotificationCheck,
  type Outcome,
} from '../../ports/channel-port.js';

/** The routing rules without their channels: those are the gateway's ports' profiles. */
export type RoutingPolicy = Omit<RoutingRules, 'channels'>;

export interface ChannelGatewaySettings {
  readonly routing: RoutingPolicy;
  readonly health: HealthPolicy;
  /** The timeout of every channel call (1..60,000 ms): a call that takes longer is `unknown`. */
  readonly callTimeoutMs: number;
  /** The accounting time zone: a channel's daily limit is counted per accounting day. */
  readonly timeZone: string;
  /** The wall clock, epoch ms (health windows, breaker, the day's usage). */
  readonly nowMs: () => number;
  /** One random draw in [0, 1_000_000) per routing decision (recorded in it, so a replay needs no randomness). */
  readonly drawPpm: () => number;
  /** Where a channel posts its asynchronous results: our notify endpoint for it; null when none is reachable. */
  readonly notifyUrlFor: (channelId: string) => string | null;
}

/** What operators see of a channel: its profile (capabilities, fees, limits) and its live health. */
export interface ChannelStanding {
  readonly channelId: string;
  readonly profile: ChannelProfile;
  readonly health: HealthSnapshot;
  /** What it has taken today per routed operation, minor units (of the request currencies summed: one currency per channel day in practice). */
  readonly dailyUsedMinor: Readonly<Record<RoutedOperation, bigint>>;
}

const MAX_CHANNELS = 64;

type AnyOutcome = Outcome<object, object>;

/**
 * The channels as the operations see them: one port per channel, the router over their profiles, and the
 * live health each call feeds (the breaker, the success rate and latency window). An operation asks for
 * a decision (`route`, recorded in its events with its inputs), calls the chosen channel through `call`
 * (the timeout applied, the outcome and latency counted) and notes what an accepted charge or payout
 * takes from the channel's daily limit (`noteUsage`).
 *
 * Health and usage are this process's view, in memory and bounded (the policy's window, one counter per
 * channel and operation for the current accounting day): several instances each judge a channel by the
 * calls they made, and a restart starts every channel healthy. The channel enforces its own limits
 * whatever our counters say (a refusal is `limit_exceeded`): our counter only keeps us from routing to
 * a channel that would refuse.
 */
export class ChannelGateway {
  readonly #ports: ReadonlyMap<string, ChannelPort>;
  readonly #health = new Map<string, ChannelHealth>();
  #usageDay = '';
  readonly #usage = new Map<string, bigint>();

  constructor(
    ports: Iterable<ChannelPort>,
    private readonly settings: ChannelGatewaySettings,
  ) {
    const map = new Map<string, ChannelPort>();
    for (const port of ports) {
      assert(!map.has(port.channelId), `channel ${port.channelId} is configured twice`);
      assert(port.profile.channelId === port.channelId, `channel ${port.channelId}: its profile names another`);
      map.set(port.channelId, port);
      this.#health.set(port.channelId, newChannelHealth);
    }
    assert(map.size <= MAX_CHANNELS, `at most ${MAX_CHANNELS} channels`);
    assertHealthPolicy(settings.health);
    if (!Number.isInteger(settings.callTimeoutMs) || settings.callTimeoutMs < 1 || settings.callTimeoutMs > 60_000)
      throw new RangeError('callTimeoutMs must be in 1..60000');
    this.#ports = map;
  }

  get channelIds(): readonly string[] {
    return [...this.#ports.keys()];
  }

  port(channelId: string): ChannelPort | undefined {
    return this.#ports.get(channelId);
  }

  /** The routing rules as of now (the channels' profiles in configuration order). */
  rules(): RoutingRules {
    return { ...this.settings.routing, channels: [...this.#ports.values()].map((port) => port.profile) };
  }

  /**
   * Chooses a channel now: every channel's health snapshot, today's usage and one fresh draw go into the
   * decision. `onlyChannels` (e.g. those holding a bound card's contract; `channelsHolding`) narrows the
   * rules the router sees, so the recorded inputs still replay to the same answer.
   */
  route(request: RoutingRequest, onlyChannels: readonly string[] | null = null): RoutingDecision {
    const nowMs = this.settings.nowMs();
    const rules = this.rules();
    const channels = onlyChannels ? rules.channels.filter((c) => onlyChannels.includes(c.channelId)) : rules.channels;
    const health = Object.fromEntries(
      channels.map((c) => [c.channelId, healthSnapshot(this.#healthOf(c.channelId), this.settings.health, nowMs)]),
    );
    const dailyUsedMinor = Object.fromEntries(
      channels.map((c) => [c.channelId, this.#usedToday(c.channelId, request.operation, nowMs)]),
    );
    return route({ rules: { ...rules, channels }, request, health, dailyUsedMinor, drawPpm: this.settings.drawPpm() });
  }

  /**
   * Calls a channel with the configured timeout and counts the outcome in its health: `unknown` and
   * `unavailable` are failures (the channel not working), anything else (a decline included) is the
   * channel working. An unknown channel id is a programming error: ids come from routing decisions.
   */
  async call<O extends AnyOutcome>(
    channelId: string,
    invoke: (port: ChannelPort, options: CallOptions) => Promise<O>,
  ): Promise<O> {
    const port = this.#ports.get(channelId);
    if (!port) throw new RangeError(`no channel ${channelId}`);
    const startedMs = this.settings.nowMs();
    this.#health.set(channelId, recordAdmission(this.#healthOf(channelId), this.settings.health, startedMs));
    let failed = true;
    try {
      const outcome = await invoke(port, { timeoutMs: this.settings.callTimeoutMs });
      failed = isChannelFailure(outcome);
      return outcome;
    } finally {
      // A throw (a defect in the adapter) counts as a failure too, so the breaker still judges the channel.
      const endedMs = this.settings.nowMs();
      this.#health.set(
        channelId,
        recordCall(this.#healthOf(channelId), this.settings.health, {
          atMs: endedMs,
          failed,
          latencyMs: Math.max(0, endedMs - startedMs),
        }),
      );
    }
  }

  /** Counts an accepted charge or payout against the channel's daily limit (in the router's view). */
  noteUsage(channelId: string, operation: RoutedOperation, amount: Money): void {
    assert(this.#ports.has(channelId), `no channel ${channelId}`);
    assert(amount.amountMinor > 0n, 'usage is positive');
    const nowMs = this.settings.nowMs();
    const key = `${channelId}|${operation}`;
    this.#usage.set(key, this.#usedToday(channelId, operation, nowMs) + amount.amountMinor);
  }

  /** The channels whose profiles say they make daily statements, in configuration order. */
  statementChannels(): string[] {
    return [...this.#ports.values()]
      .filter((port) => port.profile.capabilities.statements)
      .map((port) => port.channelId);
  }

  /** Our merchant number at a channel (what its statements name us by). */
  merchantIdOf(channelId: string): string {
    const port = this.#ports.get(channelId);
    if (!port) throw new RangeError(`no channel ${channelId}`);
    return port.merchantId;
  }

  notifyUrl(channelId: string): string | null {
    return this.settings.notifyUrlFor(channelId);
  }

  /** Checks a message posted to our notify endpoint; null for a channel we do not have. */
  verifyNotification(channelId: string, message: InboundHttpMessage): NotificationCheck | null {
    const port = this.#ports.get(channelId);
    return port ? port.verifyNotification(message, this.settings.nowMs()) : null;
  }

  standings(): ChannelStanding[] {
    const nowMs = this.settings.nowMs();
    return [...this.#ports.values()].map((port) => ({
      channelId: port.channelId,
      profile: port.profile,
      health: healthSnapshot(this.#healthOf(port.channelId), this.settings.health, nowMs),
      dailyUsedMinor: {
        charge: this.#usedToday(port.channelId, 'charge', nowMs),
        payout: this.#usedToday(port.channelId, 'payout', nowMs),
      },
    }));
  }

  #healthOf(channelId: string): ChannelHealth {
    return this.#health.get(channelId) ?? newChannelHealth;
  }

  #usedToday(channelId: string, operation: RoutedOperation, nowMs: number): bigint {
    const day = DateTime.fromMillis(nowMs, { zone: this.settings.timeZone }).toISODate()!;
    if (day !== this.#usageDay) {
      // A new accounting day: every channel's limit starts again (the map never outgrows channels x operations).
      this.#usageDay = day;
      this.#usage.clear();
    }
    return this.#usage.get(`${channelId}|${operation}`) ?? 0n;
  }
}
