import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { projectRoot } from '../../bench/harness.js';
import { DOMAIN_STATUS } from '../../src/adapters/http/problem-details.js';
import { signRequest } from '../../src/client/signing.js';
import type { EventStore, RecordedEvent } from '../../src/ports/event-store.js';
import {
  INJECTED_LAYERS,
  editedSignatureValue,
  injectedCaseArbitrary,
  type HeaderValue,
  type InjectedCase,
  type Layer,
} from './hostile-cases.js';
import { framingCaseArbitrary, sendRaw, type FramingCase } from './raw-http.js';
import { routesOf } from './route-catalogue.js';
import type { Hints } from './schema-arbitrary.js';

/**
 * The hostile-input fuzz (issue 14): requests generated from the service's OpenAPI document and schemas,
 * broken at every layer (hostile-cases.ts, raw-http.ts), sent through `inject` and, for the framing
 * layer, to a listening server. Every answer is judged:
 *   - no 5xx (this service documents no 503 for bad input, and answers none here);
 *   - every error is application/problem+json with a `code` of docs/operations.md's table, under the
 *     status the table gives it;
 *   - no body carries a stack trace or an internal path;
 *   - a rejected request writes no event: the store's head is read before and after each request, and
 *     any event written for a refusal is counted, except a business refusal's own recorded answer (a
 *     domain code the command decided, replayed under its Idempotency-Key as docs/operations.md says).
 */
export interface FuzzTarget {
  readonly app: FastifyInstance;
  readonly eventStore: EventStore;
  /** An operator's key: signed requests get as far into the service as any can. */
  readonly signer: { readonly keyId: string; readonly privateKey: KeyObject };
  /** A listening server of the same app (127.0.0.1), for the framing layer. */
  readonly port: number;
  readonly hints: Hints;
}

export interface FuzzOptions {
  readonly seed: number;
  /** Requests in all, framing included. */
  readonly runs: number;
  /** Called after each chunk of requests with the count so far. */
  readonly onProgress?: (requests: number) => void;
}

export interface LayerTally {
  requests: number;
  /** Answers 4xx. */
  refused: number;
  /** By status ("201", "400", "none" when a socket was closed without an answer). */
  statuses: Record<string, number>;
}

export interface FuzzFailure {
  readonly index: number;
  readonly layer: Layer;
  readonly route: string;
  readonly what: string;
  readonly problem: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly byLayer: Record<Layer, LayerTally>;
  readonly routes: number;
  readonly signed: number;
  /** 5xx answers but the documented 503s: must be 0. */
  readonly serverErrors: number;
  /**
   * 503s with a code docs/operations.md lists under 503 (a recharge no channel can take: channel_unavailable):
   * documented outage answers, counted apart; none is expected from bad input.
   */
  readonly documented503s: number;
  readonly nonProblemAnswers: number;
  readonly undocumentedCodes: number;
  readonly leaks: number;
  /** Events written by requests refused at the edge (anything but a recorded business refusal): must be 0. */
  readonly eventsByRejectedRequests: number;
  /** Business refusals recorded under their Idempotency-Key (their answer's event, as designed). */
  readonly recordedRefusals: number;
  /** Requests inject itself could not send (a header value Node refuses): not sent, not judged. */
  readonly unsendable: number;
  /** The first failures, each with its index: the same seed replays it. */
  readonly failures: readonly FuzzFailure[];
  readonly failureCount: number;
  readonly durationMs: number;
}

/**
 * The fuzzed ledger's own background writers (sweeps, pollers, downloads) are off, so every event the
 * store gains while a request is answered is that request's.
 */
export const FUZZ_LEDGER_ENV: Readonly<Record<string, string>> = {
  PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: '0',
  RECOVERY_SWEEP_INTERVAL_MS: '0',
  WEBHOOK_POLL_INTERVAL_MS: '0',
  CHANNEL_POLL_INTERVAL_MS: '0',
  RECON_DOWNLOAD_INTERVAL_MS: '0',
  TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0',
  BINDING_EXPIRY_SWEEP_INTERVAL_MS: '0',
};

/** Every 10th request is a framing one: the parser's refusals are few kinds, each cheap. */
const FRAMING_SHARE = 10;
/** Cases are generated a chunk at a time: sizes cases carry megabytes, never all held at once. */
const CHUNK = 100;
const MAX_REPORTED_FAILURES = 25;

/** A stack frame, Node's or a bundle's, a source path with a line, or a framework error code. */
const LEAK_PATTERN = /\bat [\w$.<>[\] ]+ \(|node:internal|node_modules|\/dist\/|\.(?:ts|js|mjs):\d+|FST_ERR|\bstack\b/;

export async function runHostileFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const routes = await routesOf(target.app);
  const codes = documentedErrorCodes();
  const repoRoot = projectRoot();
  const byLayer = Object.fromEntries(
    [...INJECTED_LAYERS, 'framing'].map((layer) => [layer, { requests: 0, refused: 0, statuses: {} }]),
  ) as Record<Layer, LayerTally>;
  const injected = fc.oneof(...INJECTED_LAYERS.map((layer) => injectedCaseArbitrary(layer, routes, target.hints)));
  const framing = framingCaseArbitrary();
  const failures: FuzzFailure[] = [];
  let failureCount = 0;
  const counts = {
    signed: 0,
    serverErrors: 0,
    nonProblemAnswers: 0,
    undocumentedCodes: 0,
    leaks: 0,
    eventsByRejectedRequests: 0,
    recordedRefusals: 0,
    documented503s: 0,
    unsendable: 0,
  };

  let index = 0;
  for (let chunk = 0; index < options.runs; chunk += 1) {
    const size = Math.min(CHUNK, options.runs - index);
    // A seed per chunk, derived from the run's: the same seed and index give the same request.
    const chunkSeed = (options.seed * 1_000_003 + chunk) | 0;
    const cases: (InjectedCase | FramingCase)[] = fc
      .sample(fc.tuple(injected, framing), { seed: chunkSeed, numRuns: size })
      .map(([inject, frame], offset) => ((index + offset) % FRAMING_SHARE === FRAMING_SHARE - 1 ? frame : inject));
    for (const testCase of cases) {
      const fail = (problem: string) => {
        failureCount += 1;
        if (failures.length < MAX_REPORTED_FAILURES) {
          failures.push({
            index,
            layer: testCase.layer,
            route: 'route' in testCase ? testCase.route : `${testCase.method} ${testCase.url}`,
            what: testCase.what,
            problem,
          });
        }
      };
      const before = await target.eventStore.headPosition();
      const answers =
        testCase.layer === 'framing' ? await sendFraming(target, testCase) : await sendInjected(target, testCase);
      if (testCase.signed) counts.signed += 1;
      const tally = byLayer[testCase.layer];
      tally.requests += 1;
      if (answers === 'unsendable') {
        counts.unsendable += 1;
        index += 1;
        continue;
      }
      if (answers.length === 0) tally.statuses['none'] = (tally.statuses['none'] ?? 0) + 1;
      const written = await eventsAfter(target.eventStore, before);
      let refused = false;
      for (const answer of answers) {
        tally.statuses[String(answer.statusCode)] = (tally.statuses[String(answer.statusCode)] ?? 0) + 1;
        const documented503 = answer.statusCode === 503 && isDocumented503(answer, codes);
        if (documented503) counts.documented503s += 1;
        else if (answer.statusCode >= 500) {
          counts.serverErrors += 1;
          fail(`answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
        }
        if (LEAK_PATTERN.test(answer.body) || answer.body.includes(repoRoot)) {
          counts.leaks += 1;
          fail(`the body shows internals: ${answer.body.slice(0, 300)}`);
        }
        if (answer.statusCode < 400) continue;
        refused = true;
        const problem = problemIn(answer);
        if (typeof problem === 'string') {
          counts.nonProblemAnswers += 1;
          fail(`${answer.statusCode} is not a problem: ${problem}`);
          continue;
        }
        const documented = codes.get(problem.code);
        if (documented === undefined || (documented !== '4xx' && documented !== String(answer.statusCode))) {
          counts.undocumentedCodes += 1;
          fail(`${answer.statusCode} ${problem.code} is not in docs/operations.md's table under ${answer.statusCode}`);
        }
        // A documented 503 is an outage answer, not a refusal: its key's claim is given back (recorded as such).
        if (written.length > 0 && !documented503) {
          if (isRecordedRefusal(problem.code, answer.statusCode, written)) counts.recordedRefusals += 1;
          else {
            counts.eventsByRejectedRequests += written.length;
            fail(
              `${answer.statusCode} ${problem.code} wrote ${written.length} events: ${written
                .slice(0, 5)
                .map((event) => `${event.streamId} ${event.type}`)
                .join(', ')}`,
            );
          }
        }
      }
      if (refused) tally.refused += 1;
      index += 1;
    }
    options.onProgress?.(index);
  }
  return {
    seed: options.seed,
    requests: index,
    byLayer,
    routes: routes.length,
    ...counts,
    failures,
    failureCount,
    durationMs: Math.round(performance.now() - started),
  };
}

interface Answer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: string;
}

async function sendInjected(target: FuzzTarget, testCase: InjectedCase): Promise<Answer[] | 'unsendable'> {
  const headers: Record<string, HeaderValue> = { ...testCase.headers };
  if (testCase.signed) {
    const signature: Record<string, string> = signRequest({
      method: testCase.method,
      pathWithQuery: testCase.url,
      body: testCase.body ?? null,
      keyId: target.signer.keyId,
      privateKeyPem: target.signer.privateKey,
    });
    Object.assign(headers, signature);
    for (const [name, edit] of Object.entries(testCase.afterSigning)) {
      if (edit === null) delete headers[name];
      else headers[name] = editedSignatureValue(edit, signature[name] ?? '');
    }
  }
  let response;
  try {
    response = await target.app.inject({
      method: testCase.method as 'GET',
      url: testCase.url,
      headers: headers as Record<string, string | string[]>,
      ...(testCase.body !== undefined ? { payload: testCase.body } : {}),
    });
  } catch (error) {
    // inject validates what Node's own client would (a header value with a control character): such a
    // request never reaches the server through inject; the framing layer sends bytes like it raw.
    if (error instanceof TypeError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_INVALID'))
      return 'unsendable';
    throw error;
  }
  return [{ statusCode: response.statusCode, headers: response.headers, body: response.body }];
}

async function sendFraming(target: FuzzTarget, testCase: FramingCase): Promise<Answer[]> {
  let lines = '';
  if (testCase.signed) {
    const signature = signRequest({
      method: testCase.method,
      pathWithQuery: testCase.url,
      body: testCase.signedBody,
      keyId: target.signer.keyId,
      privateKeyPem: target.signer.privateKey,
    });
    lines = Object.entries(signature)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
  }
  return sendRaw(target.port, testCase.render(lines), testCase.halfClose);
}

/** The answer's problem, or why it is not one. */
function problemIn(answer: Answer): { code: string } | string {
  const header = answer.headers['content-type'];
  const type = typeof header === 'string' ? header : '';
  if (!type.startsWith('application/problem+json'))
    return `content-type ${JSON.stringify(type)}: ${answer.body.slice(0, 200)}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `a body that is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const problem = body as Record<string, unknown>;
  if (
    typeof problem['code'] !== 'string' ||
    problem['status'] !== answer.statusCode ||
    problem['type'] !== `urn:ledger:problem:${problem['code']}` ||
    typeof problem['title'] !== 'string' ||
    typeof problem['detail'] !== 'string'
  ) {
    return `not an RFC 9457 problem with a code: ${answer.body.slice(0, 200)}`;
  }
  return { code: problem['code'] };
}

/**
 * The one 503 a valid-looking request may get: a recharge or withdrawal whose instrument no channel of the
 * ledger takes is refused channel_unavailable (docs/operations.md, docs/channels.md), the channel-payments
 * route's no_channel_available. Every other 503 (read_model_behind, storage_unavailable, overloaded...)
 * is a failure here: nothing in a fuzz run is an outage.
 */
const DOCUMENTED_503_CODES: ReadonlySet<string> = new Set(['channel_unavailable']);

function isDocumented503(answer: Answer, codes: ReadonlyMap<string, string>): boolean {
  const problem = problemIn(answer);
  return typeof problem !== 'string' && DOCUMENTED_503_CODES.has(problem.code) && codes.get(problem.code) === '503';
}

/**
 * A business refusal, decided by the command and recorded as its answer under the Idempotency-Key (so a
 * retry replays it): a domain code, with the key's recorded answer among the events written.
 */
function isRecordedRefusal(code: string, status: number, written: readonly RecordedEvent[]): boolean {
  if (!(code in DOMAIN_STATUS)) return false;
  return written.some(
    (event) =>
      event.type === 'IdempotentResponseRecorded' &&
      (event.data as { statusCode?: unknown }).statusCode === status &&
      (event.data as { body?: { code?: unknown } }).body?.code === code,
  );
}

/** Every event written after `position` (a request's own, as requests are sent one at a time). */
async function eventsAfter(eventStore: EventStore, position: bigint | 'start'): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let after = position;
  for (;;) {
    const page = await eventStore.readAll({ after, maxCount: 500 });
    events.push(...page);
    if (page.length < 500) return events;
    after = page[page.length - 1]!.position;
  }
}

/** docs/operations.md's error table: code -> its status ("400", or "4xx" for a code of several). */
export function documentedErrorCodes(): Map<string, string> {
  const doc = readFileSync(join(projectRoot(), 'docs', 'operations.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Error codes'));
  const codes = new Map<string, string>();
  for (const [, status, cell] of table.matchAll(/^\| (\d{3}|4xx) +\| (.*) \|$/gm)) {
    for (const [, code] of cell!.matchAll(/`([a-z_]+)`/g)) codes.set(code!, status!);
  }
  return codes;
}

/**
 * What the valid-looking requests name (hints by field name): a registered user with a wallet, so they
 * get past "not found" to the refusals behind it. Never the signer's own entity: a generated request must
 * not revoke the key the fuzz signs with.
 */
export async function fuzzHints(app: FastifyInstance, signer: FuzzTarget['signer']): Promise<Hints> {
  const post = async (url: string, body: object) => {
    const text = JSON.stringify(body);
    const response = await app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `fuzz-setup-${url}-${text.length}`,
        ...signRequest({ method: 'POST', pathWithQuery: url, body: text, ...signer, privateKeyPem: signer.privateKey }),
      },
      payload: text,
    });
    if (response.statusCode !== 201)
      throw new Error(`fuzz setup: POST ${url} answered ${response.statusCode} ${response.body}`);
    return response.json<Record<string, string>>();
  };
  const { entityId: userId } = await post('/v1/entities', { kind: 'user', displayName: 'Fuzz user' });
  const { entityId: merchantId } = await post('/v1/entities', { kind: 'merchant', displayName: 'Fuzz merchant' });
  const { accountId: walletId } = await post('/v1/accounts', { ownerId: userId!, type: 'wallet', currency: 'CNY' });
  const { accountId: settlementId } = await post('/v1/accounts', {
    ownerId: merchantId!,
    type: 'merchant_settlement',
    currency: 'CNY',
  });
  const accounts = [walletId!, settlementId!];
  return new Map<string, readonly string[]>([
    ['accountId', accounts],
    ['fromAccountId', accounts],
    ['toAccountId', accounts],
    ['payerAccountId', [walletId!]],
    ['payeeAccountId', [settlementId!]],
    ['ownerId', [userId!, merchantId!]],
    ['userId', [userId!]],
    ['entityId', [userId!, merchantId!]],
    ['merchantId', [merchantId!]],
    ['currency', ['CNY']],
    ['amount', ['1.00', '0.01', '12.34']],
  ]);
}
