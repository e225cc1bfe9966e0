import fc from 'fast-check';
import type { FuzzRoute } from './route-catalogue.js';
import { schemaArbitrary, type Hints } from './schema-arbitrary.js';

/**
 * The requests of the hostile-input fuzz, by the layer they attack. Each starts from a valid-looking
 * request of one route of the OpenAPI document (path, query and body generated from its schemas) and
 * breaks one layer of it; signing happens when it is sent (a fresh timestamp and nonce), over the exact
 * bytes sent, so a signed malformed request gets past authentication to the layer it attacks.
 */
export const INJECTED_LAYERS = [
  'valid',
  'headers',
  'json',
  'types',
  'amounts',
  'ids',
  'queries',
  'sizes',
  'encodings',
] as const;
export type InjectedLayer = (typeof INJECTED_LAYERS)[number];
export type Layer = InjectedLayer | 'framing';

export type HeaderValue = string | readonly string[];

export interface InjectedCase {
  readonly layer: InjectedLayer;
  /** `POST /v1/recharges`: the OpenAPI operation it started from. */
  readonly route: string;
  /** What was broken, for a failure's report. */
  readonly what: string;
  readonly method: string;
  /** Path and query exactly as sent (and signed). */
  readonly url: string;
  readonly body: Buffer | undefined;
  /** Headers besides the signature (content type, Idempotency-Key, X-Request-Id, ...). */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly signed: boolean;
  /** Edits of the signature headers after signing; null removes one. */
  readonly afterSigning: Readonly<Record<string, HeaderValue | null>>;
}

/** A valid-looking request of one route, before any layer is broken. */
interface BaseRequest {
  readonly route: FuzzRoute;
  readonly pathValues: Readonly<Record<string, string>>;
  readonly query: readonly (readonly [string, string])[];
  readonly body: unknown;
  readonly signed: boolean;
  readonly idempotencyKey: string;
}

// ---------------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------------

/** Amount strings the API must refuse (or take exactly): exponents, signs, too many decimals, other digits. */
export const HOSTILE_AMOUNTS: readonly unknown[] = [
  '1e3',
  '1E3',
  '-0',
  '-0.00',
  '0.001',
  '1.005',
  '-1',
  '-1.00',
  '+1',
  '1.',
  '.5',
  '01',
  '00.10',
  '1,00',
  '1 000',
  ' 1.00',
  '1.00 ',
  '１２', // fullwidth digits
  '٣٤', // Arabic-Indic digits
  '१२', // Devanagari digits
  '9'.repeat(40),
  '99999999999999999999.99',
  '18446744073709551616',
  '9223372036854775808',
  '0',
  '0.00',
  '1_000',
  '0x10',
  'NaN',
  'Infinity',
  '',
  '1.00\u0000',
  12.34,
  0,
  -0,
  1e21,
  true,
  null,
  [],
  {},
];

/** Identifiers no route has: over-long, other scripts, traversal, raw and double %-escapes, injection text. */
export const HOSTILE_IDS: readonly string[] = [
  'x'.repeat(65),
  '1'.repeat(99),
  '1'.repeat(101),
  'a'.repeat(5_000),
  '../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '%252e%252e%252f',
  '%zz',
  '%',
  '%0',
  '%00',
  '%ff%fe',
  '%c0%af',
  '%u002e',
  'ａｃｃｏｕｎｔ',
  '١٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥',
  '💳💳💳',
  'u-\u202etxt.exe',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  ' ',
  '%20',
  "'; DROP TABLE events;--",
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '-1',
  '0',
  '1e16',
  '1010000000000001',
  '1010000000000000',
  '0000000000000000',
];

const HOSTILE_QUERY_VALUES: readonly string[] = [
  '-1',
  '0',
  '1e3',
  'abc',
  '',
  '9'.repeat(30),
  '18446744073709551616',
  '99999999999',
  '%zz',
  '2026-13-45',
  '2026-02-30T25:61:00Z',
  'null',
  '[]',
  '１０',
  'a'.repeat(5_000),
  'desc;DROP',
  '*',
];

const HOSTILE_REQUEST_IDS: readonly HeaderValue[] = [
  'r'.repeat(201),
  'r'.repeat(1_000),
  'r'.repeat(8_000),
  'has spaces in it',
  ' ',
  '\t',
  latin1Of('ünïcödé-id'),
  latin1Of('💳'),
  'id\u007f',
  ['one', 'two'],
];

const HOSTILE_IDEMPOTENCY_KEYS: readonly HeaderValue[] = [
  '',
  ' ',
  'k'.repeat(201),
  'k'.repeat(300),
  'k'.repeat(10_000),
  latin1Of('ключ'),
  'key with spaces',
  ['key-a', 'key-b'],
];

const HOSTILE_CONTENT_TYPES: readonly (string | null)[] = [
  null,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/jsonx',
  'application/problem+json',
  '*/*',
  'application/json, text/html',
  'application/json; boundary=',
  ';;;',
];

const SIGNATURE_HEADER_NAMES = ['x-ledger-key-id', 'x-ledger-timestamp', 'x-ledger-nonce', 'x-ledger-signature'];

/** A header value as a raw socket would carry UTF-8 text: its bytes, one latin1 character each. */
function latin1Of(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

// ---------------------------------------------------------------------------------------------------
// Valid-looking requests from the OpenAPI document
// ---------------------------------------------------------------------------------------------------

function baseRequest(route: FuzzRoute, hints: Hints): fc.Arbitrary<BaseRequest> {
  const pathValues = fc.record(
    Object.fromEntries(
      route.pathParams.map((param) => [
        param.name,
        schemaArbitrary(param.schema, hints, param.name).map((value) => String(value)),
      ]),
    ),
  );
  const query = fc.tuple(
    ...route.queryParams.map((param) =>
      param.required
        ? schemaArbitrary(param.schema, hints, param.name).map((value) => [[param.name, String(value)] as const])
        : fc.option(
            schemaArbitrary(param.schema, hints, param.name).map((value) => [[param.name, String(value)] as const]),
            { freq: 2, nil: [] },
          ),
    ),
  );
  const body = route.body ? schemaArbitrary(route.body, hints) : fc.constant(undefined);
  return fc
    .record({
      pathValues,
      query: query.map((parts) => parts.flat()),
      body,
      // Exempt routes take no signature: they are sent as they are (signedMostly decides for the others).
      signed: fc.constant(!route.exempt),
      idempotencyKey: fc.uuid(),
    })
    .map((parts) => ({ route, ...parts }));
}

/** Signed four times in five: most requests must get past authentication to reach what they attack. */
function signedMostly(base: fc.Arbitrary<BaseRequest>): fc.Arbitrary<BaseRequest> {
  return fc
    .tuple(base, fc.integer({ min: 0, max: 4 }))
    .map(([request, roll]) => ({ ...request, signed: !request.route.exempt && roll > 0 }));
}

function urlOf(route: FuzzRoute, pathValues: Readonly<Record<string, string>>, query: BaseRequest['query']): string {
  const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeSegment(pathValues[name] ?? ''));
  if (query.length === 0) return path;
  return `${path}?${query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeQueryValue(value)}`).join('&')}`;
}

/** A hostile id keeps its own %-escapes and slashes (that is the attack); anything else is escaped. */
function encodeSegment(value: string): string {
  return /[%/]/.test(value) && /^[\x21-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

function encodeQueryValue(value: string): string {
  return value.startsWith('%') ? value : encodeURIComponent(value);
}

function caseOf(
  base: BaseRequest,
  layer: InjectedLayer,
  what: string,
  changes: Partial<InjectedCase> = {},
): InjectedCase {
  const body = base.body === undefined ? undefined : Buffer.from(JSON.stringify(base.body), 'utf8');
  const headers: Record<string, HeaderValue> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (base.route.takesIdempotencyKey) headers['idempotency-key'] = base.idempotencyKey;
  return {
    layer,
    route: `${base.route.method} ${base.route.path}`,
    what,
    method: base.route.method,
    url: urlOf(base.route, base.pathValues, base.query),
    body,
    headers,
    signed: base.signed,
    afterSigning: {},
    ...changes,
  };
}

// ---------------------------------------------------------------------------------------------------
// The layers
// ---------------------------------------------------------------------------------------------------

function validCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  return fc.constant(caseOf(base, 'valid', 'as generated from the schemas'));
}

function headersCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const valid = caseOf(base, 'headers', '');
  const withHeader = (name: string, value: HeaderValue | null, what: string): InjectedCase => {
    const headers = { ...valid.headers };
    if (value === null) delete headers[name];
    else headers[name] = value;
    return { ...valid, headers, what };
  };
  const afterSigning = (name: string, value: HeaderValue | null, what: string): InjectedCase => ({
    ...valid,
    signed: !base.route.exempt,
    afterSigning: { [name]: value },
    what,
  });
  return fc.oneof(
    fc.constantFrom(...HOSTILE_REQUEST_IDS).map((id) => withHeader('x-request-id', id, `X-Request-Id ${describe(id)}`)),
    fc
      .constantFrom<HeaderValue | null>(null, ...HOSTILE_IDEMPOTENCY_KEYS)
      .map((key) => withHeader('idempotency-key', key, `Idempotency-Key ${describe(key)}`)),
    fc
      .constantFrom(...HOSTILE_CONTENT_TYPES)
      .map((type) => withHeader('content-type', type, `Content-Type ${describe(type)}`)),
    fc
      .constantFrom('gzip', 'br', 'deflate', 'identity, gzip', 'x-unknown')
      .map((encoding) => withHeader('content-encoding', encoding, `Content-Encoding ${encoding}`)),
    fc
      .tuple(
        fc.constantFrom(...SIGNATURE_HEADER_NAMES),
        fc.constantFrom<'missing' | 'duplicated' | 'oversized' | 'empty' | 'altered'>(
          'missing',
          'duplicated',
          'oversized',
          'empty',
          'altered',
        ),
      )
      .map(([name, how]) =>
        afterSigning(
          name,
          how === 'missing'
            ? null
            : how === 'duplicated'
              ? ['\u0000same', '\u0000same']
              : how === 'oversized'
                ? 'a'.repeat(10_000)
                : how === 'empty'
                  ? ''
                  : '\u0000altered',
          `${name} ${how}`,
        ),
      ),
    fc
      .constantFrom(
        '2000-01-01T00:00:00Z',
        '2999-01-01T00:00:00Z',
        'yesterday',
        '2026-11-21T10:00:00+08:00',
        '1700000000',
      )
      .map((timestamp) => afterSigning('x-ledger-timestamp', timestamp, `X-Ledger-Timestamp ${timestamp}`)),
    fc
      .constantFrom('op-unknown/1', 'x/0', '/', 'm-0000000000/1001', 'op-//1', '../1', latin1Of('ü/1'))
      .map((keyId) => afterSigning('x-ledger-key-id', keyId, `X-Ledger-Key-Id ${keyId}`)),
    fc.integer({ min: 100, max: 300 }).map((count) => ({
      ...valid,
      headers: {
        ...valid.headers,
        ...Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-filler-${i}`, 'v'.repeat(50)])),
      },
      what: `${count} extra headers`,
    })),
  );
}

/** `\u0000same`/`\u0000altered` mark edits of the real signature value, made when it is known. */
export function editedSignatureValue(edit: HeaderValue, real: string): HeaderValue {
  if (typeof edit !== 'string') return edit.map((value: string) => editedSignatureValue(value, real) as string);
  if (edit === '\u0000same') return real;
  if (edit === '\u0000altered') return `${real.slice(0, -2)}${real.endsWith('AA') ? 'BB' : 'AA'}`;
  return edit;
}

function jsonCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const text = JSON.stringify(base.body ?? {});
  const firstKey = base.body && typeof base.body === 'object' ? Object.keys(base.body)[0] : undefined;
  const bytes = (what: string, body: Buffer | string) =>
    caseOf(base, 'json', what, {
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      headers: { ...caseOf(base, 'json', '').headers, 'content-type': 'application/json' },
    });
  const withField = (raw: string) => (text === '{}' ? `{${raw}}` : `${text.slice(0, -1)},${raw}}`);
  return fc.oneof(
    fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => bytes(`truncated at ${cut}`, text.slice(0, cut))),
    fc
      .constantFrom(100, 1_000, 10_000, 30_000)
      .map((depth) => bytes(`arrays nested ${depth} deep`, `${'['.repeat(depth)}${']'.repeat(depth)}`)),
    fc
      .constantFrom(1_000, 5_000)
      .map((depth) => bytes(`objects nested ${depth} deep`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
    fc
      .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '1E+999', '0.0000000000000000000001')
      .map((number) => bytes(`a huge number ${number}`, withField(`"amount":${number},"n":${number}`))),
    fc.constant(
      bytes(
        'a duplicated key',
        firstKey === undefined ? '{"a":1,"a":2}' : withField(`${JSON.stringify(firstKey)}:"duplicate-value"`),
      ),
    ),
    fc.constant(bytes('a byte-order mark', `\ufeff${text}`)),
    fc
      .constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80])
      .map((invalid) =>
        bytes(
          `invalid UTF-8 ${Buffer.from(invalid).toString('hex')}`,
          Buffer.concat([
            Buffer.from(withField('"memo":"'), 'utf8').subarray(0, -2),
            Buffer.from(invalid),
            Buffer.from('"}'),
          ]),
        ),
      ),
    fc.constant(bytes('a lone surrogate escape', withField('"memo":"\\ud800"'))),
    fc
      .constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '"text"',
        '0',
        '{',
        '}',
        "{'a':1}",
        '{"a":1,}',
        'NaN',
        '{"a":NaN}',
        '{"a":undefined}',
        '\u0000',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
      )
      .map((body) => bytes(`the body ${JSON.stringify(body)}`, body)),
  );
}

/** Paths of an object's fields, with their parents, for the types layer. */
function fieldPaths(value: unknown, prefix: readonly (string | number)[] = []): (readonly (string | number)[])[] {
  if (value === null || typeof value !== 'object') return prefix.length > 0 ? [prefix] : [];
  const children = Array.isArray(value)
    ? value.flatMap((child, index) => fieldPaths(child, [...prefix, index]))
    : Object.entries(value).flatMap(([key, child]) => fieldPaths(child, [...prefix, key]));
  return prefix.length > 0 ? [prefix, ...children] : children;
}

function replacedAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    if (rest.length === 0 && replacement === REMOVE) copy.splice(head as number, 1);
    else copy[head as number] = replacedAt(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && replacement === REMOVE) delete copy[head as string];
  else copy[head as string] = replacedAt(copy[head as string], rest, replacement);
  return copy;
}
const REMOVE = Symbol('remove');

const OTHER_TYPES: readonly unknown[] = [0, -1, 1.5, 1e300, true, false, null, [], [1, 2], {}, { a: 1 }, 'text', ''];

function typesCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const paths = fieldPaths(base.body);
  const extra = fc
    .constantFrom<[string, unknown]>(
      ['extra', 1],
      ['accountId2', '1'],
      ['status', 'closed'],
      ['', ''],
      ['a'.repeat(300), 1],
    )
    .map(([key, value]) =>
      caseOf(
        { ...base, body: { ...(base.body as object), [key]: value } },
        'types',
        `an extra field ${JSON.stringify(key.slice(0, 20))}`,
      ),
    );
  if (paths.length === 0) return extra;
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom(...OTHER_TYPES))
      .map(([path, replacement]) =>
        caseOf(
          { ...base, body: replacedAt(base.body, path, replacement) },
          'types',
          `${path.join('.')} = ${JSON.stringify(replacement)}`,
        ),
      ),
    fc
      .constantFrom(...paths)
      .map((path) =>
        caseOf({ ...base, body: replacedAt(base.body, path, REMOVE) }, 'types', `${path.join('.')} missing`),
      ),
    extra,
    fc.constant(caseOf({ ...base, body: [base.body] }, 'types', 'the body in an array')),
  );
}

const AMOUNT_FIELD = /amount|overdraftLimit|fare|limit$/i;

function amountsCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const paths = fieldPaths(base.body).filter((path) => AMOUNT_FIELD.test(String(path[path.length - 1])));
  const where = paths.length > 0 ? paths : [['amount']];
  return fc
    .tuple(fc.constantFrom(...where), fc.constantFrom(...HOSTILE_AMOUNTS))
    .map(([path, amount]) =>
      caseOf(
        { ...base, body: replacedAt(base.body ?? {}, path, amount) },
        'amounts',
        `${path.join('.')} = ${JSON.stringify(amount)?.slice(0, 40)}`,
      ),
    );
}

const ID_FIELD = /Id$|^id$|No$/;

function idsCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const names = base.route.pathParams.map((param) => param.name);
  const bodyPaths = fieldPaths(base.body).filter((path) => ID_FIELD.test(String(path[path.length - 1])));
  const inPath =
    names.length === 0
      ? []
      : [
          fc
            .tuple(fc.constantFrom(...names), fc.constantFrom(...HOSTILE_IDS))
            .map(([name, id]) =>
              caseOf(
                { ...base, pathValues: { ...base.pathValues, [name]: id } },
                'ids',
                `path ${name} = ${id.slice(0, 40)}`,
              ),
            ),
        ];
  const inBody =
    bodyPaths.length === 0
      ? []
      : [
          fc
            .tuple(fc.constantFrom(...bodyPaths), fc.constantFrom(...HOSTILE_IDS))
            .map(([path, id]) =>
              caseOf(
                { ...base, body: replacedAt(base.body, path, id) },
                'ids',
                `body ${path.join('.')} = ${id.slice(0, 40)}`,
              ),
            ),
        ];
  const pathEdits = fc
    .constantFrom('/../', '//', '/./', '/%2e%2e/', '/%2F', '%00', '/', '?', '#frag', ';jsessionid=1')
    .map((edit) => {
      const valid = caseOf(base, 'ids', '');
      const [path = '', query] = valid.url.split('?');
      const cut = path.lastIndexOf('/');
      const url = `${path.slice(0, cut)}${edit}${path.slice(cut + 1)}${query ? `?${query}` : ''}`;
      return { ...valid, url, what: `path edited with ${edit}` };
    });
  return fc.oneof(...inPath, ...inBody, pathEdits);
}

function queriesCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const names = base.route.queryParams.map((param) => param.name);
  const known = names.length > 0 ? names : ['minPosition'];
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...known), fc.constantFrom(...HOSTILE_QUERY_VALUES))
      .map(([name, value]) =>
        caseOf(
          { ...base, query: [...base.query.filter(([n]) => n !== name), [name, value]] },
          'queries',
          `${name}=${value.slice(0, 40)}`,
        ),
      ),
    fc
      .constantFrom('99999999999', '9'.repeat(20), '18446744073709551615', '1000000')
      .map((position) =>
        caseOf(
          { ...base, query: [...base.query.filter(([n]) => n !== 'minPosition'), ['minPosition', position]] },
          'queries',
          `minPosition=${position} (beyond the head)`,
        ),
      ),
    fc
      .constantFrom(...known)
      .map((name) => caseOf({ ...base, query: [...base.query, [name, '1'], [name, '2']] }, 'queries', `${name} twice`)),
    fc.constant(caseOf({ ...base, query: [...base.query, ['nope', '1']] }, 'queries', 'an unknown parameter')),
    fc.constant(caseOf({ ...base, query: [...base.query, ['__proto__', '1']] }, 'queries', 'a __proto__ parameter')),
  );
}

function sizesCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const stringPaths = fieldPaths(base.body).filter((path) => typeof valueAt(base.body, path) === 'string');
  const arrayPaths = fieldPaths(base.body).filter((path) => Array.isArray(valueAt(base.body, path)));
  const padded = (bytes: number) =>
    caseOf(
      { ...base, body: { ...(base.body as object), padding: 'p'.repeat(bytes) } },
      'sizes',
      `body padded by ${bytes} bytes`,
    );
  return fc.oneof(
    fc.constantFrom(60_000, 66_000, 200_000, 1_100_000, 2_200_000).map(padded),
    ...(stringPaths.length > 0
      ? [
          fc
            .tuple(fc.constantFrom(...stringPaths), fc.constantFrom(256, 10_000, 60_000))
            .map(([path, length]) =>
              caseOf(
                { ...base, body: replacedAt(base.body, path, 'x'.repeat(length)) },
                'sizes',
                `${path.join('.')} ${length} long`,
              ),
            ),
        ]
      : []),
    ...(arrayPaths.length > 0
      ? [
          fc.tuple(fc.constantFrom(...arrayPaths), fc.constantFrom(9, 1_001, 5_000)).map(([path, count]) => {
            const items = valueAt(base.body, path) as unknown[];
            const item = items[0] ?? 1;
            return caseOf(
              {
                ...base,
                body: replacedAt(
                  base.body,
                  path,
                  Array.from({ length: count }, () => item),
                ),
              },
              'sizes',
              `${path.join('.')} with ${count} items`,
            );
          }),
        ]
      : []),
    fc
      .constantFrom(2_000, 20_000, 100_000)
      .map((length) =>
        caseOf({ ...base, query: [...base.query, ['q', 'q'.repeat(length)]] }, 'sizes', `a ${length}-character query`),
      ),
  );
}

/** Text that is not what it says it is: other encodings of the same JSON, control characters, odd Unicode. */
function encodingsCase(base: BaseRequest): fc.Arbitrary<InjectedCase> {
  const text = JSON.stringify(base.body ?? {});
  const valid = caseOf(base, 'encodings', '');
  const encoded = (what: string, body: Buffer, contentType = 'application/json') => ({
    ...valid,
    body,
    headers: { ...valid.headers, 'content-type': contentType },
    what,
  });
  const stringPaths = fieldPaths(base.body).filter((path) => typeof valueAt(base.body, path) === 'string');
  return fc.oneof(
    fc.constant(encoded('UTF-16LE body', Buffer.from(text, 'utf16le'))),
    fc.constant(encoded('UTF-16LE body, said so', Buffer.from(text, 'utf16le'), 'application/json; charset=utf-16le')),
    fc.constant(encoded('latin1 body said to be UTF-8', Buffer.from(text.replace(/"$/, ''), 'latin1'))),
    fc.constant(encoded('gzip-looking bytes', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]))),
    ...(stringPaths.length > 0
      ? [
          fc
            .tuple(
              fc.constantFrom(...stringPaths),
              fc.constantFrom('\u0000', '\u202e', '\ufeff', 'e\u0301', '\ud83d\udcb3', '\u2028', '\u001b[31m', 'Ａ'),
            )
            .map(([path, inserted]) =>
              caseOf(
                { ...base, body: replacedAt(base.body, path, `${String(valueAt(base.body, path))}${inserted}`) },
                'encodings',
                `${path.join('.')} with U+${inserted.codePointAt(0)!.toString(16).padStart(4, '0')}`,
              ),
            ),
        ]
      : []),
  );
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let node = value;
  for (const part of path) node = (node as Record<string | number, unknown> | undefined)?.[part];
  return node;
}

function describe(value: HeaderValue | null): string {
  if (value === null) return 'missing';
  if (Array.isArray(value)) return `duplicated (${value.length})`;
  const text = value as string;
  return text.length > 40 ? `${text.length} characters` : JSON.stringify(text);
}

const LAYER_CASES: Record<InjectedLayer, (base: BaseRequest) => fc.Arbitrary<InjectedCase>> = {
  valid: validCase,
  headers: headersCase,
  json: jsonCase,
  types: typesCase,
  amounts: amountsCase,
  ids: idsCase,
  queries: queriesCase,
  sizes: sizesCase,
  encodings: encodingsCase,
};

/** Which routes a layer attacks: the body layers take routes with a JSON body. */
function routesFor(layer: InjectedLayer, routes: readonly FuzzRoute[]): FuzzRoute[] {
  switch (layer) {
    case 'json':
    case 'types':
    case 'encodings':
      return routes.filter((route) => route.body !== undefined);
    case 'amounts':
      return routes.filter(
        (route) => route.body !== undefined && AMOUNT_FIELD.test(JSON.stringify(route.body.properties ?? {})),
      );
    case 'ids':
      return routes.filter((route) => route.pathParams.length > 0 || route.body !== undefined);
    default:
      return [...routes];
  }
}

/** One hostile request of the given layer, on any route it applies to. */
export function injectedCaseArbitrary(
  layer: InjectedLayer,
  routes: readonly FuzzRoute[],
  hints: Hints,
): fc.Arbitrary<InjectedCase> {
  const candidates = routesFor(layer, routes);
  if (candidates.length === 0) throw new Error(`no route for the ${layer} layer`);
  // Each route's request arbitrary is built once (its patterns compiled once), not per generated value.
  const anyRoute = fc.oneof(...candidates.map((route) => baseOf(route, hints)));
  const registration = routes.find((route) => route.method === 'POST' && route.path === '/v1/entities');
  // Headers and the valid layer also attack a command known to be taken (a user's registration): what
  // breaks only where a command is recorded (an X-Request-Id the events cannot carry) is then reached.
  const bases =
    (layer === 'headers' || layer === 'valid') && registration
      ? fc.oneof({ weight: 2, arbitrary: anyRoute }, { weight: 1, arbitrary: takenCommand(registration) })
      : anyRoute;
  return bases.chain(LAYER_CASES[layer]);
}

/** A registration of a user: valid, signed, recorded (201). */
function takenCommand(route: FuzzRoute): fc.Arbitrary<BaseRequest> {
  return fc
    .record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,30}[a-z]$/), idempotencyKey: fc.uuid() })
    .map(({ name, idempotencyKey }) => ({
      route,
      pathValues: {},
      query: [],
      body: { kind: 'user', displayName: name },
      signed: true,
      idempotencyKey,
    }));
}

const bases = new WeakMap<FuzzRoute, fc.Arbitrary<BaseRequest>>();

function baseOf(route: FuzzRoute, hints: Hints): fc.Arbitrary<BaseRequest> {
  let base = bases.get(route);
  if (!base) {
    base = signedMostly(baseRequest(route, hints));
    bases.set(route, base);
  }
  return base;
}
