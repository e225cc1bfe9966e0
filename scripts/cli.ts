#!/usr/bin/env node
import { Command } from 'commander';
import { CorruptStoreError } from '../src/adapters/sqlite/integrity-check.js';
import { loadConfig } from '../src/config.js';
import { adminCommand } from './admin.js';
import { auditCommand } from './audit.js';
import { backupCommands } from './backup.js';
import { channelsCommand } from './channels.js';
import { codesCommand } from './codes.js';
import { consoleCommand } from './console.js';
import { identityCommand } from './identity.js';
import { printProjectionStatus } from './projection-status.js';
import { printInstances } from './instance-status.js';
import { reconCommand } from './recon.js';
import { rebuildProjections } from './rebuild.js';
import { rebuildOnline } from './rebuild-online.js';
import { SERVE_EXIT_STORE_DAMAGED, serve } from './serve.js';
import { vaultCommand } from './vault.js';

const program = new Command()
  .name('ledger')
  .description('Event-sourced ledger core: serve the API, rebuild read models')
  .showHelpAfterError();

program
  .command('serve')
  .description(
    'Start the HTTP API and the projections (embedded SQLite under DATA_DIR unless EVENTSTORE_URL / MONGODB_URL are set)',
  )
  .action(async () => {
    try {
      await serve(loadConfig());
    } catch (error) {
      // serve closed what it had opened; exit now rather than wait on a client's reconnect timers.
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(error instanceof CorruptStoreError ? SERVE_EXIT_STORE_DAMAGED : 1);
    }
  });

program
  .command('rebuild')
  .description(
    'Rebuild read models from event zero beside the live ones, then swap them in (refused while a service holds DATA_DIR or when it holds no ledger)',
  )
  .option('-p, --projection <name...>', 'only these projections (default: all)')
  .action(async (options: { projection?: string[] }) => {
    await rebuildProjections(loadConfig(), options.projection);
  });

program
  .command('projections')
  .description("Show each read model's checkpoint and which service instance holds the projections lease, until when")
  .action(async () => {
    await printProjectionStatus(loadConfig());
  })
  .command('rebuild <name>')
  .description(
    'Rebuild a read model (or all) online in the running service, which goes on taking commands (signed as LEDGER_KEY_ID with LEDGER_KEY_FILE, at LEDGER_URL)',
  )
  .option('-w, --wait', 'follow the progress until it is switched in or fails')
  .action(async (name: string, options: { wait?: boolean }) => {
    await rebuildOnline(name, { wait: options.wait ?? false });
  });

program
  .command('instances')
  .description(
    'List the service instances on record (latest heartbeat first): running, ended, gone or silent; only a running one keeps its idempotency claims',
  )
  .option('-n, --limit <count>', 'at most this many (up to 1000)', '50')
  .action(async (options: { limit: string }) => {
    await printInstances(loadConfig(), Number(options.limit));
  });

program.addCommand(auditCommand());
program.addCommand(adminCommand());
program.addCommand(channelsCommand());
program.addCommand(vaultCommand());
program.addCommand(reconCommand());
program.addCommand(codesCommand());
program.addCommand(identityCommand());
for (const command of backupCommands()) program.addCommand(command);
program.addCommand(consoleCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
