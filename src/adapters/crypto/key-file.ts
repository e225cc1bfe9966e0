import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The embedded default's generated key: `file` holds what `generate` wrote the first time (mode 0600),
 * read back on every later start. 'wx': of two processes starting at once, one writes and the other
 * reads what it wrote. Answers the file's content (trimmed) and whether this call created it.
 */
export function readOrCreateKeyFile(file: string, generate: () => string): { text: string; created: boolean } {
  let created = false;
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
      chmodSync(file, 0o600);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return { text: readFileSync(file, 'utf8').trim(), created };
}
