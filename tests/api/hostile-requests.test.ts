import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/client/signing.js';
import { openWallet, startTestLedger, type TestLedger, payerOf } from '../support/test-ledger.js';

/** What every error answer is: problem+json with a stable code, whatever part of the stack refused it. */
function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(response.body) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, code, type: `urn:ledger:problem:${code}` });
  expect(response.body).not.toMatch(/FST_|at \w+ \(|node:internal/);
}

/** Sends raw bytes to a listening server and returns what comes back, parsed as far as HTTP/1.1 goes. */
async function raw(port: number, bytes: string) {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    // Whatever came back within 5 s of silence is the answer (the assertions say what was missing).
    socket.setTimeout(5_000, () => {
      resolve(received);
      socket.destroy();
    });
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body, text };
}

describe('hostile and malformed requests', () => {
  let ledger: TestLedger;
  let port: number;
  let wallet: string;

  beforeAll(async () => {
    ledger = await startTestLedger();
    wallet = (await openWallet(ledger.app)).accountId;
    const address = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(address).port);
  });
  afterAll(async () => {
    await ledger.close();
  });

  describe('a signed, valid command with an X-Request-Id the events cannot carry', () => {
    it('is refused with 400 before anything is claimed or recorded, and the same key then works', async () => {
      const key = randomUUID();
      const before = await ledger.service.eventStore.headPosition();
      const payer = await payerOf(ledger.app);
      const command = (requestId: string) =>
        ledger.inject({
          method: 'POST',
          url: '/v1/recharges',
          headers: { 'idempotency-key': key, 'x-request-id': requestId },
          payload: { accountId: wallet, amount: '1.00', currency: 'CNY', payer },
        });
      expectProblem(await command('r'.repeat(201)), 400, 'invalid_request_id');
      expectProblem(await command('has spaces in it'), 400, 'invalid_request_id');
      expect(await ledger.service.eventStore.headPosition()).toBe(before);
      const accepted = await command('r'.repeat(200));
      expect(accepted.statusCode, accepted.body).toBe(201);
      expect(accepted.headers['x-request-id']).toBe('r'.repeat(200));
    });
  });

  describe('?minPosition beyond the log', () => {
    it('is refused at once with 400, not waited for', async () => {
      const started = performance.now();
      const response = await ledger.inject({ method: 'GET', url: `/v1/accounts/${wallet}?minPosition=99999999999` });
      expectProblem(response, 400, 'position_beyond_head');
      expect(performance.now() - started).toBeLessThan(1_000);
      const statement = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${wallet}/statement?minPosition=99999999999`,
      });
      expectProblem(statement, 400, 'position_beyond_head');
    });
    it('at a position the log has answers as before', async () => {
      const opened = await openWallet(ledger.app);
      const response = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${opened.accountId}?minPosition=${opened.position}`,
      });
      expect(response.statusCode, response.body).toBe(200);
    });
  });

  describe('router errors (fastify.inject)', () => {
    it('a bad %-escape in the path', async () => {
      expectProblem(await ledger.inject({ method: 'GET', url: '/v1/accounts/%zz' }), 400, 'invalid_url');
      expectProblem(await ledger.app.inject({ method: 'GET', url: '/v1/accounts/%zz' }), 400, 'invalid_url');
    });
    it('an over-long path parameter', async () => {
      const url = `/v1/accounts/${'1'.repeat(5_000)}`;
      expectProblem(await ledger.inject({ method: 'GET', url }), 400, 'path_parameter_too_long');
      expectProblem(await ledger.app.inject({ method: 'GET', url }), 400, 'path_parameter_too_long');
    });
    it('an unknown route and a wrong method', async () => {
      expectProblem(await ledger.inject({ method: 'GET', url: '/v1/nowhere' }), 404, 'not_found');
      expectProblem(await ledger.inject({ method: 'DELETE', url: `/v1/accounts/${wallet}` }), 404, 'not_found');
      expectProblem(await ledger.app.inject({ method: 'GET', url: '/v1/nowhere' }), 401, 'signature_missing');
    });
    it('an unsigned request for an over-long path', async () => {
      expectProblem(
        await ledger.app.inject({ method: 'GET', url: `/v1/${'x'.repeat(9_000)}` }),
        401,
        'signature_missing',
      );
    });
  });

  describe('HTTP framing errors (a listening server, raw sockets)', () => {
    it('a bad %-escape', async () => {
      expectProblem(
        await raw(port, 'GET /v1/accounts/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        400,
        'invalid_url',
      );
    });
    it('oversized headers', async () => {
      const response = await raw(port, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectProblem(response, 431, 'headers_too_large');
      expect(response.headers['connection']).toBe('close');
    });
    it('conflicting Content-Length headers', async () => {
      expectProblem(
        await raw(
          port,
          'POST /v1/recharges HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}',
        ),
        400,
        'invalid_content_length',
      );
    });
    it('a Content-Length that is not a number', async () => {
      expectProblem(
        await raw(port, 'POST /v1/recharges HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
        400,
        'invalid_content_length',
      );
    });
    it('a request line that is not HTTP', async () => {
      expectProblem(await raw(port, 'HELLO THERE\r\n\r\n'), 400, 'malformed_request');
    });
    it('a request the HTTP parser cannot read: an unknown version, a header name with a space, bare LFs', async () => {
      for (const request of [
        'GET /health/live HTTP/1.2\r\nHost: x\r\n\r\n',
        'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
        'GET /health/live HTTP/1.1\nHost: x\n\n',
      ]) {
        const response = await raw(port, request);
        expectProblem(response, 400, 'malformed_request');
        expect(response.headers['connection'], request).toBe('close');
      }
    });
    it('an HTTP/1.1 request without a Host header (Node refused it with a bare 400 of its own)', async () => {
      const response = await raw(port, 'GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n');
      expectProblem(response, 400, 'malformed_request');
      expect(response.headers['connection']).toBe('close');
    });
    it('serves HTTP/1.0: malformed_request is not about the version', async () => {
      const response = await raw(port, 'GET /health/live HTTP/1.0\r\n\r\n');
      expect(response.statusCode, response.text).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ status: 'ok' });
    });
    it('an over-long X-Request-Id on an unsigned request', async () => {
      expectProblem(
        await raw(
          port,
          `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${'r'.repeat(300)}\r\nConnection: close\r\n\r\n`,
        ),
        400,
        'invalid_request_id',
      );
    });
    it('an unknown route', async () => {
      expectProblem(
        await raw(port, 'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        401,
        'signature_missing',
      );
    });
  });

  describe('an instance closing down', () => {
    it('answers a request still reaching it (on a connection busy when closing began) with problem+json', async () => {
      const closing = await startTestLedger(mkdtempSync(join(tmpdir(), 'ledger-closing-')), {
        READ_YOUR_WRITES_TIMEOUT_MS: '1000',
      });
      // A read that waits (the read models stopped before the wallet was opened), then one behind it.
      await closing.service.projections.stop();
      const wallet = await openWallet(closing.app);
      const address = await closing.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `/v1/accounts/${wallet.accountId}?minPosition=${wallet.position}`;
      const signed = signRequest({
        method: 'GET',
        pathWithQuery: url,
        body: null,
        keyId: closing.operator.keyId,
        privateKeyPem: closing.operator.privateKey,
      });
      const headers = Object.entries(signed)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      // A keep-alive connection busy with the waiting read when the instance starts closing down; the next
      // request on it arrives after that.
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(address).port) });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      const ended = new Promise((resolve) => socket.on('close', resolve));
      socket.write(`GET ${url} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = closing.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      socket.destroy();
      await closed;
      const answers = text.split(/(?=HTTP\/1\.1 )/);
      expect(answers).toHaveLength(2);
      expect(answers[1]).toMatch(/^HTTP\/1\.1 503 /);
      expect(answers[1]).toMatch(/content-type: application\/problem\+json/i);
      expect(answers[1]).toContain('"code":"shutting_down"');
      expect(text).not.toContain('"error":"Service Unavailable"');
    });
  });
});
