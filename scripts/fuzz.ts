#!/usr/bin/env node
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, machineInfo } from '../bench/harness.js';
import { bootstrapEntity } from '../src/adapters/entity-bootstrap.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import { startLedgerService } from '../src/adapters/ledger-service.js';
import { loadConfig } from '../src/config.js';
import { FUZZ_LEDGER_ENV, fuzzHints, runHostileFuzz } from './fuzz/hostile-fuzz.js';

/**
 * `npm run fuzz -- --seed N --runs 10000`: the hostile-input fuzz (scripts/fuzz/hostile-fuzz.ts) against a
 * fresh ledger in a temporary DATA_DIR, listening on 127.0.0.1 for the framing layer. Writes
 * bench/results/fuzz.json; exits non-zero when any answer failed a check (the first failures printed,
 * each with its index: the same seed replays it).
 */
const USAGE = 'usage: npm run fuzz -- [--seed N] [--runs N]   (defaults: a random seed, 10000 runs)';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const runs = Number(values.runs ?? 10_000);
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(runs) || runs < 1) {
    console.error(USAGE);
    return 2;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-fuzz-'));
  const service = await startLedgerService(loadConfig({ DATA_DIR: dataDir, ...FUZZ_LEDGER_ENV }), {
    onKeyGenerated: () => {},
  });
  const app = await buildHttpServer(service, { logger: false });
  try {
    const operator = await bootstrapEntity(service.entities, service.clock, {
      kind: 'operator',
      displayName: 'Fuzz operator',
      actor: 'fuzz',
    });
    const signer = { keyId: operator.keyId, privateKey: createPrivateKey(operator.privateKeyPem) };
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const startedAt = new Date().toISOString();
    const loadBefore = loadavg()[0]!;
    console.log(`fuzz: seed ${seed}, ${runs} requests`);
    const report = await runHostileFuzz(
      {
        app,
        eventStore: service.eventStore,
        signer,
        port: Number(new URL(address).port),
        hints: await fuzzHints(app, signer),
      },
      { seed, runs, onProgress: (done) => done % 1_000 === 0 && console.log(`  ${done} requests`) },
    );
    const result = {
      name: 'fuzz',
      machine: machineInfo(),
      startedAt,
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
      ...report,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, 'fuzz.json');
    writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    console.log(
      `fuzz: ${report.requests} requests in ${(report.durationMs / 1000).toFixed(1)} s: 5xx ${report.serverErrors} ` +
        `(documented 503s ${report.documented503s}), ` +
        `non-problem answers ${report.nonProblemAnswers}, undocumented codes ${report.undocumentedCodes}, ` +
        `leaks ${report.leaks}, events by rejected requests ${report.eventsByRejectedRequests} -> ${file}`,
    );
    for (const failure of report.failures)
      console.log(`  FAIL #${failure.index} ${failure.layer} ${failure.route}: ${failure.what}: ${failure.problem}`);
    return report.failureCount === 0 ? 0 : 1;
  } finally {
    await app.close();
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
