import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { problemOf } from '../../src/adapters/http/problem-details.js';
import { AppendOutcomeUnknownError, AppendRefusedError } from '../../src/ports/event-store.js';
import { ReadModelStoreRefusedError, ReadModelWriteUnknownError } from '../../src/ports/read-model-store.js';

/** What a client is told for each storage outcome (docs/production.md, "What an append can answer"). */
describe('storage outcomes as problems', () => {
  it('an append that may have landed asks for a retry with the same key', () => {
    const problem = problemOf(new AppendOutcomeUnknownError('the debit may have been written'));
    expect(problem.status).toBe(503);
    expect(problem.code).toBe('storage_unavailable');
    expect(problem.message).toMatch(/same Idempotency-Key/);
    expect(problem.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('a read-model write that may have landed is retried like an outage', () => {
    const problem = problemOf(new ReadModelWriteUnknownError('MongoDB did not confirm the write'));
    expect([problem.status, problem.code]).toEqual([503, 'storage_unavailable']);
  });

  it('a write of any embedded store refused by read-only storage is an outage, not an internal error', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x)');
    db.pragma('query_only = ON');
    let refused: unknown;
    try {
      db.exec('INSERT INTO t VALUES (1)');
    } catch (error) {
      refused = error;
    }
    db.close();
    expect(refused).toMatchObject({ code: 'SQLITE_READONLY' });
    const problem = problemOf(refused);
    expect([problem.status, problem.code]).toEqual([503, 'storage_unavailable']);
    expect(problem.message).not.toMatch(/SQLITE|readonly/i);
  });

  it("a refusal by the engine is the operators' problem: 500, without its message", () => {
    for (const error of [
      new AppendRefusedError('access_denied', 'EventStoreDB at esdb://es1:2113 denied an append to account-1'),
      new ReadModelStoreRefusedError('MongoDB at db1 refused the operation'),
    ]) {
      const problem = problemOf(error);
      expect(problem.status).toBe(500);
      expect(problem.message).not.toMatch(/es1|db1|denied|refused/);
    }
  });
});
