import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKUP_MANIFEST_FILE,
  refuseProductionEngines,
  type BackupManifest,
} from '../../src/adapters/sqlite/data-dir-backup.js';
import { quickCheck } from '../../src/adapters/sqlite/integrity-check.js';
import { lockStore } from '../../src/adapters/sqlite/store-lock.js';
import { EVENTS_FILE, READ_MODELS_FILE, VAULT_FILE } from '../../src/adapters/storage.js';
import { loadConfig } from '../../src/config.js';
import { PassThrough } from 'node:stream';
import { auditReplay } from '../../scripts/audit.js';
import { backupToFolder, restoreFromFolder } from '../../scripts/backup.js';
import { cliEnv, freePort } from '../support/built-cli.js';
import { openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';

const HOOKS = join(import.meta.dirname, '../support/typescript-hooks.ts');
const CLI = join(import.meta.dirname, '../../scripts/cli.ts');
/** A CLI run taking longer than this hangs (generous: the machine may be loaded). */
const CLI_TIMEOUT_MS = 120_000;

/** `ledger <args>` from the sources, as a child process: asynchronous, so this process keeps writing meanwhile. */
function ledger(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', HOOKS, CLI, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CLI_TIMEOUT_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  );
}

/** An in-process run of a command's function: its exit code and what it wrote (faster than a child). */
async function run(command: (output: { stdout: PassThrough; stderr: PassThrough }) => Promise<number>) {
  const output = { stdout: new PassThrough(), stderr: new PassThrough() };
  let stdout = '';
  let stderr = '';
  output.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  output.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const status = await command(output);
    return { status, stdout, stderr, error: '' };
  } catch (error) {
    return { status: undefined, stdout, stderr, error: error instanceof Error ? error.message : String(error) };
  }
}
const config = (dataDir: string) => loadConfig({ DATA_DIR: dataDir });

const freshDir = (name: string) => mkdtempSync(join(tmpdir(), `ledger-${name}-`));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Overwrites pages 2 to 9 of a SQLite file with noise: the damage of a torn or stray write. */
function damage(path: string): void {
  const pageSize = readFileSync(path).readUInt16BE(16);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize * 8, 0xa5), 0, pageSize * 8, pageSize);
  } finally {
    closeSync(fd);
  }
}

/**
 * `ledger backup` of a DATA_DIR a service keeps writing to, `ledger restore` of it into an empty one, and
 * the restored ledger: its log verifies, its read models catch up from their checkpoints (copied before
 * the log), and it takes commands. Then the refusals, and a damaged file refused at start.
 */
describe('backup and restore', () => {
  let source: TestLedger;
  let backupDir: string;
  let manifest: BackupManifest;
  let restoredDir: string;
  let from: string;
  let to: string;

  beforeAll(async () => {
    source = await startTestLedger(undefined, { ONE_COMMIT: 'auto' });
    from = (await openWallet(source.app)).accountId;
    to = (await openWallet(source.app)).accountId;
    expect((await recharge(source.app, from, '1000.00')).statusCode).toBe(201);
  });
  afterAll(async () => {
    await source.close();
  });

  it('a backup taken under write load restores, verifies, and catches up', async () => {
    const headBefore = await source.service.eventStore.headPosition();
    let stop = false;
    let transfers = 0;
    const writer = async () => {
      while (!stop) {
        const answer = await source.inject({
          method: 'POST',
          url: '/v1/transfers',
          payload: { fromAccountId: from, toAccountId: to, amount: '0.01', currency: 'CNY' },
        });
        expect(answer.statusCode, answer.body).toBe(201);
        transfers += 1;
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    backupDir = join(freshDir('backup'), 'copy');
    const backup = await ledger(['backup', backupDir], { DATA_DIR: source.dataDir });
    stop = true;
    await Promise.all(writers);
    expect(backup.status, backup.stderr).toBe(0);
    expect(transfers).toBeGreaterThan(0);

    manifest = JSON.parse(readFileSync(join(backupDir, BACKUP_MANIFEST_FILE), 'utf8')) as BackupManifest;
    const names = manifest.files.map((file) => file.name);
    expect(names).toEqual(expect.arrayContaining([EVENTS_FILE, READ_MODELS_FILE, VAULT_FILE, 'vault-kek.key']));
    // Derived stores before the log: their checkpoints never name a position the copied log lacks.
    expect(names.indexOf(READ_MODELS_FILE)).toBeLessThan(names.indexOf(EVENTS_FILE));
    for (const file of manifest.files) expect(sha256(join(backupDir, file.name)), file.name).toBe(file.sha256);
    const head = BigInt(manifest.eventLogHead);
    expect(head).toBeGreaterThan(headBefore === 'start' ? 0n : headBefore);
    expect(head).toBeLessThanOrEqual((await source.service.eventStore.headPosition()) as bigint);
    expect(backup.stderr).toContain(`event log through position ${head}`);

    restoredDir = freshDir('restored');
    const restore = await run((output) => restoreFromFolder(config(restoredDir), backupDir, output));
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.stderr).toContain(`through position ${head}`);
    expect(restore.stderr).toMatch(/chain intact: \d+ events/);
    expect(JSON.parse(restore.stdout.trim().split('\n').at(-1)!)).toMatchObject({ ok: true, lastPosition: `${head}` });

    // The restored ledger: projections catch up from the copied checkpoints, and it takes commands.
    const restored = await startTestLedger(restoredDir, { ONE_COMMIT: 'auto' });
    try {
      const read = async (minPosition: string) => {
        const answer = await restored.inject({ method: 'GET', url: `/v1/accounts/${from}?minPosition=${minPosition}` });
        expect(answer.statusCode, answer.body).toBe(200);
        return answer.json<{ balance: string }>().balance;
      };
      const before = await read(`${head}`);
      const moved = await restored.inject({
        method: 'POST',
        url: '/v1/transfers',
        payload: { fromAccountId: from, toAccountId: to, amount: '1.00', currency: 'CNY' },
      });
      expect(moved.statusCode, moved.body).toBe(201);
      // Applied, not skipped: a read model copied ahead of the log would take this position as done.
      expect(await read(moved.json<{ position: string }>().position)).toBe((Number(before) - 1).toFixed(2));
    } finally {
      await restored.close();
    }
    const replay = await run((output) => auditReplay(config(restoredDir), output));
    expect(replay.status, replay.stderr).toBe(0);
  }, 240_000);

  it('refuses a non-empty DATA_DIR, one a service holds, a changed backup, and production engines', async () => {
    const restoreInto = (dataDir: string, from = backupDir) =>
      run((output) => restoreFromFolder(config(dataDir), from, output));

    const held = freshDir('held');
    const lock = lockStore(held, 'shared');
    try {
      expect((await restoreInto(held)).error).toContain('in use by a running service');
    } finally {
      lock.release();
    }
    expect(readdirSync(held).filter((name) => !name.startsWith('store.lock'))).toEqual([]);

    const notEmpty = freshDir('not-empty');
    cpSync(join(backupDir, 'vault-kek.key'), join(notEmpty, 'someone-elses.key'));
    expect((await restoreInto(notEmpty)).error).toContain('is not empty (someone-elses.key)');
    expect(readdirSync(notEmpty).filter((name) => !name.startsWith('store.lock'))).toEqual(['someone-elses.key']);

    const changed = join(freshDir('changed'), 'copy');
    cpSync(backupDir, changed, { recursive: true });
    damage(join(changed, EVENTS_FILE));
    const target = freshDir('target');
    expect((await restoreInto(target, changed)).error).toContain(
      `backup file ${EVENTS_FILE} does not match the manifest (changed)`,
    );
    expect(existsSync(join(target, EVENTS_FILE))).toBe(false);
    expect((await restoreInto(target, freshDir('nothing'))).error).toContain(
      `holds no backup (no ${BACKUP_MANIFEST_FILE})`,
    );

    const intoBackup = await run((output) => backupToFolder(config(source.dataDir), backupDir, output.stderr));
    expect(intoBackup.error).toContain('is not empty');
    expect(
      (await run((output) => backupToFolder(config(freshDir('empty')), join(target, 'b'), output.stderr))).error,
    ).toContain('holds no ledger');

    const remote = { ...config(target), eventStoreUrl: 'esdb://es1:2113', mongoUrl: 'mongodb://db1' };
    expect(() => refuseProductionEngines(remote, 'backup')).toThrow(
      /EventStoreDB; back it up with its own backup.*mongodump/,
    );
  });

  it('a damaged store file is refused at start, named, with exit code 3', async () => {
    const damaged = freshDir('damaged');
    cpSync(restoredDir, damaged, { recursive: true });
    expect(quickCheck(join(damaged, READ_MODELS_FILE))).toEqual([]);
    damage(join(damaged, READ_MODELS_FILE));
    expect(quickCheck(join(damaged, READ_MODELS_FILE)).length).toBeGreaterThan(0);
    const before = sha256(join(damaged, READ_MODELS_FILE));
    const serve = await ledger(['serve'], { DATA_DIR: damaged, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(serve.status, serve.stderr).toBe(3);
    expect(serve.stderr).toContain(`damaged store file: ${join(damaged, READ_MODELS_FILE)}`);
    expect(serve.stderr).toContain('restore the last backup');
    // Refused before it was opened: nothing was written to it.
    expect(sha256(join(damaged, READ_MODELS_FILE))).toBe(before);
  }, 240_000);
});
