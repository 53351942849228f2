/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the route table and its zod
 * schemas (`zod-to-json-schema`), so what a client reads is what the gateway parses.
 */
import type { ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { PROBLEM_JSON_SCHEMA } from './problems';
import type { RouteSpec } from './routes';

function jsonSchema(schema: ZodTypeAny): Record<string, unknown> {
  // Typed loosely: zod-to-json-schema's generic over a `ZodTypeAny` is too deep for the compiler.
  const convert = zodToJsonSchema as unknown as (s: unknown, o: object) => Record<string, unknown>;
  const { $schema: _drop, ...rest } = convert(schema, { target: 'openApi3', $refStrategy: 'none' });
  return rest;
}

/** Parameters of one location (`path` or `query`) from a zod object schema. */
function parameters(schema: ZodTypeAny | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const s = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: p,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}

const COMMON_ERRORS = {
  401: 'no, bad, expired or revoked agent credential',
  403: 'not a session of this agent',
  404: 'no such session',
  413: 'body over the size cap',
  422: 'schema errors, with paths',
  429: 'over the agent\'s request rate or open-session cap (see `Retry-After`)',
} as const;

/** The OpenAPI document of `routes`. */
export function openApiDocument(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = { description: res.description, ...(res.schema ? { content: { 'application/json': { schema: jsonSchema(res.schema) } } } : {}) };
    }
    for (const [status, description] of Object.entries(COMMON_ERRORS)) {
      responses[status] ??= { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      security: [{ agentCredential: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse gateway', version, description: 'The agents\' front door: start sessions, propose tool calls, spawn sub-agents, end, halt, read state — on the caller\'s own sessions only.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { agentCredential: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an agent credential from `gatehouse agents create`' } },
      schemas: { Problem: PROBLEM_JSON_SCHEMA },
    },
    paths,
  };
}
