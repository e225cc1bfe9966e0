import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

function codes(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(
    process.execPath,
    ['--import', './tests/support/typescript-hooks.ts', 'scripts/cli.ts', 'codes', 'generate', ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, PAYMENT_CODE_KEYS: '', ...env } },
  );
}

describe('ledger codes generate', () => {
  it("prints docs/payment-codes.md's vectors, the key from PAYMENT_CODE_KEYS or --key", () => {
    const fromConfig = codes(['--seed', SEED, '--slot', '1', '--at', '2026-12-01T12:01:00Z'], {
      PAYMENT_CODE_KEYS: '10:2B7E151628AED2A6ABF7158809CF4F3C',
    });
    expect(fromConfig.status).toBe(0);
    expect(fromConfig.stdout).toBe('105080916404150301\n');

    const withKey = codes([
      '--seed',
      SEED,
      '--slot',
      '12345678',
      '--prefix',
      '15',
      '--at',
      '2026-12-01T12:00:00Z',
      '--json',
      '--key',
      '2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94',
    ]);
    expect(JSON.parse(withKey.stdout)).toEqual({
      code: '159323146603771383',
      step: 29935440,
      refreshAt: '2026-12-01T12:01:00.000Z',
    });
  });

  it('refuses a seed that is not base32 and a prefix without a key', () => {
    const badSeed = codes(['--seed', 'not base32!', '--slot', '1']);
    expect(badSeed.status).not.toBe(0);
    expect(badSeed.stderr).toContain('the seed is not base32');
    const noKey = codes(['--seed', SEED, '--slot', '1', '--prefix', '13']);
    expect(noKey.status).not.toBe(0);
    expect(noKey.stderr).toContain('no permutation key for prefix 13');
  });
});
