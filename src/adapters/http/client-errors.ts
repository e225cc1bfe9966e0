import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problemType, type Problem } from './problem-details.js';

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (oversized headers, conflicting or invalid
 * Content-Length, broken framing, a client too slow to send its request): answered, like every other
 * error, as problem+json with a stable code, then the connection is closed (its framing cannot be trusted).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] = classify(error.code);
  const body: Problem = {
    type: problemType(code),
    title: STATUS_CODES[status] ?? 'Bad Request',
    status,
    code,
    detail,
  };
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

function classify(nodeCode: string | undefined): [status: number, code: string, detail: string] {
  switch (nodeCode) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'the request headers exceed the size limit'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return [408, 'request_timeout', 'the request was not received in time'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return [400, 'invalid_content_length', 'the Content-Length header is invalid or conflicts with the framing'];
    default:
      return [400, 'malformed_request', 'the request cannot be parsed as HTTP'];
  }
}
