import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { userInfo } from 'node:os';
import { DateTime } from 'luxon';
import { loadConfig } from '../src/config.js';
import {
  STATEMENT_PARSERS,
  statementParserFor,
} from '../src/adapters/reconciliation/statement-formats/statement-parsers.js';
import { openEventStore, openStatementStore } from '../src/adapters/storage.js';
import { StatementImports } from '../src/commands/reconciliation/statement-imports.js';
import { deriveId } from '../src/commands/command-context.js';
import { runReconciliation, type RunOptions } from './recon-run.js';

/**
 * `ledger recon ...`: reconciliation where the data is. `import` stores a statement obtained elsewhere
 * (downloaded by hand, sent by the channel's support) exactly as a download would: parsed by its format,
 * checked to be ours and whole, the day's lines replaced, the outcome recorded on the day's stream.
 * `run` reconciles days in order (recon-run.ts).
 */
interface ImportOptions {
  channel: string;
  format: string;
  date: string;
  merchantId: string;
  appId?: string;
}

export function reconCommand(): Command {
  const recon = new Command('recon').description('Reconciliation: channel statements (run where the data is)');
  recon
    .command('import')
    .description('Store a channel statement file for a day (replaces the day; refused whole if not ours or not whole)')
    .requiredOption('--channel <id>', 'the channel the statement is from')
    .requiredOption('--format <name>', `the file's format: ${[...STATEMENT_PARSERS.keys()].join(', ')}`)
    .requiredOption('--date <YYYY-MM-DD>', 'the accounting day it covers')
    .requiredOption('--merchant-id <ids>', 'our merchant number(s) or account at the channel, comma-separated')
    .option('--app-id <ids>', 'our app id(s) at the channel, where its lines name one, comma-separated')
    .argument('<file>', 'the statement file')
    .action(async (file: string, options: ImportOptions) => {
      process.exitCode = await importStatement(file, options);
    });
  recon
    .command('run')
    .description("Reconcile days of a channel in order (each carries in the previous day's pending pool)")
    .requiredOption('--channel <id>', 'the channel')
    .requiredOption('--date <YYYY-MM-DD>', 'the (first) accounting day')
    .option('--to <YYYY-MM-DD>', 'the last accounting day (inclusive); default: --date')
    .action(async (options: RunOptions) => {
      process.exitCode = await runReconciliation(options);
    });
  return recon;
}

async function importStatement(file: string, options: ImportOptions): Promise<number> {
  const parser = statementParserFor(options.format);
  if (!parser) {
    console.error(`error: no format ${options.format} (known: ${[...STATEMENT_PARSERS.keys()].join(', ')})`);
    return 2;
  }
  if (!DateTime.fromISO(options.date, { zone: 'utc' }).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(options.date)) {
    console.error(`error: --date ${options.date} is not a date YYYY-MM-DD`);
    return 2;
  }
  const config = loadConfig();
  const eventStore = await openEventStore(config);
  const store = await openStatementStore(config);
  try {
    const imports = new StatementImports(store, eventStore);
    const occurredAt = DateTime.utc().toISO();
    const actor = `cli:${userInfo().username}`;
    const outcome = await imports.importFile(
      {
        channel: options.channel,
        accountingDate: options.date,
        merchantIds: listOf(options.merchantId),
        appIds: listOf(options.appId ?? ''),
        format: options.format,
        parser,
        bytes: createReadStream(file),
        source: 'import',
        importedBy: actor.slice(0, 64),
      },
      {
        actor,
        correlationId: deriveId(file, occurredAt),
        causationId: null,
        idempotencyKey: null,
        operationKey: deriveId(`${options.channel}:${options.date}:${file}`, occurredAt),
        occurredAt,
      },
    );
    if (outcome.status === 'rejected') {
      console.error(`refused: ${outcome.reason}: ${outcome.detail} (sha256 ${outcome.fileSha256})`);
      return 1;
    }
    console.log(
      `stored ${outcome.lineCount} lines of ${options.channel} ${options.date} (${outcome.setAsideCount} set aside), sha256 ${outcome.fileSha256}`,
    );
    for (const item of outcome.setAside) console.log(`  line ${item.sourceLine}: ${item.reason}: ${item.detail}`);
    if (outcome.setAsideCount > outcome.setAside.length)
      console.log(`  ... and ${outcome.setAsideCount - outcome.setAside.length} more set aside`);
    return 0;
  } finally {
    await store.close();
    await eventStore.close();
  }
}

function listOf(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
