import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { machineInfo, RESULTS_DIR } from '../bench/harness.js';
import { runSoak } from './soak/run-soak.js';

/**
 * `npm run soak [-- --seed S --kills N --duration SECONDS --clients N]`: the crash soak against the built
 * service (scripts/soak/run-soak.ts). Writes bench/results/soak.json; exits 1 on any breach, printing
 * the seed that replays the run's draws.
 */
const whole = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('a whole number');
  return parsed;
};

const options = new Command('soak')
  .option('--seed <seed>', 'seed of the load and the kill moments', `soak-${Date.now()}`)
  .option('--kills <n>', 'SIGKILLs during the load', whole, 20)
  .option('--duration <seconds>', 'seconds of load', whole, 120)
  .option('--clients <n>', 'concurrent clients', whole, 6)
  .parse()
  .opts<{ seed: string; kills: number; duration: number; clients: number }>();

const startedAt = new Date().toISOString();
const result = await runSoak({
  cli: join(import.meta.dirname, 'cli.js'),
  seed: options.seed,
  kills: options.kills,
  durationS: options.duration,
  clients: options.clients,
});
mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, 'soak.json');
writeFileSync(
  `${file}.tmp`,
  `${JSON.stringify({ name: 'soak', machine: machineInfo(), startedAt, ...result }, null, 2)}\n`,
);
renameSync(`${file}.tmp`, file);
const { breaches, ...figures } = result;
console.log(JSON.stringify(figures, null, 2));
if (!result.ok) {
  for (const line of breaches.slice(0, 50)) console.error(`breach: ${line}`);
  console.error(`soak FAILED (${breaches.length} breaches): seed ${result.seed}`);
  process.exit(1);
}
console.log(
  `soak passed: seed ${result.seed}, ${result.killsSurvived} kills survived, ${result.operations} operations`,
);
