#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from '../src/config.js';
import { adminCommand } from './admin.js';
import { auditCommand } from './audit.js';
import { rebuildProjections } from './rebuild.js';
import { serve } from './serve.js';

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
    await serve(loadConfig());
  });

program
  .command('rebuild')
  .description('Drop read models and replay them from event zero (run while the service is stopped)')
  .option('-p, --projection <name...>', 'only these projections (default: all)')
  .action(async (options: { projection?: string[] }) => {
    await rebuildProjections(loadConfig(), options.projection);
  });

program.addCommand(auditCommand());
program.addCommand(adminCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
