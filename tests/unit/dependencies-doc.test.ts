import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const peerManifest = JSON.parse(readFileSync(new URL('../../bench/peer/package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const doc = readFileSync(new URL('../../docs/dependencies.md', import.meta.url), 'utf8');

/** The `| \`package\` | version | why |` rows of the section whose heading starts with `heading`. */
function documentedVersions(heading: string): Map<string, string> {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, `docs/dependencies.md has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([^`]+)`\s*\|\s*([^|\s]+)\s*\|\s*\S/gm)) rows.set(match[1]!, match[2]!);
  return rows;
}

/** docs/dependencies.md says why each package is there; this keeps it true as packages come and go. */
describe('dependencies', () => {
  it.each([
    ['dependencies', 'Runtime'],
    ['devDependencies', 'Development'],
  ] as const)('every package in %s is pinned exactly and documented with that version', (field, heading) => {
    const pinned = manifest[field];
    for (const [name, version] of Object.entries(pinned)) {
      expect(version, `${name} must be an exact version`).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(Object.fromEntries(documentedVersions(heading))).toEqual(pinned);
  });

  it('every package of the benchmark peer (bench/peer) is pinned exactly and documented with that version', () => {
    expect(peerManifest.devDependencies, 'bench/peer has dependencies only').toBeUndefined();
    for (const [name, version] of Object.entries(peerManifest.dependencies)) {
      expect(version, `${name} must be an exact version`).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(Object.fromEntries(documentedVersions('Benchmark peer'))).toEqual(peerManifest.dependencies);
  });
});
