import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import {
  SIMULATED_BANK,
  simulatorConfigForLoad,
  testCardNumber,
  testCardholderElements,
} from '../src/adapters/channels/simulator/default-simulator-config.js';
import type { SimulatedCardholder } from '../src/adapters/channels/simulator/simulator-config.js';
import type { ChannelSimulator } from '../src/adapters/channels/simulator/channel-simulator.js';
import { loadConfig } from '../src/config.js';
import { phoneNumber, secretText } from '../src/domain/shared/sensitive-text.js';
import type { ChannelPort } from '../src/ports/channel-port.js';
import {
  extraFigure,
  log,
  mapConcurrent,
  projectRoot,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import { benchContext } from './ledger-fixtures.js';

/**
 * Card bindings end to end through the in-process simulator (latency 0), at the command layer as the
 * routes call it (`CardBindings.start`, then `confirm` with the code read from the simulator's outbox):
 * the user's payment password checked (scrypt), the card identified (BIN table) and fingerprinted, its
 * claim stream, four secrets sealed in the vault (four durable commits on its own SQLite file), the
 * contract's events, the signed channel round trips (verify, sign), the SMS. One user binds every card
 * (one contract per card, many cards per user), IN_FLIGHT bindings at a time.
 *
 *   bindings-bank-path: bindings/s at the bank (`verify_then_sign`: the bank texts its code, sign with it).
 *   bindings-pre-bind-path: bindings/s at the card network (`sign_at_verify`: signed at verify, our own
 *     code through the simulator's SMS gateway, confirmed against its keyed hash).
 *   Baseline, same run, same cards' kind: the simulator's raw `verifyElements` + `sign` calls at the bank
 *   through the same channel port (signed wire messages over Fastify inject), the same in flight: what a
 *   binding costs beyond the channel's own work. No target: a binding is a handful of durable commits
 *   (vault and log) beside the channel calls; the ratio says how much the ledger's side costs.
 *
 *   bindings-password-checks: the user's payment-password check alone (scrypt, N = 2^15, r = 8), the same
 *     in flight: every start pays one, and on a small machine it is most of a binding.
 *
 * The vault's seals/s and opens/s are bench/vault.ts's (`--only vault`), not measured again here.
 *
 * The cards are generated test cards (`000000` test range, made-up holders), made known to the simulator
 * and to a BIN table written for the run beside the shipped one: serials 1000.. at the bank (CITY),
 * 2000.. at the card network (ICBC).
 */
export const name = 'bindings';

const IN_FLIGHT = 8;
const SIZES = { full: { cards: 400 }, quick: { cards: 40 } } as const;
const PASSWORD = '583920';
const BANK_SERIAL = 1_000;
const NETWORK_SERIAL = 2_000;
const RAW_SERIAL = 3_000;
const TIMEOUT = { timeoutMs: 5_000 };

function holder(serial: number, bankCode: string): SimulatedCardholder {
  return {
    cardNumber: testCardNumber(serial),
    holderName: `Bench Holder ${serial}`,
    idNumber: `TEST${String(serial).padStart(14, '0')}`,
    phone: `139${String(serial).padStart(8, '0')}`,
    bankCode,
    cardKind: 'debit',
    balanceMinor: 1_000_000_000n,
  };
}

/** The shipped table plus 7-digit test prefixes: 0000001 (serials 1000-1999) CITY, 0000002 ICBC, 0000003 CITY. */
function binTableFor(dir: string): string {
  const shipped = readFileSync(join(projectRoot(), 'resources', 'card-bins.csv'), 'utf8').trimEnd();
  const file = join(dir, 'bench-card-bins.csv');
  writeFileSync(
    file,
    [
      shipped,
      '0000001,CITY,Simulated City Bank (bench test cards),debit,unionpay,yes',
      '0000002,ICBC,Simulated ICBC (bench test cards),debit,unionpay,yes',
      '0000003,CITY,Simulated City Bank (bench test cards),debit,unionpay,yes',
      '',
    ].join('\n'),
  );
  return file;
}

/** The newest code the simulator texted to this phone from this sender (the outbox keeps the last 1,000). */
function codeFor(simulator: ChannelSimulator, sender: string | null, maskedPhone: string): string {
  const outbox = simulator.smsOutbox();
  for (let i = outbox.length - 1; i >= 0; i -= 1) {
    const message = outbox[i]!;
    if (message.maskedPhone === maskedPhone && (sender === null || message.channelId === sender)) return message.code;
  }
  throw new Error(`no SMS to ${maskedPhone}`);
}

async function bindAll(service: LedgerService, userId: string, holders: readonly SimulatedCardholder[], runId: string) {
  const simulator = service.channels.simulator!;
  let bound = 0;
  const startedMs = Date.now();
  await mapConcurrent(holders, IN_FLIGHT, async (h, i) => {
    const context = benchContext(`bind-${runId}-${h.cardNumber}-${i}`);
    const started = await service.cardBindings.start(
      {
        userId,
        requestedBy: 'bench',
        paymentPassword: PASSWORD,
        cardNumber: h.cardNumber,
        holderName: h.holderName,
        idNumber: h.idNumber,
        phone: h.phone,
        expiry: null,
        cvn2: null,
      },
      context,
    );
    const sender = started.signing === 'sign_at_verify' ? 'sms-gateway' : started.channelId;
    const code = codeFor(simulator, sender, started.maskedPhone!);
    const confirmed = await service.cardBindings.confirm(
      started.contractId,
      secretText(code),
      benchContext(`confirm-${runId}-${i}`),
    );
    if (confirmed.status !== 'bound') throw new Error(`binding ${started.contractId} ended ${confirmed.status}`);
    bound += 1;
  });
  return bound / ((Date.now() - startedMs) / 1_000);
}

/** The baseline: the bank's own verify + sign, straight through its channel port. */
async function rawBankCalls(port: ChannelPort, simulator: ChannelSimulator, holders: readonly SimulatedCardholder[]) {
  const startedMs = Date.now();
  await mapConcurrent(holders, IN_FLIGHT, async (h, i) => {
    const requestNo = `RAW${String(i).padStart(8, '0')}${Date.now()}`;
    const verified = await port.verifyElements({ requestNo, elements: testCardholderElements(h) }, TIMEOUT);
    if (verified.status !== 'succeeded' || verified.step !== 'code_sent')
      throw new Error(`raw verify: ${JSON.stringify(verified)}`);
    const code = codeFor(simulator, SIMULATED_BANK, phoneNumber(h.phone).masked);
    const signed = await port.sign(
      { requestNo, verificationId: verified.verificationId, code: secretText(code) },
      TIMEOUT,
    );
    if (signed.status !== 'succeeded') throw new Error(`raw sign: ${JSON.stringify(signed)}`);
  });
  return holders.length / ((Date.now() - startedMs) / 1_000);
}

/** The payment-password check every start makes, alone. */
async function passwordChecks(service: LedgerService, userId: string, count: number) {
  const user = await service.entities.get(userId);
  if (!user) throw new Error('the bench user is gone');
  const startedMs = Date.now();
  await mapConcurrent(
    Array.from({ length: count }, (_, i) => i),
    IN_FLIGHT,
    async () => {
      if (!(await service.entities.verifyPaymentPasswordOf(user, PASSWORD))) throw new Error('password refused');
    },
  );
  return count / ((Date.now() - startedMs) / 1_000);
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { cards } = options.quick ? SIZES.quick : SIZES.full;
  const bankHolders = Array.from({ length: cards }, (_, i) => holder(BANK_SERIAL + i, 'CITY'));
  const networkHolders = Array.from({ length: cards }, (_, i) => holder(NETWORK_SERIAL + i, 'ICBC'));
  const rawHolders = Array.from({ length: cards }, (_, i) => holder(RAW_SERIAL + i, 'CITY'));
  return withTempDir(name, async (dir) => {
    const load = simulatorConfigForLoad('ledger', { raiseLimits: true });
    const service = await startLedgerService(
      loadConfig({
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        CARD_BIN_TABLE_FILE: binTableFor(dir),
        CHANNEL_POLL_INTERVAL_MS: '0',
        RECOVERY_SWEEP_INTERVAL_MS: '0',
      }),
      {
        onKeyGenerated: () => {},
        channels: {
          simulatorConfig: {
            ...load,
            cardholders: [...load.cardholders, ...bankHolders, ...networkHolders, ...rawHolders],
          },
          callbackPost: async () => 200,
        },
      },
    );
    try {
      const context = benchContext('bench-binding-user');
      const { entityId: userId } = await service.entities.register(
        { kind: 'user', displayName: 'Bench binder', phone: '+8613900000001' },
        context,
      );
      await service.entities.setPaymentPassword(
        userId,
        { newPassword: PASSWORD, currentPassword: null },
        benchContext('bench-binding-password'),
        { takeover: false },
      );
      const runId = String(Date.now());
      const simulator = service.channels.simulator!;
      log(name, `${cards} cards per path, ${IN_FLIGHT} in flight`);
      const raw = await rawBankCalls(service.channels.gateway.port(SIMULATED_BANK)!, simulator, rawHolders);
      log(name, `raw verify + sign at the bank: ${raw.toFixed(1)}/s`);
      const bank = await bindAll(service, userId, bankHolders, runId);
      log(name, `bank path: ${bank.toFixed(1)} bindings/s`);
      const preBind = await bindAll(service, userId, networkHolders, runId);
      log(name, `pre-bind path: ${preBind.toFixed(1)} bindings/s`);
      const passwords = await passwordChecks(service, userId, cards);
      log(name, `payment-password checks alone: ${passwords.toFixed(1)}/s`);
      const baseline = 'raw verifyElements + sign calls/s at the simulated bank (same port, same in flight)';
      return [
        extraFigure({
          name: 'bindings-bank-path',
          value: bank,
          unit: 'bindings/s',
          baseline,
          baselineValue: raw,
        }),
        extraFigure({
          name: 'bindings-pre-bind-path',
          value: preBind,
          unit: 'bindings/s',
          baseline,
          baselineValue: raw,
        }),
        extraFigure({ name: 'bindings-password-checks', value: passwords, unit: 'checks/s' }),
        extraFigure({ name: 'bindings-cards-per-path', value: cards, unit: 'cards' }),
      ];
    } finally {
      await service.close();
    }
  });
}
