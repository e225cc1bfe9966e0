import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordHasher } from '../../ports/password-hasher.js';

/**
 * scrypt (RFC 7914) from node:crypto, encoded in PHC form with its parameters:
 *
 *   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
 *
 * ln=15 (N = 32768), r=8, p=1 is the OWASP baseline: about 32 MiB and tens of milliseconds per hash,
 * which makes guessing a 6-digit PIN from a stolen hash cost hours per entity instead of microseconds.
 * Parameters travel with each hash, so raising the cost later leaves old hashes verifiable.
 */
export interface ScryptCost {
  /** log2 of N, the CPU/memory cost. */
  readonly logN: number;
  readonly blockSize: number;
  readonly parallelization: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { logN: 15, blockSize: 8, parallelization: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/**
 * Bounds on parameters read back from a stored hash: a tampered hash must not make verification take
 * minutes or gigabytes. The memory bound (128 * N * r bytes) limits ln and r together.
 */
const MAX_LOG_N = 20;
const MAX_BLOCK_SIZE = 16;
const MAX_PARALLELIZATION = 4;
/** Memory one scrypt call may use: 128 * N * r bytes must fit (64 MiB allows ln=15 r=8 twice over). */
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;

const ENCODED = /^\$scrypt\$ln=([0-9]{1,2}),r=([0-9]{1,2}),p=([0-9]{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export class ScryptPasswordHasher implements PasswordHasher {
  constructor(private readonly cost: ScryptCost = DEFAULT_SCRYPT_COST) {
    if (!withinBounds(cost)) throw new Error('scrypt cost parameters are out of bounds');
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const hash = await derive(password, salt, this.cost, HASH_BYTES);
    const { logN, blockSize, parallelization } = this.cost;
    return `$scrypt$ln=${logN},r=${blockSize},p=${parallelization}$${unpadded(salt)}$${unpadded(hash)}`;
  }

  async verify(password: string, encodedHash: string): Promise<boolean> {
    const match = ENCODED.exec(encodedHash);
    if (!match) return false;
    const cost: ScryptCost = { logN: Number(match[1]), blockSize: Number(match[2]), parallelization: Number(match[3]) };
    if (!withinBounds(cost)) return false;
    const salt = Buffer.from(match[4]!, 'base64');
    const expected = Buffer.from(match[5]!, 'base64');
    if (expected.length < 16) return false;
    const actual = await derive(password, salt, cost, expected.length);
    return timingSafeEqual(actual, expected);
  }
}

function withinBounds(cost: ScryptCost): boolean {
  const { logN, blockSize, parallelization } = cost;
  return (
    Number.isInteger(logN) &&
    logN >= 1 &&
    logN <= MAX_LOG_N &&
    Number.isInteger(blockSize) &&
    blockSize >= 1 &&
    blockSize <= MAX_BLOCK_SIZE &&
    Number.isInteger(parallelization) &&
    parallelization >= 1 &&
    parallelization <= MAX_PARALLELIZATION &&
    128 * 2 ** logN * blockSize <= MAX_MEMORY_BYTES
  );
}

function derive(password: string, salt: Buffer, cost: ScryptCost, bytes: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** cost.logN,
    r: cost.blockSize,
    p: cost.parallelization,
    maxmem: MAX_MEMORY_BYTES + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, bytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
