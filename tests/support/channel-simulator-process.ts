import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import type { ChannelPort, InboundHttpMessage } from '../../src/ports/channel-port.js';

const root = resolve(import.meta.dirname, '../..');

export interface SimulatorProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** The control endpoint's JSON answer, read field by field as tests read `inject(...).json()`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test's view of JSON, as inject's json() gives
  control(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

/**
 * `ledger channels simulate` (or another simulator's `command`, such as `identity simulate`) as a child
 * process on a free loopback port, from the TypeScript sources.
 */
export async function startSimulatorProcess(
  options: readonly string[],
  command: readonly string[] = ['channels', 'simulate'],
): Promise<SimulatorProcess> {
  const child = spawn(
    process.execPath,
    ['--import', './tests/support/typescript-hooks.ts', 'scripts/cli.ts', ...command, '--port', '0', ...options],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${errors}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^listening (http:\/\/127\.0\.0\.1:[0-9]+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${errors}`)));
  });
  return {
    url,
    child,
    async control(method, path, body) {
      const response = await fetch(`${url}/control${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export interface ReceivedCallback {
  readonly message: InboundHttpMessage;
  readonly receivedAtMs: number;
}

/** Our notify endpoint's stand-in: records every callback, answers `statusFor` (200 by default). */
export interface NotifyReceiver {
  readonly url: (channelId: string) => string;
  readonly received: ReceivedCallback[];
  statusFor: (attempt: number) => number;
  close(): Promise<void>;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const received: ReceivedCallback[] = [];
  const receiver: NotifyReceiver = {
    url: () => '',
    received,
    statusFor: () => 200,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        message: {
          path: new URL(request.url!, 'http://x').pathname,
          headers: request.headers,
          rawBody: Buffer.concat(chunks),
        },
        receivedAtMs: Date.now(),
      });
      response.statusCode = receiver.statusFor(received.length);
      response.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  (receiver as { url: (channelId: string) => string }).url = (channelId) =>
    `http://127.0.0.1:${address.port}/v1/channel-notifications/${channelId}`;
  return receiver;
}

/** Waits until `check` (sync or async) holds, polling; fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** Binds a test card at a channel: verify the elements, read the SMS the bank sent, sign with it. */
export async function bindCard(
  channel: ChannelPort,
  simulator: Pick<SimulatorProcess, 'control'>,
  elements: Parameters<ChannelPort['verifyElements']>[0]['elements'],
  requestNo: string,
): Promise<string> {
  const verified = await channel.verifyElements({ requestNo, elements }, { timeoutMs: 5_000 });
  if (verified.status !== 'succeeded') throw new Error(`verify: ${JSON.stringify(verified)}`);
  if (verified.step === 'signed') return verified.contractNo;
  const outbox: { verificationId: string; code: string }[] = await simulator.control('GET', '/sms-outbox');
  const sms = outbox.find((message) => message.verificationId === verified.verificationId)!;
  const signed = await channel.sign(
    { requestNo, verificationId: verified.verificationId, code: secretText(sms.code) },
    { timeoutMs: 5_000 },
  );
  if (signed.status !== 'succeeded') throw new Error(`sign: ${JSON.stringify(signed)}`);
  return signed.contractNo;
}
