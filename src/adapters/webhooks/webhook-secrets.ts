import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readOrCreateKeyFile } from '../crypto/key-file.js';

/** Where the embedded default keeps its generated webhook key, under DATA_DIR. */
export const WEBHOOK_KEY_FILE = 'webhook-secret.key';
/** Bytes of the service's webhook key, and of each endpoint secret derived from it. */
const KEY_BYTES = 32;

/**
 * Endpoint signing secrets without storing any: secret(endpoint, version) = HMAC-SHA256(service key,
 * endpoint id and version), written the Standard Webhooks way (`whsec_` + base64 of 32 bytes). The events
 * record only the version; the secret is computed when a message is signed, and shown to the merchant
 * once, when it is made (registration, rotation). Whoever holds the service key can compute every
 * secret: it is configuration (WEBHOOK_SECRET_KEY), like a database password, never data.
 */
export class WebhookSecrets {
  private constructor(private readonly key: Buffer) {
    if (key.length < KEY_BYTES) throw new Error(`the webhook key must be at least ${KEY_BYTES} bytes`);
  }

  /**
   * From WEBHOOK_SECRET_KEY (base64) when configured: every instance sharing the stores must have the same.
   * Else the embedded default's key file under DATA_DIR, created (mode 0600) on first start.
   */
  static load(configuredKey: string | undefined, dataDir: string): WebhookSecrets {
    if (configuredKey !== undefined) return new WebhookSecrets(Buffer.from(configuredKey, 'base64'));
    const { text } = readOrCreateKeyFile(join(dataDir, WEBHOOK_KEY_FILE), () =>
      randomBytes(KEY_BYTES).toString('base64'),
    );
    return new WebhookSecrets(Buffer.from(text, 'base64'));
  }

  secretOf(endpointId: string, version: number): string {
    const bytes = createHmac('sha256', this.key).update(`webhook-secret\u0000${endpointId}\u0000${version}`).digest();
    return `whsec_${bytes.toString('base64')}`;
  }
}
