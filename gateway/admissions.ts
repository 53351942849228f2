/**
 * The open-session cap, atomic across gateway replicas: a start first takes a slot in its root
 * agent's `gatehouseAdmissions` workflow (whose updates are decided one at a time), and only an
 * admitted id is started. A sub-agent's spawn takes a slot too (`spawnSlotId`), which its child
 * takes over once it started (`adopt`). Slots are freed when a session ends through the gateway, when its start
 * fails, and — for sessions that ended any other way (halt, budget, crash, a gateway that died
 * between admit and start) — when the cap is reached: the held ids are looked up in Temporal, and
 * those that are not running, or are another agent's, are released before the admission is asked
 * again. Whoever holds a session open beside its slot (an MCP session) hears of each release (`onReleased`).
 */
import { ApplicationFailure, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { MAX_SESSION_CAP, rootAgentOf, type AdmitResult } from '../policies/admissions';
import { ADMISSIONS_ERROR_TYPES, ADMISSIONS_WORKFLOW_TYPE, admissionsQuery, admissionsWorkflowId, admitUpdate, releaseUpdate } from '../workflows/admissions-contract';
import { sessionWorkflowId } from '../workflows/contract';
import { AGENT_KEY } from '../workflows/search-attributes';
import { Problem } from './problems';

export interface SessionAdmissionsOptions {
  readonly client: Client;
  readonly taskQueue: string;
  /** Open sessions per root agent. */
  readonly cap: number;
  /** A slot whose session Temporal does not know is freed only after this long (its start may still be on its way). @default 30 000 */
  readonly startGraceMs?: number;
  /** After a refusal at the cap, this replica refuses the agent's starts without asking Temporal for this long. @default 1 000 */
  readonly fullForMs?: number;
}

/** What an admission took: `release` it when the start fails. */
export interface Admission {
  readonly rootAgentId: string;
  readonly sessionId: string;
  /** False when the id already held a slot: a failed start must not free it. */
  readonly fresh: boolean;
}

/** Told the ids whose slots were just freed under a root agent: those sessions are over (or never started). */
export type ReleaseListener = (rootAgentId: string, sessionIds: readonly string[]) => void;

const SPAWN_SLOT = /^spawn:(.+):[0-9a-f]{24}$/;

/**
 * The slot a sub-agent's spawn holds until its child is known (its id is the parent's choice):
 * named by the parent and the spawn's update id, so the spawn's answer and a later read of its
 * outcome name the same slot. It counts the spawn — and the child it may have started — for as
 * long as the parent runs, unless the spawn's outcome is read first (its child then takes it over,
 * or a refused spawn frees it): a child is never left uncounted, and a slot left behind goes with
 * its parent.
 */
export function spawnSlotId(parentSessionId: string, proposalId: string): string {
  return `spawn:${parentSessionId}:${createHash('sha256').update(proposalId).digest('hex').slice(0, 24)}`;
}

export class SessionAdmissions {
  readonly #o: Required<SessionAdmissionsOptions>;
  /** Root agent → until when this replica refuses its starts without asking (it was at the cap). */
  readonly #fullUntil = new Map<string, number>();
  /** Root agent → the tail of its admissions through this replica: one update in flight per agent. */
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #listeners = new Set<ReleaseListener>();

  constructor(options: SessionAdmissionsOptions) {
    this.#o = { startGraceMs: 30_000, fullForMs: 1_000, ...options };
  }

  /** Open sessions per root agent. */
  get cap(): number {
    return this.#o.cap;
  }

  /** Calls `listener` after every release through this replica; returns what stops it. */
  onReleased(listener: ReleaseListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Takes a slot for `sessionId` under the agent's root, or throws a 429 problem at the cap. One
   * admission per agent at a time through this replica (Temporal takes few concurrent updates per
   * workflow), and a flood at the cap is refused here for `fullForMs` without reaching Temporal.
   */
  async admit(agentId: string, sessionId: string): Promise<Admission> {
    const root = rootAgentOf(agentId);
    this.#refuseIfFull(root);
    return this.#serial(root, async () => {
      this.#refuseIfFull(root);
      let r = await this.#admit(root, sessionId);
      if (!r.admitted) {
        // At the cap: free the slots of sessions that are over (halted, crashed, never started), then ask again.
        const over = await this.#over(root, r.held ?? (await this.held(root)));
        if (over.length > 0) {
          await this.#release(root, over);
          r = await this.#admit(root, sessionId);
        }
      }
      if (!r.admitted) {
        if (this.#fullUntil.size >= 100_000) this.#fullUntil.clear();
        this.#fullUntil.set(root, Date.now() + this.#o.fullForMs);
        this.#refuseIfFull(root);
      }
      return { rootAgentId: root, sessionId, fresh: r.admitted && r.fresh };
    });
  }

  #refuseIfFull(root: string): void {
    const until = this.#fullUntil.get(root);
    if (until === undefined) return;
    if (until <= Date.now()) {
      this.#fullUntil.delete(root);
      return;
    }
    throw new Problem('too-many-sessions', `agent \`${root}\` has ${this.#o.cap} open sessions, the most it may have: end one first`, { limit: this.#o.cap }, 5);
  }

  async #serial<T>(root: string, work: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(root) ?? Promise.resolve();
    const mine = before.then(work, work);
    const tail = mine.catch(() => undefined);
    this.#queues.set(root, tail);
    try {
      return await mine;
    } finally {
      if (this.#queues.get(root) === tail) this.#queues.delete(root);
    }
  }

  /**
   * After a failed start: frees a fresh slot unless the session is running after all, as this
   * agent's. Even a start refused because the id exists is looked up: the session under it may be
   * this agent's own, started by a concurrent request with the same id, which counts on this slot.
   */
  async releaseFailedStart(admission: Admission): Promise<void> {
    if (!admission.fresh) return;
    const over = await this.#over(admission.rootAgentId, [{ sessionId: admission.sessionId, at: 0 }]).catch(() => []);
    if (over.length > 0) await this.#release(admission.rootAgentId, over);
  }

  /** Frees the slot of a session that ended (or never started). */
  async release(agentId: string, sessionId: string): Promise<void> {
    const root = rootAgentOf(agentId);
    await this.#release(root, [sessionId]);
    this.#fullUntil.delete(root);
  }

  /** The slots held under the agent's root, with when each was taken. */
  async held(agentId: string): Promise<readonly { readonly sessionId: string; readonly at: number }[]> {
    try {
      return await this.#o.client.workflow.getHandle(admissionsWorkflowId(this.#o.taskQueue, rootAgentOf(agentId))).query(admissionsQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  }

  /** One admission; at the cap the validator refuses it (nothing recorded) and the held slots are read. */
  async #admit(root: string, sessionId: string): Promise<AdmitResult | { readonly admitted: false; readonly held?: undefined }> {
    try {
      return await this.#send(root, sessionId);
    } catch (err) {
      const full = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === ADMISSIONS_ERROR_TYPES.full;
      if (!full) throw err;
      return { admitted: false };
    }
  }

  /**
   * Settles a spawn's slot (`spawnSlotId`) once its outcome is known: a child that started takes it
   * over (its own id admitted whatever the cap — the spawn was admitted under it — then the spawn's
   * slot freed); a refused spawn frees it. Only while the slot is held: a second settling (the
   * spawn's answer, then a read of its outcome) changes nothing.
   */
  async settleSpawn(agentId: string, spawnSlot: string, childSessionId: string | undefined): Promise<void> {
    const root = rootAgentOf(agentId);
    await this.#serial(root, async () => {
      if (!(await this.held(root)).some((h) => h.sessionId === spawnSlot)) return;
      if (childSessionId !== undefined) await this.#send(root, childSessionId, MAX_SESSION_CAP);
      await this.#release(root, [spawnSlot]);
      this.#fullUntil.delete(root);
    });
  }

  async #send(root: string, sessionId: string, cap = this.#o.cap): Promise<AdmitResult> {
    const start = new WithStartWorkflowOperation(ADMISSIONS_WORKFLOW_TYPE, {
      workflowId: admissionsWorkflowId(this.#o.taskQueue, root),
      taskQueue: this.#o.taskQueue,
      args: [],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return this.#o.client.workflow.executeUpdateWithStart(admitUpdate, { args: [{ sessionId, cap }], startWorkflowOperation: start });
  }

  async #release(root: string, sessionIds: readonly string[]): Promise<void> {
    try {
      await this.#o.client.workflow.getHandle(admissionsWorkflowId(this.#o.taskQueue, root)).executeUpdate(releaseUpdate, { args: [{ sessionIds }] });
    } catch (err) {
      // No admissions workflow: nothing is held.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    for (const listener of this.#listeners) listener(root, sessionIds);
  }

  /**
   * The held ids whose sessions are over: closed, unknown to Temporal past the start grace, or
   * running as another root agent's (whose id this agent tried to start: it is not this agent's to
   * count). A spawn's slot is over with its parent session (whose end halts its children).
   */
  async #over(root: string, held: readonly { readonly sessionId: string; readonly at: number }[]): Promise<string[]> {
    const now = Date.now();
    const over = await Promise.all(
      held.map(async ({ sessionId: id, at }) => {
        const sessionId = SPAWN_SLOT.exec(id)?.[1] ?? id;
        try {
          const d = await this.#o.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe();
          // No agent yet (a child before its first task) is no evidence of another agent.
          const agent = d.typedSearchAttributes.get(AGENT_KEY);
          return d.status.name !== 'RUNNING' || (agent !== undefined && agent !== root);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return now - at > this.#o.startGraceMs;
          throw err;
        }
      }),
    );
    return held.filter((_, i) => over[i]).map((h) => h.sessionId);
  }
}
