import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { simulatedProfiles } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { replayReadModels } from '../../src/audit/replay-read-models.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import type { CommandContext } from '../../src/commands/command-context.js';
import { IdempotencyKeeper, IdempotentRequestInProgressError } from '../../src/commands/idempotency.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import { parseCurrency, type Money } from '../../src/domain/money/money.js';
import type { BoundCard, PayerInstrument } from '../../src/domain/channels/payer-instrument.js';
import { FINISHED_STATUSES } from '../../src/domain/channel-payments/channel-payment-decider.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { AppendOutcomeUnknownError, EventStoreUnavailableError } from '../../src/ports/event-store.js';
import { ReadModelStoreUnavailableError, ReadModelWriteUnknownError } from '../../src/ports/read-model-store.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import type { Projection } from '../../src/projections/projection.js';
import { Composition, SIMULATION_TIME_ZONE } from './composition.js';
import { FaultCounts } from './fault-counts.js';
import { InvariantViolation, MovementTally, check, checkReadSide, checkWriteSide } from './invariants.js';
import { PeerChannel, type PeerFaultRates } from './peer-channel.js';
import { consistentAnswers, describe, newOp, summary, type Client, type Op, type Request } from './client-requests.js';
import { Prng } from './prng.js';
import { SimulatedCrash, type AppendFault } from './simulated-event-store.js';

export interface SimulationOptions {
  readonly seed: number;
  readonly steps: number;
  readonly clients?: number;
  /** The read models the simulated service keeps (a test passes a deliberately broken one). */
  readonly projections?: readonly Projection[];
}

export interface SimulationResult {
  readonly seed: number;
  readonly steps: number;
  /** sha-256 of the trace: two runs of one seed give the same digest. */
  readonly digest: string;
  readonly trace: readonly string[];
  readonly faults: Record<string, number>;
  readonly checks: number;
  readonly crashes: number;
  readonly answered: number;
  readonly refused: number;
  readonly unanswered: number;
  /** The first invariant that did not hold, at which step; null when the seed passed. */
  readonly failure: { readonly step: number; readonly message: string } | null;
}

const CNY = parseCurrency('CNY');
const money = (amountMinor: bigint): Money => ({ amountMinor, currency: CNY });
const EPOCH_MS = DateTime.fromISO('2026-03-01T00:00:00.000Z').toMillis();
/** A client gives up retrying an unanswered request after this many tries (and is told nothing happened: the drain retries it anyway). */
const MAX_RETRIES = 12;
/** Retries of the drain at the end, faults off: every request must be answered within them. */
const DRAIN_ROUNDS = 30;
const RECOVERY_GRACE_MS = 60_000;
const MERCHANTS = 2;
const CARD: BoundCard = {
  bankCode: 'CITY',
  cardKind: 'debit',
  contracts: Object.values(simulatedProfiles)
    .filter((p) => p.capabilities.charges.some((o) => o.method === 'quick_pay' && o.covers.includes('CITY')))
    .map((p) => ({ channelId: p.channelId, contractNo: `sim-contract-${p.channelId}` })),
};
const PAYER: PayerInstrument = { method: 'quick_pay', card: CARD };

/** One seed's whole run: setup, the random steps, the drain, the final audits. Never throws for an invariant: it is reported. */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const run = new Simulation(options);
  try {
    return await run.run();
  } finally {
    await run.dispose();
  }
}

class Simulation {
  private readonly prng: Prng;
  private readonly faults = new FaultCounts();
  private readonly trace: string[] = [];
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'ledger-sim-'));
  private readonly peers: PeerChannel[];
  private readonly projections: readonly Projection[];
  private readonly batchEvents: number;
  private composition!: Composition;
  private step = 0;
  private nowMs = EPOCH_MS;
  private faultsOn = false;
  private rates: PeerFaultRates = NO_PEER_FAULTS;
  private checks = 0;
  private crashes = 0;
  private answered = 0;
  private refused = 0;
  private unanswered = 0;
  private readonly clients: Client[] = [];
  private merchants: string[] = [];
  private readonly payments = new Set<string>();
  private readonly preauths = new Set<string>();
  private readonly movements = new Set<string>();
  private readonly tally = new MovementTally();

  constructor(private readonly options: SimulationOptions) {
    this.prng = new Prng(options.seed);
    this.projections = options.projections ?? projectionsFor(SIMULATION_TIME_ZONE);
    this.batchEvents = this.prng.pick([1, 7, 50, 1_000]);
    this.peers = Object.values(simulatedProfiles).map(
      (profile) =>
        new PeerChannel(
          profile,
          this.prng,
          () => this.rates,
          () => this.step,
          this.faults,
        ),
    );
  }

  async run(): Promise<SimulationResult> {
    this.note(`seed ${this.options.seed} batchEvents=${this.batchEvents}`);
    this.composition = await this.open();
    let failure: SimulationResult['failure'] = null;
    try {
      await this.setUp();
      this.faultsOn = true;
      this.rates = SOME_PEER_FAULTS;
      for (this.step = 1; this.step <= this.options.steps; this.step += 1) {
        this.nowMs += 500 + this.prng.below(4_500);
        await this.oneStep();
        this.checks += await checkWriteSide(
          this.composition.commands,
          this.accounts(),
          this.acknowledged(),
          await this.tallied(),
        );
      }
      await this.drain();
      await this.finalAudit();
    } catch (error) {
      if (!(error instanceof InvariantViolation || error instanceof UnexpectedFailure)) throw error;
      failure = { step: this.step, message: error.message };
      this.note(`FAILED at step ${this.step}: ${error.message}`);
    }
    const digest = createHash('sha256').update(this.trace.join('\n')).digest('hex');
    return {
      seed: this.options.seed,
      steps: this.options.steps,
      digest,
      trace: this.trace,
      faults: this.faults.toJSON(),
      checks: this.checks,
      crashes: this.crashes,
      answered: this.answered,
      refused: this.refused,
      unanswered: this.unanswered,
      failure,
    };
  }

  async dispose(): Promise<void> {
    await this.composition?.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private open(): Promise<Composition> {
    return Composition.open({
      dataDir: this.dataDir,
      peers: this.peers,
      projections: this.projections,
      nowMs: () => this.nowMs,
      drawPpm: () => this.prng.below(1_000_000),
      nextAppendFault: () => this.appendFault(),
      batchEvents: this.batchEvents,
    });
  }

  private appendFault(): AppendFault {
    if (!this.faultsOn || !this.prng.chance(6)) return 'none';
    const fault = this.prng.weighted<AppendFault>([
      [3, 'unavailable'],
      [2, 'lost'],
      [3, 'written-unanswered'],
      [1, 'crash-before'],
      [2, 'crash-after'],
    ]);
    this.faults.count(`append_${fault}`);
    return fault;
  }

  private async setUp(): Promise<void> {
    const clients = this.options.clients ?? 4;
    for (let i = 0; i < MERCHANTS; i += 1) this.merchants.push(await this.openAccount(`m-${i}`, 'merchant_settlement'));
    for (let i = 0; i < clients; i += 1) {
      this.clients.push({
        index: i,
        wallet: await this.openAccount(`u-${i}`, 'wallet'),
        serial: 0,
        pending: null,
        answers: new Map(),
        payments: [],
        freezes: [],
        preauths: [],
        channelPayments: [],
        openRecharges: new Set(),
        openWithdrawals: new Set(),
      });
    }
  }

  private async openAccount(ownerId: string, accountType: 'wallet' | 'merchant_settlement'): Promise<string> {
    const opened = await this.composition.commands.openAccount(
      { ownerId, accountType, currency: CNY, displayName: ownerId },
      this.context(`open-${ownerId}`),
    );
    return opened.accountId;
  }

  private accounts(): string[] {
    return [...this.clients.map((c) => c.wallet), ...this.merchants];
  }

  private acknowledged() {
    const preauthsInFlight = new Set<string>();
    for (const client of this.clients) {
      const op = client.pending?.op;
      if (op && (op.op === 'complete' || op.op === 'cancelPreauth')) preauthsInFlight.add(op.preauthId);
    }
    return { payments: this.payments, preauths: this.preauths, movements: this.movements, preauthsInFlight };
  }

  private async tallied(): Promise<MovementTally> {
    await this.tally.catchUp(this.composition.log);
    return this.tally;
  }

  private context(key: string): CommandContext {
    return {
      actor: 'simulator',
      correlationId: key,
      causationId: null,
      idempotencyKey: key,
      operationKey: key,
      occurredAt: new Date(this.nowMs).toISOString(),
    };
  }

  private note(line: string): void {
    this.trace.push(line);
  }

  /** One step: a client acts (a new request, a retry of an unanswered one, a resend of an answered one), or the service's background work runs. */
  private async oneStep(): Promise<void> {
    const what = this.prng.weighted<string>([
      [64, 'client'],
      [16, 'project'],
      [5, 'sweep'],
      [6, 'deliver'],
      [3, 'poll'],
      [3, 'crash'],
      [3, 'resend'],
    ]);
    for (const peer of this.peers) peer.tick();
    if (what === 'project') return this.project();
    if (what === 'deliver') return this.deliver();
    if (what === 'poll') return this.poll();
    if (what === 'sweep') return this.recoverySweep();
    if (what === 'crash') {
      this.faults.count('crash_between_requests');
      return this.crash('between requests');
    }
    const client = this.prng.pick(this.clients);
    if (what === 'resend') return this.resend(client);
    if (client.pending) {
      client.pending.tries += 1;
      if (client.pending.tries > MAX_RETRIES) {
        this.note(`${this.step} c${client.index} gives up on ${client.pending.key} (the drain retries it)`);
        return;
      }
      return this.send(client, client.pending);
    }
    const op = newOp(this.prng, client, this.clients.length, MERCHANTS);
    client.serial += 1;
    client.pending = { key: `s${this.options.seed}-c${client.index}-r${client.serial}`, op, tries: 1 };
    return this.send(client, client.pending);
  }

  /** Sends one request and classifies what came back: an answer, a refusal (an answer too), or nothing (a fault: retried later). */
  private async send(client: Client, request: Request): Promise<void> {
    const label = `${this.step} c${client.index} ${request.key}#${request.tries} ${describe(request.op)}`;
    let answer: string;
    try {
      // As the API runs a command: under its idempotency key, the answer (or refusal) recorded for retries.
      const response = await this.keeper().run(
        { scope: `client-${client.index}`, key: request.key, fingerprint: describe(request.op) },
        async () => ({ statusCode: 200, body: { answer: await this.execute(client, request) } }),
        (error) =>
          error instanceof DomainError && error.code !== 'invariant_violated'
            ? { statusCode: 422, body: { answer: `refused ${error.code}` } }
            : undefined,
      );
      const recorded = response.body['answer'];
      check(typeof recorded === 'string', () => `${request.key}: no answer recorded`);
      answer = recorded as string;
      if (response.statusCode !== 200) this.refused += 1;
    } catch (error) {
      if (error instanceof InvariantViolation) throw error;
      if (error instanceof IdempotentRequestInProgressError) {
        this.note(`${label} -> in progress (a claim held by a crashed attempt)`);
        this.unanswered += 1;
        return;
      }
      if (error instanceof SimulatedCrash) {
        this.note(`${label} -> no answer (${error.message})`);
        this.unanswered += 1;
        return this.crash(error.message);
      } else if (isStorageFault(error)) {
        this.note(`${label} -> no answer (${(error as Error).name})`);
        this.unanswered += 1;
        return;
      } else {
        throw new UnexpectedFailure(`${label} failed unexpectedly (a 500): ${String(error)}`);
      }
    }
    this.note(`${label} -> ${answer}`);
    this.answered += 1;
    const earlier = client.answers.get(request.key);
    check(
      earlier === undefined || consistentAnswers(earlier.answer, answer),
      () => `${request.key} answered "${answer}", first "${earlier!.answer}"`,
    );
    if (!earlier) client.answers.set(request.key, { request, answer });
    this.noteChannelPayment(client, answer);
    if (client.pending?.key === request.key) client.pending = null;
  }

  private keeper(): IdempotencyKeeper {
    return new IdempotencyKeeper(this.composition.eventStore, {
      now: () => DateTime.fromMillis(this.nowMs, { zone: 'utc' }),
    });
  }

  /** A channel payment answered completed can be refunded by its client. */
  private noteChannelPayment(client: Client, answer: string): void {
    const id = /^channel payment ([0-9a-f-]{36}) completed/.exec(answer)?.[1];
    if (id && !client.channelPayments.includes(id)) client.channelPayments.push(id);
  }

  /** Resends an answered request under its key (a client that never saw the answer, a duplicate delivery). */
  private async resend(client: Client): Promise<void> {
    const answered = [...client.answers.values()];
    if (answered.length === 0) return;
    const { request } = this.prng.pick(answered);
    this.faults.count('duplicate_request');
    await this.send(client, { ...request, tries: request.tries + 100 });
  }

  /** Runs one request against the command side; returns the answer as the trace records it. */
  private async execute(client: Client, request: Request): Promise<string> {
    const { commands } = this.composition;
    const context = this.context(request.key);
    const op = request.op;
    switch (op.op) {
      case 'recharge': {
        const { recharge } = await commands.recharge(
          { accountId: client.wallet, amount: money(op.amountMinor), payer: PAYER },
          context,
        );
        return this.noteRecharge(client, recharge);
      }
      case 'resolveRecharge':
        return this.noteRecharge(client, await commands.resolveRecharge(op.rechargeId, context));
      case 'pay': {
        const { payment } = await commands.pay(
          {
            merchantId: `m-${op.merchant}`,
            merchantOrderNo: request.key,
            description: '',
            payerAccountId: client.wallet,
            payeeAccountId: this.merchants[op.merchant]!,
            amount: money(op.amountMinor),
            payerIp: null,
            payerPlatform: null,
          },
          context,
        );
        const id = payment.order.paymentId;
        if (payment.status === 'completed') {
          this.payments.add(id);
          if (!client.payments.includes(id)) client.payments.push(id);
          this.movements.add(`FundsDebited|${client.wallet}|payment:${id}`);
        }
        return `payment ${id} ${payment.status}`;
      }
      case 'refund': {
        const refunded = await commands.refundPayment(
          { paymentId: op.paymentId, refundNo: request.key, amount: money(op.amountMinor), reason: '' },
          context,
        );
        return `refund ${summary(refunded)}`;
      }
      case 'transfer': {
        const to = this.clients[op.to]!.wallet;
        const done = await commands.transfer(
          { fromAccountId: client.wallet, toAccountId: to, amount: money(op.amountMinor), memo: '' },
          context,
        );
        return `transfer ${summary(done)}`;
      }
      case 'withdraw': {
        const { withdrawal } = await commands.withdraw(
          { accountId: client.wallet, amount: money(op.amountMinor), payee: CARD },
          context,
        );
        return this.noteWithdrawal(client, withdrawal);
      }
      case 'resolveWithdrawal':
        return this.noteWithdrawal(client, await commands.resolveWithdrawal(op.withdrawalId, context));
      case 'freeze': {
        const { freeze } = await commands.placeFreeze(
          { accountId: client.wallet, amount: money(op.amountMinor), reason: '' },
          context,
        );
        const id = freeze.request.freezeId;
        if (!client.freezes.includes(id)) client.freezes.push(id);
        this.movements.add(`FundsFrozen|${client.wallet}|${id}`);
        return `freeze ${id} ${freeze.status}`;
      }
      case 'release':
        return `release ${summary(await commands.releaseFreeze(op.freezeId, null, '', context))}`;
      case 'deduct':
        return `deduct ${summary(
          await commands.deductFromFreeze(
            {
              freezeId: op.freezeId,
              amountMinor: op.amountMinor,
              payeeAccountId: this.merchants[op.merchant]!,
              memo: '',
            },
            context,
          ),
        )}`;
      case 'preauth': {
        const { preauth } = await commands.authorisePreauth(
          {
            merchantId: `m-${op.merchant}`,
            merchantOrderNo: request.key,
            payerAccountId: client.wallet,
            payeeAccountId: this.merchants[op.merchant]!,
            amount: money(op.amountMinor),
            expiresAt: '2099-01-01T00:00:00.000Z',
          },
          context,
        );
        const id = preauth.request.preauthId;
        this.preauths.add(id);
        if (!client.preauths.includes(id)) client.preauths.push(id);
        return `preauth ${id} ${preauth.status}`;
      }
      case 'channelPay': {
        const { payment } = await this.composition.channelPayments.create(
          {
            merchantId: `m-${op.merchant}`,
            payeeAccountId: this.merchants[op.merchant]!,
            merchantOrderNo: request.key,
            amount: money(op.amountMinor),
            description: '',
            instrument: { method: 'platform_pay', platform: op.platform, returnUrl: null },
            payer: { ip: null, deviceId: `device-${client.index}`, payerId: `u-${client.index}`, phone: null },
          },
          context,
        );
        if (payment.status === 'completed')
          this.movements.add(
            `FundsCredited|${this.merchants[op.merchant]!}|channel_payment:${payment.order.paymentId}`,
          );
        return `channel payment ${payment.order.paymentId} ${payment.status}`;
      }
      case 'channelRefund': {
        const { refund } = await this.composition.channelPayments.refund(
          { paymentId: op.paymentId, refundNo: request.key, amount: money(op.amountMinor), reason: '' },
          context,
        );
        return `channel refund ${refund.refundId} ${refund.status}`;
      }
      case 'complete':
        return `complete ${summary(await commands.completePreauth(op.preauthId, money(op.amountMinor), context))}`;
      case 'cancelPreauth':
        return `cancel ${summary(await commands.cancelPreauth(op.preauthId, 'merchant', context))}`;
    }
  }

  private noteRecharge(
    client: Client,
    recharge: { status: string; request: { rechargeId: string; accountId: string } },
  ): string {
    const id = recharge.request.rechargeId;
    if (recharge.status === 'requested') client.openRecharges.add(id);
    else client.openRecharges.delete(id);
    if (recharge.status === 'completed') this.movements.add(`FundsRecharged|${recharge.request.accountId}|${id}`);
    return `recharge ${id} ${recharge.status}`;
  }

  private noteWithdrawal(client: Client, withdrawal: { status: string; request: { withdrawalId: string } }): string {
    const id = withdrawal.request.withdrawalId;
    if (withdrawal.status === 'requested') client.openWithdrawals.add(id);
    else client.openWithdrawals.delete(id);
    if (withdrawal.status === 'completed') this.movements.add(`FundsDebited|${client.wallet}|withdrawal:${id}`);
    return `withdrawal ${id} ${withdrawal.status}`;
  }

  /** The projections catch up (sometimes with a faulted batch write); once caught up, the read side is checked. */
  private async project(): Promise<void> {
    const { readModels } = this.composition;
    if (this.faultsOn && this.prng.chance(25)) {
      const fault = this.prng.pick(['unavailable', 'half-written', 'written-unconfirmed'] as const);
      this.faults.count(`read_model_${fault}`);
      readModels.failNextBatches(fault);
    }
    try {
      const applied = await this.composition.runner.catchUp();
      this.note(`${this.step} projections applied ${applied}`);
    } catch (error) {
      if (!isStorageFault(error)) throw new UnexpectedFailure(`projections failed unexpectedly: ${String(error)}`);
      this.note(`${this.step} projections failed (${(error as Error).name}); restarted`);
      this.composition.restartProjections();
      return;
    } finally {
      readModels.failNextBatches(...[]);
    }
    this.checks += await checkReadSide(this.composition.commands, readModels, this.accounts());
  }

  /** A channel's callback reaches the notify endpoint (verified there; here applied as the route applies it). */
  private async deliver(): Promise<void> {
    const peer = this.prng.pick(this.peers);
    const notice = peer.nextDelivery();
    if (!notice) return;
    const key = `s${this.options.seed}-notice-${notice.notificationId}-${this.step}`;
    try {
      const applied = await this.composition.channelPayments.applyNotification(
        peer.channelId,
        notice,
        this.context(key),
      );
      this.note(
        `${this.step} callback ${notice.notificationId} ${notice.orderNo} ${notice.state} -> ${applied ? applied.payment.status : 'no order'}`,
      );
    } catch (error) {
      // The channel hears no acknowledgement and sends the callback again later.
      if (error instanceof SimulatedCrash) {
        this.note(`${this.step} callback ${notice.notificationId} -> no acknowledgement (${error.message})`);
        return this.crash(error.message);
      }
      if (error instanceof DomainError && error.code !== 'invariant_violated') {
        this.note(`${this.step} callback ${notice.notificationId} -> refused ${error.code}`);
        return;
      }
      if (!isStorageFault(error))
        throw new UnexpectedFailure(`callback ${notice.notificationId} failed: ${String(error)}`);
      this.note(`${this.step} callback ${notice.notificationId} -> no acknowledgement (${(error as Error).name})`);
    }
  }

  /** The poller asks the channels about pending and unknown channel payments (as the service's periodic task). */
  private async poll(): Promise<void> {
    try {
      const acted = await this.composition.poller.sweep(new Date(this.nowMs).toISOString());
      this.note(`${this.step} poller acted on ${acted}`);
    } catch (error) {
      if (error instanceof SimulatedCrash) return this.crash(error.message);
      if (!isStorageFault(error)) throw new UnexpectedFailure(`poller failed: ${String(error)}`);
      this.note(`${this.step} poller failed (${(error as Error).name})`);
    }
  }

  /** The recovery sweep: operations left mid-way (a crash, a storage fault) are driven on from their events. */
  private async recoverySweep(): Promise<void> {
    const failures: string[] = [];
    try {
      const resumed = await resumeStalledOperations(
        {
          resumeOperation: async (kind, id, context) => {
            if (kind === 'channel_payment') await this.composition.channelPayments.resume(id, context);
            else await this.composition.commands.resumeOperation(kind, id, context);
          },
        },
        this.composition.readModels,
        new Date(this.nowMs).toISOString(),
        RECOVERY_GRACE_MS,
        (id, error) => {
          if (error instanceof SimulatedCrash) throw error;
          if (!isStorageFault(error) && !(error instanceof DomainError)) failures.push(`${id}: ${String(error)}`);
        },
      );
      this.note(`${this.step} recovery sweep resumed ${resumed}`);
    } catch (error) {
      if (error instanceof SimulatedCrash) return this.crash(error.message);
      if (!isStorageFault(error)) throw new UnexpectedFailure(`recovery sweep failed: ${String(error)}`);
    }
    if (failures.length > 0) throw new UnexpectedFailure(`recovery sweep: ${failures.join('; ')}`);
  }

  /** The process dies: every in-memory object is dropped; a new composition starts from the files. */
  private async crash(why: string): Promise<void> {
    this.crashes += 1;
    this.note(`${this.step} CRASH (${why}); restart from disk`);
    await this.composition.close();
    this.composition = await this.open();
  }

  /** Faults off: every unanswered request is retried until answered, open operations resolved, the projections caught up. */
  private async drain(): Promise<void> {
    this.faultsOn = false;
    this.rates = NO_PEER_FAULTS;
    this.note('drain');
    for (let round = 0; round < DRAIN_ROUNDS; round += 1) {
      this.step += 1;
      this.nowMs += RECOVERY_GRACE_MS + 1;
      for (const client of this.clients) {
        if (client.pending) await this.send(client, { ...client.pending, tries: client.pending.tries + 1 });
        for (const id of client.openRecharges)
          await this.send(client, this.drainRequest(client, { op: 'resolveRecharge', rechargeId: id }));
        for (const id of client.openWithdrawals)
          await this.send(client, this.drainRequest(client, { op: 'resolveWithdrawal', withdrawalId: id }));
      }
      for (const peer of this.peers) {
        peer.tick();
        while (peer.owed > 0) await this.deliver();
      }
      await this.project();
      await this.recoverySweep();
      await this.project();
      await this.poll();
      await this.project();
      if (
        this.clients.every((c) => !c.pending && c.openRecharges.size === 0 && c.openWithdrawals.size === 0) &&
        (await this.channelPaymentsSettled())
      )
        return;
    }
    throw new InvariantViolation(`requests still unanswered or open after ${DRAIN_ROUNDS} rounds without faults`);
  }

  /** Every channel payment finished, and none of its refunds still waiting for the channel. */
  private async channelPaymentsSettled(): Promise<boolean> {
    for (const client of this.clients) {
      for (const [key, { answer }] of client.answers) {
        const id = /^channel payment ([0-9a-f-]{36})/.exec(answer)?.[1];
        if (!id) continue;
        const { payment } = await this.composition.channelPayments.get(id);
        if (!FINISHED_STATUSES.includes(payment.status)) {
          this.note(`drain: channel payment ${id} (${key}) still ${payment.status}`);
          return false;
        }
        if (payment.status === 'completed' && !client.channelPayments.includes(id)) client.channelPayments.push(id);
      }
    }
    return true;
  }

  private drainRequest(client: Client, op: Op): Request {
    client.serial += 1;
    return { key: `s${this.options.seed}-c${client.index}-r${client.serial}`, op, tries: 1 };
  }

  /** At the end: write and read side checked once more, money matches the channels, every read model equals a rebuild, the hash chain verifies. */
  private async finalAudit(): Promise<void> {
    const { commands, readModels, log } = this.composition;
    this.checks += await checkWriteSide(commands, this.accounts(), this.acknowledged(), await this.tallied());
    this.checks += await checkReadSide(commands, readModels, this.accounts());
    // Money in = what the channels charged; out = what they paid out (nothing lost or doubled at the edge).
    let charged = 0n;
    let paidOut = 0n;
    for (const peer of this.peers) {
      const settled = peer.settledMinor();
      charged += settled.chargedMinor;
      paidOut += settled.paidOutMinor + settled.refundedMinor;
    }
    let total = 0n;
    for (const accountId of this.accounts()) {
      const state = await commands.getAccountState(accountId);
      if (state.exists) total += state.balanceMinor;
    }
    check(
      total === charged - paidOut,
      () => `ledger holds ${total}, the channels charged ${charged} and paid out ${paidOut}`,
    );
    const differences: string[] = [];
    const audits = await replayReadModels(log, readModels, this.projections, {
      onDifference: (d) => {
        if (differences.length < 5) differences.push(`${d.collection}/${d.id} ${d.problem}`);
      },
    });
    const differing = audits.reduce((sum, a) => sum + a.differences, 0);
    check(differing === 0, () => `${differing} read-model documents differ from a rebuild: ${differences.join(', ')}`);
    const chain = await verifyChain(log);
    check(chain.firstBreak === null, () => `the hash chain breaks at ${JSON.stringify(chain.firstBreak)}`);
    this.checks += 3;
    this.note(
      `end: ${chain.events} events in ${chain.streams} streams, total ${total}, charged ${charged}, paid out ${paidOut}`,
    );
  }
}

/** Not an invariant, but something a service answers with a 500: a failure of the seed just the same. */
class UnexpectedFailure extends Error {}

const NO_PEER_FAULTS: PeerFaultRates = {
  unavailablePercent: 0,
  lostPercent: 0,
  timeoutAfterPercent: 0,
  pendingPercent: 0,
  declinePercent: 0,
};
const SOME_PEER_FAULTS: PeerFaultRates = {
  unavailablePercent: 6,
  lostPercent: 4,
  timeoutAfterPercent: 5,
  pendingPercent: 10,
  declinePercent: 4,
};

function isStorageFault(error: unknown): boolean {
  return (
    error instanceof EventStoreUnavailableError ||
    error instanceof AppendOutcomeUnknownError ||
    error instanceof ReadModelStoreUnavailableError ||
    error instanceof ReadModelWriteUnknownError
  );
}
