import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';

/**
 * Facts of one channel's statement for one accounting day (`reconday-<channel>:<date>`): each download
 * attempt that failed, with when the next one is due (null: given up, an operator must act), each file
 * stored (downloaded or imported by hand) and each file refused whole. A stuck or failed download is seen
 * on this stream and resumed from it.
 */
const channel = z.string().min(1).max(64);
const accountingDate = z.iso.date();
const format = z.string().min(1).max(64);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const source = z.enum(['download', 'import']);
const detail = z.string().max(500);

export const DOWNLOAD_FAILURES = ['not_ready', 'timeout', 'unavailable', 'declined', 'unknown_format'] as const;
export type DownloadFailure = (typeof DOWNLOAD_FAILURES)[number];

export const statementDownloadFailed = z.strictObject({
  type: z.literal('StatementDownloadFailed'),
  data: z.strictObject({
    channel,
    accountingDate,
    attempt: z.int().min(1),
    failure: z.enum(DOWNLOAD_FAILURES),
    detail,
    /** When the next attempt is due; null when the attempts are used up. */
    nextAttemptAt: utcInstant.nullable(),
    at: utcInstant,
  }),
});

export const statementStored = z.strictObject({
  type: z.literal('StatementStored'),
  data: z.strictObject({
    channel,
    accountingDate,
    source,
    format,
    fileSha256: sha256,
    lineCount: z.int().nonnegative(),
    setAsideCount: z.int().nonnegative(),
    /** Who imported it by hand (an operator's entity id); null for a download. */
    importedBy: z.string().max(64).nullable(),
    at: utcInstant,
  }),
});

export const statementRejected = z.strictObject({
  type: z.literal('StatementRejected'),
  data: z.strictObject({
    channel,
    accountingDate,
    source,
    format,
    fileSha256: sha256,
    /** A StatementRejection (statement-parser.ts). */
    reason: z.string().min(1).max(64),
    detail,
    importedBy: z.string().max(64).nullable(),
    at: utcInstant,
  }),
});

export const statementDayEventSchemas = [statementDownloadFailed, statementStored, statementRejected] as const;
export type StatementDayEvent = z.output<(typeof statementDayEventSchemas)[number]>;
