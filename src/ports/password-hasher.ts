/**
 * Slow, salted password hashing for payment passwords. The ledger stores only the encoded hash (which
 * names its algorithm and cost), never the password.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false for a hash it cannot parse rather than an error. */
  verify(password: string, encodedHash: string): Promise<boolean>;
}
