import { describe } from 'vitest';
import { MongoNonceRegistry } from '../../src/adapters/mongo/mongo-nonce-registry.js';
import { nonceRegistryContract } from './nonce-registry.contract.js';

/**
 * The nonce registry contract against MongoDB. Runs when MONGODB_URL is set; otherwise reported as
 * skipped, without connecting.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  nonceRegistryContract('mongo', () => MongoNonceRegistry.connect(url!));
});
