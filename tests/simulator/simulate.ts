import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate, type SimulationResult } from './simulation.js';

/** The one-seed and many-seeds runs `npm run simulate` makes (see docs/reliability.md). */
const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    steps: { type: 'string', default: '150' },
    first: { type: 'string', default: '1' },
    trace: { type: 'boolean', default: false },
    /** Where a many-seeds run writes its figures (none for a single seed). */
    out: { type: 'string', default: 'bench/results/simulator.json' },
  },
});
const steps = Number(values.steps);
const seeds =
  values.seed !== undefined
    ? [Number(values.seed)]
    : Array.from({ length: Number(values.seeds ?? '20') }, (_, i) => Number(values.first) + i);

function printFailure(result: SimulationResult): void {
  console.log(`seed ${result.seed} FAILED at step ${result.failure!.step}: ${result.failure!.message}`);
  console.log(`replay: npm run simulate -- --seed ${result.seed} --steps ${result.steps} --trace`);
}

const results: SimulationResult[] = [];
const startedAt = new Date().toISOString();
for (const seed of seeds) {
  const result = await simulate({ seed, steps });
  results.push(result);
  if (values.trace) for (const line of result.trace) console.log(line);
  console.log(
    `seed ${seed}: ${result.failure ? 'FAILED' : 'ok'} digest ${result.digest.slice(0, 16)} checks ${result.checks} crashes ${result.crashes}`,
  );
  if (result.failure) printFailure(result);
  // After every seed, so a run stopped early still leaves true figures for the seeds it ran.
  if (values.seed === undefined) writeFigures(results);
}
const failures = results.filter((r) => r.failure);
if (values.seed === undefined)
  console.log(`${results.length} seeds, ${failures.length} failed; figures in ${values.out}`);

function writeFigures(done: readonly SimulationResult[]): void {
  const faults: Record<string, number> = {};
  for (const result of done)
    for (const [kind, n] of Object.entries(result.faults)) faults[kind] = (faults[kind] ?? 0) + n;
  const sum = (pick: (r: SimulationResult) => number) => done.reduce((total, r) => total + pick(r), 0);
  const failed = done.filter((r) => r.failure);
  const figures = {
    name: 'simulator',
    startedAt,
    recordedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    seedsAsked: seeds.length,
    seedsRun: done.length,
    firstSeed: seeds[0],
    stepsPerSeed: steps,
    steps: done.length * steps,
    requestsAnswered: sum((r) => r.answered),
    requestsRefused: sum((r) => r.refused),
    requestsUnansweredThenRetried: sum((r) => r.unanswered),
    crashes: sum((r) => r.crashes),
    faultsInjected: Object.fromEntries(Object.entries(faults).sort(([a], [b]) => (a < b ? -1 : 1))),
    invariantChecks: sum((r) => r.checks),
    failures: failed.length,
    failedSeeds: failed.map((r) => ({ seed: r.seed, ...r.failure })),
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(figures, null, 2)}\n`);
}
process.exitCode = failures.length === 0 ? 0 : 1;
