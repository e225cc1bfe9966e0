import { createHash } from 'node:crypto';
import { chargeOfferFor } from '../../../domain/channels/channel-profile.js';
import { cardNumber as maskedCardOf, phoneNumber } from '../../../domain/shared/sensitive-text.js';
import type { WireRequest } from '../wire/wire-messages.js';
import { CHANNEL_DIALECTS } from './channel-dialects.js';
import type { ChannelSimulator, SimulatedAnswer } from './channel-simulator.js';
import { drawPpm } from './seeded-draw.js';

/**
 * The simulated channels' bind-card contracts: the issuer checks the four elements against its
 * cardholders; a bank (`verify_then_sign`) sends an SMS code and signs when it comes back right, within
 * its time and tries; a card network (`sign_at_verify`) signs at once. One live contract per card and
 * merchant. Answers are idempotent by our request number; the records keep masked cards only.
 */
export class SimulatedContracts {
  constructor(private readonly core: ChannelSimulator) {}

  #contractAnswer(
    channelId: string,
    requestNo: string,
    requestKey: string,
    answer: () => SimulatedAnswer,
  ): SimulatedAnswer {
    const records = this.core.records(channelId);
    const seen = records.contractAnswers.get(requestNo);
    if (seen)
      return seen.requestKey === requestKey
        ? (seen.answer as SimulatedAnswer)
        : this.core.refusal(channelId, 'order_conflict');
    const given = answer();
    // Refusals of a wrong SMS code are not kept: the payer may try again with the same request number.
    const dialect = CHANNEL_DIALECTS[this.core.channelConfig(channelId).kind];
    if (given.code === dialect.success || given.code === dialect.accepted)
      records.contractAnswers.set(requestNo, { requestKey, answer: given });
    return given;
  }

  verify(channelId: string, request: WireRequest<'contract.verify'>): SimulatedAnswer {
    // The card number never enters the kept request key in clear: a hash of the whole request stands for it.
    const requestKey = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    return this.#contractAnswer(channelId, `verify:${request.request_no}`, requestKey, () => {
      const channel = this.core.channelConfig(channelId);
      const signing = channel.profile.capabilities.contracts;
      if (!signing) return this.core.refusal(channelId, 'not_supported');
      const index = this.core.config.cardholders.findIndex((holder) => holder.cardNumber === request.card_no);
      const holder = this.core.config.cardholders[index];
      if (!holder) return this.core.refusal(channelId, 'card_invalid');
      if (
        !chargeOfferFor(channel.profile, { method: 'quick_pay', bankCode: holder.bankCode, cardKind: holder.cardKind })
      )
        return this.core.refusal(channelId, 'not_supported');
      if (holder.holderName !== request.name || holder.idNumber !== request.id_no || holder.phone !== request.phone)
        return this.core.refusal(channelId, 'elements_mismatch');
      if (holder.cardKind === 'credit' && (!request.expiry || !request.cvn2))
        return this.core.refusal(channelId, 'param_error');
      const records = this.core.records(channelId);
      const maskedCard = maskedCardOf(holder.cardNumber).masked;
      if (signing === 'sign_at_verify') {
        const contractNo = this.#signContract(channelId, index, maskedCard, request.request_no);
        return this.core.ok(channelId, { step: 'SIGNED', contract_no: contractNo, card_masked: maskedCard });
      }
      const verificationId = this.core.tradeNo(channelId, 'V', request.request_no);
      const code = String(drawPpm(this.core.config.seed, channelId, request.request_no, 'sms')).padStart(6, '0');
      records.verifications.set(verificationId, {
        verificationId,
        requestNo: request.request_no,
        cardholder: index,
        code,
        expiresAtMs: this.core.nowMs() + this.core.config.smsCodeTtlMs,
        attemptsLeft: this.core.config.smsCodeAttempts,
        contractNo: null,
      });
      const maskedPhone = phoneNumber(holder.phone).masked;
      this.core.outbox.push({ channelId, verificationId, maskedPhone, code, sentAtMs: this.core.nowMs() });
      return this.core.ok(channelId, { step: 'SMS_SENT', verification_id: verificationId, phone_masked: maskedPhone });
    });
  }

  #signContract(channelId: string, cardholder: number, maskedCard: string, requestNo: string): string {
    const records = this.core.records(channelId);
    for (const contract of records.contracts.values()) {
      // The bank keeps one live agreement per card and merchant: binding again returns it.
      if (contract.cardholder === cardholder && contract.state === 'ACTIVE') return contract.contractNo;
    }
    const contractNo = this.core.tradeNo(channelId, 'C', requestNo);
    records.contracts.set(contractNo, {
      contractNo,
      cardholder,
      maskedCard,
      signedAtMs: this.core.nowMs(),
      state: 'ACTIVE',
    });
    return contractNo;
  }

  sign(channelId: string, request: WireRequest<'contract.sign'>): SimulatedAnswer {
    const requestKey = `${request.verification_id}:${createHash('sha256').update(request.sms_code).digest('hex')}`;
    return this.#contractAnswer(channelId, `sign:${request.request_no}`, requestKey, () => {
      const records = this.core.records(channelId);
      const verification = records.verifications.get(request.verification_id);
      if (!verification || verification.requestNo !== request.request_no)
        return this.core.refusal(channelId, 'order_not_found');
      if (this.core.nowMs() >= verification.expiresAtMs || verification.attemptsLeft <= 0)
        return this.core.refusal(channelId, 'code_expired');
      if (request.sms_code !== verification.code) {
        verification.attemptsLeft -= 1;
        return this.core.refusal(channelId, 'code_invalid');
      }
      const maskedCard = maskedCardOf(this.core.config.cardholders[verification.cardholder]!.cardNumber).masked;
      verification.contractNo = this.#signContract(channelId, verification.cardholder, maskedCard, request.request_no);
      verification.attemptsLeft = 0;
      return this.core.ok(channelId, { contract_no: verification.contractNo, card_masked: maskedCard });
    });
  }

  unsign(channelId: string, request: WireRequest<'contract.unsign'>): SimulatedAnswer {
    const contract = this.core.records(channelId).contracts.get(request.contract_no);
    if (!contract) return this.core.refusal(channelId, 'contract_invalid');
    contract.state = 'TERMINATED';
    return this.core.ok(channelId, { time: new Date(this.core.nowMs()).toISOString() });
  }

  query(channelId: string, request: WireRequest<'contract.query'>): SimulatedAnswer {
    const contract = this.core.records(channelId).contracts.get(request.contract_no);
    if (!contract) return this.core.refusal(channelId, 'contract_invalid');
    return this.core.ok(channelId, { contract_state: contract.state, card_masked: contract.maskedCard });
  }
}
