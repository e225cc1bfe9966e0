import type { FastifyInstance } from 'fastify';
import type { JsonSchema } from './schema-arbitrary.js';

/** One operation of the OpenAPI document, as the fuzz needs it. */
export interface FuzzRoute {
  readonly method: string;
  /** The OpenAPI path template, `/v1/accounts/{accountId}`. */
  readonly path: string;
  readonly pathParams: readonly { readonly name: string; readonly schema: JsonSchema }[];
  readonly queryParams: readonly { readonly name: string; readonly schema: JsonSchema; readonly required: boolean }[];
  readonly takesIdempotencyKey: boolean;
  /** The JSON body's schema; undefined for a route without a JSON body. */
  readonly body: JsonSchema | undefined;
  /** Served without a merchant's signature (health, the channels' notify endpoint). */
  readonly exempt: boolean;
}

interface OpenApiOperation {
  readonly parameters?: readonly { in: string; name: string; required?: boolean; schema?: JsonSchema }[];
  readonly requestBody?: { content: Record<string, { schema?: JsonSchema }> };
  readonly security?: readonly unknown[];
}

/** Every operation the service's own OpenAPI document lists (the document the service serves). */
export async function routesOf(app: FastifyInstance): Promise<FuzzRoute[]> {
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
  const document = response.json<{ paths: Record<string, Record<string, OpenApiOperation>> }>();
  const routes: FuzzRoute[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = operation.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
        queryParams: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' }, required: p.required === true })),
        takesIdempotencyKey: parameters.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
        body: operation.requestBody?.content['application/json']?.schema,
        exempt: !path.startsWith('/v1/') || path.startsWith('/v1/channel-notifications/'),
      });
    }
  }
  return routes;
}
