import { createRequire } from 'node:module';
import {
  MongoBulkWriteError,
  MongoClient,
  MongoErrorLabel,
  MongoMissingCredentialsError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  TopologyType,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { durableCollection } from '../../src/adapters/mongo/mongo-concerns.js';
import { classifyMongoError, type MongoOutcome } from '../../src/adapters/mongo/mongo-errors.js';
import { MongoNonceRegistry, nonceErrorOf } from '../../src/adapters/mongo/mongo-nonce-registry.js';
import { MongoReadModelStore, readModelErrorOf } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { NonceRegistryRefusedError, NonceRegistryUnavailableError } from '../../src/ports/nonce-registry.js';
import {
  ReadModelStoreRefusedError,
  ReadModelStoreUnavailableError,
  ReadModelWriteUnknownError,
} from '../../src/ports/read-model-store.js';

/**
 * MongoDB driver errors, each built as the driver builds it (from the server's reply document, or with
 * the driver's own classes, internal ones through its modules), and the outcome each one means for a read
 * and for a write. No server is involved: this is the mapping, not storage behaviour.
 */
const driver = createRequire(import.meta.url);
const { WaitQueueTimeoutError } = driver('mongodb/lib/cmap/errors.js') as {
  WaitQueueTimeoutError: new (message: string, address: string) => Error;
};
const { BulkWriteResult, WriteConcernError } = driver('mongodb/lib/bulk/common.js') as {
  BulkWriteResult: new (bulkResult: object, isOrdered: boolean) => object;
  WriteConcernError: new (error: object) => object;
};
const { TopologyDescription } = driver('mongodb/lib/sdam/topology_description.js') as {
  TopologyDescription: new (type: string) => object;
};

/** A server reply as the wire protocol gives it to MongoServerError. */
function serverError(code: number, codeName: string, errorLabels: string[] = []): MongoServerError {
  return new MongoServerError({ ok: 0, code, codeName, errmsg: `${codeName} (test)`, errorLabels });
}

function bulkResult(writeConcernErrors: object[]): object {
  return new BulkWriteResult(
    {
      ok: 1,
      writeErrors: [],
      writeConcernErrors,
      insertedIds: [],
      nInserted: 0,
      nUpserted: 0,
      nMatched: 1,
      nModified: 1,
      nRemoved: 0,
      upserted: [],
    },
    false,
  );
}

const withLabel = <E extends MongoNetworkError>(error: E, label: string): E => {
  error.addErrorLabel(label);
  return error;
};

const cases: Array<[string, unknown, { read: MongoOutcome | undefined; write: MongoOutcome | undefined }]> = [
  [
    'NotWritablePrimary (10107)',
    serverError(10107, 'NotWritablePrimary', ['RetryableWriteError']),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'PrimarySteppedDown (189)',
    serverError(189, 'PrimarySteppedDown', ['RetryableWriteError']),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'InterruptedDueToReplStateChange (11602)',
    serverError(11602, 'InterruptedDueToReplStateChange', ['RetryableWriteError']),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a retry that performed no writes (NoWritesPerformed)',
    serverError(189, 'PrimarySteppedDown', ['RetryableWriteError', 'NoWritesPerformed']),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'a write concern timeout (MongoWriteConcernError, 64)',
    new MongoWriteConcernError({
      ok: 1,
      n: 1,
      writeConcernError: {
        code: 64,
        codeName: 'WriteConcernTimeout',
        errmsg: 'waiting for replication timed out',
        errInfo: { wtimeout: true },
      },
    }),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a bulk write whose write concern failed',
    new MongoBulkWriteError(
      new WriteConcernError({ code: 64, errmsg: 'waiting for replication timed out' }) as never,
      bulkResult([new WriteConcernError({ code: 64, errmsg: 'waiting for replication timed out' })]) as never,
    ),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a bulk write cut by a lost connection',
    new MongoBulkWriteError(new MongoNetworkError('connection 4 to db1:27017 closed'), bulkResult([]) as never),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a lost connection (MongoNetworkError)',
    new MongoNetworkError('connection 3 to db1:27017 closed'),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a socket timeout (MongoNetworkTimeoutError)',
    new MongoNetworkTimeoutError('connection 3 to db1:27017 timed out'),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a connection that failed before its handshake',
    new MongoNetworkError('connect ECONNREFUSED', { beforeHandshake: true }),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'no server selected (MongoServerSelectionError)',
    new MongoServerSelectionError(
      'Server selection timed out after 3000 ms',
      new TopologyDescription(TopologyType.ReplicaSetNoPrimary) as never,
    ),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'no pooled connection in time (MongoWaitQueueTimeoutError)',
    new WaitQueueTimeoutError('Timed out while checking out a connection from connection pool', 'db1:27017'),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'a closed client (MongoTopologyClosedError)',
    new MongoTopologyClosedError(),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'a client-side operation timeout (MongoOperationTimeoutError)',
    new MongoOperationTimeoutError('Timed out during operation execution'),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'withTransaction giving up on a write conflict (TransientTransactionError)',
    serverError(112, 'WriteConflict', ['TransientTransactionError']),
    { read: 'unavailable', write: 'unavailable' },
  ],
  [
    'withTransaction giving up on a commit (UnknownTransactionCommitResult)',
    serverError(50, 'MaxTimeMSExpired', ['UnknownTransactionCommitResult']),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'a commit whose connection was lost (the driver adds UnknownTransactionCommitResult)',
    withLabel(new MongoNetworkError('connection closed'), MongoErrorLabel.UnknownTransactionCommitResult),
    { read: 'unavailable', write: 'unknown' },
  ],
  [
    'wrong credentials (AuthenticationFailed, 18)',
    serverError(18, 'AuthenticationFailed'),
    { read: 'refused', write: 'refused' },
  ],
  ['no permission (Unauthorized, 13)', serverError(13, 'Unauthorized'), { read: 'refused', write: 'refused' }],
  [
    'missing credentials',
    new MongoMissingCredentialsError('Username required for mechanism SCRAM-SHA-256'),
    { read: 'refused', write: 'refused' },
  ],
  ['a bad URL', new MongoParseError('Invalid scheme'), { read: 'refused', write: 'refused' }],
  ['a duplicate key (the adapters decide)', serverError(11000, 'DuplicateKey'), { read: undefined, write: undefined }],
  ["an error that is not the driver's", new TypeError('bug'), { read: undefined, write: undefined }],
];

describe('MongoDB driver errors by outcome', () => {
  for (const [name, error, expected] of cases) {
    it(`${name}: read ${String(expected.read)}, write ${String(expected.write)}`, () => {
      expect(classifyMongoError(error, 'read')).toBe(expected.read);
      expect(classifyMongoError(error, 'write')).toBe(expected.write);
    });
  }
});

describe("the ports' errors for them", () => {
  it('read-model store: refused, unavailable, unknown; others left as they are', () => {
    expect(readModelErrorOf(serverError(18, 'AuthenticationFailed'), 'read', 'db1')).toBeInstanceOf(
      ReadModelStoreRefusedError,
    );
    expect(readModelErrorOf(serverError(10107, 'NotWritablePrimary'), 'write', 'db1')).toBeInstanceOf(
      ReadModelStoreUnavailableError,
    );
    const unknown = readModelErrorOf(serverError(189, 'PrimarySteppedDown'), 'write', 'db1');
    expect(unknown).toBeInstanceOf(ReadModelWriteUnknownError);
    // A caller that only knows "retry later" still retries it.
    expect(unknown).toBeInstanceOf(ReadModelStoreUnavailableError);
    const bug = new TypeError('bug');
    expect(readModelErrorOf(bug, 'write', 'db1')).toBe(bug);
  });

  it('nonce registry: an unconfirmed or failed claim refuses the request', () => {
    expect(nonceErrorOf(serverError(189, 'PrimarySteppedDown'), 'write')).toBeInstanceOf(NonceRegistryUnavailableError);
    expect(nonceErrorOf(serverError(18, 'AuthenticationFailed'), 'write')).toBeInstanceOf(NonceRegistryRefusedError);
  });
});

describe('MongoDB concerns', () => {
  it('asks for majority writes and reads on the primary, whatever the URL says', async () => {
    // Not connected: a collection's concerns are settled when it is created from the database handle.
    const client = new MongoClient(
      'mongodb://db1:27017,db2:27017,db3:27017/ledger?replicaSet=rs0&w=1&readConcernLevel=local&readPreference=secondaryPreferred',
    );
    const plain = client.db().collection('balances');
    expect(plain.writeConcern?.w).toBe(1);
    const durable = durableCollection(client.db(), 'balances');
    expect(durable.writeConcern?.w).toBe('majority');
    expect(durable.writeConcern?.journal).toBe(true);
    expect(durable.writeConcern?.wtimeoutMS).toBe(10_000);
    expect(durable.readConcern?.level).toBe('majority');
    expect(durable.readPreference?.mode).toBe('primary');
    await client.close();
  });
});

describe('connecting', () => {
  it('says refused, not unreachable, for a URL the driver rejects or credentials it cannot use', async () => {
    for (const url of ['mongodb://db1:27017/ledger?notAnOption=1', 'mongodb://db1:27017/ledger?authMechanism=PLAIN']) {
      await expect(MongoReadModelStore.connect(url)).rejects.toBeInstanceOf(ReadModelStoreRefusedError);
      await expect(MongoNonceRegistry.connect(url)).rejects.toBeInstanceOf(NonceRegistryRefusedError);
    }
  });

  it('says unreachable when no server answers', async () => {
    // Port 1 on the loopback: refused at once, so server selection gives up after its timeout.
    const url = 'mongodb://127.0.0.1:1/ledger';
    const error = await MongoReadModelStore.connect(url, { serverSelectionTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadModelStoreUnavailableError);
    expect(error).not.toBeInstanceOf(ReadModelStoreRefusedError);
    expect((error as Error).message).toMatch(/unreachable/);
    await expect(MongoNonceRegistry.connect(url, { serverSelectionTimeoutMs: 200 })).rejects.toBeInstanceOf(
      NonceRegistryUnavailableError,
    );
  });
});
