import { describe, expect, it } from 'vitest';
import { ScryptPasswordHasher } from '../../src/adapters/crypto/scrypt-password-hasher.js';
import { passwordHash } from '../../src/domain/entities/entity-events.js';

describe('scrypt password hashing', () => {
  const hasher = new ScryptPasswordHasher();

  it('encodes the hash with its parameters and a random salt, never the password', async () => {
    const first = await hasher.hash('583920');
    const second = await hasher.hash('583920');
    expect(first).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(passwordHash.safeParse(first).success).toBe(true);
    expect(second).not.toBe(first);
    expect(first).not.toContain('583920');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse');
    expect(await hasher.verify('correct horse', hash)).toBe(true);
    expect(await hasher.verify('correct horsf', hash)).toBe(false);
  });

  it('verifies hashes made with other cost parameters (they travel with the hash)', async () => {
    const cheap = await new ScryptPasswordHasher({ logN: 10, blockSize: 8, parallelization: 1 }).hash('583920');
    expect(cheap).toContain('$ln=10,');
    expect(await hasher.verify('583920', cheap)).toBe(true);
  });

  it('refuses, without working for minutes, hashes that are malformed or ask for too much', async () => {
    expect(await hasher.verify('x', 'plain text')).toBe(false);
    const huge = '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
    expect(await hasher.verify('x', huge)).toBe(false);
  });
});
