import fc from 'fast-check';

/**
 * Valid-looking values from the JSON Schemas of the OpenAPI document (which the service derives from its
 * zod schemas: the same rules validate the requests). Covers what zod's JSON Schema output uses in request
 * schemas: objects, arrays, strings (pattern, length, format), numbers, booleans, null, enum, const, anyOf.
 * Fields named like the ledger's own ids take ids of things that exist (`hints`), so a generated request
 * gets past "not found" to the deeper refusals.
 */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly additionalProperties?: boolean | JsonSchema;
}

/** Property name -> values that name real things of the fuzzed ledger (a wallet, a user). */
export type Hints = ReadonlyMap<string, readonly string[]>;

/** Nesting deeper than any request schema has: a recursive schema stops here. */
const MAX_DEPTH = 8;
/** Arrays are kept short: a valid-looking request is about its fields, the sizes layer does the long ones. */
const MAX_GENERATED_ITEMS = 3;
/** Free text is kept short too (the sizes layer makes it long). */
const MAX_GENERATED_LENGTH = 24;

export function schemaArbitrary(schema: JsonSchema, hints: Hints, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  const hinted = hints.get(name);
  if (hinted && hinted.length > 0) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...hinted) }, plain());
  return plain();

  function plain(): fc.Arbitrary<unknown> {
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const choices = schema.anyOf ?? schema.oneOf;
    if (choices) return fc.oneof(...choices.map((choice) => schemaArbitrary(choice, hints, name, depth + 1)));
    const type: string | undefined = typeof schema.type === 'string' ? schema.type : schema.type?.[0];
    switch (type) {
      case 'object':
        return objectArbitrary(schema, hints, depth);
      case 'array':
        return fc.array(schemaArbitrary(schema.items ?? {}, hints, name, depth + 1), {
          minLength: schema.minItems ?? 0,
          maxLength: Math.max(
            schema.minItems ?? 0,
            Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS),
          ),
        });
      case 'string':
        return stringArbitrary(schema);
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000_000 });
      case 'number':
        return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }
}

function objectArbitrary(schema: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties))
    record[key] = schemaArbitrary(property, hints, key, depth + 1);
  const required = (schema.required ?? []).filter((key) => key in properties);
  return fc.record(record, { requiredKeys: required });
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true })
        .map((date) => date.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress();
    case 'uri':
      return fc.webUrl();
    default:
      break;
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? Number.POSITIVE_INFINITY;
  if (schema.pattern !== undefined) {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((text) => text.length >= minLength && text.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, Math.max(minLength, MAX_GENERATED_LENGTH)) });
}
