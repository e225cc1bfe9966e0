#!/usr/bin/env node
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as appendAndProject from '../bench/append-and-project.js';
import * as appendConcurrent from '../bench/append-concurrent.js';
import * as batchTransfers from '../bench/batch-transfers.js';
import * as bindings from '../bench/bindings.js';
import * as channelPayments from '../bench/channel-payments.js';
import {
  RESULTS_DIR,
  formatResultsTable,
  machineInfo,
  runBenchmark,
  type Benchmark,
  type BenchmarkResult,
} from '../bench/harness.js';
import * as coldStart1m from '../bench/cold-start-1m.js';
import * as consolePages1m from '../bench/console-pages-1m.js';
import * as httpRecharge from '../bench/http-recharge.js';
import * as onlineRebuild from '../bench/online-rebuild.js';
import * as paymentCodes from '../bench/payment-codes.js';
import * as paymentP99LongStream from '../bench/payment-p99-long-stream.js';
import * as payments from '../bench/payments.js';
import * as projectionCatchup from '../bench/projection-catchup.js';
import * as rebuild1m from '../bench/rebuild-1m.js';
import * as reconciliationMatch from '../bench/reconciliation-match.js';
import * as vault from '../bench/vault.js';
import * as transitScans from '../bench/transit-scans.js';
import * as webhookDeliveries from '../bench/webhook-deliveries.js';

/**
 * `npm run bench [-- --quick] [-- --only <name>]`: runs the benchmarks, writes bench/results/<name>.json
 * for each and prints a table. Targets not met are reported, not failed: the exit code is non-zero only
 * when a benchmark could not run.
 *
 * To add a benchmark: a module in bench/ exporting `name` and `run({ quick })`, listed here.
 */
const BENCHMARKS: readonly Benchmark[] = [
  appendConcurrent,
  appendAndProject,
  projectionCatchup,
  httpRecharge,
  payments,
  channelPayments,
  batchTransfers,
  paymentP99LongStream,
  coldStart1m,
  rebuild1m,
  webhookDeliveries,
  vault,
  transitScans,
  paymentCodes,
  reconciliationMatch,
  bindings,
  onlineRebuild,
  consolePages1m,
];

const USAGE = `usage: npm run bench -- [--quick] [--only <name>]...
  --quick        smaller sizes and durations (the whole suite in under two minutes)
  --only <name>  run only this benchmark (repeatable): ${BENCHMARKS.map((b) => b.name).join(', ')}`;

async function main(): Promise<number> {
  let values: { quick?: boolean; only?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only ?? [];
  const unknown = only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const chosen = only.length > 0 ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS;
  const quick = values.quick ?? false;

  const machine = machineInfo();
  console.log(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform}`,
  );
  const [loadOneMinute = 0] = loadavg();
  console.log(`load average (1 min) before the run: ${loadOneMinute.toFixed(2)}`);
  if (loadOneMinute > machine.cpus / 2) {
    // Same-run baselines keep ratios roughly fair, but absolute figures on a busy machine are low and noisy.
    console.log('WARNING: other processes are using the CPUs; figures will be low and noisy');
  }
  console.log(`running ${chosen.map((b) => b.name).join(', ')}${quick ? ' (quick)' : ''}\n`);

  const started = Date.now();
  const results: BenchmarkResult[] = [];
  const failed: string[] = [];
  for (const benchmark of chosen) {
    const benchmarkStarted = Date.now();
    try {
      const result = await runBenchmark(benchmark, { quick });
      results.push(result);
      console.log(
        `\n${formatResultsTable([result])}\n[${benchmark.name}] ${((Date.now() - benchmarkStarted) / 1000).toFixed(1)} s\n`,
      );
    } catch (error) {
      // One broken benchmark must not hide the others' results.
      failed.push(benchmark.name);
      console.error(`[${benchmark.name}] FAILED:`, error);
    }
  }

  if (results.length > 0) console.log(`summary${quick ? ' (quick)' : ''}:\n${formatResultsTable(results)}\n`);
  const missed = results.flatMap((r) => r.figures.filter((f) => f.met === false).map((f) => f.name));
  if (missed.length > 0) console.log(`targets not met: ${missed.join(', ')}`);
  if (failed.length > 0) console.log(`benchmarks that failed to run: ${failed.join(', ')}`);
  console.log(`results in ${RESULTS_DIR}; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
