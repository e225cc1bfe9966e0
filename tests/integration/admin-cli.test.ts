import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adminCommand } from '../../scripts/admin.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { EVENTS_FILE } from '../../src/adapters/storage.js';
import { signRequest } from '../../src/client/signing.js';
import { startTestLedger } from '../support/test-ledger.js';

/** `ledger admin create-operator|create-merchant`, run in-process against a temporary DATA_DIR. */
describe('ledger admin', () => {
  const savedDataDir = process.env['DATA_DIR'];
  afterEach(() => {
    if (savedDataDir === undefined) delete process.env['DATA_DIR'];
    else process.env['DATA_DIR'] = savedDataDir;
    vi.restoreAllMocks();
  });

  async function run(args: string[]): Promise<string> {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array) => (written.push(String(chunk)), true),
    );
    await adminCommand().parseAsync(args, { from: 'user' });
    return [...lines, ...written].join('\n');
  }

  it('creates an operator whose key (a 0600 file, never printed) signs API requests', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-admin-'));
    process.env['DATA_DIR'] = dataDir;
    const output = await run(['create-operator', '--name', 'Night shift']);
    const entityId = /entity id: (op-[0-9a-f-]{36})/.exec(output)?.[1];
    const keyId = /key id:\s+(\S+)/.exec(output)?.[1];
    expect(entityId).toBeDefined();
    expect(keyId).toBe(`${entityId}/1`);
    expect(output).not.toContain('PRIVATE KEY');

    const keyFile = join(dataDir, 'keys', `${entityId}.pem`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const privateKeyPem = readFileSync(keyFile, 'utf8');
    expect(privateKeyPem).toContain('BEGIN PRIVATE KEY');

    const ledger = await startTestLedger(dataDir);
    try {
      const path = `/v1/entities/${entityId}`;
      const response = await ledger.app.inject({
        method: 'GET',
        url: path,
        headers: signRequest({ method: 'GET', pathWithQuery: path, keyId: keyId!, privateKeyPem }),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ kind: 'operator', displayName: 'Night shift', mayPay: false });
    } finally {
      await ledger.close();
    }
  });

  it('creates a merchant, printing the key only when asked, and never overwrites a key file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-admin-'));
    process.env['DATA_DIR'] = dataDir;
    const keyOut = join(dataDir, 'merchant.pem');
    const output = await run([
      'create-merchant',
      '--name',
      'Tea House',
      '--key-out',
      keyOut,
      '--print-key',
      '--email',
      'tea@example.com',
    ]);
    expect(output).toMatch(/entity id: m-/);
    expect(output).toContain(readFileSync(keyOut, 'utf8'));

    const precious = join(dataDir, 'precious.pem');
    writeFileSync(precious, "someone else's key");
    await expect(run(['create-merchant', '--name', 'Clash', '--key-out', precious])).rejects.toThrow(/EEXIST/);
    expect(readFileSync(precious, 'utf8')).toBe("someone else's key");
    expect(existsSync(keyOut)).toBe(true);
    // The refused run recorded no entity: only the Tea House exists.
    const events = new SqliteEventStore(join(dataDir, EVENTS_FILE));
    try {
      const registered = (await events.readAll({ after: 'start', maxCount: 1_000 })).filter(
        (e) => e.type === 'EntityRegistered',
      );
      expect(registered.map((e) => e.data['displayName'])).toEqual(['Tea House']);
    } finally {
      await events.close();
    }
  });
});
