/**
 * `createGateway(deps)`: the fastify server that is the only surface agents touch. A request whose
 * Host or Origin is not the gateway's is refused first (`origin.ts`). Every route but `/healthz`, the
 * OpenAPI document, the protected-resource metadata and the OAuth authorization server's endpoints (`oauth/`; `config.public`) is behind the credential hook (`auth.ts`; a 401 carries
 * `WWW-Authenticate`, `protected-resource.ts`) and the per-agent
 * request rate (`limits.ts`); bodies are parsed with the zod schemas of `schemas.ts`; every error
 * is an RFC 9457 problem (`problems.ts`). It acts only through its own Temporal client, and only
 * on sessions whose principal is the caller.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ZodError, ZodTypeAny } from 'zod';
import type { ToolCatalog } from '../activities/tools/catalog';
import type { RevocationStore } from '../audit/credentials';
import type { Gatehouse } from '../client';
import type { Keyset } from '../policies/trust';
import { activeTelemetry } from '../telemetry/active';
import { Gatekeeper, registerAuth } from './auth';
import { SessionAdmissions } from './admissions';
import { DEFAULT_LIMITS, RateLimiter, type GatewayLimits } from './limits';
import { openApiDocument } from './openapi';
import { originPolicy, registerOriginCheck, type OriginPolicy } from './origin';
import { bearerChallenge, registerProtectedResource } from './protected-resource';
import { Problem, sendProblem } from './problems';
import { fastifyPath, ROUTES } from './routes';
import { GatewaySessions } from './sessions';
import { registerMcp, type UpstreamToolSource } from './mcp';
import { InFlight } from './in-flight';
import { registerOAuthServer, type ExternalIssuer, type OAuthStore } from './oauth';

export interface GatewayDeps {
  /** The gateway's own Temporal client (trusted): sessions start with each caller's credential. */
  readonly client: Gatehouse;
  /** Operator keys that sign agent credentials. */
  readonly keyset: Keyset;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  /** The worker's tool catalog, for what lists tools (MCP `tools/list`). */
  readonly catalog?: ToolCatalog;
  /** Upstream MCP servers' tools as the worker published them, for MCP `tools/list`. */
  readonly upstreamTools?: UpstreamToolSource;
  /** @default DEFAULT_LIMITS */
  readonly limits?: Partial<GatewayLimits>;
  /** Host names and origins the gateway answers to (DNS-rebinding protection). @default loopback names only */
  readonly origin?: OriginPolicy;
  /** The public base URL (for the protected-resource metadata) when clients come through a proxy. @default from each request's Host */
  readonly publicUrl?: string;
  /** An external OAuth authorization server for `/mcp` (`GATEHOUSE_OAUTH_ISSUER`). @default none: the gateway's own (`oauth/`) */
  readonly externalIssuer?: ExternalIssuer;
  /** The own authorization server's state (clients, requests, codes). @default a new in-memory store */
  readonly oauthStore?: OAuthStore;
  /** Log requests (pino). @default false */
  readonly logger?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** What the gateway was built with, for routes registered later (MCP). */
    gateway: { readonly deps: GatewayDeps; readonly sessions: GatewaySessions; readonly limits: GatewayLimits; readonly admissions: SessionAdmissions };
  }
}

const OPENAPI_PATH = '/v1/openapi.json';
const VERSION = '1';

/** 422 with every issue's path. */
function invalid(where: 'params' | 'query' | 'body', error: ZodError): Problem {
  // An unknown field is reported at its own path (`body.policy`), one entry per field.
  const errors = error.issues.flatMap((i): { path: string; message: string; code: string }[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: [where, ...i.path, key].join('.'), message: `unknown field \`${key}\``, code: i.code }))
      : [{ path: [where, ...i.path].join('.'), message: i.message, code: i.code }],
  );
  const first = errors[0];
  return new Problem('invalid-request', first ? `\`${first.path}\`: ${first.message}` : `invalid ${where}`, { errors });
}

function parse(where: 'params' | 'query' | 'body', schema: ZodTypeAny | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw invalid(where, r.error);
  return r.data;
}

/**
 * An empty body is no body, whatever its content type: clients send `DELETE /mcp` (the Python
 * `mcp` package) and bodiless requests with `content-type: application/json`. A body that is not
 * empty must be JSON.
 */
function acceptEmptyBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return json(request, body as string, done);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new Problem('unsupported-media-type', `the body must be \`application/json\`, got \`${String(request.headers['content-type']).slice(0, 100)}\``), undefined);
  });
}

/** Builds the gateway (not listening: call `listen`). */
export function createGateway(deps: GatewayDeps): FastifyInstance {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: limits.bodyBytes, return503OnClosing: true });
  const sessions = new GatewaySessions(deps.client);
  const rate = new RateLimiter(limits.requestsPerSecond, limits.burst);
  // A slot not yet started may be an MCP session waiting for its intent: held until it idles out.
  const admissions = new SessionAdmissions({ client: deps.client.client, taskQueue: deps.client.taskQueue, cap: limits.openSessions, startGraceMs: limits.mcpIdleSeconds * 1000 + 60_000 });
  app.decorate('gateway', { deps, sessions, limits, admissions });
  acceptEmptyBodies(app);
  // Before authentication: a rebound name is refused whatever credential it carries.
  registerOriginCheck(app, deps.origin ?? originPolicy({}));
  // The gateway's own authorization server unless an external one is configured (then it alone issues tokens).
  let oauth: OAuthStore | undefined;
  const gatekeeper = new Gatekeeper(deps.keyset, deps.revocations, {
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    ...(deps.externalIssuer ? { external: deps.externalIssuer } : {}),
    isWithdrawn: (credentialId) => oauth?.isWithdrawn(credentialId) ?? false,
  });
  registerAuth(app, gatekeeper);
  // After authentication: the rate and the requests open at once are per agent.
  const inFlight = new InFlight(limits.requestsInFlight);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.agent) return;
    rate.take(request.agent.agentId);
    reply.raw.once('close', inFlight.enter(request.agent.agentId));
  });
  // After the origin check, authentication and the rate: a request they refuse starts no span, so
  // no caller can fill the span queue with requests it has no right to make.
  const telemetry = activeTelemetry();
  if (telemetry) {
    // Loaded only when telemetry is on: with it off the gateway loads nothing of OpenTelemetry.
    const { traceRequests } = require('./tracing') as typeof import('./tracing');
    traceRequests(app, telemetry.tracer('gatehouse/gateway'));
  }

  app.setErrorHandler((err: FastifyError | Problem, request, reply) => {
    if (err instanceof Problem) {
      // Every 401 says how to get a credential (RFC 9728 / RFC 6750): MCP hosts discover authorization from it.
      if (err.status === 401) void reply.header('www-authenticate', bearerChallenge(request, err, deps.publicUrl));
      return sendProblem(reply, err);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, new Problem('body-too-large', `the body is over the limit of ${limits.bodyBytes} bytes`, { limit: limits.bodyBytes }));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, new Problem('unsupported-media-type', 'the body must be `application/json`'));
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return sendProblem(reply, new Problem('invalid-request', `the body is not valid json: ${err.message}`, { errors: [{ path: 'body', message: err.message }] }));
    }
    app.log.error(err);
    return sendProblem(reply, new Problem('internal', 'the gateway failed to answer this request'));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new Problem('not-found', `no route \`${request.method} ${request.url.split('?')[0]}\``)));

  // The explicit public list: every other route, and every unmatched path, needs a credential.
  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
  const document = openApiDocument(ROUTES, VERSION);
  app.get(OPENAPI_PATH, { config: { public: true } }, async () => document);
  registerProtectedResource(app, { ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}), ...(deps.externalIssuer ? { authorizationServers: [deps.externalIssuer.issuer] } : {}) });
  if (!deps.externalIssuer) oauth = registerOAuthServer(app, { keyset: deps.keyset, revocations: deps.revocations, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}), ...(deps.oauthStore ? { store: deps.oauthStore } : {}) });

  for (const spec of ROUTES) {
    app.route({
      method: spec.method,
      url: fastifyPath(spec.path),
      handler: async (request, reply) => {
        const input = {
          params: parse('params', spec.params, request.params),
          query: parse('query', spec.query, request.query),
          body: parse('body', spec.body, request.body),
        };
        const out = await spec.handler({ request, reply, sessions, limits, admissions }, input as never);
        return reply.code(out.status).send(out.body);
      },
    });
  }
  registerMcp(app, {
    gatehouse: deps.client,
    tools: deps.catalog?.tools() ?? [],
    ...(deps.upstreamTools ? { upstreamTools: deps.upstreamTools } : {}),
    // The same limits as `/v1`: one token bucket per agent (the hook above charged each request
    // once; the door charges a batch's other messages), and one open-session cap across both.
    takeRequests: (agentId, count) => rate.take(agentId, count),
    burst: limits.burst,
    admissions,
    idleMs: limits.mcpIdleSeconds * 1000,
  });
  return app;
}
