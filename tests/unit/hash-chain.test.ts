import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { GENESIS_HASH, chainHash, chainHashOfCanonical } from '../../src/domain/audit/hash-chain.js';
import type { JsonObject } from '../../src/domain/shared/json.js';

const jsonObject = fc.dictionary(fc.string(), fc.jsonValue()) as fc.Arbitrary<JsonObject>;

describe('hash chain', () => {
  it('hashes pre-canonicalised parts exactly as the whole content', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.uuid(),
        fc.string(),
        jsonObject,
        jsonObject,
        (streamId, revision, eventId, type, data, metadata) => {
          const whole = chainHash(GENESIS_HASH, { streamId, revision, eventId, type, data, metadata });
          const parts = chainHashOfCanonical(GENESIS_HASH, {
            streamId,
            revision,
            eventId,
            type,
            canonicalData: canonicalJson(data),
            canonicalMetadata: canonicalJson(metadata),
          });
          expect(parts).toBe(whole);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('changes when any byte of the content or the previous hash changes', () => {
    const content = {
      streamId: 'account-1',
      revision: 3n,
      eventId: '0190a0a0-0000-7000-8000-000000000001',
      type: 'FundsCredited',
      data: { amountMinor: '100' },
      metadata: { actor: 'op' },
    };
    const hash = chainHash(GENESIS_HASH, content);
    expect(chainHash(GENESIS_HASH, { ...content, data: { amountMinor: '101' } })).not.toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...content, revision: 4n })).not.toBe(hash);
    expect(chainHash('1'.repeat(64), content)).not.toBe(hash);
  });
});
