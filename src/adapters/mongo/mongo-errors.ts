import {
  MongoBulkWriteError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoServerError,
  MongoWriteConcernError,
} from 'mongodb';

/**
 * What a MongoDB driver error means for a port, by outcome:
 *   - `refused`: the deployment will not do it whatever the retry (credentials, permissions, a document
 *     over 16 MiB, a bad URL or option): an operator has to act;
 *   - `unavailable`: nothing was written (no primary could be selected, the pool had no connection in
 *     time, a secondary refused the write, a transaction aborted): retry later;
 *   - `unknown`: a write may have been applied (a connection lost or a deadline hit after it was sent, a
 *     primary stepping down under it, a write concern that was not confirmed, a commit whose result was
 *     lost). A read never writes, so for reads `unknown` does not occur.
 * An error of no known class is left as it is (a bug, reported as such).
 *
 * The driver already retries a retryable write once on another primary; what reaches us has failed that.
 */
export type MongoOutcome = 'refused' | 'unavailable' | 'unknown';

/** Server error codes (https://www.mongodb.com/docs/manual/reference/error-codes/). */
const CODES = {
  BadValue: 2,
  HostUnreachable: 6,
  HostNotFound: 7,
  Unauthorized: 13,
  AuthenticationFailed: 18,
  MaxTimeMSExpired: 50,
  WriteConcernFailed: 64,
  UnknownReplWriteConcern: 79,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  UnsatisfiableWriteConcern: 100,
  PrimarySteppedDown: 189,
  ExceededTimeLimit: 262,
  AtlasError: 8000,
  SocketException: 9001,
  LegacyNotPrimary: 10058,
  NotWritablePrimary: 10107,
  BSONObjectTooLarge: 10334,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  DocumentTooLarge: 17419,
} as const;

/** The deployment refuses: credentials, permissions, sizes. Retrying changes nothing. */
const REFUSED_CODES: ReadonlySet<number> = new Set([
  CODES.Unauthorized,
  CODES.AuthenticationFailed,
  CODES.AtlasError,
  CODES.BSONObjectTooLarge,
  CODES.DocumentTooLarge,
]);
/** A node that is not (or no longer) the primary refused the operation before doing anything. */
const NOT_PRIMARY_CODES: ReadonlySet<number> = new Set([
  CODES.NotWritablePrimary,
  CODES.LegacyNotPrimary,
  CODES.NotPrimaryNoSecondaryOk,
  CODES.NotPrimaryOrSecondary,
]);
/** The operation was cut short (step-down, shutdown, a network fault or deadline on the server side). */
const INTERRUPTED_CODES: ReadonlySet<number> = new Set([
  CODES.PrimarySteppedDown,
  CODES.InterruptedDueToReplStateChange,
  CODES.InterruptedAtShutdown,
  CODES.ShutdownInProgress,
  CODES.HostUnreachable,
  CODES.HostNotFound,
  CODES.NetworkTimeout,
  CODES.SocketException,
  CODES.ExceededTimeLimit,
  CODES.MaxTimeMSExpired,
]);
const WRITE_CONCERN_CODES: ReadonlySet<number> = new Set([
  CODES.WriteConcernFailed,
  CODES.UnknownReplWriteConcern,
  CODES.UnsatisfiableWriteConcern,
]);
/** Driver errors raised before anything reached a server. */
const NOT_SENT_NAMES: ReadonlySet<string> = new Set([
  'MongoServerSelectionError',
  'MongoWaitQueueTimeoutError',
  'MongoPoolClosedError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoClientClosedError',
]);
/** Driver errors about the configuration or credentials. */
const REFUSED_NAMES: ReadonlySet<string> = new Set([
  'MongoParseError',
  'MongoInvalidArgumentError',
  'MongoMissingCredentialsError',
  'MongoMissingDependencyError',
  'MongoCompatibilityError',
  'MongoAWSError',
  'MongoAzureError',
  'MongoGCPError',
  'MongoKerberosError',
  'MongoOIDCError',
]);

export function classifyMongoError(error: unknown, operation: 'read' | 'write'): MongoOutcome | undefined {
  if (!(error instanceof MongoError)) return undefined;
  // A bulk write wraps a driver error it met (a lost connection) without its class or labels.
  const wrapped = error instanceof MongoBulkWriteError ? error.errorResponse : undefined;
  if (wrapped instanceof MongoError && wrapped !== error) return classifyMongoError(wrapped, operation);
  const write = operation === 'write';
  const code = typeof error.code === 'number' ? error.code : undefined;
  if (REFUSED_NAMES.has(error.name) || (code !== undefined && REFUSED_CODES.has(code))) return 'refused';
  if (NOT_SENT_NAMES.has(error.name)) return 'unavailable';
  if (error.hasErrorLabel(MongoErrorLabel.NoWritesPerformed)) return 'unavailable';
  if (error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult)) return write ? 'unknown' : 'unavailable';
  // Aborted: nothing of the transaction was committed.
  if (error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)) return 'unavailable';
  if (error instanceof MongoWriteConcernError || hasWriteConcernError(error)) return write ? 'unknown' : 'unavailable';
  if (code !== undefined && WRITE_CONCERN_CODES.has(code)) return write ? 'unknown' : 'unavailable';
  if (code !== undefined && NOT_PRIMARY_CODES.has(code)) return 'unavailable';
  if (error instanceof MongoNetworkError) return write && !beforeHandshake(error) ? 'unknown' : 'unavailable';
  if (error.name === 'MongoOperationTimeoutError') return write ? 'unknown' : 'unavailable';
  if (code !== undefined && INTERRUPTED_CODES.has(code)) return write ? 'unknown' : 'unavailable';
  if (error.hasErrorLabel(MongoErrorLabel.RetryableWriteError)) return write ? 'unknown' : 'unavailable';
  if (code === CODES.BadValue) return 'refused';
  return undefined;
}

/** The connection failed while it was being set up: nothing was sent on it. */
function beforeHandshake(error: MongoNetworkError): boolean {
  return (error as MongoNetworkError & { beforeHandshake?: boolean }).beforeHandshake === true;
}

/** A bulk or write error whose server reply carried a writeConcernError beside it. */
function hasWriteConcernError(error: MongoError): boolean {
  if (!(error instanceof MongoServerError)) return false;
  if ((error as MongoServerError & { writeConcernError?: unknown }).writeConcernError) return true;
  return error instanceof MongoBulkWriteError && error.result.getWriteConcernError() !== undefined;
}

/** For messages: what an outcome tells an operator. */
export function describeOutcome(outcome: MongoOutcome): string {
  switch (outcome) {
    case 'refused':
      return 'refused the operation (credentials, permissions or limits)';
    case 'unavailable':
      return 'is unavailable (nothing was written)';
    case 'unknown':
      return 'did not confirm the write (it may or may not have been applied)';
  }
}
