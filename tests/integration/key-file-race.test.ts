import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Two service processes starting at once on one DATA_DIR both find no generated key file: one creates it,
 * the other must read the whole key it wrote, never an empty or half-written file (the card fingerprint
 * key once read as "" and a service refused to start: "the card fingerprint key must be at least 32
 * bytes"). Processes race over many files, so the window between creating a file and filling it is hit.
 */
const PROCESSES = 4;
const FILES = 300;

const child = (dir: string) => `
  import { readOrCreateKeyFile } from ${JSON.stringify(join(process.cwd(), 'src/adapters/crypto/key-file.ts'))};
  import { randomBytes } from 'node:crypto';
  const seen = [];
  for (let i = 0; i < ${FILES}; i++) {
    seen.push(readOrCreateKeyFile(${JSON.stringify(dir)} + '/key-' + i, () => randomBytes(32).toString('base64')).text);
  }
  process.stdout.write(JSON.stringify(seen));
`;

function run(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', child(dir)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`exit ${code}`))));
  });
}

describe('a generated key file raced by processes starting at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-key-race-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every process reads the one whole key of each file', async () => {
    const seen = await Promise.all(Array.from({ length: PROCESSES }, () => run(dir)));
    for (let i = 0; i < FILES; i++) {
      const keys = new Set(seen.map((list) => list[i]));
      expect([...keys].map((key) => key?.length)).toEqual([44]);
    }
  }, 120_000);
});
