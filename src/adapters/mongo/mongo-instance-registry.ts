import { MongoClient, type Collection } from 'mongodb';
import {
  checkInstanceId,
  checkRowLimit,
  MAX_INSTANCES_LISTED,
  type InstanceRecord,
  type InstanceRegistry,
} from '../../ports/instance-registry.js';
import { databaseNameOf, durableCollection } from './mongo-concerns.js';

export const INSTANCE_COLLECTION = 'service_instances';
const DEFAULT_DATABASE_NAME = 'ledger';
const SERVER_SELECTION_TIMEOUT_MS = 3_000;

interface InstanceDocument {
  _id: string;
  startedAt: Date;
  lastBeatAt: Date;
  endedAt: Date | null;
}

/**
 * The instance registry on MongoDB, shared by instances on any host: one document per instance, majority
 * writes and reads (mongo-concerns.ts), so a heartbeat or an end acknowledged is one every instance reads.
 * It cannot see processes (`processGone` is always false): a dead instance is known by its heartbeat
 * going stale. Heartbeats carry the writer's clock and are judged by the reader's: hosts' clocks must
 * agree to well within the staleness limit (NTP does).
 */
export class MongoInstanceRegistry implements InstanceRegistry {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly instances: Collection<InstanceDocument>,
  ) {}

  static async connect(url: string, databaseName?: string): Promise<MongoInstanceRegistry> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    try {
      await client.connect();
      const db = client.db(databaseName ?? databaseNameOf(url) ?? DEFAULT_DATABASE_NAME);
      const instances = durableCollection<InstanceDocument>(db, INSTANCE_COLLECTION);
      await instances.createIndexes([{ key: { lastBeatAt: -1 }, name: 'lastBeatAt_-1' }]);
      return new MongoInstanceRegistry(client, instances);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  async register(instanceId: string, now: Date): Promise<void> {
    checkInstanceId(instanceId);
    await this.instances.insertOne({ _id: instanceId, startedAt: now, lastBeatAt: now, endedAt: null });
  }

  async beat(instanceId: string, now: Date): Promise<boolean> {
    const result = await this.instances.updateOne({ _id: instanceId, endedAt: null }, [
      { $set: { lastBeatAt: { $max: ['$lastBeatAt', now] } } },
    ]);
    return result.matchedCount === 1;
  }

  async end(instanceId: string, now: Date): Promise<void> {
    await this.instances.updateOne({ _id: instanceId, endedAt: null }, { $set: { endedAt: now } });
  }

  async instance(instanceId: string): Promise<InstanceRecord | undefined> {
    const document = await this.instances.findOne({ _id: instanceId });
    return document ? recordOf(document) : undefined;
  }

  async list(maxInstances: number): Promise<InstanceRecord[]> {
    checkRowLimit('maxInstances', maxInstances, MAX_INSTANCES_LISTED);
    const documents = await this.instances
      .find({}, { sort: { lastBeatAt: -1, _id: 1 }, limit: maxInstances })
      .toArray();
    return documents.map(recordOf);
  }

  async purgeSilentSince(before: Date, maxRows: number): Promise<number> {
    checkRowLimit('maxRows', maxRows);
    // deleteMany has no limit: a bounded page of ids first.
    const page = await this.instances
      .find({ lastBeatAt: { $lt: before } }, { projection: { _id: 1 }, sort: { lastBeatAt: 1 }, limit: maxRows })
      .toArray();
    if (page.length === 0) return 0;
    const result = await this.instances.deleteMany({
      _id: { $in: page.map((document) => document._id) },
      lastBeatAt: { $lt: before },
    });
    return result.deletedCount;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function recordOf(document: InstanceDocument): InstanceRecord {
  return {
    instanceId: document._id,
    startedAt: document.startedAt,
    lastBeatAt: document.lastBeatAt,
    endedAt: document.endedAt,
    processGone: false,
  };
}
