import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * The processes a soak runs: the built CLI's `serve` (killed with SIGKILL and started again on the same
 * port and DATA_DIR), the channel simulator (`channels simulate`, which outlives every kill, as a bank
 * outlives our crashes), and one-shot CLI commands (`admin`, `audit`).
 */

/** How long a started service may take to answer /health/ready (a loaded 2-core machine included). */
const READY_TIMEOUT_MS = 60_000;
/** How long a one-shot CLI command may run before the soak counts it as hanging. */
const CLI_TIMEOUT_MS = 120_000;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCliCommand(cli: string, args: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const run = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: CLI_TIMEOUT_MS });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** The channel simulator as its own process on a free loopback port, seeded. */
export async function startChannelSimulator(
  cli: string,
  seed: string,
  env: NodeJS.ProcessEnv,
  configFile?: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const config = configFile === undefined ? [] : ['--config', configFile];
  const child = spawn(process.execPath, [cli, 'channels', 'simulate', '--port', '0', '--seed', seed, ...config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the channel simulator did not start: ${errors}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^listening (http:\/\/127\.0\.0\.1:[0-9]+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the channel simulator exited ${code}: ${errors}`)));
  });
  return { url, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** `serve` on a fixed port, killed and started again by the soak; its stderr is kept for the report. */
export class ServiceUnderTest {
  private child: ChildProcess | null = null;
  private stderrText = '';
  starts = 0;

  constructor(
    private readonly cli: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly baseUrl: string,
  ) {}

  /** Starts the service; resolves once it answers /health/ready (the first start) or at once (restarts). */
  async start({ waitReady }: { waitReady: boolean }): Promise<void> {
    if (this.child !== null) throw new Error('the service is already running');
    // Every other start writes each operation as a process of separate appends (ONE_COMMIT=off, the path
    // of engines without a multi-stream append): a kill then falls between an operation's steps, or between
    // its last event and its recorded answer, which the one-commit path never leaves behind.
    const oneCommit = this.starts % 2 === 0 ? 'auto' : 'off';
    const child = spawn(process.execPath, [this.cli, 'serve'], {
      env: { ...this.env, ONE_COMMIT: oneCommit },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // The last 64 KiB are enough to show why a start failed.
      this.stderrText = (this.stderrText + chunk.toString()).slice(-65_536);
    });
    this.child = child;
    this.starts += 1;
    if (waitReady) await this.waitReady();
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child === null || this.child.exitCode !== null)
        throw new Error(`the service exited while starting: ${this.stderrText}`);
      try {
        if ((await fetch(`${this.baseUrl}/health/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the service did not become ready in ${READY_TIMEOUT_MS} ms: ${this.stderrText}`);
  }

  /** kill -9, wherever its requests are; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) throw new Error('no service to kill');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    this.child = null;
    // A service that had already died on its own is a finding, not a kill.
    if (signal !== 'SIGKILL') throw new Error(`the service had exited by itself (${code}): ${this.stderrText}`);
  }

  /** SIGTERM: the requests in flight are finished, the stores closed (exit 0). */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (child === null) return null;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    this.child = null;
    return code;
  }

  stderr(): string {
    return this.stderrText;
  }
}
