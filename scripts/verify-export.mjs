#!/usr/bin/env node
// Checks the hash chains of a `ledger audit export` file (JSON Lines) with nothing but Node itself:
//
//   node verify-export.mjs export.jsonl      (or: ... | node verify-export.mjs -)
//
// Exit codes: 0 every chain holds, 1 a broken link or a malformed line (the first is reported), 2 no input
// (no file named, unreadable, or no events in it: an empty export proves nothing about any ledger).
// The rule, from src/domain/audit/hash-chain.ts:
//   hash = sha256_hex(prevHash + "\n" + JCS({ streamId, revision: "<decimal string>", eventId, type, data, metadata }))
// with prevHash = 64 zeros for a stream's revision 0, and revisions contiguous from 0 per stream.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const GENESIS_HASH = '0'.repeat(64);

/** RFC 8785 (JCS) for JSON as parsed by JSON.parse: keys sorted by UTF-16 code units, ES number and string forms. */
function jcs(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${jcs(value[key])}`)
    .join(',')}}`;
}

function chainHash(event) {
  const content = jcs({
    streamId: event.streamId,
    revision: String(event.revision),
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });
  return createHash('sha256').update(event.prevHash).update('\n').update(content).digest('hex');
}

/** The first rule this line breaks, given its stream's last [revision, hash]; undefined if none. */
function checkLine(last, event) {
  const expectedRevision = last ? last[0] + 1 : 0;
  if (event.revision !== expectedRevision) return `revision expected ${expectedRevision}, found ${event.revision}`;
  const expectedPrevHash = last ? last[1] : GENESIS_HASH;
  if (event.prevHash !== expectedPrevHash) return `prevHash expected ${expectedPrevHash}, found ${event.prevHash}`;
  const recomputed = chainHash(event);
  if (event.hash !== recomputed) return `hash expected ${recomputed}, found ${event.hash}`;
  return undefined;
}

async function main(path) {
  if (!path) {
    console.error('usage: node verify-export.mjs <export.jsonl | ->');
    return 2;
  }
  const input = path === '-' ? process.stdin : createReadStream(path, 'utf8');
  const lastByStream = new Map(); // streamId -> [revision, hash]
  let lineNumber = 0;
  let events = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let event;
    try {
      event = JSON.parse(line);
    } catch (error) {
      console.error(`line ${lineNumber}: not JSON: ${error.message}`);
      return 1;
    }
    const problem = checkLine(lastByStream.get(event.streamId), event);
    if (problem) {
      console.log(
        JSON.stringify({
          ok: false,
          line: lineNumber,
          streamId: event.streamId,
          revision: event.revision,
          position: event.position,
          problem,
        }),
      );
      return 1;
    }
    lastByStream.set(event.streamId, [event.revision, event.hash]);
    events += 1;
  }
  if (events === 0) {
    console.error(
      `no events in ${path === '-' ? 'stdin' : path}: an empty export proves nothing; was it exported from the right ledger?`,
    );
    return 2;
  }
  console.log(JSON.stringify({ ok: true, events, streams: lastByStream.size }));
  return 0;
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
  },
);
