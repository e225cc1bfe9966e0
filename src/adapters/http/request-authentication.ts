import { verify, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NONCE_PATTERN, SIGNATURE_HEADERS, TIMESTAMP_PATTERN, sha256Hex, signingString } from '../../client/signing.js';
import type { EntityDirectory } from '../../commands/entities/entity-directory.js';
import { isEntityId } from '../../domain/entities/entity-id.js';
import type { ApiKey } from '../../domain/entities/entity-state.js';
import type { Clock } from '../../ports/clock.js';
import { NonceRegistryUnavailableError, type NonceRegistry } from '../../ports/nonce-registry.js';
import { ed25519KeyObject } from '../crypto/ed25519-keys.js';
import type { Principal } from './authorization.js';
import { HttpProblem } from './problem-details.js';
import { CHANNEL_NOTIFICATIONS_PATH } from '../channels/channel-setup.js';
import { IN_PROCESS_CALL_HEADER, type InProcessCalls } from './in-process-calls.js';

/**
 * Every request except the exempt ones must be signed with an Ed25519 key the ledger knows
 * (docs/authentication.md). Checked in two steps so most bad requests cost nothing:
 *   onRequest (headers only, before the body is read): all four headers present, timestamp within the
 *     skew window, key known to the ledger and not revoked;
 *   preValidation (after the body is parsed, before anything looks at it): the signature over method,
 *     path, timestamp, nonce and the body's SHA-256, then the nonce, claimed once per key.
 * On success the request carries `principal` and `actor` (the entity id, which scopes idempotency keys).
 */
export interface RequestAuthenticationOptions {
  readonly entities: EntityDirectory;
  readonly nonces: NonceRegistry;
  readonly clock: Clock;
  /** How far X-Ledger-Timestamp may be from our clock, either way. */
  readonly maxClockSkewMs: number;
  /** The service's calls to itself for a principal it authenticated already (the console's pages). */
  readonly inProcessCalls?: InProcessCalls;
}

/**
 * Paths served without a merchant's signature: probes for load balancers, the API's own documentation,
 * and the channels' notify endpoint (authenticated by the channel's own signature instead).
 */
export function isExemptPath(path: string): boolean {
  return (
    path.startsWith(`${CHANNEL_NOTIFICATIONS_PATH}/`) ||
    path === '/health/live' ||
    path === '/health/ready' ||
    path === '/openapi.json' ||
    path === '/docs' ||
    path.startsWith('/docs/') ||
    // The web console authenticates by its own session cookie (src/adapters/http/console).
    path === '/console' ||
    path.startsWith('/console/')
  );
}

/**
 * Nonces are kept past the skew window by this much, so instances whose clocks differ a little (or a
 * registry whose clock does, for MongoDB's TTL) never forget a nonce a replay could still use.
 */
export const NONCE_RETENTION_MARGIN_MS = 60_000;
/** Expired nonces are purged at most this often, at most this many rows at a time. */
export const NONCE_PURGE_INTERVAL_MS = 60_000;
export const MAX_NONCES_PURGED_PER_RUN = 10_000;
/** An Ed25519 signature is 64 bytes: 86 base64url characters without padding. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
const LARGEST_KEY_NO = 1_000;

interface Verified {
  readonly principal: Principal;
  readonly key: KeyObject;
  readonly timestamp: string;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly signature: Buffer;
}

export function installRequestAuthentication(app: FastifyInstance, options: RequestAuthenticationOptions): void {
  const pending = new WeakMap<FastifyRequest, Verified>();
  // Parsed public keys, per immutable key record: a new state after a revocation has new records.
  const keyObjects = new WeakMap<ApiKey, KeyObject>();
  let lastPurgeMs = Number.NEGATIVE_INFINITY;
  const inProcess = new WeakSet<FastifyRequest>();

  app.addHook('onRequest', async (request, reply) => {
    if (isExemptPath(pathOf(request))) return;
    const call = request.headers[IN_PROCESS_CALL_HEADER];
    if (call !== undefined) {
      const principal = typeof call === 'string' ? options.inProcessCalls?.take(call) : undefined;
      if (!principal || request.method !== 'GET')
        throw unauthorized(reply, 'signature_invalid', 'Invalid signature', 'the request is not signed');
      request.principal = principal;
      request.actor = principal.entityId;
      inProcess.add(request);
      return;
    }
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    };
    const keyId = header(SIGNATURE_HEADERS.keyId);
    const timestamp = header(SIGNATURE_HEADERS.timestamp);
    const nonce = header(SIGNATURE_HEADERS.nonce);
    const signature = header(SIGNATURE_HEADERS.signature);
    if (!keyId || !timestamp || !nonce || !signature) {
      throw unauthorized(
        reply,
        'signature_missing',
        'Signature required',
        'sign the request: X-Ledger-Key-Id, X-Ledger-Timestamp, X-Ledger-Nonce and X-Ledger-Signature are required',
      );
    }
    const timestampMs = TIMESTAMP_PATTERN.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (
      !Number.isFinite(timestampMs) ||
      Math.abs(options.clock.now().toMillis() - timestampMs) > options.maxClockSkewMs
    ) {
      throw unauthorized(
        reply,
        'timestamp_skewed',
        'Timestamp outside the allowed window',
        `X-Ledger-Timestamp must be UTC ISO-8601 within ${options.maxClockSkewMs / 1000} s of the server's clock`,
      );
    }
    if (!NONCE_PATTERN.test(nonce) || !SIGNATURE_PATTERN.test(signature)) {
      throw unauthorized(reply, 'signature_invalid', 'Invalid signature', 'the nonce or the signature is malformed');
    }
    const { principal, key } = await resolveKey(keyId, reply);
    pending.set(request, {
      principal,
      key,
      timestamp,
      timestampMs,
      nonce,
      signature: Buffer.from(signature, 'base64url'),
    });
  });

  app.addHook('preValidation', async (request, reply) => {
    if (isExemptPath(pathOf(request)) || inProcess.has(request)) return;
    const claim = pending.get(request);
    if (!claim) throw new Error('preValidation without the onRequest authentication step');
    pending.delete(request);
    // A body the JSON parser did not capture cannot be checked, so it is refused (no other parser is
    // installed: other media types are 415 before this hook; this keeps a parser added later from
    // letting a body through unsigned).
    if (
      request.body !== undefined &&
      request.body !== null &&
      request.rawBody === undefined &&
      request.bodySha256 === undefined
    ) {
      throw unauthorized(reply, 'signature_invalid', 'Invalid signature', 'only application/json bodies can be signed');
    }
    const text = signingString({
      method: request.method,
      pathWithQuery: request.url,
      timestamp: claim.timestamp,
      nonce: claim.nonce,
      bodySha256Hex: request.bodySha256 ?? sha256Hex(request.rawBody ?? ''),
    });
    // The raw body may hold secrets (a payment password); it is not needed past this point.
    request.rawBody = undefined;
    if (!(await verifyOffThread(Buffer.from(text, 'utf8'), claim.key, claim.signature))) {
      throw unauthorized(reply, 'signature_invalid', 'Invalid signature', 'the signature does not match the request');
    }
    const expiresAt = new Date(claim.timestampMs + options.maxClockSkewMs + NONCE_RETENTION_MARGIN_MS);
    if (!(await claimNonce(claim.principal.keyId, claim.nonce, expiresAt))) {
      throw unauthorized(
        reply,
        'nonce_reused',
        'Nonce already used',
        'this X-Ledger-Nonce was already used with this key; use a fresh one per request',
      );
    }
    request.principal = claim.principal;
    request.actor = claim.principal.entityId;
    purgeNoncesNowAndThen(request);
  });

  async function resolveKey(keyId: string, reply: FastifyReply): Promise<{ principal: Principal; key: KeyObject }> {
    const unknown = () =>
      unauthorized(reply, 'key_unknown', 'Unknown key', 'X-Ledger-Key-Id does not name a key of this ledger');
    const slash = keyId.lastIndexOf('/');
    const entityId = keyId.slice(0, slash);
    const keyNoText = keyId.slice(slash + 1);
    if (
      slash < 0 ||
      !isEntityId(entityId) ||
      !/^[1-9][0-9]{0,3}$/.test(keyNoText) ||
      Number(keyNoText) > LARGEST_KEY_NO
    )
      throw unknown();
    const entity = await options.entities.get(entityId);
    const apiKey = entity?.keys[Number(keyNoText) - 1];
    if (!entity || !apiKey || (entity.kind !== 'merchant' && entity.kind !== 'operator')) throw unknown();
    if (apiKey.status !== 'active')
      throw unauthorized(reply, 'key_revoked', 'Key revoked', 'this key has been revoked; sign with an active key');
    let key = keyObjects.get(apiKey);
    if (!key) {
      key = ed25519KeyObject(apiKey.publicKey);
      keyObjects.set(apiKey, key);
    }
    return { principal: { kind: entity.kind, entityId, keyId }, key };
  }

  async function claimNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    try {
      return await options.nonces.claim(keyId, nonce, expiresAt);
    } catch (error) {
      if (error instanceof NonceRegistryUnavailableError) throw storageUnavailable();
      throw error;
    }
  }

  function purgeNoncesNowAndThen(request: FastifyRequest): void {
    const nowMs = performance.now();
    if (nowMs - lastPurgeMs < NONCE_PURGE_INTERVAL_MS) return;
    lastPurgeMs = nowMs;
    // After this response: a purge is housekeeping, not part of any request's latency.
    setImmediate(() => {
      options.nonces.purgeExpired(options.clock.now().toJSDate(), MAX_NONCES_PURGED_PER_RUN).catch((error: unknown) => {
        request.log.warn({ err: error }, 'purging expired nonces failed; retrying later');
      });
    });
  }
}

/**
 * The callback form of `crypto.verify` runs on libuv's thread pool: the ~50 us of an Ed25519 check leave
 * the event loop free for other requests. Same answers as the synchronous form: false for a signature
 * that does not match, an error (never expected: key and signature length are checked before) thrown.
 */
function verifyOffThread(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    verify(null, data, key, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}

function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query < 0 ? request.url : request.url.slice(0, query);
}

/** 401 with the rule that failed and nothing more: no hint of which keys or entities exist beyond it. */
function unauthorized(reply: FastifyReply, code: string, title: string, detail: string): HttpProblem {
  reply.header(
    'www-authenticate',
    'Ledger-Ed25519 headers="x-ledger-key-id x-ledger-timestamp x-ledger-nonce x-ledger-signature"',
  );
  return new HttpProblem(401, code, title, detail);
}

function storageUnavailable(): HttpProblem {
  return new HttpProblem(
    503,
    'storage_unavailable',
    'Storage unavailable',
    'the ledger storage is unavailable; retry shortly',
    {},
    2,
  );
}
