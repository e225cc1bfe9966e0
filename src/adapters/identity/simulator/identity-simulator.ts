import { evictOldest } from '../../../domain/shared/evict-oldest.js';
import { idNumber, personName } from '../../../domain/shared/sensitive-text.js';
import { elementsOf, type IdentityElement } from '../../../ports/identity-verifier.js';
import { drawBetween, happens } from '../../channels/simulator/seeded-draw.js';
import type { SimulatedAnswer } from '../../channels/simulator/channel-simulator.js';
import type { ChannelKey } from '../../channels/wire/wire-signing.js';
import { IDENTITY_CODES, type IdentityVerifyRequest } from '../identity-wire.js';
import {
  identityFailures,
  type IdentityFailures,
  type IdentitySimulatorConfig,
  type SimulatedPerson,
} from './identity-simulator-config.js';

/**
 * A simulated identity service: looks the ID number up in its records and answers MATCH, MISMATCH (naming
 * each element that does not match) or NO_RECORD, after a seeded latency; with failures injected it holds
 * answers past the client's timeout, answers 500 or is busy (503). The same query id gives the same
 * verdict (a query only reads), so a client asking again after a timeout learns what it missed. What it
 * keeps of the queries (for tests and operators) is masked: never a name, ID number, phone or card.
 */
const MAX_REMEMBERED_QUERIES = 10_000;

export interface QueryRecord {
  readonly queryId: string;
  readonly maskedName: string;
  readonly maskedIdNumber: string;
  readonly elements: readonly IdentityElement[];
  readonly code: string;
  readonly atMs: number;
}

export interface IdentityReply {
  readonly statusCode: number;
  readonly answer: SimulatedAnswer;
  readonly latencyMs: number;
  /** Held this long before answering (an injected timeout), or null. */
  readonly heldMs: number | null;
}

export class IdentitySimulator {
  readonly #byIdNumber = new Map<string, SimulatedPerson>();
  readonly #verdicts = new Map<string, QueryRecord & { readonly answer: SimulatedAnswer }>();
  #failures: IdentityFailures;
  readonly #key: ChannelKey;
  #attempts = 0;

  constructor(readonly config: IdentitySimulatorConfig) {
    for (const person of config.persons) this.addPerson(person);
    this.#failures = config.failures;
    this.#key = { keyId: config.keyId, secret: Buffer.from(config.secretBase64, 'base64') };
  }

  key(): ChannelKey {
    return this.#key;
  }

  addPerson(person: SimulatedPerson): void {
    this.#byIdNumber.set(person.idNumber, person);
  }

  failures(): IdentityFailures {
    return this.#failures;
  }

  setFailures(changes: Partial<IdentityFailures>): IdentityFailures {
    this.#failures = identityFailures.parse({ ...this.#failures, ...changes });
    return this.#failures;
  }

  /** Every query answered with a verdict, oldest first (masked). */
  queries(): QueryRecord[] {
    return [...this.#verdicts.values()].map(({ answer: _answer, ...record }) => record);
  }

  /** Requests that reached the service, verdict or not (tests count the retries). */
  attempts(): number {
    return this.#attempts;
  }

  refusal(code: string, message: string): SimulatedAnswer {
    return { code, message, data: null };
  }

  verify(request: IdentityVerifyRequest): IdentityReply {
    const attempt = ++this.#attempts;
    const seed = this.config.seed;
    const latencyMs = drawBetween(seed, this.#failures.latencyMs, 'identity', request.query_id, attempt, 'latency');
    const plain = (statusCode: number, answer: SimulatedAnswer, heldMs: number | null = null): IdentityReply => ({
      statusCode,
      answer,
      latencyMs,
      heldMs,
    });
    if (this.#failures.outage) return plain(503, this.refusal(IDENTITY_CODES.busy, 'system busy'));
    if (happens(seed, this.#failures.serverErrorRatePpm, 'identity', request.query_id, attempt, 'error'))
      return plain(500, this.refusal(IDENTITY_CODES.internalError, 'system error'));
    const verdict = this.#verdictOf(request);
    // A held answer is still decided (and remembered): asking again learns it.
    const held = happens(seed, this.#failures.timeoutRatePpm, 'identity', request.query_id, attempt, 'timeout');
    return plain(200, verdict, held ? this.config.heldAnswerMs : null);
  }

  #verdictOf(request: IdentityVerifyRequest): SimulatedAnswer {
    const seen = this.#verdicts.get(request.query_id);
    if (seen) return seen.answer;
    const person = this.#byIdNumber.get(request.id_number);
    const mismatched: IdentityElement[] = [];
    if (person) {
      if (person.name !== request.name) mismatched.push('name');
      if (request.phone !== undefined && person.phone !== request.phone) mismatched.push('phone');
      if (request.card_no !== undefined && !person.cardNumbers.includes(request.card_no))
        mismatched.push('card_number');
    }
    const data = { query_id: request.query_id, ...(mismatched.length > 0 ? { mismatched } : {}) };
    const answer: SimulatedAnswer = !person
      ? { code: IDENTITY_CODES.noRecord, message: 'no record of this ID number', data }
      : mismatched.length > 0
        ? { code: IDENTITY_CODES.mismatch, message: `mismatch: ${mismatched.join(', ')}`, data }
        : { code: IDENTITY_CODES.match, message: 'match', data };
    const elements = elementsOf(request.phone !== undefined, request.card_no !== undefined);
    this.#verdicts.set(request.query_id, {
      queryId: request.query_id,
      maskedName: personName(request.name).masked,
      maskedIdNumber: idNumber(request.id_number).masked,
      elements,
      code: answer.code,
      atMs: Date.now(),
      answer,
    });
    evictOldest(this.#verdicts, MAX_REMEMBERED_QUERIES);
    return answer;
  }
}
