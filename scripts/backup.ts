import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { backupDataDir, refuseProductionEngines, restoreDataDir } from '../src/adapters/sqlite/data-dir-backup.js';
import { systemClock } from '../src/adapters/system-clock.js';
import { loadConfig, type LedgerConfig } from '../src/config.js';
import { AUDIT_EXIT_CODES, auditVerify, type AuditOutput } from './audit.js';
import { freeLeasesLeftBehind } from './rebuild.js';
import { lockEmbeddedStore, requireEmbeddedStore } from './store-guards.js';

/**
 * `ledger backup <dir>` and `ledger restore <dir>` (docs/operations.md, "Backups"). Exit codes as the
 * audit's: 0 done (and, for a restore, the restored log verified), 1 restored but `audit verify` found a
 * broken chain, 2 refused or failed (nothing changed by a refused restore).
 */
export async function backupToFolder(config: LedgerConfig, dir: string, stderr: Writable): Promise<number> {
  refuseProductionEngines(config, 'backup');
  requireEmbeddedStore(config, { readModels: false });
  // Shared: beside running services (the copy is online), never beside a rebuild swapping read models.
  const lock = lockEmbeddedStore(config, 'shared');
  try {
    const manifest = await backupDataDir(config, dir, systemClock.now().toISO()!);
    const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
    stderr.write(
      `backed up ${manifest.files.length} files (${bytes} bytes) to ${resolve(dir)}: event log through position ${manifest.eventLogHead}\n`,
    );
    return AUDIT_EXIT_CODES.passed;
  } finally {
    lock?.release();
  }
}

export async function restoreFromFolder(config: LedgerConfig, dir: string, output: AuditOutput): Promise<number> {
  refuseProductionEngines(config, 'restore');
  // Exclusive: no service may hold the DATA_DIR being restored into (refused at once if one does).
  const lock = lockEmbeddedStore(config, 'exclusive');
  try {
    const manifest = await restoreDataDir(config, dir);
    // The copied read models still name the backed-up service as the projections' lease holder: freed, so
    // the restored service's projections start at once instead of after the lease's TTL.
    await freeLeasesLeftBehind(config);
    output.stderr.write(
      `restored ${manifest.files.length} files of the backup made ${manifest.createdAt} into ${resolve(config.dataDir)}: ` +
        `event log through position ${manifest.eventLogHead}; verifying its hash chains\n`,
    );
  } finally {
    lock?.release();
  }
  // The read models catch up from their checkpoints when the service starts (they were copied before the log).
  return auditVerify(config, {}, output);
}

async function runCommand(command: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = AUDIT_EXIT_CODES.failed;
  }
}

export function backupCommands(): Command[] {
  const backup = new Command('backup')
    .description(
      'Copy every embedded store of DATA_DIR (online: the service may keep serving), its generated keys and reconciliation results into <dir>, with a manifest',
    )
    .argument('<dir>', 'a new or empty folder')
    .action((dir: string) => runCommand(() => backupToFolder(loadConfig(), dir, process.stderr)));
  const restore = new Command('restore')
    .description(
      'Put a backup in place in an empty DATA_DIR that no service holds, then verify the restored log (as audit verify)',
    )
    .argument('<dir>', 'a folder ledger backup wrote')
    .action((dir: string) =>
      runCommand(() => restoreFromFolder(loadConfig(), dir, { stdout: process.stdout, stderr: process.stderr })),
    );
  return [backup, restore];
}
