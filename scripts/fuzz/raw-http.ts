import { connect } from 'node:net';
import fc from 'fast-check';

/**
 * The framing layer of the hostile-input fuzz: bytes a client sends over a socket that Node's HTTP parser
 * (or the router behind it) must refuse, sent to a listening server. Fastify's inject bypasses the
 * parser, so these go through a real socket.
 */
export interface FramingCase {
  readonly layer: 'framing';
  readonly what: string;
  /** The request the signature is made for (method, path, the body the server will read). */
  readonly method: string;
  readonly url: string;
  readonly signedBody: string;
  readonly signed: boolean;
  /** The bytes say more is coming than is sent: the client ends its side after them (see sendRaw). */
  readonly halfClose: boolean;
  /** The bytes on the wire, given the signature's header lines (`name: value\r\n`, or '' unsigned). */
  render(signatureLines: string): Buffer;
}

export interface RawResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** How long a socket may stay silent before what came back is taken as the answer. */
const SILENCE_MS = 5_000;
/** After a whole answer, how long to wait for another (a pipelined request's) before taking what came. */
const AFTER_ANSWER_MS = 150;

/**
 * Sends the bytes and parses every response that comes back (a pipelined request may get two) until the
 * server closes, or a little while after a whole answer on a connection kept alive. `halfClose` ends
 * the client's side after the bytes, for a request that says more is coming than is sent (the server
 * then sees the end of the stream mid-request). A server that closes without a word answers nothing.
 */
export function sendRaw(port: number, bytes: Buffer, halfClose = false): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const socket = connect({ host: '127.0.0.1', port }, () => {
      if (halfClose) socket.end(bytes);
      else socket.write(bytes);
    });
    const done = () => {
      clearTimeout(idle);
      resolve(parseResponses(Buffer.concat(chunks)));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(idle);
      if (parseResponses(Buffer.concat(chunks)).length > 0) idle = setTimeout(() => socket.destroy(), AFTER_ANSWER_MS);
    });
    socket.on('close', done);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a connection whose framing it refused, once it has answered.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') done();
      else reject(error);
    });
    socket.setTimeout(SILENCE_MS, () => socket.destroy());
  });
}

/** The whole responses in what was received (a response cut short is left out). */
export function parseResponses(received: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = received;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body: Buffer;
    let after = end + 4;
    if (headers['transfer-encoding']?.includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', after);
        if (lineEnd < 0) break;
        const size = parseInt(rest.subarray(after, lineEnd).toString('latin1'), 16);
        after = lineEnd + 2;
        if (!Number.isFinite(size) || size === 0) {
          after += 2;
          break;
        }
        parts.push(rest.subarray(after, after + size));
        after += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? rest.length - after);
      if (rest.length - after < length) break;
      body = rest.subarray(after, after + length);
      after += length;
    }
    responses.push({ statusCode: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') });
    rest = rest.subarray(after);
  }
  return responses;
}

const COMMAND_PATH = '/v1/entities';
const COMMAND_BODY = JSON.stringify({ kind: 'user', displayName: 'Framing fuzz' });

function request(
  what: string,
  lines: (signature: string) => string | Buffer,
  options: { method?: string; url?: string; signedBody?: string; signed?: boolean; halfClose?: boolean } = {},
): FramingCase {
  return {
    layer: 'framing',
    halfClose: options.halfClose ?? false,
    what,
    method: options.method ?? 'POST',
    url: options.url ?? COMMAND_PATH,
    signedBody: options.signedBody ?? COMMAND_BODY,
    signed: options.signed ?? true,
    render: (signature) => {
      const wire = lines(signature);
      return typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
    },
  };
}

/** A POST with the body and the given framing headers; Idempotency-Key included, so only the framing is wrong. */
function post(
  what: string,
  framing: string,
  body: string,
  signedBody = body,
  halfClose = false,
): fc.Arbitrary<FramingCase> {
  return fc
    .uuid()
    .map((key) =>
      request(
        what,
        (signature) =>
          `POST ${COMMAND_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\n${signature}${framing}\r\n${body}`,
        { signedBody, halfClose },
      ),
    );
}

const GARBAGE_REQUEST_LINES: readonly string[] = [
  'HELLO THERE',
  'GET',
  'GET /',
  'GET / HTTP/1.1 extra',
  'GET  /health/live  HTTP/1.1',
  'get /health/live HTTP/1.1',
  'FOO /health/live HTTP/1.1',
  'GET /health/live HTTP/1.2',
  'GET /health/live HTTP/2.0',
  'GET /health/live HTTP/0.9',
  'GET /health/live http/1.1',
  'GET /health/live HTTP/1.1x',
  'GET health/live HTTP/1.1',
  'GET * HTTP/1.1',
  'GET http://evil.example/v1/accounts HTTP/1.1',
  'GET /v1/accounts/%zz HTTP/1.1',
  'GET /v1/\u0000 HTTP/1.1',
  'GET /v1/ accounts HTTP/1.1',
  'CONNECT 127.0.0.1:22 HTTP/1.1',
  'TRACE /v1/accounts HTTP/1.1',
  'PRI * HTTP/2.0',
  '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000',
];

export function framingCaseArbitrary(): fc.Arbitrary<FramingCase> {
  const unsigned = { signed: false, method: 'GET', url: '/health/live', signedBody: '' };
  return fc.oneof(
    fc
      .constantFrom(...GARBAGE_REQUEST_LINES)
      .map((line) => request(`request line ${JSON.stringify(line)}`, () => `${line}\r\nHost: x\r\n\r\n`, unsigned)),
    fc
      .uint8Array({ minLength: 1, maxLength: 300 })
      .map((bytes) => request('random bytes', () => Buffer.from(bytes), unsigned)),
    fc
      .string({ unit: 'binary-ascii', minLength: 1, maxLength: 200 })
      .map((text) => request('random ASCII request line', () => `${text}\r\n\r\n`, unsigned)),
    // Content-Length lies: fewer bytes said than sent (the rest is read as a next request), more said than sent.
    post(
      'Content-Length shorter than the body',
      `Content-Length: ${COMMAND_BODY.length - 5}\r\n`,
      COMMAND_BODY,
      COMMAND_BODY.slice(0, -5),
    ),
    post(
      'Content-Length longer than the body',
      `Content-Length: ${COMMAND_BODY.length + 50}\r\n`,
      COMMAND_BODY,
      COMMAND_BODY,
      true,
    ),
    fc
      .constantFrom('-1', '+5', '0x10', '5, 5', '5 5', 'abc', '99999999999999999999', '1e3', '')
      .chain((length) =>
        post(`Content-Length ${JSON.stringify(length)}`, `Content-Length: ${length}\r\n`, COMMAND_BODY),
      ),
    post(
      'two different Content-Lengths',
      `Content-Length: ${COMMAND_BODY.length}\r\nContent-Length: 3\r\n`,
      COMMAND_BODY,
    ),
    post(
      'Transfer-Encoding and Content-Length both',
      `Transfer-Encoding: chunked\r\nContent-Length: ${COMMAND_BODY.length}\r\n`,
      chunked(COMMAND_BODY),
      COMMAND_BODY,
    ),
    fc
      .constantFrom(
        ['a chunk size that is not hex', `zz\r\n${COMMAND_BODY}\r\n0\r\n\r\n`],
        ['a chunk longer than its size', `2\r\n${COMMAND_BODY}\r\n0\r\n\r\n`],
        ['a chunk shorter than its size', `ff\r\n${COMMAND_BODY}\r\n0\r\n\r\n`, true],
        ['no last chunk', `${COMMAND_BODY.length.toString(16)}\r\n${COMMAND_BODY}\r\n`, true],
        ['a negative chunk size', `-5\r\n${COMMAND_BODY}\r\n0\r\n\r\n`],
        ['a huge chunk size', `ffffffffffffffffff\r\n${COMMAND_BODY}\r\n0\r\n\r\n`],
        [
          'a chunk extension 20 KB long',
          `${COMMAND_BODY.length.toString(16)};${'e'.repeat(20_000)}\r\n${COMMAND_BODY}\r\n0\r\n\r\n`,
        ],
        ['bare LFs in the chunks', `${COMMAND_BODY.length.toString(16)}\n${COMMAND_BODY}\n0\n\n`],
        ['a well-formed chunked body', chunked(COMMAND_BODY)],
      )
      .chain(([what, body, halfClose]) =>
        post(what, 'Transfer-Encoding: chunked\r\n', body, COMMAND_BODY, halfClose === true),
      ),
    fc
      .constantFrom('gzip, chunked', 'chunked, gzip', 'x-unknown', 'chunked, chunked', 'identity')
      .chain((coding) =>
        post(`Transfer-Encoding: ${coding}`, `Transfer-Encoding: ${coding}\r\n`, chunked(COMMAND_BODY), COMMAND_BODY),
      ),
    // Headers the parser refuses: too large, too many, malformed names, folded lines, control characters.
    fc.constantFrom(17_000, 70_000).map((size) =>
      request(
        `a ${size}-byte header`,
        (signature) => `GET /v1/log/head HTTP/1.1\r\nHost: x\r\n${signature}X-Big: ${'a'.repeat(size)}\r\n\r\n`,
        {
          method: 'GET',
          url: '/v1/log/head',
          signedBody: '',
        },
      ),
    ),
    fc.constant(
      request(
        '300 headers of 100 bytes',
        (signature) => {
          const many = Array.from({ length: 300 }, (_, i) => `X-H-${i}: ${'v'.repeat(90)}\r\n`).join('');
          return `GET /v1/log/head HTTP/1.1\r\nHost: x\r\n${signature}${many}\r\n`;
        },
        { method: 'GET', url: '/v1/log/head', signedBody: '' },
      ),
    ),
    fc
      .constantFrom(
        'Bad Header: y',
        'NoColon',
        ': empty-name',
        'X-Nul: a\u0000b',
        'X-Cr: a\rb',
        ' leading-space: y',
        'X-Folded: a\r\n folded',
        'X-Ünï: y',
        'X-Request-Id: ' + 'r'.repeat(500),
        'X-Request-Id: a b',
        'Host: a\r\nHost: b',
      )
      .map((header) =>
        request(
          `the header ${JSON.stringify(header.slice(0, 40))}`,
          (signature) => `GET /v1/log/head HTTP/1.1\r\nHost: x\r\n${signature}${header}\r\n\r\n`,
          { method: 'GET', url: '/v1/log/head', signedBody: '' },
        ),
      ),
    fc
      .constantFrom(9_000, 17_000, 70_000)
      .map((length) =>
        request(
          `a ${length}-character path`,
          () => `GET /v1/${'x'.repeat(length)} HTTP/1.1\r\nHost: x\r\n\r\n`,
          unsigned,
        ),
      ),
    fc.constant(
      request('no Host header', (signature) => `GET /v1/log/head HTTP/1.1\r\n${signature}\r\n`, {
        method: 'GET',
        url: '/v1/log/head',
        signedBody: '',
      }),
    ),
    fc.constant(
      request(
        'a request then garbage on the same connection',
        (signature) => `GET /v1/log/head HTTP/1.1\r\nHost: x\r\n${signature}\r\nGARBAGE\r\n\r\n`,
        {
          method: 'GET',
          url: '/v1/log/head',
          signedBody: '',
        },
      ),
    ),
  );
}

function chunked(body: string): string {
  return `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
}
