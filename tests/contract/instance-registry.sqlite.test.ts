import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockFileOf, SqliteInstanceRegistry } from '../../src/adapters/sqlite/sqlite-instance-registry.js';
import { instanceRegistryContract } from './instance-registry.contract.js';

const registryFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-instances-')), 'instances.sqlite');

instanceRegistryContract('sqlite (embedded)', async () => new SqliteInstanceRegistry(registryFile()));

describe('sqlite instance registry: the OS lock of each instance', () => {
  const now = new Date('2026-12-01T10:00:00.000Z');

  it('tells another process an instance is gone once its process lets its lock go (closed as by a crash)', async () => {
    const file = registryFile();
    const running = new SqliteInstanceRegistry(file);
    const other = new SqliteInstanceRegistry(file);
    await running.register('instance-1', now);
    expect((await other.instance('instance-1'))?.processGone).toBe(false);
    // Asked again: the check itself took and gave back nothing the instance needs.
    expect((await other.instance('instance-1'))?.processGone).toBe(false);
    await running.close();
    expect(await other.instance('instance-1')).toMatchObject({ endedAt: null, processGone: true });
    await other.close();
  });

  it('an instance that ended cleanly is ended, not "gone", and leaves no lock file behind', async () => {
    const file = registryFile();
    const running = new SqliteInstanceRegistry(file);
    await running.register('instance-2', now);
    const lockFile = join(file, '..', lockFileOf('instance-2'));
    expect(existsSync(lockFile)).toBe(true);
    await running.end('instance-2', now);
    expect(existsSync(lockFile)).toBe(false);
    const other = new SqliteInstanceRegistry(file);
    expect(await other.instance('instance-2')).toMatchObject({ endedAt: now, processGone: false });
    await Promise.all([running.close(), other.close()]);
  });
});
