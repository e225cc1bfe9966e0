import type { FastifyInstance } from 'fastify';

/** "METHOD /path" of every operation in the served OpenAPI document, path parameters in braces. */
export async function openApiRoutes(app: FastifyInstance): Promise<string[]> {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<string, Record<string, unknown>>;
  }>();
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
}
