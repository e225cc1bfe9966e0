import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { projectionsFor } from '../src/adapters/ledger-service.js';
import { openEventStore, openReadModelStore } from '../src/adapters/storage.js';
import { exportLog } from '../src/audit/export-log.js';
import { replayReadModels, type ProjectionAudit, type ReplayProgress } from '../src/audit/replay-read-models.js';
import { verifyChain } from '../src/audit/verify-chain.js';
import { loadConfig, type LedgerConfig } from '../src/config.js';
import { startProgress, type Progress } from './audit-progress.js';
import { requireEmbeddedStore, requireEvents } from './store-guards.js';

/**
 * `ledger audit verify|replay|export`: the auditor's tools. Results go to stdout as JSON Lines (one
 * object per line, with a "kind"), progress bars and one-line verdicts to stderr. See docs/auditing.md.
 */
export const AUDIT_EXIT_CODES = {
  /** Checked, and everything holds. */
  passed: 0,
  /** Checked, and something does not: a broken chain, a read-model difference. */
  findings: 1,
  /** Could not check: bad arguments, an unknown stream, storage unavailable or unreadable. */
  failed: 2,
  /** replay only: differences were seen while a running service wrote the read models; rerun stopped. */
  inconclusive: 3,
} as const;

export interface AuditOutput {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const processOutput: AuditOutput = { stdout: process.stdout, stderr: process.stderr };

/** Fails when an audit of one stream finds nothing to audit: a mistyped id must not pass as "intact". */
export class UnknownStreamError extends Error {
  override readonly name = 'UnknownStreamError';
  constructor(readonly streamId: string) {
    super(`stream ${streamId} has no events`);
  }
}

export async function auditVerify(
  config: LedgerConfig,
  options: { stream?: string },
  output: AuditOutput = processOutput,
): Promise<number> {
  requireEmbeddedStore(config, { readModels: false });
  const eventStore = await openEventStore(config);
  const progress = startProgress(output.stderr, `verify ${options.stream ?? 'all streams'}`, 'events');
  try {
    await requireEvents(eventStore, config);
    const result = await verifyChain(eventStore, {
      streamId: options.stream,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.stop();
    if (options.stream !== undefined && result.events === 0) throw new UnknownStreamError(options.stream);
    const broken = result.firstBreak;
    if (broken) {
      await writeJsonLine(output.stdout, { kind: 'break', ...broken, revision: Number(broken.revision) });
      output.stderr.write(
        `chain broken: ${broken.streamId} revision ${broken.revision} (position ${broken.position}): ` +
          `${broken.check} expected ${broken.expected}, found ${broken.found}\n`,
      );
    } else {
      output.stderr.write(
        `chain intact: ${result.events} events in ${result.streams} streams through position ${String(result.lastPosition)}\n`,
      );
    }
    const { streams, events, lastPosition } = result;
    await writeJsonLine(output.stdout, {
      kind: 'summary',
      command: 'verify',
      ok: broken === null,
      streams,
      events,
      lastPosition,
    });
    return broken ? AUDIT_EXIT_CODES.findings : AUDIT_EXIT_CODES.passed;
  } finally {
    progress.stop();
    await eventStore.close();
  }
}

export async function auditReplay(config: LedgerConfig, output: AuditOutput = processOutput): Promise<number> {
  // Replay compares with the stored read models: a missing file would be created empty and "match".
  requireEmbeddedStore(config, { readModels: true });
  const eventStore = await openEventStore(config);
  const progress = new StagedProgress(output.stderr);
  try {
    await requireEvents(eventStore, config);
    const readModels = await openReadModelStore(config);
    try {
      const audits = await replayReadModels(eventStore, readModels, projectionsFor(config.accountingTimeZone), {
        onDifference: (difference) => writeJsonLine(output.stdout, { kind: 'difference', ...difference }),
        onProgress: (report) => progress.report(report),
      });
      progress.stop();
      const exitCode = replayExitCode(audits);
      await writeJsonLine(output.stdout, {
        kind: 'summary',
        command: 'replay',
        ok: exitCode === AUDIT_EXIT_CODES.passed,
        projections: audits,
      });
      output.stderr.write(`${replayVerdict(audits)}\n`);
      return exitCode;
    } finally {
      await readModels.close();
    }
  } finally {
    progress.stop();
    await eventStore.close();
  }
}

function replayExitCode(audits: readonly ProjectionAudit[]): number {
  if (audits.some((a) => a.differences > 0 && !a.checkpointMoved)) return AUDIT_EXIT_CODES.findings;
  if (audits.some((a) => a.differences > 0)) return AUDIT_EXIT_CODES.inconclusive;
  return AUDIT_EXIT_CODES.passed;
}

function replayVerdict(audits: readonly ProjectionAudit[]): string {
  return audits
    .map((a) => {
      const through = `through position ${String(a.checkpoint)}`;
      const moved = a.checkpointMoved ? ' (the service wrote read models during the audit)' : '';
      return a.differences === 0
        ? `${a.projection}: ${a.documents} documents match a replay of ${a.replayedEvents} events ${through}${moved}`
        : `${a.projection}: ${a.differences} of ${a.documents} documents differ from a replay ${through}${moved}`;
    })
    .join('\n');
}

/** One progress bar per stage of a replay: replaying a projection, then comparing each collection. */
class StagedProgress {
  private stage = '';
  private current: Progress | undefined;

  constructor(private readonly stream: Writable) {}

  report(report: ReplayProgress): void {
    const stage =
      report.stage === 'replay' ? `replay ${report.projection}` : `compare ${report.projection}/${report.collection}`;
    if (stage !== this.stage) {
      this.current?.stop();
      this.current = startProgress(this.stream, stage, report.stage === 'replay' ? 'events' : 'documents');
      this.stage = stage;
    }
    if (report.stage === 'replay') this.current!.update(Number(report.position), Number(report.lastPosition));
    else this.current!.update(report.documents);
  }

  stop(): void {
    this.current?.stop();
  }
}

/**
 * Writes the export to `out` (or stdout). A file is written as `<out>.partial` and renamed at the end,
 * so a file by the requested name is always a complete export.
 */
export async function auditExport(
  config: LedgerConfig,
  options: { stream?: string; out?: string },
  output: AuditOutput = processOutput,
): Promise<number> {
  requireEmbeddedStore(config, { readModels: false });
  const eventStore = await openEventStore(config);
  const progress = startProgress(output.stderr, `export ${options.stream ?? 'all streams'}`, 'events');
  const partialPath = options.out === undefined ? undefined : `${options.out}.partial`;
  const file = partialPath === undefined ? undefined : createWriteStream(partialPath, { flags: 'w' });
  try {
    // After the open: the catch below removes the partial file, which must exist by then.
    if (file) await once(file, 'open');
    await requireEvents(eventStore, config);
    const result = await exportLog(eventStore, file ?? output.stdout, {
      streamId: options.stream,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.stop();
    if (options.stream !== undefined && result.events === 0) throw new UnknownStreamError(options.stream);
    if (file && partialPath && options.out) {
      file.end();
      await finished(file);
      await rename(partialPath, options.out);
    }
    output.stderr.write(
      `exported ${result.events} events through position ${String(result.lastPosition)}${options.out ? ` to ${options.out}` : ''}\n`,
    );
    return AUDIT_EXIT_CODES.passed;
  } catch (error) {
    if (file && partialPath) {
      file.destroy();
      await rm(partialPath, { force: true });
    }
    throw error;
  } finally {
    progress.stop();
    await eventStore.close();
  }
}

/** Positions and other bigints become decimal strings: JSON numbers lose precision above 2^53. */
async function writeJsonLine(stream: Writable, value: object): Promise<void> {
  const line = JSON.stringify(value, (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field));
  if (!stream.write(`${line}\n`)) await once(stream, 'drain');
}

/** Exit code when the reader of stdout goes away early (`... | head`): what SIGPIPE gives other Unix tools. */
export const EXIT_CODE_STDOUT_CLOSED = 128 + 13;

/** Runs an audit as a CLI action: its result becomes the exit code, and an error exits with `failed`. */
async function runAudit(audit: () => Promise<number>): Promise<void> {
  // Without a listener a closed pipe is an uncaught 'error' event; there is nobody left to report to.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') process.stderr.write(`error: stdout: ${error.message}\n`);
    process.exit(error.code === 'EPIPE' ? EXIT_CODE_STDOUT_CLOSED : AUDIT_EXIT_CODES.failed);
  });
  try {
    process.exitCode = await audit();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = AUDIT_EXIT_CODES.failed;
  }
}

export function auditCommand(): Command {
  const audit = new Command('audit')
    .description(
      "Auditor's tools: verify the hash chains, replay read models, export the log (results on stdout, progress on stderr)",
    )
    // Usage errors exit with `failed`, not commander's 1, which means "findings" here.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : AUDIT_EXIT_CODES.failed));

  audit
    .command('verify')
    .description('Recompute every stream hash chain (or one) and report the first broken link')
    .option('-s, --stream <id>', 'only this stream')
    .action((options: { stream?: string }) => runAudit(() => auditVerify(loadConfig(), options)));

  audit
    .command('replay')
    .description(
      'Replay every projection from event zero up to its stored checkpoint and compare with the stored read models',
    )
    .action(() => runAudit(() => auditReplay(loadConfig())));

  audit
    .command('export')
    .description('Write the log (or one stream) as JSON Lines, one event per line with its hashes')
    .option('-s, --stream <id>', 'only this stream')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action((options: { stream?: string; out?: string }) => runAudit(() => auditExport(loadConfig(), options)));

  return audit;
}
