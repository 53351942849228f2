/**
 * Operators' buttons on a session page. Halt and pause tighten the gate, so they need no signature
 * — only an operator signed in (an approver is refused with 403 here, whatever the page shows).
 * Resume and budget raise loosen it, so each is a decision signed with the operator's passkey:
 * `prepare` builds the payload the CLI's operator key would sign (kind, session, first run, nonce,
 * expiry; the tool or the budget) and returns its digest as the WebAuthn challenge; `submit` checks
 * the envelope as the workflow will (`checkSignedDecision`), signals it, and waits a little for the
 * workflow's own `resumed` / `budget-raised` event carrying that payload.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { readEvents } from '../audit/queries';
import { checkSignedDecision, type Keyset } from '../policies/trust';
import { haltSignal, pauseSignal, raiseBudgetSignal, resumeSignal, type SessionStateView } from '../workflows/contract';
import { ConsoleError } from './errors';
import type { StateReader } from './inbox';
import type { Person } from './sessions';
import { decisionHead, passkeyEnvelope, prepareSignature, type AssertionJSON, type PreparedSignature } from './signed-payload';
import type { ConsoleStore } from './store';

export type SignedControl = 'resume' | 'budget-raise';
const BUDGET_KEYS = ['actions', 'writes', 'critical', 'tokens'] as const;

export interface OperatorDeps {
  readonly pool: pg.Pool;
  readonly store: ConsoleStore;
  readonly readState: StateReader;
  readonly client: Client;
  readonly keyset: Keyset;
  readonly rpId: string;
}

/** Refuses anyone but an operator (the server's check, not the page's). */
export function requireOperator(person: Person): void {
  if (person.role !== 'operator') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an operator`);
}

const toolOf = (v: unknown): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new ConsoleError(400, 'tool', 'expected `tool` to be a tool name');
  return v;
};
const reasonOf = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 2000) : undefined);

/** A budget raise as asked: whole numbers ≥ 0 for some of actions, writes, critical, tokens. */
export function parseBudget(v: unknown): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConsoleError(400, 'budget', 'expected a budget `{ actions?, writes?, critical?, tokens? }`');
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) {
    if (!(BUDGET_KEYS as readonly string[]).includes(k)) throw new ConsoleError(400, 'budget', `unknown budget \`${k.slice(0, 50)}\`: expected actions, writes, critical or tokens`);
    if (n === undefined || n === null || n === '') continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1e12) throw new ConsoleError(400, 'budget', `the \`${k}\` budget must be a whole number from 0, got \`${String(n).slice(0, 50)}\``);
    out[k] = n;
  }
  if (Object.keys(out).length === 0) throw new ConsoleError(400, 'budget', 'name at least one budget to raise');
  return out;
}

export class OperatorControls {
  /** Nonces this console has signalled: a replay is refused here as in the workflow. */
  readonly #used = new Set<string>();

  constructor(private readonly deps: OperatorDeps) {}

  async #running(sessionId: string): Promise<{ workflowId: string; state: SessionStateView }> {
    const r = await this.deps.pool.query<{ workflow_id: string }>('SELECT workflow_id FROM sessions WHERE session_id = $1', [sessionId]);
    const workflowId = r.rows[0]?.workflow_id;
    if (!workflowId) throw new ConsoleError(404, 'not-found', `no session \`${sessionId.slice(0, 200)}\``);
    const state = await this.deps.readState(workflowId);
    if (!state || state.ended) throw new ConsoleError(409, 'ended', `session \`${sessionId}\` has ended`);
    return { workflowId, state };
  }

  async #until(workflowId: string, done: (s: SessionStateView | undefined) => boolean, what: string): Promise<SessionStateView | undefined> {
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const s = await this.deps.readState(workflowId);
      if (done(s)) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new ConsoleError(502, 'not-applied', `the session did not ${what}: see its alerts (\`gatehouse trace\`)`);
  }

  async halt(person: Person, sessionId: string, reasonIn: unknown): Promise<{ halted: true }> {
    requireOperator(person);
    const reason = reasonOf(reasonIn);
    if (!reason) throw new ConsoleError(400, 'reason', 'a halt needs a reason');
    const { workflowId } = await this.#running(sessionId);
    await this.deps.client.workflow.getHandle(workflowId).signal(haltSignal, { by: person.principal, reason });
    await this.#until(workflowId, (s) => !s || s.halted || s.ended, 'halt');
    return { halted: true };
  }

  async pause(person: Person, sessionId: string, reasonIn: unknown): Promise<{ paused: true }> {
    requireOperator(person);
    const reason = reasonOf(reasonIn);
    const { workflowId } = await this.#running(sessionId);
    await this.deps.client.workflow.getHandle(workflowId).signal(pauseSignal, { by: person.principal, ...(reason ? { reason } : {}) });
    await this.#until(workflowId, (s) => !s || s.paused, 'pause');
    return { paused: true };
  }

  async prepare(person: Person, sessionId: string, kind: unknown, body: { reason?: unknown; budget?: unknown; tool?: unknown }): Promise<PreparedSignature> {
    requireOperator(person);
    if (kind !== 'resume' && kind !== 'budget-raise') throw new ConsoleError(400, 'kind', 'expected `resume` or `budget-raise`');
    const budget = kind === 'budget-raise' ? parseBudget(body.budget) : undefined;
    const reason = reasonOf(body.reason);
    const tool = kind === 'resume' && body.tool !== undefined ? toolOf(body.tool) : undefined;
    const { state } = await this.#running(sessionId);
    if (kind === 'resume') {
      const tools = state.pausedTools ?? [];
      if (tool !== undefined && !tools.includes(tool)) throw new ConsoleError(409, 'not-paused', `tool \`${tool}\` of session \`${sessionId}\` is not paused`);
      if (!state.paused) throw new ConsoleError(409, 'not-paused', `session \`${sessionId}\` is not paused`);
      // A resume without a tool lifts every tool's pause too: the person signs it only once they see those.
      if (tool === undefined && tools.length > 0) {
        throw new ConsoleError(409, 'tools-paused', `tools ${tools.map((t) => `\`${t}\``).join(', ')} of session \`${sessionId}\` are paused one by one (an incident pause): resume each by name first`);
      }
    }
    const decision = { ...decisionHead(person, kind, state.workflowId, state.firstRunId), ...(tool ? { tool } : {}), ...(budget ? { budget } : {}), ...(reason ? { reason } : {}) };
    return prepareSignature(person, decision, this.deps.rpId);
  }

  /**
   * `recorded` is false when the workflow has not recorded it within 5 s: a budget raise waits
   * behind the call the session is deciding (an approval can take minutes), then applies.
   */
  async submit(person: Person, sessionId: string, kind: unknown, payload: unknown, assertion: AssertionJSON): Promise<{ applied: SignedControl; by: string; recorded: boolean }> {
    requireOperator(person);
    if (kind !== 'resume' && kind !== 'budget-raise') throw new ConsoleError(400, 'kind', 'expected `resume` or `budget-raise`');
    const envelope = await passkeyEnvelope(this.deps.store, person, payload, assertion);
    const { workflowId, state } = await this.#running(sessionId);
    const check = checkSignedDecision(envelope, this.deps.keyset, { kind, workflowId: state.workflowId, firstRunId: state.firstRunId, usedNonces: this.#used }, Date.now());
    if (!check.ok) throw new ConsoleError(400, check.rule, check.message);
    // Tools paused since the person prepared it would be lifted unseen by a resume that names none.
    const tool = (check.decision as { tool?: unknown }).tool;
    if (kind === 'resume' && tool === undefined && (state.pausedTools ?? []).length > 0) {
      throw new ConsoleError(409, 'tools-paused', `tools ${(state.pausedTools ?? []).map((t) => `\`${t}\``).join(', ')} of session \`${sessionId}\` were paused one by one since: resume each by name first`);
    }
    this.#used.add(check.decision.nonce);
    const handle = this.deps.client.workflow.getHandle(workflowId);
    if (kind === 'resume') await handle.signal(resumeSignal, envelope as never);
    else await handle.signal(raiseBudgetSignal, envelope as never);
    // The workflow's own record of this very payload: it verified and applied it.
    const event = kind === 'resume' ? 'resumed' : 'budget-raised';
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      const events = await readEvents(this.deps.pool, sessionId, { withChain: false });
      if (events.some((l) => l.event.kind === event && (l.event.detail?.envelope as { payload?: unknown } | undefined)?.payload === envelope.payload)) return { applied: kind, by: person.principal, recorded: true };
      await new Promise((r) => setTimeout(r, 100));
    }
    return { applied: kind, by: person.principal, recorded: false };
  }
}
