import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';
import { AppendOutcomeUnknownError, AppendRefusedError, EventStoreUnavailableError } from '../../ports/event-store.js';

/**
 * What an EventStoreDB client error means for the port, by outcome (see src/ports/event-store.ts).
 *
 * An append is sent once its stream's head has been read, so a transport failure during the append call
 * itself may come after the server received it: the server commits on its own clock, and a client-side
 * deadline, a dropped connection, or the leader's commit timeout (gRPC ABORTED, the client's TimeoutError;
 * or the batch append's `Timeout` detail, which the client turns into DeadlineExceededError) say nothing
 * about whether it landed. Only a follower's NotLeader answer proves nothing was written.
 */

// gRPC status codes (https://grpc.io/docs/guides/status-codes/) the client sometimes passes through raw.
const GRPC_UNKNOWN = 2;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_ABORTED = 10;
const GRPC_UNAVAILABLE = 14;

/** The server, a connection or a deadline failed: the call did not get an answer. */
export function isTransportError(error: unknown): boolean {
  if (
    error instanceof UnavailableError ||
    error instanceof NotLeaderError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError
  ) {
    return true;
  }
  const code = grpcCodeOf(error);
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED || code === GRPC_ABORTED;
}

/** The port's error for a failed read (nothing is ever written by one). */
export function readErrorOf(error: unknown, endpoint: string): unknown {
  if (error instanceof EventStoreUnavailableError || !isTransportError(error)) return error;
  return new EventStoreUnavailableError(`EventStoreDB at ${endpoint} is unavailable: ${messageOf(error)}`, {
    cause: error,
  });
}

/** The port's error for a failed append call (not a wrong expected version: the adapter handles those). */
export function appendErrorOf(error: unknown, endpoint: string, streamId: string): unknown {
  if (error instanceof MaxAppendSizeExceededError) {
    return new AppendRefusedError(
      'too_large',
      `EventStoreDB refused an append to ${streamId} over its MaxAppendSize of ${error.maxAppendSize} bytes`,
      { cause: error },
    );
  }
  if (error instanceof AccessDeniedError) {
    return new AppendRefusedError('access_denied', `EventStoreDB at ${endpoint} denied an append to ${streamId}`, {
      cause: error,
    });
  }
  if (error instanceof StreamDeletedError) {
    return new AppendRefusedError('stream_deleted', `stream ${streamId} was deleted in EventStoreDB`, {
      cause: error,
    });
  }
  if (error instanceof NotLeaderError) {
    // A follower refuses an append that needs the leader before writing anything.
    return new EventStoreUnavailableError(`EventStoreDB at ${endpoint} is not the leader: nothing was written`, {
      cause: error,
    });
  }
  if (isTransportError(error) || error instanceof UnknownError || grpcCodeOf(error) === GRPC_UNKNOWN) {
    return new AppendOutcomeUnknownError(
      `the append to ${streamId} at EventStoreDB ${endpoint} may or may not have been written: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return error;
}

function grpcCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'number' ? error.code : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
