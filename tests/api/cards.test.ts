import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { createCaller, startTestLedger, type TestLedger } from '../support/test-ledger.js';

const ICBC_CARD = '6222020000000000018';

describe('POST /v1/cards/lookup', () => {
  const lines: string[] = [];
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger(
      mkdtempSync(join(tmpdir(), 'ledger-cards-')),
      {},
      {
        // The most verbose logger: not even at trace does a card number reach a line.
        http: { logger: { level: 'trace', stream: { write: (line) => lines.push(line) } } },
      },
    );
  });
  afterAll(async () => {
    await ledger.close();
  });

  const lookup = (cardNumber: unknown, as = undefined as Parameters<TestLedger['inject']>[1]) =>
    ledger.inject({ method: 'POST', url: '/v1/cards/lookup', payload: { cardNumber } }, as);

  it('answers the bank, kind and network of a card in the table, its Luhn validity and its masked form', async () => {
    const answer = await lookup('6222 0200 0000 0000 018');
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      maskedCard: '622202*********0018',
      network: 'unionpay',
      bank: { code: 'ICBC', name: 'Industrial and Commercial Bank of China' },
      cardKind: 'debit',
      luhnValid: true,
      source: 'bin_table',
      testCard: false,
    });
  });

  it('falls back on the network rule, and reports a wrong check digit as luhnValid false (200)', async () => {
    expect((await lookup('4111111111111112')).json()).toEqual({
      maskedCard: '411111******1112',
      network: 'visa',
      bank: null,
      cardKind: null,
      luhnValid: false,
      source: 'network_rule',
      testCard: false,
    });
  });

  it("resolves the simulator's test cards to their banks, marked as test cards; a merchant may ask", async () => {
    const merchant = await createCaller(ledger.service, 'merchant', 'Card shop');
    for (const holder of testCardholders) {
      const answer = await lookup(holder.cardNumber, merchant);
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({
        bank: { code: holder.bankCode },
        cardKind: holder.cardKind,
        testCard: true,
      });
    }
  });

  it('refuses what is not 12 to 19 digits with card_number_invalid, never echoing it', async () => {
    for (const bad of ['12345678901', '62220200000000000181', '6222O20000000000018', '']) {
      const answer = await lookup(bad);
      expect(answer.statusCode).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json().code).toBe('card_number_invalid');
      if (bad !== '') expect(answer.body).not.toContain(bad);
    }
    const tooLong = await lookup('6'.repeat(39));
    expect(tooLong.json().code).toBe('validation_failed');
    expect(tooLong.body).not.toContain('6'.repeat(39));
    expect((await lookup(622202)).json().code).toBe('validation_failed');
    const extra = await ledger.inject({
      method: 'POST',
      url: '/v1/cards/lookup',
      payload: { cardNumber: ICBC_CARD, cvn2: '123' },
    });
    expect(extra.json().code).toBe('validation_failed');
  });

  it('records nothing and logs no card number', async () => {
    const head = await ledger.service.eventStore.headPosition();
    expect((await lookup(ICBC_CARD)).statusCode).toBe(200);
    expect(await ledger.service.eventStore.headPosition()).toBe(head);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain('0000000000018');
    const files = readdirSync(ledger.dataDir).map((name) => readFileSync(join(ledger.dataDir, name)));
    for (const bytes of files) expect(bytes.includes(Buffer.from('0000000000018'))).toBe(false);
  });
});
