import { parseArgs } from 'node:util';
import { simulate, type SimulationResult } from './simulation.js';

/** The one-seed and many-seeds runs `npm run simulate` makes (see docs/reliability.md). */
const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    steps: { type: 'string', default: '300' },
    first: { type: 'string', default: '1' },
    trace: { type: 'boolean', default: false },
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
for (const seed of seeds) {
  const result = await simulate({ seed, steps });
  results.push(result);
  if (values.trace) for (const line of result.trace) console.log(line);
  console.log(
    `seed ${seed}: ${result.failure ? 'FAILED' : 'ok'} digest ${result.digest.slice(0, 16)} checks ${result.checks} crashes ${result.crashes}`,
  );
  if (result.failure) printFailure(result);
}
const failures = results.filter((r) => r.failure);
process.exitCode = failures.length === 0 ? 0 : 1;
export { results };
