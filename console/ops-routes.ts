/**
 * The console's routes for engineers and operators (beside the inbox's in `server.ts`): sessions,
 * a session's page and its operator buttons, the alerts review, the policy page. Every POST is
 * refused from another origin (server.ts) and needs the signed-in session's CSRF token; the
 * buttons that act on a session or record a review need the operator role, checked here.
 *
 * `GET /api/sessions` · `GET /api/sessions/events` (pushed list) · `GET /api/sessions/:id` ·
 * `POST /api/sessions/:id/halt|pause` · `POST /api/sessions/:id/sign/prepare|submit` ·
 * `GET /api/alerts` · `POST /api/alerts/review` · `GET /api/policy/graph` ·
 * `POST /api/policy/analyze|backtest` · `GET /api/policy/without/:rule`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { stringify } from 'yaml';
import { SAMPLE_TOOL_INFO } from '../activities/tools/sample';
import { CONTENT_SECURITY_POLICY } from './page';
import { InboxFeed } from './events';
import { listConsoleSessions, parseFilters, sessionPage } from './fleet';
import type { StateReader } from './inbox';
import type { OperatorControls } from './operator';
import { canDropRule, currentPolicy, draftBacktest, graphOf, parseDraft, policyWithout, type PolicySource } from './policy-view';
import { listAlerts, reviewAlert, tallyRules } from './reviews';
import type { Person } from './sessions';
import type { AssertionJSON } from './signed-payload';

export interface OpsDeps {
  readonly pool: pg.Pool;
  readonly readState: StateReader;
  readonly policy: PolicySource;
  /** The signed-in person (401 otherwise). */
  read(req: FastifyRequest): Person;
  /** The signed-in person of a state-changing request, with the CSRF token (403 otherwise). */
  write(req: FastifyRequest): Person;
  operator(): OperatorControls;
}

/** How far back the alerts page looks. */
const ALERT_DAYS = 30;
const alertsSince = () => new Date(Date.now() - ALERT_DAYS * 24 * 60 * 60 * 1000);

export function registerOpsRoutes(app: FastifyInstance, d: OpsDeps): void {
  const body = (req: FastifyRequest): Record<string, unknown> => (typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {});
  const query = (req: FastifyRequest) => (req.query ?? {}) as Record<string, unknown>;
  // A draft compiles against the catalog the worker's sessions run with (the sample catalog before any session).
  const toolsOf = async () => (await currentPolicy(d.pool, d.policy).catch(() => undefined))?.tools ?? d.policy.tools ?? SAMPLE_TOOL_INFO;

  app.get('/api/sessions', async (req) => {
    d.read(req);
    return listConsoleSessions(d.pool, parseFilters(query(req)));
  });
  app.get('/api/sessions/events', async (req, reply) => {
    d.read(req);
    const filters = parseFilters(query(req));
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'content-security-policy': CONTENT_SECURITY_POLICY });
    // One reader per open list (its own filters), every two seconds, sent only when it changed.
    const feed = new InboxFeed(() => listConsoleSessions(d.pool, filters), 2000);
    const stop = feed.subscribe((json) => reply.raw.write(`event: sessions\ndata: ${json}\n\n`));
    req.raw.on('close', () => {
      stop();
      void feed.close();
    });
  });
  app.get<{ Params: { id: string } }>('/api/sessions/:id', async (req) => {
    const p = d.read(req);
    return { ...(await sessionPage(d.pool, d.readState, req.params.id)), canOperate: p.role === 'operator' };
  });
  app.post<{ Params: { id: string } }>('/api/sessions/:id/halt', async (req) => d.operator().halt(d.write(req), req.params.id, body(req).reason));
  app.post<{ Params: { id: string } }>('/api/sessions/:id/pause', async (req) => d.operator().pause(d.write(req), req.params.id, body(req).reason));
  app.post<{ Params: { id: string } }>('/api/sessions/:id/sign/prepare', async (req) => {
    const b = body(req);
    return d.operator().prepare(d.write(req), req.params.id, b.kind, { reason: b.reason, budget: b.budget, tool: b.tool });
  });
  app.post<{ Params: { id: string } }>('/api/sessions/:id/sign/submit', async (req) => {
    const b = body(req);
    return d.operator().submit(d.write(req), req.params.id, b.kind, b.payload, b.assertion as AssertionJSON);
  });

  app.get('/api/alerts', async (req) => {
    const p = d.read(req);
    const alerts = await listAlerts(d.pool, alertsSince());
    const rules = tallyRules(alerts).map((t) => ({ ...t, backtestWithout: t.overruled > 0 && canDropRule(t.rule) }));
    return { days: ALERT_DAYS, alerts, rules, canReview: p.role === 'operator' };
  });
  app.post('/api/alerts/review', async (req) => {
    const b = body(req);
    return reviewAlert(d.pool, d.write(req), { alert: b.alert, verdict: b.verdict, note: b.note ?? '', seen: b.seen, seenCount: b.seenCount }, alertsSince());
  });

  app.get('/api/policy/graph', async (req) => {
    d.read(req);
    const { policy, tools, from } = await currentPolicy(d.pool, d.policy);
    return graphOf(policy, tools, from, query(req).maxLength === undefined ? 3 : Number(query(req).maxLength));
  });
  app.post('/api/policy/analyze', async (req) => {
    d.write(req);
    const b = body(req);
    const draft = parseDraft(b.draft);
    return graphOf(draft, await toolsOf(), 'the draft', b.maxLength === undefined ? 3 : Number(b.maxLength));
  });
  app.post('/api/policy/backtest', async (req) => {
    d.write(req);
    const b = body(req);
    const draft = parseDraft(b.draft);
    return draftBacktest(d.pool, draft, await toolsOf(), b.days);
  });
  app.get<{ Params: { rule: string } }>('/api/policy/without/:rule', async (req) => {
    d.read(req);
    const { policy, from } = await currentPolicy(d.pool, d.policy);
    return { rule: req.params.rule, from, draft: stringify(policyWithout(policy, req.params.rule)) };
  });
}
