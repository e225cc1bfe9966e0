import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import type { EventStore, RecordedEvent } from '../../src/ports/event-store.js';

/**
 * Runs a TypeScript child (a ledger taking commands) that prints "ack <id>" for each answered command,
 * and kills it with SIGKILL a random moment (under 20 ms) after `acksBeforeKill` acknowledgements,
 * wherever its commands in flight are. Returns the ids it acknowledged.
 */
export async function runAndKill(
  script: string,
  args: readonly string[],
  acksBeforeKill: number,
): Promise<Set<string>> {
  const child = spawn(
    process.execPath,
    ['--import', join(import.meta.dirname, 'typescript-hooks.ts'), script, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ONE_COMMIT: 'auto' } },
  );
  const acked = new Set<string>();
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('ack ')) acked.add(line.slice(4));
    if (acked.size === acksBeforeKill) setTimeout(() => child.kill('SIGKILL'), Math.random() * 20);
  }
  expect(await exited).toBe('SIGKILL');
  return acked;
}

/** Every event of the log, in order, read a page at a time. */
export async function wholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after: bigint | 'start' = 'start'; ;) {
    const page = await store.readAll({ after, maxCount: 10_000 });
    if (page.length === 0) return events;
    events.push(...page);
    after = page.at(-1)!.position;
  }
}
