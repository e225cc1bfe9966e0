import { Command } from 'commander';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { EntityCommands } from '../src/commands/entities/entity-commands.js';
import { ScryptPasswordHasher } from '../src/adapters/crypto/scrypt-password-hasher.js';
import { bootstrapEntity, type BootstrappedEntity } from '../src/adapters/entity-bootstrap.js';
import { openEventStore } from '../src/adapters/storage.js';
import { systemClock } from '../src/adapters/system-clock.js';

/**
 * `ledger admin ...`: bootstrap commands run where the data is (they write to the event store directly,
 * not through the API): the first operator cannot sign a request before it exists.
 */
interface CreateOptions {
  name: string;
  keyOut?: string;
  printKey?: boolean;
  email?: string;
  phone?: string;
}

export function adminCommand(): Command {
  const admin = new Command('admin').description(
    'Bootstrap: create operators and merchants with an API signing key (run where the data is)',
  );
  for (const kind of ['operator', 'merchant'] as const) {
    admin
      .command(`create-${kind}`)
      .description(
        `Register a${kind === 'operator' ? 'n operator (platform staff: may do everything)' : ' merchant'} with a fresh Ed25519 key; writes the private key to a file (mode 0600)`,
      )
      .requiredOption('--name <name>', 'display name')
      .option(
        '--key-out <path>',
        'where to write the private key PEM (default: DATA_DIR/keys/<entityId>.pem); never overwritten',
      )
      .option('--print-key', 'also print the private key PEM on stdout')
      .option('--email <email>', 'contact e-mail')
      .option('--phone <phone>', 'contact phone, E.164 (+8613800138000)')
      .action(async (options: CreateOptions) => {
        await createEntity(kind, options);
      });
  }
  return admin;
}

async function createEntity(kind: 'operator' | 'merchant', options: CreateOptions): Promise<void> {
  const config = loadConfig();
  const eventStore = await openEventStore(config);
  /** Set only once the file is written: an existing file we refused to overwrite is never removed. */
  let keyFile: string | undefined;
  try {
    const entities = new EntityCommands(eventStore, new ScryptPasswordHasher());
    const created = await bootstrapEntity(entities, systemClock, {
      kind,
      displayName: options.name,
      email: options.email ?? null,
      phone: options.phone ?? null,
      actor: `cli:${userInfo().username}`,
      beforeRecording: (entity) => {
        const path = resolve(options.keyOut ?? join(config.dataDir, 'keys', `${entity.entityId}.pem`));
        writePrivateKey(path, entity);
        keyFile = path;
      },
    });
    console.log(`${kind} registered`);
    console.log(`  entity id: ${created.entityId}`);
    console.log(`  key id:    ${created.keyId}   (send as X-Ledger-Key-Id)`);
    console.log(`  private key written to ${keyFile} (mode 0600); the ledger keeps only the public key`);
    if (options.printKey) process.stdout.write(created.privateKeyPem);
  } catch (error) {
    // No entity was recorded for a key we wrote: remove the orphan file.
    if (keyFile) rmSync(keyFile, { force: true });
    throw error;
  } finally {
    await eventStore.close();
  }
}

function writePrivateKey(path: string, entity: BootstrappedEntity): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // 'wx': never replace an existing key file (someone's only copy of another key).
  writeFileSync(path, entity.privateKeyPem, { mode: 0o600, flag: 'wx' });
}
