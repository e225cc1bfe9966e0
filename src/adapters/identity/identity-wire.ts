import { z } from 'zod';
import { IDENTITY_ELEMENTS } from '../../ports/identity-verifier.js';

/**
 * The identity service's wire protocol, version 1 (the simulator speaks it, HttpIdentityVerifier calls
 * it): the channels' envelope (`ver`, `mch_id`, `data`; answers `ret_code`, `ret_msg`, `data`) and their
 * signing headers (HMAC-SHA256 over method, path, time, nonce and body hash; answers signed over the
 * request's nonce), with the service's own answer codes, as a provider's interface document lists them.
 */
export const IDENTITY_VERIFY_PATH = '/identity/v1/verify';

export const IDENTITY_CODES = {
  match: 'MATCH',
  mismatch: 'MISMATCH',
  noRecord: 'NO_RECORD',
  busy: 'BUSY',
  internalError: 'SYSTEM_ERROR',
  paramError: 'PARAM_ERROR',
  signatureInvalid: 'SIGNATURE_INVALID',
} as const;

export const identityVerifyRequest = z.strictObject({
  query_id: z.string().min(1).max(64),
  name: z.string().min(1).max(64),
  id_number: z.string().min(1).max(32),
  phone: z.string().min(5).max(20).optional(),
  card_no: z.string().min(12).max(19).optional(),
});
export type IdentityVerifyRequest = z.infer<typeof identityVerifyRequest>;

/** The element names on the wire are ours: the service was asked for them in this spelling. */
export const identityVerdict = z.strictObject({
  query_id: z.string(),
  mismatched: z.array(z.enum(IDENTITY_ELEMENTS)).optional(),
});
