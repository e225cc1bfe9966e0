import { DateTime } from 'luxon';
import type { BinTable } from '../../domain/cards/bin-table.js';
import { identifyCard } from '../../domain/cards/card-identification.js';
import { normalizeCardNumber, luhnValid } from '../../domain/cards/card-number.js';
import { chargeOfferFor } from '../../domain/channels/channel-profile.js';
import {
  cardClaimDecider,
  type CardClaimCommand,
  type CardClaimEvent,
  type CardClaimState,
} from '../../domain/contracts/card-claim.js';
import {
  contractDecider,
  type ContractCommand,
  type ContractEvent,
  type ContractState,
  type ExistingContract,
  type SignatureAnswer,
  type VerificationAnswer,
} from '../../domain/contracts/contract-decider.js';
import type {
  BindingFailureReason,
  BindingPolicy,
  CardBindingStarted,
} from '../../domain/contracts/contract-events.js';
import { assert, DomainError, type DomainErrorCode } from '../../domain/shared/domain-error.js';
import {
  cardNumber,
  idNumber,
  personName,
  phoneNumber,
  secretText,
  type SensitiveText,
} from '../../domain/shared/sensitive-text.js';
import type { CallOptions, ChannelDeclineCode, ChannelPort, Declined, Outcome } from '../../ports/channel-port.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SecretVault } from '../../ports/secret-vault.js';
import type { SmsGateway } from '../../ports/sms-gateway.js';
import type { CardFingerprints } from '../../adapters/crypto/card-fingerprints.js';
import type { OneTimeCodes } from '../../adapters/crypto/one-time-codes.js';
import type { ChannelGateway } from '../channels/channel-gateway.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { EntityCommands } from '../entities/entity-commands.js';
import { openText, sealText } from '../identity/sealed-text.js';
import { stepContext } from '../operations/operation-steps.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';

export function contractStreamId(contractId: string): string {
  return `bindcard-${contractId}`;
}

export function cardClaimStreamId(cardFingerprint: string): string {
  return `cardclaim-${cardFingerprint}`;
}

export const DEFAULT_BINDING_POLICY: BindingPolicy = {
  bindingTtlMs: 15 * 60_000,
  maxBankCodeAttempts: 3,
  ownCode: {
    codeTtlMs: 5 * 60_000,
    challengeTtlMs: 10 * 60_000,
    maxAttempts: 3,
    maxSends: 3,
    minResendIntervalMs: 60_000,
  },
};

/** An SMS provider that does not answer in this time is `unknown`: the code is resent on request. */
const SMS_TIMEOUT_MS = 5_000;
/** An unknown channel answer is asked again (by the same request number: idempotent there) this often. */
const MAX_UNKNOWN_RETRIES = 2;

export interface StartBindingRequest {
  readonly userId: string;
  /** The caller acting for the user (its entity id). */
  readonly requestedBy: string;
  readonly paymentPassword: string;
  readonly cardNumber: string;
  /** Required while the user has no verified identity (a verified user's are taken from the vault). */
  readonly holderName: string | null;
  readonly idNumber: string | null;
  /** The phone reserved at the bank. */
  readonly phone: string;
  /** Credit cards: MMYY and CVN2; CVN2 goes to the one channel call and is kept nowhere. */
  readonly expiry: string | null;
  readonly cvn2: string | null;
}

export interface ContractView {
  readonly contractId: string;
  readonly userId: string;
  readonly requestedBy: string;
  readonly status: ExistingContract['status'];
  readonly channelId: string;
  readonly signing: 'verify_then_sign' | 'sign_at_verify';
  readonly maskedCard: string;
  readonly cardFingerprint: string;
  readonly bankCode: string | null;
  readonly cardKind: 'debit' | 'credit' | 'prepaid';
  readonly maskedPhone: string | null;
  readonly contractNo: string | null;
  readonly failure: BindingFailureReason | null;
  readonly startedAt: string;
  readonly expiresAt: string;
}

export interface CardBindingDeps {
  readonly eventStore: EventStore;
  readonly entities: EntityCommands;
  readonly gateway: ChannelGateway;
  readonly vault: SecretVault;
  readonly fingerprints: CardFingerprints;
  readonly cardBins: BinTable;
  readonly codes: OneTimeCodes;
  readonly sms: SmsGateway | null;
  readonly policy: BindingPolicy;
  /** Real-name verification: a verified user binds without typing the name and ID number again; a bound card verifies the user. */
  readonly identity?: BindingIdentity;
}

/** What a binding asks of the user's identity (src/commands/identity/identity-verifications.ts). */
export interface BindingIdentity {
  /** The sealed name and ID number of a verified user, or null. */
  verifiedSecretsOf(userId: string): Promise<{ readonly name: string; readonly idNumber: string } | null>;
  /** The card is bound: the channel verified its four elements, so the user is verified too. */
  recordBinding(binding: CardBindingStarted['data'], boundAt: string, context: CommandContext): Promise<void>;
}

/** The channel's refusals, as what the user can act on (each a distinct, stable problem code). */
const FAILURE_BY_DECLINE: Partial<Record<ChannelDeclineCode, BindingFailureReason>> = {
  elements_mismatch: 'elements_mismatch',
  card_invalid: 'card_invalid',
  not_supported: 'card_not_supported',
  card_restricted: 'card_restricted',
  // A refused request, with every field ours validated: the channel's verdict on expiry or CVN2.
  request_rejected: 'card_details_invalid',
  verification_code_expired: 'expired',
};

export const PROBLEM_BY_FAILURE: Record<BindingFailureReason, DomainErrorCode> = {
  elements_mismatch: 'card_elements_mismatch',
  card_invalid: 'card_invalid',
  card_not_supported: 'card_not_supported',
  card_restricted: 'card_restricted',
  card_details_invalid: 'card_details_invalid',
  channel_declined: 'channel_declined',
  channel_unavailable: 'channel_unavailable',
  attempts_exhausted: 'verification_failed',
  expired: 'verification_code_expired',
  cancelled: 'operation_state_conflict',
};

function refusedBy(outcome: Declined): { reason: BindingFailureReason; channelCode: string } {
  return { reason: FAILURE_BY_DECLINE[outcome.code] ?? 'channel_declined', channelCode: outcome.channelCode };
}

function viewOf(contract: ExistingContract): ContractView {
  const b = contract.binding;
  return {
    contractId: b.contractId,
    userId: b.userId,
    requestedBy: b.requestedBy,
    status: contract.status,
    channelId: b.channelId,
    signing: b.signing,
    maskedCard: b.maskedCard,
    cardFingerprint: b.cardFingerprint,
    bankCode: b.bankCode,
    cardKind: b.cardKind,
    maskedPhone: contract.maskedPhone,
    contractNo: contract.contractNo,
    failure: contract.failure,
    startedAt: b.startedAt,
    expiresAt: b.expiresAt,
  };
}

/**
 * The binding process: the card claimed on its own stream before any channel call, the secrets sealed
 * under the user's id, then each channel call with the gateway's timeout and each answer recorded on the
 * contract's stream. An unknown answer is asked again with the same request number (verify and sign are
 * idempotent by it at the channel), an unknown unsign is settled by the contract's status at the channel:
 * nothing is ever signed twice. A binding that ends unbound releases its card; a failed pre-binding is
 * unsigned at the channel.
 */
export class CardBindings {
  readonly #contracts: StreamCommandHandler<ContractCommand, ContractEvent, ContractState>;
  readonly #claims: StreamCommandHandler<CardClaimCommand, CardClaimEvent, CardClaimState>;

  constructor(private readonly deps: CardBindingDeps) {
    this.#contracts = new StreamCommandHandler(deps.eventStore, contractDecider, DEFAULT_HANDLER_LIMITS);
    this.#claims = new StreamCommandHandler(deps.eventStore, cardClaimDecider, DEFAULT_HANDLER_LIMITS);
  }

  async get(contractId: string): Promise<ContractView | undefined> {
    const { state } = await this.#contracts.load(contractStreamId(contractId));
    return state.status === 'none' ? undefined : viewOf(state);
  }

  async start(request: StartBindingRequest, context: CommandContext): Promise<ContractView> {
    const user = await this.deps.entities.get(request.userId);
    if (!user)
      throw new DomainError('entity_not_found', `entity ${request.userId} not found`, { entityId: request.userId });
    if (user.kind !== 'user')
      throw new DomainError('entity_kind_denies', 'only users bind cards', { entityId: user.entityId });
    if (user.phone === null)
      throw new DomainError('entity_contact_missing', 'the user has no phone number', { contact: 'phone' });
    if (!(await this.deps.entities.verifyPaymentPasswordOf(user, request.paymentPassword)))
      throw new DomainError('payment_password_mismatch', 'the payment password does not match', {});

    const digits = normalizeCardNumber(request.cardNumber);
    if (digits === null || !luhnValid(digits)) throw new DomainError('card_invalid', 'not a valid card number', {});
    const card = identifyCard(digits, this.deps.cardBins);
    if (card.bank === null || card.cardKind === null || card.cardKind === 'prepaid')
      throw new DomainError('card_not_supported', `${card.maskedCard}: no bank of ours signs this card`, {});
    const credit = card.cardKind === 'credit';
    if (
      credit &&
      (!request.expiry ||
        !/^(0[1-9]|1[0-2])[0-9]{2}$/.test(request.expiry) ||
        !request.cvn2 ||
        !/^[0-9]{3}$/.test(request.cvn2))
    )
      throw new DomainError('card_details_invalid', 'a credit card needs its expiry (MMYY) and CVN2', {});
    const { holderName, idNumber: idText } = await this.#identityOf(request);
    const channelId = this.#channelFor(card.bank.code, card.cardKind);

    const contractId = deriveId(context.operationKey, 'card-binding');
    const cardFingerprint = this.deps.fingerprints.of(digits);
    const existing = await this.#claim(cardFingerprint, request.userId, contractId, context);
    if (existing) return existing;

    const subject = request.userId;
    const seal = (purpose: string, text: string) => sealText(this.deps.vault, subject, purpose, text);
    const atMs = DateTime.fromISO(context.occurredAt, { zone: 'utc' }).toMillis();
    const profile = this.deps.gateway.port(channelId)!.profile;
    const binding = {
      contractId,
      userId: request.userId,
      requestedBy: request.requestedBy,
      channelId,
      signing: profile.capabilities.contracts!,
      requestNo: `B${contractId.replaceAll('-', '')}`,
      maskedCard: card.maskedCard,
      cardFingerprint,
      bankCode: card.bank.code,
      cardKind: card.cardKind,
      secrets: {
        cardNumber: await seal('card.number', digits),
        holderName: await seal('identity.name', holderName),
        idNumber: await seal('identity.id_number', idText),
        phone: await seal('card.reserved_phone', request.phone),
      },
      policy: this.deps.policy,
      startedAt: context.occurredAt,
      expiresAt: DateTime.fromMillis(atMs + this.deps.policy.bindingTtlMs, { zone: 'utc' }).toISO()!,
    };
    const started = await this.#handle({ type: 'StartBinding', binding }, context, 'start');
    if (started.status !== 'verifying') return this.#answer(started);

    const elements = {
      cardNumber: cardNumber(digits),
      holderName: personName(holderName),
      idNumber: idNumber(idText),
      phone: phoneNumber(request.phone),
      expiry: credit ? secretText(request.expiry!) : null,
      cvn2: credit ? secretText(request.cvn2!) : null,
    };
    const outcome = await this.#untilKnown(channelId, (port, options) =>
      port.verifyElements({ requestNo: binding.requestNo, elements }, options),
    );
    // Still unknown: the binding stays `verifying` until it expires. A card network may have signed
    // meanwhile; its contract number is learnt only by asking verify again with this request number,
    // which nothing does yet after expiry (the sweep is not built: contracts.md, "Not built yet").
    if (outcome.status === 'unknown')
      throw new DomainError('channel_unavailable', 'the channel did not answer; try again later', { contractId });
    let answer: VerificationAnswer;
    let ownCode: SensitiveText | null = null;
    if (outcome.status === 'unavailable')
      answer = { step: 'refused', reason: 'channel_unavailable', channelCode: null };
    else if (outcome.status === 'declined') answer = { step: 'refused', ...refusedBy(outcome) };
    else if (outcome.step === 'code_sent')
      answer = { step: 'code_sent', verificationId: outcome.verificationId, maskedPhone: outcome.maskedPhone };
    else {
      const challengeId = deriveId(contractId, 'own-code');
      ownCode = this.deps.codes.issue();
      answer = {
        step: 'signed',
        contractNo: outcome.contractNo,
        challengeId,
        codeHmac: this.deps.codes.hmacOf(challengeId, ownCode),
        maskedPhone: phoneNumber(request.phone).masked,
      };
    }
    const verified = await this.#record(
      { type: 'RecordVerification', contractId, answer, at: context.occurredAt },
      context,
      'verify',
    );
    if (ownCode !== null && verified.state.status === 'pre_bound' && verified.recorded)
      await this.#text(`${deriveId(contractId, 'own-code')}-1`, phoneNumber(request.phone), ownCode);
    return this.#answer(await this.#settle(verified.state, context));
  }

  /** The SMS code the user typed: the bank's (signs at the channel) or ours (binds a pre-binding). */
  async confirm(contractId: string, code: SensitiveText, context: CommandContext): Promise<ContractView> {
    const contract = await this.#existing(contractId);
    let command: ContractCommand;
    if (contract.binding.signing === 'sign_at_verify') {
      if (contract.ownCode.status === 'none')
        throw new DomainError('operation_state_conflict', 'no code was sent', { contractId });
      command = {
        type: 'ConfirmOwnCode',
        contractId,
        codeHmac: this.deps.codes.hmacOf(contract.ownCode.challengeId, code),
        at: context.occurredAt,
      };
    } else {
      if (contract.status !== 'awaiting_bank_code' || contract.verificationId === null)
        return this.#answer(await this.#verifiedBy(contract, context));
      const request = { requestNo: contract.binding.requestNo, verificationId: contract.verificationId, code };
      const outcome = await this.#untilKnown(contract.binding.channelId, (port, options) =>
        port.sign(request, options),
      );
      if (outcome.status === 'unknown' || outcome.status === 'unavailable')
        throw new DomainError('channel_unavailable', 'the channel did not answer; confirm again', { contractId });
      const answer: SignatureAnswer =
        outcome.status === 'succeeded'
          ? { result: 'signed', contractNo: outcome.contractNo }
          : outcome.code === 'verification_code_invalid'
            ? { result: 'code_wrong' }
            : { result: 'refused', ...refusedBy(outcome) };
      command = { type: 'RecordSignature', contractId, answer, at: context.occurredAt };
    }
    const before = contract.status;
    const recorded = await this.#record(command, context, `confirm-${context.operationKey}`);
    const settled = await this.#verifiedBy(await this.#settle(recorded.state, context), context);
    if (settled.status === before && recorded.recorded)
      throw new DomainError('verification_code_invalid', 'the code does not match', { contractId });
    return this.#answer(settled);
  }

  /** A new code of ours (pre-bind path); the bank path's code is the bank's, resent by starting again. */
  async resend(contractId: string, phone: string, context: CommandContext): Promise<ContractView> {
    const contract = await this.#existing(contractId);
    if (contract.ownCode.status === 'none')
      throw new DomainError('operation_state_conflict', 'the bank sends this code; start the binding again', {
        contractId,
        reason: 'bank_code',
      });
    const challengeId = contract.ownCode.challengeId;
    const code = this.deps.codes.issue();
    const recorded = await this.#record(
      {
        type: 'ResendOwnCode',
        contractId,
        codeHmac: this.deps.codes.hmacOf(challengeId, code),
        at: context.occurredAt,
      },
      context,
      `resend-${contract.ownCode.sendsUsed}`,
    );
    const after = recorded.state;
    if (recorded.recorded && after.status === 'pre_bound' && after.ownCode.status !== 'none')
      await this.#text(`${challengeId}-${after.ownCode.sendsUsed}`, await this.#phoneOf(contract, phone), code);
    return this.#answer(await this.#settle(after, context));
  }

  async cancel(contractId: string, context: CommandContext): Promise<ContractView> {
    const recorded = await this.#record(
      { type: 'CancelBinding', contractId, at: context.occurredAt },
      context,
      'cancel',
    );
    return viewOf(await this.#settle(recorded.state, context));
  }

  /** From the sweep: a binding past its time fails, its card released, a pre-binding unsigned. */
  async expire(contractId: string, context: CommandContext): Promise<ContractView> {
    const recorded = await this.#record(
      { type: 'ExpireBinding', contractId, at: context.occurredAt },
      context,
      'expire',
    );
    return viewOf(await this.#settle(recorded.state, context));
  }

  /** Unsigned at the channel first (an unknown answer settled by the contract's status there), then terminated. */
  async unbind(contractId: string, reason: 'unbound' | 'erased', context: CommandContext): Promise<ContractView> {
    const contract = await this.#existing(contractId);
    if (contract.status === 'bound') {
      assert(contract.contractNo !== null, 'a bound contract has its number');
      await this.#unsignAtChannel(contract.binding.channelId, contract.contractNo, contractId);
    }
    const recorded = await this.#record(
      { type: 'TerminateContract', contractId, reason, at: context.occurredAt },
      context,
      'terminate',
    );
    return viewOf(await this.#settle(recorded.state, context));
  }

  /** The contract as we hold it, and as the channel says (null when it has no contract number yet). */
  async status(
    contractId: string,
  ): Promise<{ contract: ContractView; channel: { state: 'active' | 'terminated' | 'unknown' } | null }> {
    const contract = await this.#existing(contractId);
    if (contract.contractNo === null) return { contract: viewOf(contract), channel: null };
    const outcome = await this.deps.gateway.call(contract.binding.channelId, (port, options) =>
      port.contractStatus(contract.contractNo!, options),
    );
    return {
      contract: viewOf(contract),
      channel: { state: outcome.status === 'succeeded' ? outcome.state : 'unknown' },
    };
  }

  /** A call asked again, by the same request number (idempotent at the channel), while its answer is unknown. */
  async #untilKnown<O extends Outcome<object, object>>(
    channelId: string,
    invoke: (port: ChannelPort, options: CallOptions) => Promise<O>,
  ): Promise<O> {
    let outcome = await this.deps.gateway.call(channelId, invoke);
    for (let retry = 0; outcome.status === 'unknown' && retry < MAX_UNKNOWN_RETRIES; retry++)
      outcome = await this.deps.gateway.call(channelId, invoke);
    return outcome;
  }

  #channelFor(bankCode: string, cardKind: 'debit' | 'credit'): string {
    const gateway = this.deps.gateway;
    const candidates = gateway.channelIds.filter((id) => {
      const profile = gateway.port(id)!.profile;
      const signing = profile.capabilities.contracts;
      if (signing === null) return false;
      // Our own code needs an SMS gateway: without one, only the banks' own codes can bind.
      if (signing === 'sign_at_verify' && this.deps.sms === null) return false;
      return chargeOfferFor(profile, { method: 'quick_pay', bankCode, cardKind }) !== null;
    });
    // The first in configuration order: a contract is per channel, so the choice is for the card's life,
    // not per request (the router's health and cost weighting serve payments, which follow the contract).
    const chosen = candidates[0];
    if (chosen === undefined) throw new DomainError('card_not_supported', 'no channel of ours signs this card', {});
    return chosen;
  }

  async #claim(
    cardFingerprint: string,
    userId: string,
    contractId: string,
    context: CommandContext,
  ): Promise<ContractView | null> {
    try {
      await this.#claims.handle(
        cardClaimStreamId(cardFingerprint),
        { type: 'ClaimCard', cardFingerprint, userId, contractId, at: context.occurredAt },
        stepContext(context, contractId, 'claim'),
      );
      return null;
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'card_binding_in_progress')) throw error;
      // The same card by the same user: its bound contract is the answer; one in progress is a refusal.
      const held = await this.get(error.details['contractId']!);
      if (held?.status === 'bound') return held;
      throw error;
    }
  }

  async #release(contract: ExistingContract, context: CommandContext): Promise<void> {
    const { cardFingerprint, contractId } = contract.binding;
    await this.#claims.handle(
      cardClaimStreamId(cardFingerprint),
      { type: 'ReleaseCard', cardFingerprint, contractId, at: context.occurredAt },
      stepContext(context, contractId, 'release'),
    );
  }

  async #unsignAtChannel(channelId: string, contractNo: string, contractId: string): Promise<void> {
    const outcome = await this.deps.gateway.call(channelId, (port, options) => port.unsign(contractNo, options));
    if (outcome.status === 'succeeded') return;
    // Unknown, unavailable or refused: the contract's state at the channel settles it.
    const status = await this.deps.gateway.call(channelId, (port, options) => port.contractStatus(contractNo, options));
    if (status.status === 'succeeded' && status.state === 'terminated') return;
    if (status.status === 'declined' && status.code === 'contract_invalid') return;
    throw new DomainError('channel_unavailable', 'the channel has not confirmed the contract unsigned; try again', {
      contractId,
    });
  }

  /** After a failure or termination: the pre-binding unsigned at the channel, the card released. */
  async #settle(contract: ExistingContract, context: CommandContext): Promise<ExistingContract> {
    let current = contract;
    if (current.status === 'failed' && current.unsignPending) {
      assert(current.contractNo !== null, 'a pre-binding has its number');
      await this.#unsignAtChannel(current.binding.channelId, current.contractNo, current.binding.contractId);
      current = (
        await this.#record(
          { type: 'RecordUnsigned', contractId: current.binding.contractId, at: context.occurredAt },
          context,
          'unsigned',
        )
      ).state;
    }
    if (current.status === 'failed' || current.status === 'terminated') await this.#release(current, context);
    return current;
  }

  /** A failed binding answers its reason as a distinct problem code (it is recorded first). */
  #answer(contract: ExistingContract): ContractView {
    if (contract.status === 'failed' && contract.failure !== null && contract.failure !== 'cancelled')
      throw new DomainError(PROBLEM_BY_FAILURE[contract.failure], `binding failed: ${contract.failure}`, {
        contractId: contract.binding.contractId,
        reason: contract.failure,
      });
    return viewOf(contract);
  }

  async #text(messageId: string, phone: SensitiveText, code: SensitiveText): Promise<void> {
    assert(this.deps.sms !== null, 'a pre-binding is only routed with an SMS gateway');
    // Whatever the provider says, the binding stands: a code that did not arrive is resent on request.
    await this.deps.sms.send({ messageId, phone, template: 'card_binding', code }, { timeoutMs: SMS_TIMEOUT_MS });
  }

  /** A bound card verifies its user (recorded once; a confirm asked again records it if the first could not). */
  async #verifiedBy(contract: ExistingContract, context: CommandContext): Promise<ExistingContract> {
    if (contract.status === 'bound')
      await this.deps.identity?.recordBinding(contract.binding, context.occurredAt, context);
    return contract;
  }

  /** The name and ID number typed, or (both left out) a verified user's, opened from the vault. */
  async #identityOf(request: StartBindingRequest): Promise<{ holderName: string; idNumber: string }> {
    if (request.holderName && request.idNumber) return { holderName: request.holderName, idNumber: request.idNumber };
    const verified =
      request.holderName || request.idNumber ? null : await this.deps.identity?.verifiedSecretsOf(request.userId);
    if (!verified) throw new DomainError('card_identity_required', 'the real name and ID number are required', {});
    const vault = this.deps.vault;
    return {
      holderName: await openText(vault, request.userId, verified.name),
      idNumber: await openText(vault, request.userId, verified.idNumber),
    };
  }

  async #phoneOf(contract: ExistingContract, typed: string): Promise<SensitiveText> {
    const opened = await this.deps.vault.open(contract.binding.secrets.phone);
    if (opened === 'erased') throw new DomainError('operation_state_conflict', 'the user was erased', {});
    const reserved = new TextDecoder().decode(opened);
    // The phone is the one reserved at the bank: a resend never goes anywhere else.
    if (typed !== reserved)
      throw new DomainError('entity_contact_missing', 'not the reserved phone', { contact: 'phone' });
    return phoneNumber(reserved);
  }

  async #existing(contractId: string): Promise<ExistingContract> {
    const { state } = await this.#contracts.load(contractStreamId(contractId));
    if (state.status === 'none')
      throw new DomainError('operation_not_found', `contract ${contractId} does not exist`, { contractId });
    return state;
  }

  async #handle(command: ContractCommand, context: CommandContext, step: string): Promise<ExistingContract> {
    return (await this.#record(command, context, step)).state;
  }

  async #record(
    command: ContractCommand,
    context: CommandContext,
    step: string,
  ): Promise<{ state: ExistingContract; recorded: boolean }> {
    const contractId = command.type === 'StartBinding' ? command.binding.contractId : command.contractId;
    const handled = await this.#contracts.handle(
      contractStreamId(contractId),
      command,
      stepContext(context, contractId, step),
    );
    assert(handled.state.status !== 'none', 'a contract command leaves a contract');
    return { state: handled.state, recorded: handled.events.length > 0 };
  }
}
