/**
 * One MCP session's Gatehouse session: the intent, the session started with the caller's
 * credential once the intent is known, and proposals one at a time, in order.
 *
 * Intent: until the agent declared one (`gatehouse_declare_intent` or the `X-Gatehouse-Intent`
 * header) no session exists and every catalog call is refused with a tool error saying to declare
 * it — reads included, because a session started under a placeholder intent could not take the
 * real one later, and a second session would split the history forbidden transitions are checked on.
 */
import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { shownLineAtMost } from '../../approvals/shown-text';
import { InvalidProposalError, SessionClosedError, SessionNotFoundError, SessionStartRefusedError, mapSessionError, type Gatehouse, type SessionHandle } from '../../client';
import { sendUpdate } from '../../client/update-retry';
import { proposeUpdate, type PendingApprovalView, type ProposeResult, type SessionProposal } from '../../workflows/contract';
import type { Admission, SessionAdmissions } from '../admissions';
import type { McpCaller } from './caller';
import { Problem } from '../problems';
import { TOOL_NAME } from '../schemas';
import { HeldCalls } from './held';
import { heldResult, NO_INTENT_MESSAGE, outcomeResult, refusal } from './outcome';
import { AWAIT_APPROVAL_TOOL } from './tools';
import type { ListingSession } from './upstream-tools';
import { within } from './wait';

export interface AgentSessionOptions {
  readonly gatehouse: Gatehouse;
  /** How long a call waits for its outcome before answering "held for approval". */
  readonly holdWaitMs: number;
  /** How often `gatehouse_await_approval` sends a progress notification. */
  readonly progressEveryMs: number;
  /** The open-session cap: a session starts only with a slot, freed when it ends; none by default. */
  readonly admissions?: SessionAdmissions;
}

/** Where a call's upstream progress and log notifications go: its key is the call's idempotency key (`<sessionId>:<update id>`). */
export interface CallNotes {
  listen(key: string, deliver: (method: string, params: Record<string, unknown>) => void): () => void;
  readonly deliver: (method: string, params: Record<string, unknown>) => void;
  /**
   * Resolves once the notes relayed before the call's outcome have reached the agent: `relayed` of
   * them when the worker counted (none: at once), else all relayed so far (a NOTIFY of its own).
   */
  flush(relayed?: number): Promise<void>;
}

/** How a proposal ended for the MCP layer: an outcome, held for a person, or refused before it was proposed. */
export type Proposed = { readonly outcome: ProposeResult } | { readonly held: PendingApprovalView } | { readonly refused: CallToolResult };

/** Reports progress of a long wait to the MCP client (a no-op without a progressToken). */
export type Progress = (elapsedSeconds: number, message: string) => void;

const MAX_INTENT = 2000;
/** How often a call past its hold wait checks whether it now waits for a person. */
const STILL_RUNNING_POLL_MS = 500;

export class AgentSession {
  readonly caller: McpCaller;
  readonly #o: AgentSessionOptions;
  #intent: string | undefined;
  #session: Promise<SessionHandle> | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #listing: Promise<ListingSession | undefined> | undefined;
  readonly #held = new HeldCalls();
  /** The slot taken at `initialize`, for the session not started yet (its id is the session's). */
  #reserved: Admission | undefined;
  /** The id of the slot this MCP session holds now: reserved, or its session's; none after a failed start or the end. */
  #slot: string | undefined;
  /** Aborted when the MCP session closes: nobody waits for its calls' outcomes any more. */
  readonly #closed = new AbortController();

  constructor(caller: McpCaller, options: AgentSessionOptions, reserved?: Admission) {
    this.caller = caller;
    this.#o = options;
    this.#reserved = reserved;
    this.#slot = reserved?.sessionId;
  }

  /**
   * The id of the open-session slot this MCP session holds now (the session's id once started):
   * when that slot is freed by anyone else, the session is over and the MCP session with it.
   */
  get slotId(): string | undefined {
    return this.#slot;
  }

  get intent(): string | undefined {
    return this.#intent;
  }

  /** The Gatehouse session id, once started. */
  async sessionId(): Promise<string | undefined> {
    return this.#session ? (await this.#session.catch(() => undefined))?.sessionId : undefined;
  }

  /** The `X-Gatehouse-Intent` header: declares the intent if none is yet; the session starts on first use. */
  intentFromHeader(value: string): void {
    const intent = value.trim();
    if (this.#intent === undefined && intent.length > 0 && intent.length <= MAX_INTENT) this.#intent = intent;
  }

  /** `gatehouse_declare_intent`: fixes the intent and starts the session now (a refused start is reported here). */
  async declareIntent(args: Record<string, unknown>): Promise<CallToolResult> {
    const intent = typeof args.intent === 'string' ? args.intent.trim() : '';
    if (intent.length < 3 || intent.length > MAX_INTENT) return refusal('intent.invalid', `\`intent\` must be a sentence of 3 to ${MAX_INTENT} characters`);
    if (this.#session && this.#intent !== intent) {
      return refusal('intent.declared', `this session's intent is already \`${this.#intent ?? ''}\` and cannot change; open a new MCP session for another task`);
    }
    this.#intent ??= intent;
    if (this.#intent !== intent) return refusal('intent.declared', `this session's intent is already \`${this.#intent}\` (from the X-Gatehouse-Intent header) and cannot change`);
    const started = await this.#start();
    if ('refused' in started) return started.refused;
    const text = `Intent declared; Gatehouse session \`${started.handle.sessionId}\` started. Every call is now checked against: ${intent}`;
    return { content: [{ type: 'text', text }], structuredContent: { status: 'declared', sessionId: started.handle.sessionId, intent } };
  }

  /**
   * The session `tools/list` shows upstream tools for: its id and policy hash (state view), once
   * the intent is known (the session starts here if it has not yet); undefined before, or when the
   * start is refused (nothing upstream is listed then).
   */
  listingSession(): Promise<ListingSession | undefined> {
    if (this.#intent === undefined) return Promise.resolve(undefined);
    this.#listing ??= this.#start().then(async (started) => {
      if ('refused' in started) return undefined;
      const view = await started.handle.state();
      return { sessionId: view.sessionId, policyHash: view.policyHash };
    });
    // A failed attempt is not kept: the next listing asks again.
    return this.#listing.catch(() => undefined).then((s) => {
      if (s === undefined) this.#listing = undefined;
      return s;
    });
  }

  /** `tools/call` of a catalog tool: a proposal. */
  async call(tool: string, args: Record<string, unknown>, reasoning: string, notes?: CallNotes): Promise<CallToolResult> {
    const p = await this.propose(tool, args, reasoning, notes);
    return 'outcome' in p ? outcomeResult(p.outcome) : 'held' in p ? heldResult(p.held) : p.refused;
  }

  /**
   * One proposal, one at a time, in the order they arrived (the workflow handles them in order
   * anyway). With `notes`, the call gets an idempotency key of its own so the worker's relayed
   * upstream notifications find it.
   */
  propose(tool: string, args: Record<string, unknown>, reasoning: string, notes?: CallNotes): Promise<Proposed> {
    const next = this.#tail.then(() => this.#propose(tool, args, reasoning, notes));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #propose(tool: string, args: Record<string, unknown>, reasoning: string, notes: CallNotes | undefined): Promise<Proposed> {
    const refused = (result: CallToolResult): Proposed => ({ refused: result });
    // The same form `/v1` requires: any other text in a tool's place would reach people as a name.
    if (!TOOL_NAME.test(tool)) return refused(refusal('tool.name', `\`${shownLineAtMost(tool, 120)}\` is not a tool name (a letter or digit, then at most 199 letters, digits or \`._/-\`): \`tools/list\` gives the tools`));
    if (this.#intent === undefined) return refused(refusal('intent.undeclared', NO_INTENT_MESSAGE));
    const open = this.#held.open();
    if (open) {
      return refused(refusal('session.awaiting-approval', `\`${open.tool}\` is held for approval \`${open.approvalId}\`, and a session handles its calls in order: call \`${AWAIT_APPROVAL_TOOL}\` with {"approvalId": "${open.approvalId}"} first`, { approvalId: open.approvalId }));
    }
    const started = await this.#start();
    if ('refused' in started) return started;
    const handle = started.handle;
    const updateId = `mcp-${randomUUID()}`;
    const proposal: SessionProposal = { tool, args, reasoning, ...(notes ? { idempotencyKey: updateId } : {}) };
    const unlisten = notes?.listen(`${handle.sessionId}:${updateId}`, notes.deliver);
    try {
      // One call to Temporal when the call is quick (its outcome comes back with the update); a
      // longer one is awaited by the same promise (the client polls for the outcome).
      const signal = this.#closed.signal;
      const result = this.#o.gatehouse.client.connection.withAbortSignal(signal, () =>
        sendUpdate(() => handle.workflow.executeUpdate(proposeUpdate, { args: [proposal], updateId }), { retryRpcTimeouts: true, signal }),
      );
      let waited = await within(result, this.#o.holdWaitMs);
      // Past the hold wait: answer "held" once the call is waiting for a person; a call that is not
      // (a long tool, a paused session) is waited for until it ends.
      while (!waited.done) {
        const view = await handle.state();
        const held = view.pendingApprovals.find((p) => p.proposalId === updateId);
        if (held) {
          this.#held.add(held.approvalId, tool, result);
          return { held };
        }
        waited = await within(result, STILL_RUNNING_POLL_MS);
      }
      // The upstream's last notes were relayed before its result: send them before the answer.
      if (notes && waited.value.status !== 'denied') await notes.flush(waited.value.relayedNotes);
      return { outcome: waited.value };
    } catch (err) {
      return refused(this.#sessionError(handle.sessionId, err));
    } finally {
      unlisten?.();
    }
  }

  /** `gatehouse_await_approval`: waits up to `timeoutSeconds` for a held call's outcome. */
  async awaitApproval(approvalId: string, timeoutSeconds: number, progress: Progress | undefined, signal: AbortSignal): Promise<CallToolResult> {
    const call = this.#held.get(approvalId);
    if (!call) return refusal('approval.unknown', `no call of this MCP session is held for approval \`${approvalId}\``);
    const started = Date.now();
    const tick = progress ? () => progress((Date.now() - started) / 1000, `waiting for a person to decide on \`${call.tool}\` (approval \`${approvalId}\`)`) : undefined;
    const waited = await within(call.outcome, timeoutSeconds * 1000, { signal, tickMs: this.#o.progressEveryMs, ...(tick ? { onTick: tick } : {}) });
    if (!waited.done) {
      const text = `still held for approval \`${approvalId}\` after ${timeoutSeconds} s: nobody has decided yet. Call \`${AWAIT_APPROVAL_TOOL}\` again to keep waiting.`;
      return { content: [{ type: 'text', text }], structuredContent: { status: 'held', approvalId, tool: call.tool } };
    }
    if (waited.value.result) return outcomeResult(waited.value.result);
    const sessionId = (await this.sessionId()) ?? approvalId;
    return this.#sessionError(sessionId, waited.value.error);
  }

  /**
   * The MCP session closed (the client's DELETE, idle, or gateway shutdown): stop waiting on Temporal
   * for its calls — a held call's wait is an open RPC for as long as nobody decides. The calls
   * themselves go on in the session's workflow, which a person still decides.
   */
  close(): void {
    this.#closed.abort();
  }

  /**
   * Ends the Gatehouse session (after every earlier proposal; nothing to end if none started): once
   * the session has accepted the end it takes no new proposal. Its slot is freed when it has ended.
   * A session with a call held for a person is not waited for (nobody knows how long that takes):
   * it keeps its slot — closing MCP sessions must not let an agent pile up held calls past its cap —
   * until it has ended and the cap, when next reached, finds it over.
   */
  async end(reason: string): Promise<void> {
    const handle = this.#session ? await this.#session.catch(() => undefined) : undefined;
    const slot = handle?.sessionId ?? this.#reserved?.sessionId;
    this.#reserved = undefined;
    this.#slot = undefined;
    if (handle) {
      await handle.endAccepted({ reason });
      if ((await handle.state()).pendingApprovals.length > 0) return;
      await handle.result();
    }
    if (slot !== undefined) await this.#o.admissions?.release(this.caller.agentId, slot);
  }

  async #start(): Promise<{ readonly handle: SessionHandle } | { readonly refused: CallToolResult }> {
    const intent = this.#intent;
    if (intent === undefined) return { refused: refusal('intent.undeclared', NO_INTENT_MESSAGE) };
    // One promise for slot and start, set at once: concurrent first calls share one session.
    this.#session ??= this.#admitAndStart(intent);
    const session = this.#session;
    try {
      return { handle: await session };
    } catch (err) {
      // A refused start is final for this MCP session's attempt; a later call may try again.
      if (this.#session === session) this.#session = undefined;
      if (err instanceof Problem) return { refused: refusal(`gateway.${err.code}`, err.message) };
      if (err instanceof SessionStartRefusedError) return { refused: refusal(err.rule ?? 'start.refused', `Gatehouse refused to start the session: ${err.message}`) };
      throw err;
    }
  }

  /** Takes a slot under the open-session cap, then starts; a start that fails gives the slot back. */
  async #admitAndStart(intent: string): Promise<SessionHandle> {
    // The slot of `initialize` first; after a failed start, a new one.
    const admission: Admission | undefined = this.#reserved ?? (await this.#o.admissions?.admit(this.caller.agentId, randomUUID()));
    this.#reserved = undefined;
    this.#slot = admission?.sessionId;
    const sessionId = admission?.sessionId ?? randomUUID();
    try {
      return await this.#o.gatehouse.startSession({ sessionId, credential: this.caller.token, agentId: this.caller.agentId, owner: this.caller.owner, intent });
    } catch (err) {
      // Not this MCP session's slot any more: freeing it must not close the MCP session that asked.
      this.#slot = undefined;
      if (admission) await this.#o.admissions?.releaseFailedStart(admission);
      throw err;
    }
  }

  #sessionError(sessionId: string, err: unknown): CallToolResult {
    if (this.#closed.signal.aborted) {
      return refusal('mcp.closed', `this MCP session closed while the call waited; it goes on in Gatehouse session \`${sessionId}\`, where a person still decides a held call`);
    }
    let typed: unknown = err;
    try {
      mapSessionError(sessionId, err);
    } catch (mapped) {
      typed = mapped;
    }
    if (typed instanceof InvalidProposalError) return refusal('proposal.invalid', typed.message);
    if (typed instanceof SessionClosedError) return refusal('session.closed', `${typed.message}; open a new MCP session to go on`);
    if (typed instanceof SessionNotFoundError) return refusal('session.not-found', typed.message);
    throw err;
  }
}


