import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver took, as it arrived. */
export interface ReceivedWebhook {
  readonly atMs: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly id: string;
}

/** How the receiver answers a request: a status and headers, or never (a black hole). */
export type ReceiverAnswer =
  { readonly status: number; readonly headers?: Record<string, string>; readonly delayMs?: number } | 'hang';

/**
 * A real webhook receiver on a loopback port (node:http), as a merchant runs one: it records every
 * request and answers as the test says. `verify` checks a request's signature with the Standard Webhooks
 * package's own verifier, as a merchant would.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer = () => ({ status: 200 });
  /** Requests being handled now, and the most at once. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server;
  private readonly hanging = new Set<() => void>();

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received = { atMs: Date.now(), headers: req.headers, body, id: String(req.headers['webhook-id']) };
        const index = this.received.push(received) - 1;
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const answer = this.answer(received, index);
        const done = () => {
          this.inFlight -= 1;
        };
        if (answer === 'hang') {
          // Until the sender gives up (its timeout closes the connection) or the receiver closes.
          const release = () => res.destroy();
          this.hanging.add(release);
          res.on('close', () => {
            this.hanging.delete(release);
            done();
          });
          return;
        }
        setTimeout(() => {
          res.writeHead(answer.status, answer.headers ?? {});
          res.end('ok', done);
        }, answer.delayMs ?? 0);
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The parsed payload if the request verifies under `secret`; throws (WebhookVerificationError) if not. */
  static verify(request: ReceivedWebhook, secret: string): unknown {
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
  }

  /** Waits until `predicate` holds over what was received, or fails after `timeoutMs`. */
  async waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline)
        throw new Error(`receiver: condition not met in ${timeoutMs} ms (${this.received.length} received)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    for (const release of this.hanging) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
