import { describe } from 'vitest';
import { MongoInstanceRegistry } from '../../src/adapters/mongo/mongo-instance-registry.js';
import { instanceRegistryContract } from './instance-registry.contract.js';

/**
 * The instance registry contract against MongoDB. Runs when MONGODB_URL is set; otherwise reported as
 * skipped, without connecting.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  instanceRegistryContract('mongo', () => MongoInstanceRegistry.connect(url!));
});
