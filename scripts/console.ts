import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { LedgerClient } from '../src/client/ledger-client.js';
import { loadConfig } from '../src/config.js';

/**
 * `ledger console login`: asks the running service, by a request signed with the operator's key, for a
 * one-time link into the web console, and prints it (docs/console.md). The link opens a session once,
 * within two minutes; `--auditor` grants a read-only session to hand to an auditor.
 */
export interface ConsoleLinkRequest {
  /** The service's base URL as the browser will reach it. */
  readonly baseUrl: string;
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly role: 'operator' | 'auditor';
}

export interface ConsoleLink {
  readonly url: string;
  readonly sessionId: string;
  readonly linkExpiresAt: string;
  readonly expiresAt: string;
}

export async function requestConsoleLink(request: ConsoleLinkRequest): Promise<ConsoleLink> {
  const base = request.baseUrl.replace(/\/+$/, '');
  const client = new LedgerClient({ baseUrl: base, keyId: request.keyId, privateKeyPem: request.privateKeyPem });
  const link = await client.createConsoleLink({ role: request.role });
  return {
    url: `${base}${link.path}`,
    sessionId: link.sessionId,
    linkExpiresAt: link.linkExpiresAt,
    expiresAt: link.expiresAt,
  };
}

export function consoleCommand(): Command {
  const command = new Command('console').description("The operators' web console at /console");
  command
    .command('login')
    .description('Print a one-time sign-in link into the web console (a request signed with your operator key)')
    .option('--url <url>', 'the ledger as your browser reaches it (default: LEDGER_URL, else http://HOST:PORT)')
    .option('--key-id <keyId>', '<entityId>/<keyNo> of your operator key (default: LEDGER_KEY_ID)')
    .option('--key-file <path>', 'your private key PEM (default: LEDGER_KEY_FILE, else DATA_DIR/keys/<entityId>.pem)')
    .option('--auditor', 'a read-only session, to hand to an auditor')
    .action(async (options: { url?: string; keyId?: string; keyFile?: string; auditor?: boolean }) => {
      const config = loadConfig();
      const keyId = options.keyId ?? process.env['LEDGER_KEY_ID'];
      if (!keyId) throw new Error('give --key-id <entityId>/<keyNo> (or set LEDGER_KEY_ID)');
      const keyFile =
        options.keyFile ?? process.env['LEDGER_KEY_FILE'] ?? join(config.dataDir, 'keys', `${keyId.split('/')[0]}.pem`);
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const link = await requestConsoleLink({
        baseUrl: options.url ?? process.env['LEDGER_URL'] ?? `http://${host}:${config.port}`,
        keyId,
        privateKeyPem: readFileSync(keyFile, 'utf8'),
        role: options.auditor ? 'auditor' : 'operator',
      });
      console.log(link.url);
      console.error(
        `open it once before ${link.linkExpiresAt}; the session (${link.sessionId}) lasts until ${link.expiresAt} unless signed out or revoked`,
      );
    });
  return command;
}
