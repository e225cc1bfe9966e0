import { describe, expect, it } from 'vitest';
import type { ChannelTransport, OutboundMessage } from '../../src/adapters/channels/channel-transport.js';
import { injectTransport } from '../../src/adapters/channels/channel-transport.js';
import { signatureHeaders, SIGNATURE_HEADERS } from '../../src/adapters/channels/wire/wire-signing.js';
import { HttpIdentityVerifier, MAX_IDENTITY_ATTEMPTS } from '../../src/adapters/identity/http-identity-verifier.js';
import { IDENTITY_VERIFY_PATH } from '../../src/adapters/identity/identity-wire.js';
import { IdentitySimulator } from '../../src/adapters/identity/simulator/identity-simulator.js';
import {
  defaultIdentitySimulatorConfig,
  TEST_PERSON_ZHANG,
} from '../../src/adapters/identity/simulator/identity-simulator-config.js';
import { buildIdentitySimulatorServer } from '../../src/adapters/identity/simulator/identity-simulator-server.js';
import { idNumber, personName, phoneNumber } from '../../src/domain/shared/sensitive-text.js';

const config = defaultIdentitySimulatorConfig('adapter-test');
const key = { keyId: config.keyId, secret: Buffer.from(config.secretBase64, 'base64') };
const query = (queryId = 'Iq1', overrides: { name?: string; phone?: string | null } = {}) => ({
  queryId,
  name: personName(overrides.name ?? TEST_PERSON_ZHANG.name),
  idNumber: idNumber(TEST_PERSON_ZHANG.idNumber),
  phone: overrides.phone === null ? null : phoneNumber(overrides.phone ?? TEST_PERSON_ZHANG.phone),
  cardNumber: null,
});

function counting(transport: ChannelTransport): { transport: ChannelTransport; sent: OutboundMessage[] } {
  const sent: OutboundMessage[] = [];
  return {
    sent,
    transport: (message, timeoutMs) => {
      sent.push(message);
      return transport(message, timeoutMs);
    },
  };
}

/** The identity adapter against the simulator (in process) and against peers that misbehave. */
describe('HttpIdentityVerifier', () => {
  const simulator = new IdentitySimulator(config);
  const app = buildIdentitySimulatorServer(simulator);
  const verifier = (transport: ChannelTransport) =>
    new HttpIdentityVerifier({ key, accountId: config.accountId, transport, retryPauseMs: 0 });

  it('signs its request and believes only a signed verdict: match, mismatch (which), no record', async () => {
    const { transport, sent } = counting(injectTransport(app));
    const v = verifier(transport);
    expect(await v.verify(query('Iq-match'), { timeoutMs: 5_000 })).toEqual({ outcome: 'match' });
    expect(sent[0]!.headers[SIGNATURE_HEADERS.signature]).toEqual(expect.any(String));
    expect(await v.verify(query('Iq-mismatch', { name: '李四' }), { timeoutMs: 5_000 })).toEqual({
      outcome: 'mismatch',
      mismatched: ['name'],
    });
    expect(
      await v.verify({ ...query('Iq-none'), idNumber: idNumber('TEST00000000000404') }, { timeoutMs: 5_000 }),
    ).toEqual({ outcome: 'no_record' });
  });

  it('asks a failing service again, at most MAX_IDENTITY_ATTEMPTS times, and stays unknown', async () => {
    simulator.setFailures({ serverErrorRatePpm: 1_000_000 });
    try {
      const { transport, sent } = counting(injectTransport(app));
      const answer = await verifier(transport).verify(query('Iq-failing'), { timeoutMs: 5_000 });
      expect(answer).toEqual({ outcome: 'unknown', detail: 'service failed: HTTP 500' });
      expect(sent).toHaveLength(MAX_IDENTITY_ATTEMPTS);
    } finally {
      simulator.setFailures({ serverErrorRatePpm: 0 });
    }
  });

  it('a proxy 502 (unsigned) and a refused connection are asked again; the verdict then counts', async () => {
    let calls = 0;
    const real = injectTransport(app);
    const flaky: ChannelTransport = async (message, timeoutMs) => {
      calls += 1;
      if (calls === 1) return { kind: 'answer', statusCode: 502, headers: {}, body: 'Bad Gateway' };
      if (calls === 2) return { kind: 'refused', detail: 'ECONNREFUSED' };
      return real(message, timeoutMs);
    };
    expect(await verifier(flaky).verify(query('Iq-flaky'), { timeoutMs: 5_000 })).toEqual({ outcome: 'match' });
    expect(calls).toBe(3);
  });

  it('an answer not signed over our nonce, or naming another query, is never a verdict (and not retried)', async () => {
    const real = injectTransport(app);
    let calls = 0;
    const forged: ChannelTransport = async (message, timeoutMs) => {
      calls += 1;
      const answer = await real(message, timeoutMs);
      if (answer.kind !== 'answer') return answer;
      // Signed with the right key, but over another nonce: an answer to some other request.
      const headers = signatureHeaders(key, {
        kind: 'RESPONSE',
        path: IDENTITY_VERIFY_PATH,
        timestampMs: Date.now(),
        nonce: 'another-request',
        body: answer.body,
      });
      return { ...answer, headers };
    };
    const unverified = await verifier(forged).verify(query('Iq-forged'), { timeoutMs: 5_000 });
    expect(unverified).toEqual({ outcome: 'unknown', detail: 'answer not verified: bad_signature' });
    expect(calls).toBe(1);

    // Signed over our nonce, but the verdict of another query: not ours to believe.
    const otherQuery: ChannelTransport = async (message) => {
      const body = JSON.stringify({ ver: '1', ret_code: 'MATCH', ret_msg: 'match', data: { query_id: 'Iq-other' } });
      const nonce = message.headers[SIGNATURE_HEADERS.nonce]!;
      const headers = signatureHeaders(key, {
        kind: 'RESPONSE',
        path: IDENTITY_VERIFY_PATH,
        timestampMs: Date.now(),
        nonce,
        body,
      });
      return { kind: 'answer', statusCode: 200, headers, body };
    };
    expect(await verifier(otherQuery).verify(query('Iq-asked'), { timeoutMs: 5_000 })).toEqual({
      outcome: 'unknown',
      detail: 'answer not understood: MATCH',
    });
  });

  it('refuses a timeout it cannot honour', async () => {
    await expect(verifier(injectTransport(app)).verify(query(), { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
