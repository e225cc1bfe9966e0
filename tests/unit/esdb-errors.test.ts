import {
  AccessDeniedError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
  convertToCommandError,
} from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { appendErrorOf, readErrorOf } from '../../src/adapters/esdb/esdb-errors.js';
import { NO_POSITION, toRecordedEvent } from '../../src/adapters/esdb/esdb-event-store.js';
import {
  AppendOutcomeUnknownError,
  AppendRefusedError,
  EventStoreUnavailableError,
} from '../../src/ports/event-store.js';
import { serviceError } from '../support/esdb-service-error.js';

/**
 * EventStoreDB client errors, built the way the client builds them (grpc-js ServiceErrors through the
 * client's own convertToCommandError, or the client's constructors where it calls them itself), and the
 * port outcome each one means. No server is involved: this is the mapping, not storage behaviour.
 */
const endpoint = 'esdb://node1:2113';

describe('EventStoreDB append errors: refused, unavailable, or unknown outcome', () => {
  const unknown: Array<[string, unknown]> = [
    [
      'a client deadline (DEADLINE_EXCEEDED)',
      convertToCommandError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
    ],
    ['a commit timeout (ABORTED)', convertToCommandError(serviceError(status.ABORTED, 'Operation timed out'))],
    ['a batch append Timeout detail', new DeadlineExceededError()],
    [
      'a connection lost mid-call (UNAVAILABLE)',
      convertToCommandError(serviceError(status.UNAVAILABLE, 'Connection dropped')),
    ],
    ['a cancelled call', convertToCommandError(serviceError(status.CANCELLED, 'Cancelled on server'))],
    ['an Unknown answer', convertToCommandError(serviceError(status.UNKNOWN, 'Unexpected error'))],
  ];
  for (const [name, error] of unknown) {
    it(`${name} may have committed: outcome unknown`, () => {
      expect(appendErrorOf(error, endpoint, 'account-1')).toBeInstanceOf(AppendOutcomeUnknownError);
    });
  }

  it('a follower answering NotLeader wrote nothing: unavailable', () => {
    const notLeader = convertToCommandError(
      serviceError(status.NOT_FOUND, 'Leader info available', {
        exception: 'not-leader',
        'leader-endpoint-host': 'node2',
        'leader-endpoint-port': '2113',
      }),
    );
    expect(appendErrorOf(notLeader, endpoint, 'account-1')).toBeInstanceOf(EventStoreUnavailableError);
  });

  const refused: Array<[string, unknown, AppendRefusedError['reason']]> = [
    ['MaxAppendSizeExceeded', MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576), 'too_large'],
    ['AccessDenied', new AccessDeniedError(), 'access_denied'],
    [
      'UNAUTHENTICATED',
      convertToCommandError(serviceError(status.UNAUTHENTICATED, 'Bad credentials')),
      'access_denied',
    ],
    ['StreamDeleted', StreamDeletedError.fromStreamName('account-1'), 'stream_deleted'],
  ];
  for (const [name, error, reason] of refused) {
    it(`${name} is refused (${reason}), not retried`, () => {
      const mapped = appendErrorOf(error, endpoint, 'account-1');
      expect(mapped).toBeInstanceOf(AppendRefusedError);
      expect((mapped as AppendRefusedError).reason).toBe(reason);
    });
  }
});

describe('EventStoreDB read errors', () => {
  it('transport failures are unavailable; an Unknown answer is left for the read to handle', () => {
    const deadline = convertToCommandError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    expect(readErrorOf(deadline, endpoint)).toBeInstanceOf(EventStoreUnavailableError);
    // The server's answer to a read from a position that is not a record's (see readAll).
    const invalidPosition = convertToCommandError(serviceError(status.UNKNOWN, 'Exception was thrown by handler'));
    expect(readErrorOf(invalidPosition, endpoint)).toBe(invalidPosition);
  });
});

describe('EventStoreDB positions', () => {
  const record = (commit: bigint) => ({
    streamId: 'account-1',
    revision: 0n,
    type: 'Opened',
    isJson: true,
    data: {},
    metadata: { prevHash: 'a', hash: 'b' },
    position: { commit, prepare: commit },
  });

  it('refuses an event carrying the server\'s "no position" (2^64 - 1) instead of passing it on', () => {
    expect(() => toRecordedEvent(record(NO_POSITION))).toThrow(/position/);
  });

  it('keeps positions above 2^53 exact', () => {
    expect(toRecordedEvent(record(2n ** 53n + 1n)).position).toBe(2n ** 53n + 1n);
  });
});
