import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_LEDGER_ENV, fuzzHints, runHostileFuzz, type FuzzTarget } from '../../scripts/fuzz/hostile-fuzz.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

/** A fixed seed: CI replays the same requests; `npm run fuzz -- --seed N` runs others. */
const SEED = 14;
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2_000);

describe('hostile-input fuzz (OpenAPI-driven, every layer, signed and unsigned)', () => {
  let ledger: TestLedger;
  let target: FuzzTarget;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, FUZZ_LEDGER_ENV);
    const address = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
    const signer = { keyId: ledger.operator.keyId, privateKey: ledger.operator.privateKey };
    target = {
      app: ledger.app,
      eventStore: ledger.service.eventStore,
      signer,
      port: Number(new URL(address).port),
      hints: await fuzzHints(ledger.app, signer),
    };
  });
  afterAll(async () => {
    await ledger.close();
  });

  it(`answers ${RUNS} hostile requests without a 5xx, always problem+json with a documented code, writing nothing when refused`, async () => {
    const report = await runHostileFuzz(target, { seed: SEED, runs: RUNS });
    console.log(JSON.stringify({ ...report, failures: report.failures.slice(0, 10) }, null, 1));
    expect(report.failures).toEqual([]);
    expect(report.requests).toBe(RUNS);
    expect(report.serverErrors).toBe(0);
    expect(report.nonProblemAnswers).toBe(0);
    expect(report.eventsByRejectedRequests).toBe(0);
  }, 300_000);
});
