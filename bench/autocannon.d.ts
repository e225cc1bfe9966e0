/**
 * The part of autocannon 8's API the benchmarks use. autocannon ships no types and @types/autocannon is
 * not a dependency; if it is added later, delete this file.
 */
declare module 'autocannon' {
  interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    [key: string]: unknown;
  }

  interface AutocannonRequestStep {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Returns the request to send (a falsy value restarts the sequence). */
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest | undefined;
    onResponse?: (
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string>,
    ) => void;
  }

  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    pipelining?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: AutocannonRequestStep[];
    skipAggregateResult?: boolean;
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p2_5: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    p99_9: number;
    p99_99: number;
    p99_999: number;
  }

  /** The aggregated result (what the callback gets on the main thread, or `aggregateResult` returns). */
  interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '1xx': number;
    '2xx': number;
    '3xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram & { totalCount: number };
    requests: Histogram & { sent: number };
    throughput: Histogram;
  }

  interface AutocannonInstance extends NodeJS.EventEmitter {
    stop(): void;
  }

  interface Autocannon {
    (options: AutocannonOptions, callback: (error: Error | null, result: unknown) => void): AutocannonInstance;
    /** Off the main thread autocannon reports raw (encoded) results; this aggregates them. */
    aggregateResult(results: unknown[], options?: Partial<AutocannonOptions>): AutocannonResult;
  }

  const autocannon: Autocannon;
  export default autocannon;
}
