import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import type { HttpLoadWorkerInput, HttpLoadWorkerOutput } from './http-load-worker.js';

/**
 * The benchmark harness: what every benchmark shares (machine description, figures and results files,
 * timing, percentiles, temporary directories, memory sampling, HTTP load).
 *
 * A benchmark is a module in bench/ exporting `name` and `run({ quick })`, listed in scripts/bench.ts.
 * `run` returns its figures; the harness stamps them with the machine and writes bench/results/<name>.json.
 */

// ---------------------------------------------------------------------------------------------------
// Benchmarks, figures, results
// ---------------------------------------------------------------------------------------------------

export interface BenchmarkOptions {
  /** Smaller sizes and shorter durations: the whole suite must finish in under two minutes. */
  readonly quick: boolean;
}

export interface Benchmark {
  readonly name: string;
  run(options: BenchmarkOptions): Promise<Figure[]>;
}

/**
 * How a figure's `target` is judged, spelt out in the results file so a reader needs no code:
 *   - 'ratio >= target': a throughput against its baseline (the usual headline figure);
 *   - 'ratio <= target': a cost against its baseline, e.g. a latency at most 1.5x the baseline's;
 *   - 'value <= target': an absolute limit on the value itself, in its unit (e.g. peak memory);
 *   - 'value >= target': an absolute floor on the value itself, in its unit (e.g. transfers/s).
 * Results files written before this field existed have no `targetRule`: their targets are 'ratio >= target'.
 */
export type TargetRule = 'ratio >= target' | 'ratio <= target' | 'value <= target' | 'value >= target';

/**
 * One measured number. Headline figures compare `value` with a baseline measured in the same run
 * (ratio = value / baselineValue) against a target, judged by `targetRule`. Extra figures (latencies,
 * memory, error counts) have no target: `target`, `targetRule` and `met` are null, and so is the baseline
 * when there is none.
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the baseline is, in words (with its unit). */
  readonly baseline: string | null;
  readonly baselineValue: number | null;
  readonly ratio: number | null;
  /** The limit `targetRule` compares with: a ratio, or for 'value <= / >= target' a value in `unit`. */
  readonly target: number | null;
  readonly targetRule: TargetRule | null;
  readonly met: boolean | null;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export interface BenchmarkResult {
  readonly name: string;
  readonly machine: MachineInfo;
  readonly quick: boolean;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly figures: readonly Figure[];
}

/**
 * A headline figure: value against a baseline from the same run, with a ratio to meet: at least `target`
 * (the default, for throughputs), or at most `target` with `targetIsMaximum` (for costs such as latency).
 */
export function targetFigure(input: {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  target: number;
  targetIsMaximum?: boolean;
}): Figure {
  const ratio = input.baselineValue > 0 ? input.value / input.baselineValue : Number.NaN;
  const atMost = input.targetIsMaximum ?? false;
  return {
    name: input.name,
    value: roundTo(input.value, 2),
    unit: input.unit,
    baseline: input.baseline,
    baselineValue: roundTo(input.baselineValue, 2),
    ratio: roundTo(ratio, 3),
    target: input.target,
    targetRule: atMost ? 'ratio <= target' : 'ratio >= target',
    // Judged on the unrounded ratio: rounding must never turn a miss into a pass.
    met: Number.isFinite(ratio) && (atMost ? ratio <= input.target : ratio >= input.target),
  };
}

/**
 * A figure with an absolute limit on its value (in its unit), e.g. peak memory under 400 MB. A baseline
 * from the same run may be given for context (the ratio is then reported, not judged).
 */
export function limitFigure(input: {
  name: string;
  value: number;
  unit: string;
  maximum: number;
  baseline?: string;
  baselineValue?: number;
}): Figure {
  const baselineValue = input.baselineValue ?? null;
  return {
    name: input.name,
    value: roundTo(input.value, 2),
    unit: input.unit,
    baseline: input.baseline ?? null,
    baselineValue: baselineValue === null ? null : roundTo(baselineValue, 2),
    ratio: baselineValue === null || baselineValue === 0 ? null : roundTo(input.value / baselineValue, 3),
    target: input.maximum,
    targetRule: 'value <= target',
    // Judged on the unrounded value, like the ratios.
    met: Number.isFinite(input.value) && input.value <= input.maximum,
  };
}

/**
 * A figure with an absolute floor on its value (in its unit), e.g. at least 20,000 transfers/s. A
 * baseline from the same run should be given: the ratio is reported beside it, not judged.
 */
export function minimumFigure(input: {
  name: string;
  value: number;
  unit: string;
  minimum: number;
  baseline?: string;
  baselineValue?: number;
}): Figure {
  // The same figure as a limit's, judged the other way.
  return {
    ...limitFigure({ ...input, maximum: input.minimum }),
    targetRule: 'value >= target',
    met: Number.isFinite(input.value) && input.value >= input.minimum,
  };
}

/** An extra figure with no target (latency, memory, error counts). */
export function extraFigure(input: {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
}): Figure {
  const baselineValue = input.baselineValue ?? null;
  return {
    name: input.name,
    value: roundTo(input.value, 3),
    unit: input.unit,
    baseline: input.baseline ?? null,
    baselineValue: baselineValue === null ? null : roundTo(baselineValue, 3),
    ratio: baselineValue === null || baselineValue === 0 ? null : roundTo(input.value / baselineValue, 3),
    target: null,
    targetRule: null,
    met: null,
  };
}

function roundTo(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryGiB: roundTo(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${platform()} ${release()} ${process.arch}`,
  };
}

/** The repository root: the nearest folder above this module with a package.json (works from dist/ too). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the bench harness');
    dir = parent;
  }
  return dir;
}

export const RESULTS_DIR = join(projectRoot(), 'bench', 'results');

/** Runs one benchmark and writes bench/results/<name>.json (via a temp file, so no half-written results). */
export async function runBenchmark(benchmark: Benchmark, options: BenchmarkOptions): Promise<BenchmarkResult> {
  const startedAt = new Date().toISOString();
  const figures = await benchmark.run(options);
  const result: BenchmarkResult = {
    name: benchmark.name,
    machine: machineInfo(),
    quick: options.quick,
    startedAt,
    figures,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${benchmark.name}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return result;
}

/** A plain-text table of results for stdout. */
export function formatResultsTable(results: readonly BenchmarkResult[]): string {
  const header = ['benchmark', 'figure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const rows = results.flatMap((result) =>
    result.figures.map((f) => [
      result.name,
      f.name,
      `${formatNumber(f.value)} ${f.unit}`,
      f.baselineValue === null ? '-' : formatNumber(f.baselineValue),
      f.ratio === null ? '-' : f.ratio.toFixed(3),
      formatTarget(f),
      f.met === null ? '-' : f.met ? 'yes' : 'NO',
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function formatTarget(figure: Figure): string {
  if (figure.target === null) return '-';
  switch (figure.targetRule ?? 'ratio >= target') {
    case 'ratio >= target':
      return `>= ${figure.target}`;
    case 'ratio <= target':
      return `<= ${figure.target}`;
    case 'value <= target':
      return `value <= ${formatNumber(figure.target)} ${figure.unit}`;
    case 'value >= target':
      return `value >= ${formatNumber(figure.target)} ${figure.unit}`;
  }
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : String(roundTo(value, 3));
}

// ---------------------------------------------------------------------------------------------------
// Timing, statistics, memory
// ---------------------------------------------------------------------------------------------------

/** Milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** Runs `fn` once and reports how long it took. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ result: T; seconds: number }> {
  const started = nowMs();
  const result = await fn();
  return { result, seconds: (nowMs() - started) / 1000 };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * Samples the process's resident set size while a phase runs: the peak of the phase itself, which
 * process.resourceUsage().maxRSS cannot give once an earlier benchmark has raised the process peak.
 */
export class RssSampler {
  private static readonly INTERVAL_MS = 100;
  private peakBytes = process.memoryUsage.rss();
  private readonly timer = setInterval(() => this.sample(), RssSampler.INTERVAL_MS);

  constructor() {
    // Sampling must not keep the process alive if a benchmark forgets to stop it.
    this.timer.unref();
  }

  private sample(): void {
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage.rss());
  }

  /** Stops sampling; the peak in MiB. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakBytes / 1024 ** 2;
  }
}

/**
 * Runs `a` and `b` in alternating rounds (a, b, a, b, ...). The machine's load and the disk's speed drift
 * (other processes share both), and a measurement taken minutes after its baseline would compare two
 * different machines; alternating exposes both to the same drift.
 */
export async function alternateRounds<A, B>(
  rounds: number,
  a: (round: number) => Promise<A>,
  b: (round: number) => Promise<B>,
): Promise<{ a: A[]; b: B[] }> {
  const results = { a: [] as A[], b: [] as B[] };
  for (let round = 0; round < rounds; round += 1) {
    results.a.push(await a(round));
    results.b.push(await b(round));
  }
  return results;
}

/** Runs `fn` on every item with at most `concurrency` in flight; results in item order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index]!, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

// ---------------------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------------------

/**
 * A fresh directory for a benchmark's files, removed afterwards. BENCH_TMPDIR chooses the parent: the
 * durable-append figures depend on the disk's fsync, so measure on the disk that production would use
 * (a tmpfs /tmp would make fsync free and the figures meaningless).
 */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const parent = resolve(process.env['BENCH_TMPDIR'] ?? tmpdir());
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `ledger-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP load (autocannon)
// ---------------------------------------------------------------------------------------------------

/** One request as sent on the wire. */
export interface HttpRequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * Where the load generator gets its requests: a module (by file URL) exporting a function
 * `(args) => (sequence) => HttpRequestSpec`. It is named, not passed, because the generator runs in a
 * worker thread and functions cannot cross threads; `args` must be structured-cloneable.
 */
export interface RequestSource {
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly args: unknown;
}

export interface HttpLoadOptions {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly requests: RequestSource;
  /** Seconds before a request counts as timed out. */
  readonly timeoutSeconds?: number;
}

export interface HttpLoadResult {
  readonly durationSeconds: number;
  /** Responses received, of any status. */
  readonly responses: number;
  readonly responses2xx: number;
  readonly non2xx: number;
  /** Connection errors, including timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  /** Every response's latency, so runs can be merged and any percentile taken exactly. */
  readonly latencySamplesMs: Float64Array;
  /**
   * CPU time (user + system) of the load generator's own thread over the run: subtracted from the
   * process's CPU time, what the server used (its main thread, its worker threads, the thread pool).
   */
  readonly generatorCpuMs: number;
}

/** Several load runs as one: counts and durations add up, latencies pool. */
export function mergeHttpLoadResults(results: readonly HttpLoadResult[]): HttpLoadResult {
  const statusCounts: Record<string, number> = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statusCounts))
      statusCounts[status] = (statusCounts[status] ?? 0) + count;
  }
  const sum = (pick: (result: HttpLoadResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const latencySamplesMs = new Float64Array(sum((r) => r.latencySamplesMs.length));
  let at = 0;
  for (const result of results) {
    latencySamplesMs.set(result.latencySamplesMs, at);
    at += result.latencySamplesMs.length;
  }
  return {
    durationSeconds: sum((r) => r.durationSeconds),
    responses: sum((r) => r.responses),
    responses2xx: sum((r) => r.responses2xx),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCounts,
    latencySamplesMs,
    generatorCpuMs: sum((r) => r.generatorCpuMs),
  };
}

/** Responses of one status per second of load, e.g. 201s: refusals and errors are not throughput. */
export function statusPerSecond(result: HttpLoadResult, status: number): number {
  return (result.statusCounts[String(status)] ?? 0) / result.durationSeconds;
}

const DEFAULT_HTTP_TIMEOUT_SECONDS = 10;

/**
 * Drives HTTP load at `baseUrl` with autocannon, which runs in a worker thread: the server under test
 * lives on this thread's event loop, and a load generator sharing it would steal the server's CPU and
 * measure itself as much as the server. On a 2-core machine the server gets one core, the generator the other.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const input: HttpLoadWorkerInput = {
    url: options.baseUrl,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_HTTP_TIMEOUT_SECONDS,
    requests: options.requests,
  };
  const worker = new Worker(new URL('./http-load-worker.js', import.meta.url), { workerData: input });
  const output = await new Promise<HttpLoadWorkerOutput>((resolvePromise, reject) => {
    worker.once('message', (message: HttpLoadWorkerOutput) => resolvePromise(message));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`HTTP load worker exited with code ${code} before reporting`)));
  });
  await worker.terminate();
  if (!output.ok) throw new Error(`HTTP load failed: ${output.error}`);
  return output.result;
}

/** Starts `app` on 127.0.0.1 with an ephemeral port; the base URL. */
export async function listenLocal(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** One line of progress on stdout, so a long run shows what it is doing. */
export function log(benchmark: string, message: string): void {
  console.log(`[${benchmark}] ${message}`);
}
