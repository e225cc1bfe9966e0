import { normalizeCardNumber, luhnValid } from '../../domain/cards/card-number.js';
import type { CardBindingStarted } from '../../domain/contracts/contract-events.js';
import {
  identityDecider,
  type IdentityCommand,
  type IdentityState,
  type VerificationRecord,
} from '../../domain/identity/identity-decider.js';
import { elementsOf, maskedRealName, type IdentityElement } from '../../domain/identity/identity-elements.js';
import type { IdentityEvent } from '../../domain/identity/identity-events.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import {
  cardNumber,
  idNumber,
  personName,
  phoneNumber,
  type SensitiveText,
} from '../../domain/shared/sensitive-text.js';
import type { EventStore } from '../../ports/event-store.js';
import type { IdentityVerifier } from '../../ports/identity-verifier.js';
import type { SecretVault, VaultReference } from '../../ports/secret-vault.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { EntityCommands } from '../entities/entity-commands.js';
import { stepContext } from '../operations/operation-steps.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';
import { openText, sealText } from './sealed-text.js';

export function identityStreamId(userId: string): string {
  return `identity-${userId}`;
}

export interface VerifyIdentityRequest {
  readonly userId: string;
  /** The caller acting for the user (its entity id). */
  readonly requestedBy: string;
  /** The user's consent, as for a binding. */
  readonly paymentPassword: string;
  readonly name: string;
  readonly idNumber: string;
  /** Three and four elements. */
  readonly phone: string | null;
  /** Four elements. */
  readonly cardNumber: string | null;
}

export interface IdentityVerificationView {
  readonly verificationId: string;
  readonly userId: string;
  readonly requestedBy: string;
  readonly status: VerificationRecord['status'];
  readonly elements: IdentityElement[];
  readonly maskedName: string;
  readonly maskedIdNumber: string;
  readonly maskedPhone: string | null;
  readonly maskedCard: string | null;
  /** The elements that did not match (status `mismatched`). */
  readonly mismatched: IdentityElement[];
  readonly requestedAt: string;
  readonly answeredAt: string | null;
}

/** A user's identity as the ledger knows it (the entity view shows it). */
export interface UserIdentityView {
  readonly verified: boolean;
  readonly maskedName: string | null;
  readonly maskedIdNumber: string | null;
  readonly elements: IdentityElement[];
  readonly source: 'identity_service' | 'card_binding' | null;
  readonly verifiedAt: string | null;
}

export interface IdentityVerificationDeps {
  readonly eventStore: EventStore;
  readonly entities: EntityCommands;
  readonly vault: SecretVault;
  readonly verifier: IdentityVerifier;
  /** Each attempt at the identity service (the adapter retries a bounded number of times). */
  readonly timeoutMs: number;
}

/** The verdicts the user can act on, each a distinct, stable problem code. */
function refusalOf(record: VerificationRecord): DomainError | null {
  const verificationId = record.request.verificationId;
  switch (record.status) {
    case 'mismatched':
      return new DomainError('identity_mismatch', `these elements do not match: ${record.mismatched.join(', ')}`, {
        verificationId,
        mismatched: record.mismatched.join(','),
      });
    case 'no_record':
      return new DomainError('identity_no_record', 'the identity service holds no record of this ID number', {
        verificationId,
      });
    case 'unknown':
    case 'pending':
      return new DomainError('identity_service_unavailable', 'the identity service gave no verdict; ask again', {
        verificationId,
      });
    case 'verified':
      return null;
  }
}

function viewOf(record: VerificationRecord): IdentityVerificationView {
  const r = record.request;
  return {
    verificationId: r.verificationId,
    userId: r.userId,
    requestedBy: r.requestedBy,
    status: record.status,
    elements: [...r.elements],
    maskedName: r.masked.name,
    maskedIdNumber: r.masked.idNumber,
    maskedPhone: r.masked.phone,
    maskedCard: r.masked.cardNumber,
    mismatched: [...record.mismatched],
    requestedAt: r.requestedAt,
    answeredAt: record.answeredAt,
  };
}

/**
 * Real-name verification (2, 3 or 4 elements) as its own operation: the elements sealed in the vault
 * under the user's id, the request recorded, then the identity service asked (through the port: its
 * adapter's timeouts and bounded retries) and its verdict recorded. No verdict (`unknown`) is recorded as
 * such and answered 503; the same request again (its Idempotency-Key) asks again with the same query id,
 * the elements opened from the vault, until a verdict settles it. A bound card verifies the user too.
 */
export class IdentityVerifications {
  readonly #handler: StreamCommandHandler<IdentityCommand, IdentityEvent, IdentityState>;

  constructor(private readonly deps: IdentityVerificationDeps) {
    this.#handler = new StreamCommandHandler(deps.eventStore, identityDecider, DEFAULT_HANDLER_LIMITS);
  }

  async verify(request: VerifyIdentityRequest, context: CommandContext): Promise<IdentityVerificationView> {
    const user = await this.deps.entities.get(request.userId);
    if (!user)
      throw new DomainError('entity_not_found', `entity ${request.userId} not found`, { entityId: request.userId });
    if (user.kind !== 'user')
      throw new DomainError('entity_kind_denies', 'only users verify an identity', { entityId: user.entityId });
    if (!(await this.deps.entities.verifyPaymentPasswordOf(user, request.paymentPassword)))
      throw new DomainError('payment_password_mismatch', 'the payment password does not match', {});
    const card = request.cardNumber === null ? null : normalizeCardNumber(request.cardNumber);
    if (request.cardNumber !== null && (card === null || !luhnValid(card)))
      throw new DomainError('card_invalid', 'not a valid card number', {});

    const verificationId = deriveId(context.operationKey, 'identity-verification');
    const streamId = identityStreamId(request.userId);
    const seen = (await this.#handler.load(streamId)).state.verifications.get(verificationId);
    // A retry of a verification that got its verdict answers it; one without a verdict asks again.
    if (seen)
      return this.#settle(
        seen.status === 'pending' || seen.status === 'unknown' ? await this.#ask(seen, context) : seen,
      );

    const subject = request.userId;
    const seal = (purpose: string, text: string) => sealText(this.deps.vault, subject, purpose, text);
    const handled = await this.#handler.handle(
      streamId,
      {
        type: 'RequestVerification',
        request: {
          verificationId,
          userId: request.userId,
          requestedBy: request.requestedBy,
          elements: elementsOf(request.phone !== null, card !== null),
          masked: {
            name: maskedRealName(request.name),
            idNumber: idNumber(request.idNumber).masked,
            phone: request.phone === null ? null : phoneNumber(request.phone).masked,
            cardNumber: card === null ? null : cardNumber(card).masked,
          },
          secrets: {
            name: await seal('identity.name', request.name),
            idNumber: await seal('identity.id_number', request.idNumber),
            phone: request.phone === null ? null : await seal('identity.phone', request.phone),
            cardNumber: card === null ? null : await seal('card.number', card),
          },
          requestedAt: context.occurredAt,
        },
      },
      stepContext(context, verificationId, 'request'),
    );
    return this.#settle(await this.#ask(handled.state.verifications.get(verificationId)!, context));
  }

  async get(userId: string, verificationId: string): Promise<IdentityVerificationView | undefined> {
    const record = (await this.#handler.load(identityStreamId(userId))).state.verifications.get(verificationId);
    return record && viewOf(record);
  }

  async identityOf(userId: string): Promise<UserIdentityView> {
    const { verified } = (await this.#handler.load(identityStreamId(userId))).state;
    return {
      verified: verified !== null,
      maskedName: verified?.maskedName ?? null,
      maskedIdNumber: verified?.maskedIdNumber ?? null,
      elements: [...(verified?.elements ?? [])],
      source: verified?.source ?? null,
      verifiedAt: verified?.verifiedAt ?? null,
    };
  }

  /** The vault references of a verified user's name and ID number (a binding uses them), or null. */
  async verifiedSecretsOf(userId: string): Promise<{ name: VaultReference; idNumber: VaultReference } | null> {
    return (await this.#handler.load(identityStreamId(userId))).state.verified?.secrets ?? null;
  }

  /** A card bound: the channel verified its four elements, so the user is verified (once per contract). */
  async recordBinding(binding: CardBindingStarted['data'], boundAt: string, context: CommandContext): Promise<void> {
    const contractId = binding.contractId;
    if ((await this.#handler.load(identityStreamId(binding.userId))).state.bindingVerifications.has(contractId)) return;
    const name = await this.#open(binding.userId, binding.secrets.holderName);
    const id = await this.#open(binding.userId, binding.secrets.idNumber);
    await this.#handler.handle(
      identityStreamId(binding.userId),
      {
        type: 'RecordBindingVerified',
        verified: {
          verificationId: deriveId(contractId, 'identity-by-binding'),
          userId: binding.userId,
          source: 'card_binding',
          contractId,
          elements: ['name', 'id_number', 'phone', 'card_number'],
          maskedName: maskedRealName(name),
          maskedIdNumber: idNumber(id).masked,
          secrets: { name: binding.secrets.holderName, idNumber: binding.secrets.idNumber },
          verifiedAt: boundAt,
        },
      },
      stepContext(context, contractId, 'identity'),
    );
  }

  #open(userId: string, reference: VaultReference): Promise<string> {
    return openText(this.deps.vault, userId, reference);
  }

  async #ask(record: VerificationRecord, context: CommandContext): Promise<VerificationRecord> {
    const r = record.request;
    const open = async (reference: VaultReference | null, reveal: (clear: string) => SensitiveText) =>
      reference === null ? null : reveal(await this.#open(r.userId, reference));
    const answer = await this.deps.verifier.verify(
      {
        queryId: `I${r.verificationId.replaceAll('-', '')}`,
        name: (await open(r.secrets.name, personName))!,
        idNumber: (await open(r.secrets.idNumber, idNumber))!,
        phone: await open(r.secrets.phone, phoneNumber),
        cardNumber: await open(r.secrets.cardNumber, cardNumber),
      },
      { timeoutMs: this.deps.timeoutMs },
    );
    const handled = await this.#handler.handle(
      identityStreamId(r.userId),
      { type: 'RecordAnswer', verificationId: r.verificationId, answer, at: context.occurredAt },
      // One step per state it leaves (pending, then unknown at most once): its derived event ids never repeat.
      stepContext(context, r.verificationId, `answer-${record.status}`),
    );
    return handled.state.verifications.get(r.verificationId)!;
  }

  /** A verification without a match answers its verdict as a distinct problem code (it is recorded first). */
  #settle(record: VerificationRecord): IdentityVerificationView {
    const refusal = refusalOf(record);
    if (refusal) throw refusal;
    return viewOf(record);
  }
}
