import { isDeepStrictEqual } from 'node:util';
import type { JsonValue } from '../domain/shared/json.js';

/** One field whose stored and replayed values differ. A side that lacks the field has no key. */
export interface FieldDifference {
  /** Dotted path from the document's top level ("balanceMinor", "limits.daily"). */
  readonly field: string;
  readonly stored?: JsonValue;
  readonly replayed?: JsonValue;
}

/**
 * Field-level differences between two documents: objects are compared key by key, recursively, so a
 * report names the exact field; arrays and scalars are compared as whole values.
 */
export function diffFields(
  stored: JsonValue | undefined,
  replayed: JsonValue | undefined,
  path = '',
): FieldDifference[] {
  if (isPlainObject(stored) && isPlainObject(replayed)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(replayed)])].sort();
    return keys.flatMap((key) => diffFields(stored[key], replayed[key], path === '' ? key : `${path}.${key}`));
  }
  if (isDeepStrictEqual(stored, replayed)) return [];
  return [
    { field: path, ...(stored === undefined ? {} : { stored }), ...(replayed === undefined ? {} : { replayed }) },
  ];
}

function isPlainObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
