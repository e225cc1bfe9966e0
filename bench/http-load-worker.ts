import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { HttpLoadResult, HttpRequestSpec, RequestSource } from './harness.js';

/**
 * Worker thread that runs autocannon for `runHttpLoad` (bench/harness.ts), off the server's event loop.
 * It builds every request with the function named by `requests`, numbering them from 0, so requests can
 * carry unique keys, and posts back one summary message.
 */

export interface HttpLoadWorkerInput {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly timeoutSeconds: number;
  readonly requests: RequestSource;
}

export type HttpLoadWorkerOutput =
  { readonly ok: true; readonly result: HttpLoadResult } | { readonly ok: false; readonly error: string };

type RequestFactory = (sequence: number) => HttpRequestSpec;

async function loadRequestFactory(source: RequestSource): Promise<RequestFactory> {
  const module = (await import(source.moduleUrl)) as Record<string, unknown>;
  const makeFactory = module[source.exportName];
  if (typeof makeFactory !== 'function')
    throw new Error(`${source.moduleUrl} does not export a function ${source.exportName}`);
  return (makeFactory as (args: unknown) => RequestFactory)(source.args);
}

async function main(input: HttpLoadWorkerInput): Promise<HttpLoadResult> {
  const cpuBefore = process.threadCpuUsage();
  const nextRequest = await loadRequestFactory(input.requests);
  let sequence = 0;
  const options = {
    url: input.url,
    connections: input.connections,
    duration: input.durationSeconds,
    timeout: input.timeoutSeconds,
    requests: [
      {
        // Called before every request; what it returns is serialised and sent.
        setupRequest: (request: Record<string, unknown>) => {
          const spec = nextRequest(sequence);
          sequence += 1;
          return {
            ...request,
            method: spec.method,
            path: spec.path,
            headers: { ...spec.headers },
            body: spec.body ?? '',
          };
        },
      },
    ],
  };
  const latenciesMs: number[] = [];
  const raw = await new Promise<unknown>((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) =>
      latenciesMs.push(responseTimeMs),
    );
  });
  const result = autocannon.aggregateResult([raw], options);
  const statusCounts: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCounts[status] = count;
  const responses = Object.values(statusCounts).reduce((sum, count) => sum + count, 0);
  return {
    durationSeconds: result.duration,
    responses,
    responses2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
    latencySamplesMs: Float64Array.from(latenciesMs),
    generatorCpuMs: cpuMs(process.threadCpuUsage(cpuBefore)),
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1_000;
}

main(workerData as HttpLoadWorkerInput).then(
  (result) => parentPort!.postMessage({ ok: true, result } satisfies HttpLoadWorkerOutput),
  (error: unknown) =>
    parentPort!.postMessage({
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    } satisfies HttpLoadWorkerOutput),
);
