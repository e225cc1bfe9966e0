import { performance } from 'node:perf_hooks';
import {
  extraFigure,
  log,
  mergeHttpLoadResults,
  statusPerSecond,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
  type HttpLoadResult,
} from './harness.js';
import { CONNECTIONS, load, startLedger } from './http-recharge.js';
import { waitForProjections } from './payment-ledger.js';

/**
 * What an online rebuild (src/projections/online-rebuild.ts) costs the commands: the recharge API's
 * throughput (bench/http-recharge.ts's service and load: signed POST /v1/recharges over 64 connections)
 * while every projection is rebuilt online, one rebuild after another for the whole round, against the
 * same load with no rebuild, in alternating rounds. The rebuild runs in the projection worker, beside the
 * live projections; the commands run on the request thread. Target: the commands keep at least half
 * their throughput during a rebuild.
 */
export const name = 'online-rebuild';

const WALLETS = { full: 1_000, quick: 300 } as const;
const SIZES = {
  full: { warmupSeconds: 2, roundSeconds: 6, rounds: 3 },
  quick: { warmupSeconds: 0.5, roundSeconds: 2, rounds: 1 },
} as const;
const TARGET_RATIO = 0.5;
const CREATED = 201;

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { warmupSeconds, roundSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir(name, async (dir) => {
    const ledger = await startLedger(dir, options.quick ? WALLETS.quick : WALLETS.full);
    const quiet: HttpLoadResult[] = [];
    const rebuilding: HttpLoadResult[] = [];
    let rebuildsDone = 0;
    let rebuildsFailed = 0;
    let rebuildMs = 0;
    try {
      const { service } = ledger;
      log(name, `warming up, ${warmupSeconds} s`);
      await load(ledger.target, warmupSeconds);
      for (let round = 0; round < rounds; round += 1) {
        await waitForProjections(service);
        quiet.push(await load(ledger.target, roundSeconds));
        await waitForProjections(service);
        // Rebuilds of every projection, one after another, for as long as the load runs.
        let loading = true;
        const rebuilds = (async () => {
          while (loading) {
            const startedAt = performance.now();
            await service.projections.rebuild('all');
            let status = service.projections.rebuildStatus;
            while (status?.finishedAt === null) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              status = service.projections.rebuildStatus;
            }
            if (status?.phase === 'done') {
              rebuildsDone += 1;
              rebuildMs += performance.now() - startedAt;
            } else rebuildsFailed += 1;
          }
        })();
        rebuilding.push(await load(ledger.target, roundSeconds));
        loading = false;
        await rebuilds;
      }
    } finally {
      await ledger.close();
    }
    const without = mergeHttpLoadResults(quiet);
    const during = mergeHttpLoadResults(rebuilding);
    const perSecond = (result: HttpLoadResult) => statusPerSecond(result, CREATED);
    log(
      name,
      `no rebuild: ${perSecond(without).toFixed(0)} req/s; rebuilding: ${perSecond(during).toFixed(0)} req/s; ` +
        `${rebuildsDone} rebuilds of every projection done (${rebuildsFailed} failed), ` +
        `${(rebuildMs / Math.max(1, rebuildsDone)).toFixed(0)} ms each`,
    );
    return [
      targetFigure({
        name,
        value: perSecond(during),
        unit: 'req/s',
        baseline: `the same recharge API load (signed POST /v1/recharges, ${CONNECTIONS} connections) with no rebuild running, alternating rounds (req/s)`,
        baselineValue: perSecond(without),
        target: TARGET_RATIO,
      }),
      extraFigure({ name: `${name}-rebuilds-done`, value: rebuildsDone, unit: 'rebuilds of all' }),
      // A healthy run has 0 in the next two.
      extraFigure({ name: `${name}-rebuilds-failed`, value: rebuildsFailed, unit: 'rebuilds' }),
      extraFigure({
        name: `${name}-non-201-responses`,
        value: during.responses - (during.statusCounts[String(CREATED)] ?? 0),
        unit: 'responses',
      }),
      extraFigure({
        name: `${name}-mean-rebuild`,
        value: rebuildMs / Math.max(1, rebuildsDone),
        unit: 'ms',
      }),
    ];
  });
}
