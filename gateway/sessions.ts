/**
 * What the gateway does in Temporal for an authenticated agent: start a session with the agent's
 * own credential, find a session it may act on (its principal is the agent), run an update and
 * wait for its outcome at most `wait` seconds, halt. Temporal keeps a running update whatever
 * happens to the gateway, so a later read by update id is exact.
 */
import { WorkflowUpdateStage } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Gatehouse, SessionHandle } from '../client';
import { sendUpdate } from '../client/update-retry';
import { haltSignal, type ProposeResult } from '../workflows/contract';
import type { AgentIdentity } from './auth';
import { toProblem } from './errors';
import { updateResultAcrossRuns } from './update-across-runs';
import { Problem } from './problems';
import type { Pending, SessionCreated, StartSessionBody } from './schemas';

/** An update's outcome within the wait, or where to find it later. */
export type Outcome<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly pending: Pending };

export class GatewaySessions {
  readonly #gh: Gatehouse;
  /** Session id → its principal: fixed for a session's life, so one query per session suffices. */
  readonly #principals = new Map<string, string>();
  /** Session id → the tail of its admissions: one update of a session is sent at a time. */
  readonly #admissions = new Map<string, Promise<unknown>>();

  constructor(gh: Gatehouse) {
    this.#gh = gh;
  }

  /** Starts a session with the agent's credential; refused starts become 403 problems. */
  async start(agent: AgentIdentity, body: StartSessionBody): Promise<SessionCreated> {
    const sessionId = body.sessionId ?? randomUUID();
    let handle: SessionHandle;
    try {
      handle = await this.#gh.startSession({ ...body, sessionId, credential: agent.token, agentId: agent.agentId, owner: agent.owner });
    } catch (err) {
      throw toProblem(sessionId, err);
    }
    const view = await handle.state().catch((err: unknown) => Promise.reject(toProblem(sessionId, err)));
    this.#principals.set(sessionId, view.principal);
    return { sessionId, workflowId: view.workflowId, agentId: view.agentId, owner: view.owner, policyHash: view.policyHash, mode: view.mode };
  }

  /** The handle of a session the agent may act on: 404 when unknown, 403 when another agent's. */
  async owned(agent: AgentIdentity, sessionId: string): Promise<SessionHandle> {
    const handle = this.#gh.session(sessionId);
    let principal = this.#principals.get(sessionId);
    if (principal === undefined) {
      const view = await handle.state().catch((err: unknown) => Promise.reject(toProblem(sessionId, err)));
      principal = view.principal;
      if (principal !== '') this.#remember(sessionId, principal);
    }
    if (principal !== agent.agentId) throw new Problem('forbidden', `session \`${sessionId}\` is not a session of agent \`${agent.agentId}\``);
    return handle;
  }

  /** The `state` view of a session the agent may read. */
  async state(agent: AgentIdentity, sessionId: string) {
    const handle = await this.owned(agent, sessionId);
    const view = await handle.state().catch((err: unknown) => Promise.reject(toProblem(sessionId, err)));
    if (view.principal !== agent.agentId) throw new Problem('forbidden', `session \`${sessionId}\` is not a session of agent \`${agent.agentId}\``);
    return view;
  }

  /**
   * Sends update `name` with id `updateId` (a repeat with the same id is the same update) and
   * waits up to `waitSeconds` for its outcome, in one call to Temporal. When the wait ends first,
   * the update is made sure to be accepted (a validator rejection is a 422) before the pending
   * answer, so the later read by update id is exact.
   */
  async update<T>(handle: SessionHandle, name: string, arg: unknown, updateId: string, waitSeconds: number): Promise<Outcome<T>> {
    const accepted = () => sendUpdate(() => handle.workflow.startUpdate<T, [unknown]>(name, { args: [arg], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }), { retryRpcTimeouts: false });
    const deadline = Date.now() + waitSeconds * 1000;
    const first = await this.#admit(handle.sessionId, waitSeconds, async (): Promise<{ value: T } | 'timeout'> => {
      const abort = new AbortController();
      const result = this.#gh.client.connection.withAbortSignal(abort.signal, () => sendUpdate(() => handle.workflow.executeUpdate<T, [unknown]>(name, { args: [arg], updateId }), { retryRpcTimeouts: false }));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))));
      try {
        const r = await Promise.race([result.then((value) => ({ value })), timeout]);
        if (r !== 'timeout') return r;
        await accepted();
        return 'timeout';
      } finally {
        clearTimeout(timer);
        abort.abort();
        result.catch(() => undefined);
      }
    }).catch(async (err: unknown) => Promise.reject(await closedNotMissing(handle, toProblem(handle.sessionId, err))));
    if (first !== 'timeout') return { done: true, value: first.value };
    return { done: false, pending: await this.#pending(handle, updateId) };
  }

  /**
   * The outcome of update `updateId` if it finishes within `waitSeconds`; else a pending answer.
   * `gone` resolves when the asker went away: the wait (and its call to Temporal) ends then, so a
   * dropped long poll holds nothing on the gateway for the rest of its `wait`.
   */
  async outcome<T>(handle: SessionHandle, updateId: string, waitSeconds: number, gone?: Promise<unknown>): Promise<Outcome<T>> {
    const abort = new AbortController();
    // Also in the runs before the current one: the session may have continued as new since.
    const result = this.#gh.client.connection.withAbortSignal(abort.signal, () => updateResultAcrossRuns<T>(this.#gh.client, handle.workflow.workflowId, updateId));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitSeconds * 1000)));
    const left = gone?.then(() => 'gone' as const) ?? new Promise<never>(() => undefined);
    try {
      const first = await Promise.race([result.then((value) => ({ value })), timeout, left]);
      if (first === 'gone') {
        abort.abort();
        result.catch(() => undefined);
        return { done: false, pending: { status: 'pending', proposalId: updateId } };
      }
      if (first !== 'timeout') return { done: true, value: first.value };
    } catch (err) {
      throw toProblem(handle.sessionId, err);
    } finally {
      clearTimeout(timer);
    }
    abort.abort();
    result.catch(() => undefined);
    return { done: false, pending: await this.#pending(handle, updateId) };
  }

  /** The value of update `updateId` when it already finished; `undefined` when it is unknown or still running. */
  async finished(handle: SessionHandle, updateId: string): Promise<unknown> {
    const outcome = await this.outcome(handle, updateId, 1).catch(() => undefined);
    return outcome?.done ? outcome.value : undefined;
  }

  /** Halts the session on the agent's word: stopping needs no signature. */
  async halt(handle: SessionHandle, agent: AgentIdentity, reason: string): Promise<void> {
    try {
      await handle.workflow.signal(haltSignal, { by: `agent:${agent.agentId}`, reason });
    } catch (err) {
      throw toProblem(handle.sessionId, err);
    }
  }

  /**
   * A pending answer, naming the approval the call waits for when it waits for a person (the
   * workflow keeps the id of the update each approval belongs to); a call still queued behind
   * another, or running, has none yet.
   */
  async #pending(handle: SessionHandle, proposalId: string): Promise<Pending> {
    const view = await handle.state().catch(() => undefined);
    const mine = view?.pendingApprovals.find((p) => p.proposalId === proposalId);
    if (!mine) return { status: 'pending', proposalId };
    return { status: 'pending', proposalId, approvalId: mine.approvalId, proposalSeq: mine.proposalSeq };
  }

  /**
   * Runs `send` after the session's earlier updates through this gateway, or after `waitSeconds`
   * at the latest. The workflow handles proposals one at a time anyway; a burst of concurrent
   * updates to one workflow makes the worker fail and retry workflow tasks, so the gateway sends
   * them one by one.
   */
  async #admit<R>(sessionId: string, waitSeconds: number, send: () => Promise<R>): Promise<R> {
    const before = this.#admissions.get(sessionId);
    let mine: Promise<R>;
    if (before === undefined) {
      // Nothing of this session in flight (the usual case): send now, no timer.
      mine = send();
    } else {
      let timer: NodeJS.Timeout | undefined;
      const turn = Promise.race([before, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitSeconds * 1000)))]).finally(() => clearTimeout(timer));
      mine = turn.then(send);
    }
    const tail = Promise.all([before, mine]).catch(() => undefined);
    this.#admissions.set(sessionId, tail);
    try {
      return await mine;
    } finally {
      if (this.#admissions.get(sessionId) === tail) this.#admissions.delete(sessionId);
    }
  }

  #remember(sessionId: string, principal: string): void {
    if (this.#principals.size >= 100_000) this.#principals.clear();
    this.#principals.set(sessionId, principal);
  }
}

export type { ProposeResult };

/**
 * A new update that Temporal answers "not found" for can have met a session that closed a moment
 * before (a halt finishing): the workflow's own state says which, so the agent gets 409, not 404.
 */
export async function closedNotMissing(handle: SessionHandle, problem: Problem): Promise<Problem> {
  if (problem.code !== 'not-found') return problem;
  const status = await handle.workflow.describe().then((d) => d.status.name, () => undefined);
  return status === undefined || status === 'RUNNING' ? problem : new Problem('session-closed', `session \`${handle.sessionId}\` is closed (${status.toLowerCase()})`);
}
