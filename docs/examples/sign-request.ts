import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signRequest } from 'ledger-core/client';

const keyId = process.env['LEDGER_KEY_ID'] ?? 'op-3a272dbb-a2a3-5d24-bc58-0e47901d0e87/1';
const keyFile = process.env['LEDGER_KEY_FILE'] ?? `./data/keys/${keyId.split('/')[0]}.pem`;
const privateKeyPem = readFileSync(keyFile, 'utf8');
const baseUrl = process.env['LEDGER_URL'] ?? 'http://127.0.0.1:3000';

async function post(pathWithQuery: string, payload: object) {
  const body = JSON.stringify(payload);
  const headers = signRequest({ method: 'POST', pathWithQuery, body, keyId, privateKeyPem });
  const response = await fetch(`${baseUrl}${pathWithQuery}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body, // exactly the string that was signed
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

// A wallet belongs to a registered user.
const user = await post('/v1/entities', { kind: 'user', displayName: 'Zhāng Wěi' });
const wallet = await post('/v1/accounts', { ownerId: user.json['entityId'], type: 'wallet', currency: 'CNY' });
console.log(wallet.status, wallet.json);
