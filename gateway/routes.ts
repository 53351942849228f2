/**
 * The `/v1` routes, as one table: method, path, the zod schemas of what they take, and the
 * handler. The server registers exactly these, and the OpenAPI document is generated from them.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeAny, z } from 'zod';
import { endUpdate, proposeUpdate, spawnChildUpdate, type ProposeResult, type SessionSummary, type SpawnChildResult } from '../workflows/contract';
import { spawnSlotId, type SessionAdmissions } from './admissions';
import type { GatewayLimits } from './limits';
import { Problem } from './problems';
import {
  endSchema,
  haltSchema,
  pendingSchema,
  proposalParamsSchema,
  proposalSchema,
  sessionCreatedSchema,
  sessionParamsSchema,
  spawnChildSchema,
  startSessionSchema,
  waitQuerySchema,
} from './schemas';
import type { GatewaySessions, Outcome } from './sessions';

/** One route: what it takes (zod), what it answers, and what it does. */
export interface RouteSpec<P extends ZodTypeAny = ZodTypeAny, Q extends ZodTypeAny = ZodTypeAny, B extends ZodTypeAny = ZodTypeAny> {
  readonly method: 'GET' | 'POST';
  /** OpenAPI-style path (`{id}`); fastify's is derived from it. */
  readonly path: string;
  readonly summary: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Status → description (and schema where one is defined). */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: ZodTypeAny }>>;
  readonly handler: (ctx: RouteContext, input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }) => Promise<{ status: number; body: unknown }>;
}

export interface RouteContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly sessions: GatewaySessions;
  readonly limits: GatewayLimits;
  readonly admissions: SessionAdmissions;
}

function route<P extends ZodTypeAny, Q extends ZodTypeAny, B extends ZodTypeAny>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** 200 with the outcome, or 202 with where to read it later. */
function answer<T>(outcome: Outcome<T>): { status: number; body: unknown } {
  return outcome.done ? { status: 200, body: outcome.value } : { status: 202, body: outcome.pending };
}

/** A proposal's answer: `relayedNotes` is for the MCP front door (its notes), not part of the HTTP result. */
function proposalAnswer(outcome: Outcome<ProposeResult>): { status: number; body: unknown } {
  if (!outcome.done) return answer(outcome);
  const { relayedNotes: _forMcp, ...value } = outcome.value;
  return answer({ done: true, value });
}

/** A spawn's slot once its outcome is known: its started child takes it over, else it is freed; still pending, it stays. */
async function settleSpawnSlot(admissions: SessionAdmissions, agentId: string, slot: string, outcome: Outcome<SpawnChildResult>): Promise<void> {
  if (!outcome.done) return;
  await admissions.settleSpawn(agentId, slot, outcome.value.status === 'started' ? outcome.value.sessionId : undefined);
}

function isSpawnResult(value: unknown): value is SpawnChildResult {
  const v = value as Partial<SpawnChildResult> | null;
  return typeof v?.workflowId === 'string' && typeof v.sessionId === 'string' && (v.status === 'started' || v.status === 'denied' || v.status === 'expired') && !('decision' in (v as object));
}

/** The update id of a new proposal: the client's `Idempotency-Key` (a retry is the same update), else a uuid. */
function proposalId(request: FastifyRequest): string {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return randomUUID();
  if (typeof key !== 'string' || !/^[\w.:-]{1,200}$/.test(key)) throw new Problem('invalid-request', 'the `idempotency-key` header must be 1 to 200 letters, digits or `.:_-`', { errors: [{ path: 'headers.idempotency-key', message: 'invalid' }] });
  return key;
}

const pending = { description: 'still running after `wait` seconds (held for a person, or queued behind one)', schema: pendingSchema };

export const ROUTES: readonly RouteSpec[] = [
  route({
    method: 'POST',
    path: '/v1/sessions',
    summary: 'start a session under the caller\'s credential',
    body: startSessionSchema,
    responses: { 201: { description: 'started', schema: sessionCreatedSchema }, 403: { description: 'the worker refused the start (the rule is named)' }, 409: { description: 'a session with this id exists' } },
    async handler(ctx, { body }) {
      // A slot first (atomic across replicas), then the start; a start that failed gives it back.
      const agent = ctx.request.agent;
      const admission = await ctx.admissions.admit(agent.agentId, body.sessionId ?? randomUUID());
      try {
        return { status: 201, body: await ctx.sessions.start(agent, { ...body, sessionId: admission.sessionId }) };
      } catch (err) {
        await ctx.admissions.releaseFailedStart(admission);
        throw err;
      }
    },
  }),
  route({
    method: 'GET',
    path: '/v1/sessions/{id}',
    summary: 'the session\'s state view',
    params: sessionParamsSchema,
    responses: { 200: { description: 'the `state` view' } },
    async handler(ctx, { params }) {
      return { status: 200, body: await ctx.sessions.state(ctx.request.agent, params.id) };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/sessions/{id}/proposals',
    summary: 'propose one tool call; waits up to `wait` seconds for the outcome',
    params: sessionParamsSchema,
    query: waitQuerySchema,
    body: proposalSchema,
    responses: { 200: { description: 'the `propose` result (executed, denied, failed or expired)' }, 202: pending, 409: { description: 'the session is closed' } },
    async handler(ctx, { params, query, body }) {
      const handle = await ctx.sessions.owned(ctx.request.agent, params.id);
      return proposalAnswer(await ctx.sessions.update<ProposeResult>(handle, proposeUpdate.name, body, proposalId(ctx.request), query.wait));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/sessions/{id}/proposals/{proposalId}',
    summary: 'the outcome of a pending proposal (or sub-agent); waits up to `wait` seconds',
    params: proposalParamsSchema,
    query: waitQuerySchema,
    responses: { 200: { description: 'the final result' }, 202: pending, 404: { description: 'no such session or proposal' } },
    async handler(ctx, { params, query }) {
      const handle = await ctx.sessions.owned(ctx.request.agent, params.id);
      // A poll whose asker went away stops waiting (the answer would go nowhere).
      const gone = new Promise<void>((resolve) => ctx.reply.raw.once('close', () => resolve()));
      const outcome = await ctx.sessions.outcome<ProposeResult | SpawnChildResult>(handle, params.proposalId, query.wait, gone);
      // A spawn answered late: its child takes over the spawn's slot now.
      if (outcome.done && isSpawnResult(outcome.value)) {
        await settleSpawnSlot(ctx.admissions, ctx.request.agent.agentId, spawnSlotId(params.id, params.proposalId), outcome as Outcome<SpawnChildResult>);
        return answer(outcome);
      }
      return proposalAnswer(outcome as Outcome<ProposeResult>);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/sessions/{id}/children',
    summary: 'spawn a sub-agent session with its own intent and a share of the budget',
    params: sessionParamsSchema,
    query: waitQuerySchema,
    body: spawnChildSchema,
    responses: { 200: { description: 'the `spawnChild` result (started, denied or expired)' }, 202: pending },
    async handler(ctx, { params, query, body }) {
      const handle = await ctx.sessions.owned(ctx.request.agent, params.id);
      // A sub-agent is one more open session of the root agent: the same cap, reserved as a start
      // is. Its id is the parent's choice, known once spawned: the spawn holds a slot, its child takes it over.
      const id = proposalId(ctx.request);
      const slot = spawnSlotId(params.id, id);
      const agentId = ctx.request.agent.agentId;
      try {
        await ctx.admissions.admit(agentId, slot);
      } catch (err) {
        // A retry (same key) of a spawn whose child took its slot over: at the cap it gets the stored answer, not a 429.
        const earlier = err instanceof Problem && err.code === 'too-many-sessions' && ctx.request.headers['idempotency-key'] !== undefined ? await ctx.sessions.finished(handle, id) : undefined;
        if (isSpawnResult(earlier)) return answer({ done: true, value: earlier });
        throw err;
      }
      // On an error the slot stays (the spawn may have been accepted): it goes with the parent at the latest.
      const outcome = await ctx.sessions.update<SpawnChildResult>(handle, spawnChildUpdate.name, body, id, query.wait);
      await settleSpawnSlot(ctx.admissions, agentId, slot, outcome);
      return answer(outcome);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/sessions/{id}/end',
    summary: 'end the session after every earlier proposal; answers its summary',
    params: sessionParamsSchema,
    body: endSchema,
    responses: { 200: { description: 'the session summary' }, 409: { description: 'the session is closed' } },
    async handler(ctx, { params, body }) {
      const handle = await ctx.sessions.owned(ctx.request.agent, params.id);
      const outcome = await ctx.sessions.update<SessionSummary>(handle, endUpdate.name, body, randomUUID(), 60);
      if (outcome.done) await ctx.admissions.release(ctx.request.agent.agentId, params.id);
      return answer(outcome);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/sessions/{id}/halt',
    summary: 'the kill switch, pulled by the agent itself: nothing more runs in the session',
    params: sessionParamsSchema,
    body: haltSchema,
    responses: { 202: { description: 'the halt was delivered' } },
    async handler(ctx, { params, body }) {
      const handle = await ctx.sessions.owned(ctx.request.agent, params.id);
      await ctx.sessions.halt(handle, ctx.request.agent, body.reason);
      return { status: 202, body: { sessionId: params.id, halted: true } };
    },
  }),
];

/** Fastify's path of an OpenAPI path (`{id}` → `:id`). */
export function fastifyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
