import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KEK_BYTES,
  MAX_KEK_VERSIONS,
  type KeyEncryptionKey,
  type KeyEncryptionKeys,
} from '../../ports/key-encryption-keys.js';
import { readOrCreateKeyFile } from './key-file.js';

/** Where the embedded default keeps its generated KEK, under DATA_DIR. */
export const VAULT_KEK_FILE_NAME = 'vault-kek.key';

/**
 * KEKs from configuration. The text (VAULT_KEK, or the content of VAULT_KEK_FILE) lists `<version>:<base64
 * of 32 bytes>` entries, separated by commas or new lines; the highest version is current, the others are
 * kept only to unwrap data keys not yet rewrapped. Rotation: add a higher version, restart, run
 * `ledger vault rotate-kek` until nothing remains, then remove the old entry.
 */
export class ConfiguredKeyEncryptionKeys implements KeyEncryptionKeys {
  readonly #keys: ReadonlyMap<number, KeyEncryptionKey>;
  readonly #current: KeyEncryptionKey;

  private constructor(keys: readonly KeyEncryptionKey[]) {
    if (keys.length === 0) throw new RangeError('no KEK configured');
    if (keys.length > MAX_KEK_VERSIONS) throw new RangeError(`at most ${MAX_KEK_VERSIONS} KEK versions at once`);
    this.#keys = new Map(keys.map((k) => [k.version, k]));
    if (this.#keys.size !== keys.length) throw new RangeError('a KEK version is listed twice');
    this.#current = keys.reduce((a, b) => (b.version > a.version ? b : a));
  }

  /** Parses the configured text; the message of a refusal names the entry, never its bytes. */
  static parse(text: string): ConfiguredKeyEncryptionKeys {
    const entries = text
      .split(/[,\n]/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '' && !entry.startsWith('#'));
    return new ConfiguredKeyEncryptionKeys(
      entries.map((entry, index) => {
        const match = /^(\d{1,9}):([A-Za-z0-9+/]+={0,2})$/.exec(entry);
        if (!match) throw new RangeError(`KEK entry ${index + 1} is not <version>:<base64>`);
        const version = Number(match[1]);
        const key = Buffer.from(match[2]!, 'base64');
        if (version < 1) throw new RangeError(`KEK entry ${index + 1}: versions start at 1`);
        if (key.length !== KEK_BYTES) throw new RangeError(`KEK entry ${index + 1}: a KEK is ${KEK_BYTES} bytes`);
        return { version, key };
      }),
    );
  }

  static fromFile(file: string): ConfiguredKeyEncryptionKeys {
    return ConfiguredKeyEncryptionKeys.parse(readFileSync(file, 'utf8'));
  }

  /**
   * VAULT_KEK when set, else VAULT_KEK_FILE, else the embedded default's file under DATA_DIR, created with
   * a random KEK (mode 0600) on first start: `onGenerated` is told, so the operator can be warned that the
   * key sits beside the data it protects.
   */
  static load(
    config: { readonly kek: string | undefined; readonly kekFile: string | undefined; readonly dataDir: string },
    onGenerated: (file: string) => void = () => {},
  ): ConfiguredKeyEncryptionKeys {
    if (config.kek !== undefined) return ConfiguredKeyEncryptionKeys.parse(config.kek);
    if (config.kekFile !== undefined) return ConfiguredKeyEncryptionKeys.fromFile(config.kekFile);
    const file = join(config.dataDir, VAULT_KEK_FILE_NAME);
    const { text, created } = readOrCreateKeyFile(file, () => `1:${randomBytes(KEK_BYTES).toString('base64')}`);
    if (created) onGenerated(file);
    return ConfiguredKeyEncryptionKeys.parse(text);
  }

  current(): KeyEncryptionKey {
    return this.#current;
  }

  byVersion(version: number): KeyEncryptionKey | undefined {
    return this.#keys.get(version);
  }

  /** The versions configured, highest (current) first. */
  versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => b - a);
  }
}
