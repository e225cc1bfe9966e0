import type { FastifyInstance } from 'fastify';
import type { Principal } from '../authorization.js';
import type { InProcessCalls } from '../in-process-calls.js';

/** A JSON API answer that is not a success: the console shows its problem (code, detail) instead of a page. */
export class ConsoleApiError extends Error {
  override readonly name = 'ConsoleApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

export type Query = Readonly<Record<string, string | number | undefined>>;

/** The URL of an API path with its query (undefined values left out). */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** The JSON API as the session's principal sees it: every console read goes through here. */
export class ConsoleApi {
  constructor(
    private readonly app: FastifyInstance,
    private readonly calls: InProcessCalls,
    private readonly principal: Principal,
  ) {}

  async json<T>(path: string, query: Query = {}): Promise<T> {
    const answer = await this.calls.get(this.app, this.principal, withQuery(path, query));
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.json<T>();
    throw errorOf(answer.statusCode, answer.body);
  }

  /** A non-JSON answer (a CSV export) as it is, with its content type. */
  async raw(path: string, query: Query = {}): Promise<{ body: string; contentType: string }> {
    const answer = await this.calls.get(this.app, this.principal, withQuery(path, query));
    if (answer.statusCode >= 200 && answer.statusCode < 300)
      return { body: answer.body, contentType: String(answer.headers['content-type'] ?? 'text/plain') };
    throw errorOf(answer.statusCode, answer.body);
  }
}

function errorOf(status: number, body: string): ConsoleApiError {
  try {
    const problem = JSON.parse(body) as { code?: unknown; detail?: unknown };
    return new ConsoleApiError(
      status,
      typeof problem.code === 'string' ? problem.code : 'error',
      typeof problem.detail === 'string' ? problem.detail : '',
    );
  } catch {
    return new ConsoleApiError(status, 'error', 'the API answered without a problem document');
  }
}
