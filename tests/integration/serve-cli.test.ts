import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockStore } from '../../src/adapters/sqlite/store-lock.js';
import {
  buildCli,
  cliEnv,
  freePort,
  startServe,
  removeCli,
  stopAllServes,
  stopServe,
  waitReady,
  type ServeProcess,
} from '../support/built-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** `ledger serve` as a child process: when it cannot start it says why, exits non-zero and lets go of DATA_DIR. */
describe('ledger serve refuses to run half-started', () => {
  let cli = '';

  beforeAll(() => {
    cli = buildCli();
  }, 120_000);

  afterAll(async () => {
    await stopAllServes();
    removeCli(cli);
  });

  const freshDataDir = () => mkdtempSync(join(tmpdir(), 'ledger-serve-cli-'));

  /** SQLite deletes a database's -wal and -shm files when its last connection closes cleanly. */
  const openSqliteSideFiles = (dataDir: string) => readdirSync(dataDir).filter((name) => /-(wal|shm)$/.test(name));

  /** Fails if anyone still holds DATA_DIR's lock (a service, or a failed start that kept it). */
  const expectUnlocked = (dataDir: string) => lockStore(dataDir, 'exclusive').release();

  it('exits with 1 when another service holds the port, before creating anything in DATA_DIR', async () => {
    const port = String(await freePort());
    const holder = startServe(cli, { DATA_DIR: freshDataDir(), PORT: port });
    await waitReady(holder);

    const dataDir = freshDataDir();
    const notYetThere = join(freshDataDir(), 'data');
    for (const dir of [dataDir, notYetThere]) {
      const second = startServe(cli, { DATA_DIR: dir, PORT: port });
      expect(await second.exited()).toBe(1);
      expect(second.stderr()).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(second.stderr()).toContain('EADDRINUSE');
    }
    // The port is checked first: no empty stores, no lock file, no DATA_DIR made for a service that never ran.
    expect(readdirSync(dataDir)).toEqual([]);
    expect(existsSync(notYetThere)).toBe(false);
    // The service that holds the port is unharmed.
    expect((await fetch(`${holder.baseUrl}/health/ready`)).ok).toBe(true);
  });

  it.each([
    [
      'EVENTSTORE_URL',
      (port: number) => `esdb://127.0.0.1:${port}?tls=false`,
      'EventStoreDB at esdb://127.0.0.1:%d is unreachable',
    ],
    [
      'MONGODB_URL',
      (port: number) => `mongodb://127.0.0.1:${port}/ledger?directConnection=true`,
      'MongoDB at 127.0.0.1:%d is unreachable',
    ],
  ] as const)(
    'exits with 1 when %s is unreachable, closing the embedded files and releasing the lock',
    async (variable, url, message) => {
      const dataDir = freshDataDir();
      const closedPort = await freePort();
      const serve = startServe(cli, { DATA_DIR: dataDir, PORT: String(await freePort()), [variable]: url(closedPort) });
      expect(await serve.exited()).toBe(1);
      expect(serve.stderr()).toContain(message.replace('%d', String(closedPort)));
      expect(openSqliteSideFiles(dataDir)).toEqual([]);
      expectUnlocked(dataDir);
    },
  );

  it('exits with 1 when DATA_DIR cannot be created', async () => {
    const parent = freshDataDir();
    writeFileSync(join(parent, 'not-a-folder'), '');
    const serve = startServe(cli, { DATA_DIR: join(parent, 'not-a-folder', 'data'), PORT: String(await freePort()) });
    expect(await serve.exited()).toBe(1);
    expect(serve.stderr()).toMatch(/error: ENOTDIR.*not-a-folder/);
  });

  it('`npm start` stops when npm gets SIGTERM (a supervisor stopping it), not leaving the server running', async () => {
    // The package's own start script, run by npm in a folder whose dist/ is this test's build.
    const packageDir = mkdtempSync(join(tmpdir(), 'ledger-npm-start-'));
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    writeFileSync(
      join(packageDir, 'package.json'),
      JSON.stringify({ name: 'npm-start', scripts: { start: scripts.start } }),
    );
    symlinkSync(dirname(dirname(cli)), join(packageDir, 'dist'), 'dir');
    const dataDir = freshDataDir();
    const port = String(await freePort());
    const npm = spawn('npm', ['start'], {
      cwd: packageDir,
      env: cliEnv({ DATA_DIR: dataDir, PORT: port, LOG_LEVEL: 'info', RECOVERY_SWEEP_INTERVAL_MS: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = new Promise<number | null>((resolveExit) => npm.once('exit', resolveExit));
    const serve: ServeProcess = {
      child: npm,
      baseUrl: `http://127.0.0.1:${port}`,
      stderr: () => stderr,
      exited: () => exit,
    };
    const serverPid = () => Number(/"pid":(\d+)/.exec(stdout)?.[1]);
    try {
      await waitReady(serve);
      npm.kill('SIGTERM');
      expect(await exit).toBe(0);
      // The server itself shut down (npm's signal reached it), rather than being orphaned still listening.
      expect(stdout).toContain('"signal":"SIGTERM"');
      await expect(fetch(`${serve.baseUrl}/health/live`)).rejects.toThrow();
      expectUnlocked(dataDir);
    } finally {
      // Only if the test failed: the server npm started, left running.
      if (Number.isInteger(serverPid()) && isRunning(serverPid())) process.kill(serverPid(), 'SIGKILL');
    }
  });

  it('refuses to start while a rebuild holds DATA_DIR, and starts once it is done', async () => {
    const dataDir = freshDataDir();
    const rebuild = lockStore(dataDir, 'exclusive');
    try {
      const refused = startServe(cli, { DATA_DIR: dataDir, PORT: String(await freePort()) });
      expect(await refused.exited()).toBe(1);
      expect(refused.stderr()).toContain(`DATA_DIR ${dataDir} is locked by a running rebuild`);
      // Refused before opening anything: no store was created (beside the lock, its transaction's empty journal).
      expect(readdirSync(dataDir).filter((name) => !name.startsWith('store.lock'))).toEqual([]);
    } finally {
      rebuild.release();
    }
    const serve = startServe(cli, { DATA_DIR: dataDir, PORT: String(await freePort()) });
    await waitReady(serve);
    expect(await stopServe(serve)).toBe(0);
    expectUnlocked(dataDir);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
