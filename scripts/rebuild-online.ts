import { readFileSync } from 'node:fs';
import { LedgerClient } from '../src/client/ledger-client.js';
import type { ProjectionRebuildAnswer } from '../src/client/api-types.js';

/**
 * `ledger projections rebuild <name|all>`: asks the running service for an online rebuild (POST
 * /v1/projections/{name}/rebuild, signed as an operator) and, with `wait`, follows its progress (GET
 * /v1/projections/rebuild) until it is switched in or fails. The service must be the instance holding the
 * projections lease. Signs as scripts/signed-curl.sh does: LEDGER_URL (default http://127.0.0.1:3000),
 * LEDGER_KEY_ID (<entityId>/<keyNo>) and LEDGER_KEY_FILE (the private key PEM).
 */

/** How often `wait` asks for progress; and for how long at most (a rebuild of a large log takes minutes). */
const POLL_INTERVAL_MS = 1_000;
const MAX_WAIT_MS = 6 * 60 * 60_000;

type RebuildView = NonNullable<ProjectionRebuildAnswer['rebuild']>;

export async function rebuildOnline(
  name: string,
  options: { readonly wait: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<RebuildView> {
  const keyId = env['LEDGER_KEY_ID'];
  const keyFile = env['LEDGER_KEY_FILE'];
  if (!keyId || !keyFile)
    throw new Error('set LEDGER_KEY_ID (<entityId>/<keyNo>) and LEDGER_KEY_FILE (an operator key)');
  const client = new LedgerClient({
    baseUrl: env['LEDGER_URL'] ?? 'http://127.0.0.1:3000',
    keyId,
    privateKeyPem: readFileSync(keyFile, 'utf8'),
  });
  let view = (await client.rebuildProjection(name)).rebuild!;
  console.log(describe(view));
  const deadline = Date.now() + MAX_WAIT_MS;
  while (options.wait && view.finishedAt === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    view = (await client.getProjectionRebuild()).rebuild!;
    console.log(describe(view));
  }
  if (view.phase === 'failed') throw new Error(`the rebuild failed: ${view.error ?? 'no reason given'}`);
  return view;
}

function describe(view: RebuildView): string {
  const progress = view.position === null ? '' : ` ${view.position}/${view.head ?? '?'}`;
  return `rebuild ${view.projections.join(', ')}: ${view.current ?? 'finished'} ${view.phase}${progress} (switched: ${view.switched.join(', ') || 'none yet'})`;
}
