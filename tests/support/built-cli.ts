import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';

/**
 * The real command line, run as a child process the way an operator runs it: `node <build>/scripts/cli.js`.
 * Each test file builds its own copy in a temporary folder (test files run in parallel: one rebuilding
 * dist/ while another starts `node dist/...` could load a half-written file), linked to the project's
 * node_modules and resources/ and marked as ES modules like the package.
 */
const ROOT = resolve(import.meta.dirname, '../..');

/** How long a CLI command may run in a test before it counts as hanging. */
export const CLI_TIMEOUT_MS = 60_000;

export function buildCli(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'ledger-cli-build-'));
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
    { cwd: ROOT, stdio: 'inherit' },
  );
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  // The data the build reads at run time (the card BIN table), found beside it as beside dist/ in the project.
  symlinkSync(join(ROOT, 'resources'), join(outDir, 'resources'), 'dir');
  return join(outDir, 'scripts/cli.js');
}

/** For afterAll: removes a build made by buildCli (its node_modules is a link: the real one stays). */
export function removeCli(cli: string): void {
  if (cli !== '') rmSync(dirname(dirname(cli)), { recursive: true, force: true });
}

/** The environment of a CLI run: this process's, without storage URLs a contract-test run may have set. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete base['EVENTSTORE_URL'];
  delete base['MONGODB_URL'];
  return { ...base, ...env };
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one CLI command to its end (killed after CLI_TIMEOUT_MS: a hang shows as a null status). */
export function runCli(cli: string, args: readonly string[], env: Record<string, string>, input?: string): CliRun {
  const run = spawnSync(process.execPath, [cli, ...args], {
    env: cliEnv(env),
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    ...(input === undefined ? {} : { input }),
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A `ledger serve` child process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited(): Promise<number | null>;
}

/** Every serve child still running, so a failed test leaves none behind (see stopAllServes). */
const runningServes = new Set<ServeProcess>();

export function startServe(cli: string, env: Record<string, string> & { PORT: string }): ServeProcess {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: cliEnv({ PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: '0', RECOVERY_SWEEP_INTERVAL_MS: '0', ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => {
      runningServes.delete(serve);
      resolveExit(code);
    });
  });
  const serve: ServeProcess = {
    child,
    baseUrl: `http://127.0.0.1:${env.PORT}`,
    stderr: () => stderr,
    exited: () => exit,
  };
  runningServes.add(serve);
  return serve;
}

/** Waits until the service answers /health/ready, or fails (with its stderr) if it exits or takes too long. */
export async function waitReady(serve: ServeProcess): Promise<void> {
  const deadline = Date.now() + CLI_TIMEOUT_MS;
  let exited = false;
  void serve.exited().then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      if ((await fetch(`${serve.baseUrl}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error(`ledger serve at ${serve.baseUrl} did not become ready: ${serve.stderr()}`);
}

/** Stops a serve child with `signal` and waits for it to end. */
export async function stopServe(serve: ServeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill(signal);
  return serve.exited();
}

/** For afterAll: stops every serve child still running (SIGTERM, then SIGKILL if it has not ended within 5 s). */
export async function stopAllServes(): Promise<void> {
  await Promise.all(
    [...runningServes].map(async (serve) => {
      const killer = setTimeout(() => serve.child.kill('SIGKILL'), 5_000);
      await stopServe(serve);
      clearTimeout(killer);
    }),
  );
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
