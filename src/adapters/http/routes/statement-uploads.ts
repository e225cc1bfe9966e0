import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STATEMENT_PARSERS } from '../../reconciliation/statement-formats/statement-parsers.js';
import { commandContextOf } from '../idempotent-command.js';
import { SET_ASIDE_REASONS } from '../../../ports/statement-parser.js';
import type { LedgerService } from '../../ledger-service.js';
import { requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { reconDayParams } from './reconciliation.js';

/**
 * An operator uploads a channel statement obtained elsewhere, the way `ledger recon import` stores one:
 * parsed by its format, checked to be ours and whole, the day's lines replaced, the outcome recorded on
 * the day's stream. The file is the body (`application/octet-stream`), streamed to a file under
 * DATA_DIR/recon/uploads while it is hashed (the request's signature covers the body's SHA-256, so it can
 * only be checked once the whole body has come), then read from there by the parser, and removed when
 * the answer is sent. Never held in memory whole.
 */

/** Largest statement accepted: a million lines of a wide CSV is about 300 MB. */
export const STATEMENT_UPLOAD_MAX_BYTES = 512 * 1024 * 1024;
export const STATEMENT_UPLOAD_MEDIA_TYPE = 'application/octet-stream';

const idList = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/, 'comma-separated ids');

export const statementUploadQuery = z.strictObject({
  format: z.enum([...STATEMENT_PARSERS.keys()] as [string, ...string[]]).describe("The file's format"),
  merchantId: idList.describe('Our merchant number(s) or account at the channel, comma-separated'),
  appId: idList.optional().describe('Our app id(s) at the channel, where its lines name one (WeChat Pay)'),
});

export const storedStatementView = z
  .object({
    status: z.literal('stored'),
    fileSha256: z.string(),
    lineCount: z.int(),
    setAsideCount: z.int(),
    setAside: z
      .array(z.object({ sourceLine: z.int(), reason: z.enum(SET_ASIDE_REASONS), detail: z.string() }))
      .describe('The first 100 lines set aside (the count is whole)'),
  })
  .meta({
    id: 'StoredStatement',
    example: {
      status: 'stored',
      fileSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      lineCount: 4,
      setAsideCount: 1,
      setAside: [{ sourceLine: 4, reason: 'foreign_merchant', detail: 'merchant 1900000999 is not ours' }],
    },
  });

interface UploadedFile {
  readonly path: string;
  readonly bytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A body a route's parser streamed to a file: removed when the answer is sent. */
    uploadedFile?: UploadedFile;
  }
}

function tooLarge(): HttpProblem {
  return new HttpProblem(
    413,
    'body_too_large',
    'Body too large',
    `a statement upload is at most ${STATEMENT_UPLOAD_MAX_BYTES} bytes`,
  );
}

export function statementUploadRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const uploads = join(service.config.reconciliation.resultsDir, 'uploads');
  return async (app) => {
    app.addContentTypeParser(STATEMENT_UPLOAD_MEDIA_TYPE, (request, payload, done) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > STATEMENT_UPLOAD_MAX_BYTES) return done(tooLarge(), undefined);
      const path = join(uploads, `${randomUUID()}.part`);
      const hash = createHash('sha256');
      let bytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          bytes += chunk.length;
          if (bytes > STATEMENT_UPLOAD_MAX_BYTES) return next(tooLarge());
          hash.update(chunk);
          next(null, chunk);
        },
      });
      request.uploadedFile = { path, bytes: 0 };
      void mkdir(uploads, { recursive: true })
        .then(() => pipeline(payload, counted, createWriteStream(path)))
        .then(
          () => {
            request.uploadedFile = { path, bytes };
            request.bodySha256 = hash.digest('hex');
            done(null, { uploaded: bytes });
          },
          (error: unknown) => done(error instanceof HttpProblem ? error : (error as Error), undefined),
        );
    });
    app.addHook('onResponse', async (request) => {
      if (request.uploadedFile) await rm(request.uploadedFile.path, { force: true });
    });

    app.post(
      '/v1/reconciliation/statements/:channel/:date',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Upload a channel statement for a day',
          description: `A statement obtained elsewhere (the channel's merchant portal, its support), as the body (\`${STATEMENT_UPLOAD_MEDIA_TYPE}\`, at most ${STATEMENT_UPLOAD_MAX_BYTES} bytes, streamed; the signature covers its SHA-256 as any body's), stored exactly as \`ledger recon import\` stores one: parsed by \`format\`, every line checked to be ours, the day's lines replaced, recorded on the day's stream with the operator as importer. → 201 the lines stored and set aside. A file refused whole (not this format, another account's, its summary disagrees with its lines) is recorded too and answered 422 \`statement_refused\` with the reason; the day's lines stay as they were. Operators only.`,
          params: reconDayParams,
          querystring: statementUploadQuery,
          response: {
            201: storedStatementView,
            ...problemResponses('forbidden', 'statement_refused', 'body_too_large', 'unsupported_media_type'),
          },
        },
      },
      async (request, reply) => {
        const principal = requireOperator(request);
        const file = request.uploadedFile;
        if (!file || request.bodySha256 === undefined)
          throw new HttpProblem(
            415,
            'unsupported_media_type',
            'Unsupported media type',
            `send the statement file as the body, ${STATEMENT_UPLOAD_MEDIA_TYPE}`,
          );
        const { channel, date } = request.params;
        const { format, merchantId, appId } = request.query;
        const outcome = await service.statementImports.importFile(
          {
            channel,
            accountingDate: date,
            merchantIds: merchantId.split(','),
            appIds: appId === undefined ? [] : appId.split(','),
            format,
            parser: STATEMENT_PARSERS.get(format)!,
            bytes: createReadStream(file.path),
            source: 'import',
            importedBy: principal.entityId,
          },
          commandContextOf(request, service.clock),
        );
        if (outcome.status === 'rejected')
          throw new HttpProblem(422, 'statement_refused', 'Statement refused', `${outcome.reason}: ${outcome.detail}`, {
            details: { reason: outcome.reason, fileSha256: outcome.fileSha256 },
          });
        await reply.status(201).send({
          status: outcome.status,
          fileSha256: outcome.fileSha256,
          lineCount: outcome.lineCount,
          setAsideCount: outcome.setAsideCount,
          setAside: outcome.setAside.map(({ sourceLine, reason, detail }) => ({ sourceLine, reason, detail })),
        });
      },
    );
  };
}
