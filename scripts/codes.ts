import { Command, InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import { Secret } from 'otpauth';
import { generatePaymentCode } from '../src/client/payment-codes/reference-client.js';
import { loadConfig } from '../src/config.js';

function integer(value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw new InvalidArgumentError('a whole number');
  return Number(value);
}

function instant(value: string): number {
  const at = DateTime.fromISO(value, { zone: 'utc' });
  if (!at.isValid) throw new InvalidArgumentError('an ISO 8601 instant, e.g. 2026-12-01T12:00:00Z');
  return at.toMillis();
}

/**
 * `ledger codes generate`: the code a seed shows at an instant, as the payer's app computes it (a reference
 * for app teams and a tool for operators). The public parameters (algorithm, time step, the prefix's
 * permutation key) come from the service's configuration unless given.
 */
export function codesCommand(): Command {
  const codes = new Command('codes').description('Offline payment codes');
  codes
    .command('generate')
    .description('Print the 18-digit payment code of a seed at an instant (default: now)')
    .requiredOption('--seed <base32>', 'the seed as the issuance answered it (RFC 4648 base32)')
    .requiredOption('--slot <slot>', "the seed's slot, as the issuance answered it", integer)
    .option('--prefix <prefix>', "the seed's prefix (default: PAYMENT_CODE_KEYS' newest)", integer)
    .option('--key <hex>', "the prefix's permutation key (default: from PAYMENT_CODE_KEYS)")
    .option('--at <instant>', 'the instant (ISO 8601)', instant)
    .option('--json', 'print the code with its step and the seconds it stays shown')
    .action((options: { seed: string; slot: number; prefix?: number; key?: string; at?: number; json?: boolean }) => {
      const config = loadConfig().paymentCodes;
      const prefix = options.prefix ?? config.issuePrefix;
      const key = options.key === undefined ? config.keys.get(prefix) : Buffer.from(options.key, 'hex');
      if (key === undefined) throw new InvalidArgumentError(`no permutation key for prefix ${prefix}: pass --key`);
      let seed: Uint8Array;
      try {
        seed = Secret.fromBase32(options.seed).bytes;
      } catch {
        throw new InvalidArgumentError('the seed is not base32');
      }
      const shown = generatePaymentCode({
        seed,
        slot: options.slot,
        prefix,
        atMs: options.at ?? Date.now(),
        parameters: { algorithm: config.algorithm, stepSeconds: config.stepSeconds, keys: new Map([[prefix, key]]) },
      });
      console.log(options.json ? JSON.stringify(shown) : shown.code);
    });
  return codes;
}
