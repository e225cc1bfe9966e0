import { SETUP_EVENTS } from '../support/test-ledger.js';
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { exportLog } from '../../src/audit/export-log.js';
import { GENESIS_HASH } from '../../src/domain/audit/hash-chain.js';
import { UnknownStreamError, auditExport } from '../../scripts/audit.js';
import { anEvent, uniqueStream } from '../support/events.js';
import {
  CapturedOutput,
  RECHARGES_PER_WALLET,
  buildAuditedLedger,
  copyLedger,
  countStoredEvents,
  type AuditedLedger,
} from './audit-fixture.js';

const CHECKER = fileURLToPath(new URL('../../scripts/verify-export.mjs', import.meta.url));

/** Runs the shipped third-party checker the way an auditor would: plain node, no project code. */
function runChecker(args: { file: string } | { stdin: string }): {
  status: number | null;
  result: Record<string, unknown> | undefined;
  stderr: string;
} {
  const run =
    'file' in args
      ? spawnSync(process.execPath, [CHECKER, args.file], { encoding: 'utf8' })
      : spawnSync(process.execPath, [CHECKER, '-'], { encoding: 'utf8', input: args.stdin });
  const line = run.stdout.trim();
  return {
    status: run.status,
    result: line ? (JSON.parse(line) as Record<string, unknown>) : undefined,
    stderr: run.stderr,
  };
}

function exportLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('ledger audit export and the third-party checker', () => {
  let pristine: AuditedLedger;

  beforeAll(async () => {
    pristine = await buildAuditedLedger();
  });

  it('exports the whole log, one event per line, and the checker accepts it', async () => {
    const ledger = copyLedger(pristine);
    const file = join(ledger.dataDir, 'export.jsonl');
    const output = new CapturedOutput();
    expect(await auditExport(ledger.config, { out: file }, output)).toBe(0);
    expect(output.text('stdout')).toBe('');
    expect(existsSync(`${file}.partial`)).toBe(false);

    const lines = exportLines(readFileSync(file, 'utf8'));
    expect(lines).toHaveLength(countStoredEvents(ledger.dataDir));
    expect(Object.keys(lines[0]!).sort()).toEqual([
      'data',
      'eventId',
      'hash',
      'metadata',
      'position',
      'prevHash',
      'revision',
      'streamId',
      'type',
    ]);
    expect(lines[0]).toMatchObject({ revision: 0, position: '1', prevHash: GENESIS_HASH });
    // The test ledger registers its operator first; the wallets' owner and the first account follow.
    expect(lines[SETUP_EVENTS]).toMatchObject({ revision: 0, prevHash: GENESIS_HASH, type: 'IdempotencyKeyClaimed' });
    expect(lines.find((line) => line['type'] === 'AccountOpened')).toMatchObject({
      revision: 0,
      prevHash: GENESIS_HASH,
    });
    expect(lines.map((line) => BigInt(line['position'] as string))).toEqual(lines.map((_, i) => BigInt(i + 1)));
    expect(lines.some((line) => String(line['streamId']).startsWith('idempotency-'))).toBe(true);

    expect(runChecker({ file })).toMatchObject({ status: 0, result: { ok: true, events: lines.length } });
  });

  it('the checker rejects a changed amount and a removed line, naming the first broken one', async () => {
    const ledger = copyLedger(pristine);
    const file = join(ledger.dataDir, 'export.jsonl');
    await auditExport(ledger.config, { out: file }, new CapturedOutput());
    const text = readFileSync(file, 'utf8');
    const streamId = `account-${ledger.accountIds[1]!}`;
    const lines = text.split('\n');
    const target = lines.findIndex((line) => line.includes(`"streamId":"${streamId}","revision":2,`));
    expect(target).toBeGreaterThanOrEqual(0);

    const changed = [...lines];
    changed[target] = lines[target]!.replace('"amountMinor":"2200"', '"amountMinor":"9200"');
    expect(changed[target]).not.toBe(lines[target]);
    writeFileSync(file, changed.join('\n'));
    const afterChange = runChecker({ file });
    expect(afterChange.status).toBe(1);
    expect(afterChange.result).toMatchObject({
      ok: false,
      line: target + 1,
      streamId,
      revision: 2,
      problem: expect.stringMatching(/^hash expected [0-9a-f]{64}, found /),
    });

    writeFileSync(file, lines.filter((_, i) => i !== target).join('\n'));
    const afterRemoval = runChecker({ file });
    expect(afterRemoval.status).toBe(1);
    expect(afterRemoval.result).toMatchObject({ streamId, revision: 3, problem: 'revision expected 2, found 3' });
  });

  it('exports one stream to stdout in revision order', async () => {
    const streamId = `account-${pristine.accountIds[0]!}`;
    const output = new CapturedOutput();
    expect(await auditExport(pristine.config, { stream: streamId }, output)).toBe(0);
    const lines = exportLines(output.text('stdout'));
    expect(lines.map((line) => [line['streamId'], line['revision']])).toEqual(
      Array.from({ length: 1 + RECHARGES_PER_WALLET }, (_, revision) => [streamId, revision]),
    );
    expect(runChecker({ stdin: output.text('stdout') })).toMatchObject({ status: 0, result: { ok: true, streams: 1 } });
  });

  it('refuses an unknown stream and leaves no file behind', async () => {
    const ledger = copyLedger(pristine);
    const file = join(ledger.dataDir, 'nothing.jsonl');
    await expect(
      auditExport(ledger.config, { stream: 'account-0000000000000000', out: file }, new CapturedOutput()),
    ).rejects.toThrow(UnknownStreamError);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it('the checker canonicalises exactly as the ledger hashes: unicode keys, numbers, nesting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-export-'));
    const eventStore = new SqliteEventStore(join(dir, 'events.sqlite'));
    const streamId = uniqueStream('test');
    await eventStore.appendToStream(
      streamId,
      [
        anEvent('Tricky', {
          é: 1,
          a: 'x',
          B: [3, { z: null, y: true }],
          '\u{1F600}': '\uFFFF',
          '\uE000': 'after the emoji in UTF-16 order',
        }),
        anEvent('Numbers', {
          big: 1e21,
          small: 1e-7,
          tenth: 0.1,
          negativeZero: -0,
          integer: 9007199254740991,
          text: 'line\nbreak "quoted" \u0001',
        }),
      ],
      'no_stream',
    );
    const file = join(dir, 'export.jsonl');
    const out = createWriteStream(file);
    await exportLog(eventStore, out);
    out.end();
    await finished(out);
    await eventStore.close();
    expect(runChecker({ file })).toMatchObject({ status: 0, result: { ok: true, events: 2 } });
  });
});
