import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * The embedded default's generated key: `file` holds what `generate` wrote the first time (mode 0600),
 * read back on every later start. Answers the file's content (trimmed) and whether this call created it.
 *
 * The key is written whole to a file of this process's own first, then hard-linked to its name, which
 * fails if the name exists: of two processes starting at once, one links its key and the other reads it,
 * and nobody ever sees the name before its key is in it. (Creating the name itself with 'wx' and then
 * writing let the other process read an empty file in between: tests/integration/key-file-race.test.ts.)
 */
export function readOrCreateKeyFile(file: string, generate: () => string): { text: string; created: boolean } {
  let created = false;
  if (!existsSync(file)) {
    const own = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
    try {
      writeFileSync(own, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
      chmodSync(own, 0o600);
      linkSync(own, file);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(own, { force: true });
    }
  }
  return { text: readFileSync(file, 'utf8').trim(), created };
}
