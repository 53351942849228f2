/**
 * `SessionHandle`: what an agent holds for one session — propose, state, spawn a sub-agent, end.
 * A thin typed layer over the workflow's updates and query (names in `workflows/contract.ts`).
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  endUpdate,
  proposeUpdate,
  sessionWorkflowId,
  spawnChildUpdate,
  stateQuery,
  type ProposeResult,
  type SessionProposal,
  type SessionStateView,
  type SessionSummary,
  type SpawnChildInput,
  type SpawnChildResult,
} from '../workflows/contract';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateStage, isGrpcDeadlineError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mapSessionError, SessionStartRefusedError, SubAgentDeniedError } from './errors';
import { sendUpdate } from './update-retry';

/** How long `state()` waits for a starting session to load its policy, and how often it asks. */
const STARTING_WAIT_MS = 10_000;
const STARTING_POLL_MS = 25;
/** How many times `state()` asks when the query timed out before a worker took it (each wait is the server's own). */
const QUERY_TIMEOUT_ATTEMPTS = 3;

export class SessionHandle {
  readonly sessionId: string;
  readonly workflowId: string;
  readonly #client: Client;

  constructor(client: Client, sessionId: string) {
    this.#client = client;
    this.sessionId = sessionId;
    this.workflowId = sessionWorkflowId(sessionId);
  }

  /** The underlying Temporal handle (the latest run: continue-as-new is followed). */
  get workflow(): WorkflowHandle {
    return this.#client.workflow.getHandle(this.workflowId);
  }

  /**
   * Proposes one tool call; resolves when it ran, was denied, failed or expired.
   *
   * The call is one Temporal update with an id of its own. When the RPC times out before the
   * outcome (an overloaded server or worker), the same update is asked for again by that id:
   * Temporal runs an update id once, so the retry either finds the outcome or sends the proposal
   * that never arrived — a proposal is neither lost nor made twice. So is one the server did not
   * take while the session's workflow task was failing (`sendUpdate`): refused then and never
   * sent again, the events its first attempt wrote ahead would collide with the session's next
   * record (BENCHMARKS, "lost sessions at 1,000"); sent again, it is the same call, the same seqs.
   */
  async propose(proposal: SessionProposal): Promise<ProposeResult> {
    const updateId = randomUUID();
    try {
      return await sendUpdate(() => this.workflow.executeUpdate(proposeUpdate, { args: [proposal], updateId }), { retryRpcTimeouts: true });
    } catch (err) {
      return mapSessionError(this.sessionId, err);
    }
  }

  /** The session's state (the `state` query); a session still starting is waited for, up to 10 s. */
  async state(): Promise<SessionStateView> {
    // A session that has just started (a sub-agent right after `spawnChild`, say) has not loaded
    // its policy yet and would report an empty budget: wait, briefly, until it has.
    const until = Date.now() + STARTING_WAIT_MS;
    let timeouts = 0;
    for (;;) {
      let view: SessionStateView;
      try {
        view = await this.workflow.query(stateQuery);
      } catch (err) {
        // A query no worker took in time (an overloaded worker): reading again is always safe.
        if (isGrpcDeadlineError(err) && ++timeouts < QUERY_TIMEOUT_ATTEMPTS) continue;
        return mapSessionError(this.sessionId, err);
      }
      if (view.policyHash !== '' || view.ended || view.halted || Date.now() >= until) return view;
      await new Promise((resolve) => setTimeout(resolve, STARTING_POLL_MS));
    }
  }

  /**
   * Starts a sub-agent (a child session) with its own intent and a share of this session's
   * budget; resolves with its handle. Throws `SubAgentDeniedError` when it was not started.
   */
  async spawnChild(input: SpawnChildInput): Promise<ChildSessionHandle> {
    let spawn: SpawnChildResult;
    try {
      spawn = await this.workflow.executeUpdate(spawnChildUpdate, { args: [input] });
    } catch (err) {
      return mapSessionError(this.sessionId, err);
    }
    if (spawn.status !== 'started') throw new SubAgentDeniedError(this.sessionId, spawn);
    return new ChildSessionHandle(this.#client, spawn);
  }

  /** Ends the session after every earlier proposal; resolves with its summary. */
  async end(input: { reason?: string } = {}): Promise<SessionSummary> {
    const updateId = randomUUID();
    try {
      return await sendUpdate(() => this.workflow.executeUpdate(endUpdate, { args: [input], updateId }), { retryRpcTimeouts: false });
    } catch (err) {
      return mapSessionError(this.sessionId, err);
    }
  }

  /**
   * Sends `end` and resolves once the session's workflow has accepted it: from then on the end is in
   * the session's history, the session takes no new proposal, and it ends after every earlier one,
   * whoever waits (a held call can keep it open for as long as nobody decides).
   */
  async endAccepted(input: { reason?: string } = {}): Promise<void> {
    const updateId = randomUUID();
    try {
      await sendUpdate(() => this.workflow.startUpdate(endUpdate, { args: [input], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }), { retryRpcTimeouts: false });
    } catch (err) {
      mapSessionError(this.sessionId, err);
    }
  }

  /** Waits for the session's workflow to finish (after `end` or `halt`). */
  async result(): Promise<SessionSummary> {
    try {
      return (await this.workflow.result()) as SessionSummary;
    } catch (err) {
      return mapSessionError(this.sessionId, err);
    }
  }
}

/**
 * Waits until a just-started session has loaded its policy, by polling; throws `SessionStartRefusedError`
 * when the worker refused the start (the workflow failed), with the refusal's message. `startSession`'s
 * fallback when its `started` update did not answer `true` (a refused start, a worker without the handler).
 */
export async function waitUntilStarted(handle: SessionHandle, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const view = await handle.workflow.query(stateQuery).catch(() => undefined);
    if (view && view.policyHash !== '') return;
    const desc = await handle.workflow.describe().catch((err: unknown): never => mapSessionError(handle.sessionId, err));
    if (desc.status.name !== 'RUNNING') {
      try {
        await handle.workflow.result();
      } catch (err) {
        const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        if (cause instanceof ApplicationFailure) {
          const rule = (cause.details?.[0] as { rule?: string } | undefined)?.rule;
          throw new SessionStartRefusedError(handle.sessionId, cause.message, rule, { cause: err });
        }
        throw err;
      }
      return;
    }
    if (Date.now() >= until) return;
    await new Promise((resolve) => setTimeout(resolve, STARTING_POLL_MS));
  }
}

/** A sub-agent's session, with the result of the `spawnChild` update that started it. */
export class ChildSessionHandle extends SessionHandle {
  readonly spawn: SpawnChildResult;
  constructor(client: Client, spawn: SpawnChildResult) {
    super(client, spawn.sessionId);
    this.spawn = spawn;
  }
}
