/**
 * The approvals inbox: every pending approval with what an approver must judge on one screen.
 * A row of the approvals table (written only by the session's own workflow) is shown only when
 * `checkShownCall` finds it is the call the session workflow's own `state` query holds pending —
 * same run, agent, intent, tool, arguments, blast radius, policy, and the call digest recomputed
 * from them; the page signs exactly that digest. Recent calls come from the same query. A session
 * that is no longer running has its cards left out; one that does not answer within `STATE_READ_BOUND_MS`
 * too, and the page says how many.
 */
import { WorkflowClient, type Client } from '@temporalio/client';
import type { Refusal } from '../approvals/check-decision';
import { checkShownCall } from '../approvals/shown-call';
import type { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord, ApprovalSubject } from '../approvals/types';
import { approvalParts, groupsAtLevel, ladderLevel } from '../policies/trust';
import { stateQuery, type ActionView, type SessionStateView } from '../workflows/contract';

/** What the inbox shows of an approval: the row's subject, and what a person judges beside it. */
export interface InboxItem extends Pick<ApprovalSubject, 'approvalId' | 'sessionId' | 'workflowId' | 'firstRunId' | 'agentId' | 'owner' | 'intent' | 'redactedArgs' | 'blastRadius' | 'callDigest' | 'requestedAt' | 'deadline'> {
  readonly tool: string;
  readonly reasoning: string;
  readonly reasons: readonly { readonly rule: string; readonly message: string }[];
  readonly tier: string;
  readonly policyHash: string;
  /** How many escalation steps have passed (0: the first group only). */
  readonly escalationLevel: number;
  /** Groups that may decide now, with their members. */
  readonly groupsNow: readonly { readonly group: string; readonly members: readonly string[] }[];
  readonly approversRequired: number;
  readonly approvedBy: readonly string[];
  readonly fourEyes: boolean;
  readonly recentCalls: readonly ActionView[];
  readonly intentScore?: number;
}

/** How a state read is made; without options, a closed workflow's last state is read too (the session page shows it). */
export interface StateReadOptions {
  /**
   * Answer `undefined` for a workflow that is no longer running. A terminated session's `state`
   * query still answers (replayed from its history, its approval still pending), so only the
   * server's own status tells it is gone: the query is sent rejected-if-closed, no extra call.
   */
  readonly openOnly?: boolean;
  /** Abandons the read (its call to Temporal is cancelled): the answer is then `undefined`. */
  readonly signal?: AbortSignal;
}

/** The session's state, or undefined when the workflow is gone or does not answer. */
export type StateReader = (workflowId: string, options?: StateReadOptions) => Promise<SessionStateView | undefined>;

export function temporalStateReader(client: Client): StateReader {
  // The same connection and converter; the server rejects its queries to a closed workflow.
  const open = new WorkflowClient({ ...client.workflow.options, connection: client.connection, queryRejectCondition: 'NOT_OPEN' });
  return async (workflowId, options = {}) => {
    const workflows = options.openOnly ? open : client.workflow;
    const query = () => workflows.getHandle(workflowId).query(stateQuery);
    try {
      return await (options.signal ? workflows.withAbortSignal(options.signal, query) : query());
    } catch {
      return undefined;
    }
  };
}

/** The row as the inbox shows it, if it is the call the workflow holds pending; the refusal otherwise. */
export function shownItem(row: ApprovalRecord, state: SessionStateView | undefined, now: number): { readonly ok: true; readonly item: InboxItem } | Refusal {
  const shown = checkShownCall(row, state);
  if (!shown.ok) return shown;
  const pending = shown.pending;
  const view = state!;
  const requestedAt = Date.parse(pending.requestedAt);
  const parts = approvalParts(row.requirement);
  const levels = parts.map((p) => ladderLevel(p, requestedAt, now));
  const groups = [...new Set(parts.flatMap((p, i) => groupsAtLevel(p, levels[i]!)))];
  const item: InboxItem = {
    approvalId: row.approvalId,
    sessionId: row.sessionId,
    workflowId: view.workflowId,
    firstRunId: view.firstRunId,
    agentId: row.agentId,
    owner: row.owner,
    intent: row.intent,
    tool: pending.tool,
    reasoning: row.reasoning,
    redactedArgs: row.redactedArgs,
    ...(row.blastRadius !== undefined ? { blastRadius: row.blastRadius } : {}),
    reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message })),
    tier: row.decision.tier,
    policyHash: row.decision.policyHash,
    callDigest: pending.callDigest,
    requestedAt: pending.requestedAt,
    deadline: pending.deadline,
    escalationLevel: Math.max(...levels),
    groupsNow: groups.map((g) => ({ group: g, members: row.groupMembers[g] ?? [] })),
    approversRequired: pending.approversRequired,
    approvedBy: pending.approvedBy,
    fourEyes: parts.some((p) => p.fourEyes),
    recentCalls: view.lastActions.slice(-10),
    ...(view.intentScore !== undefined ? { intentScore: view.intentScore } : {}),
  };
  return { ok: true, item };
}

/** How many pending approvals the inbox shows, oldest first (it held 500 before: a 1,000-call backlog hid half). */
export const INBOX_LIMIT = 2_000;

/**
 * How long the inbox waits for one session's `state` query. A session whose worker is down, or whose
 * workflow task is busy (an agent can stretch one with a slow upstream call), does not answer, and
 * waiting for it froze every card of every session. Past this its cards are left out of this read;
 * a later read shows them again once it answers. Not a limit of the reader itself: the operator's
 * controls read `undefined` as "ended", which a slow session is not.
 */
export const STATE_READ_BOUND_MS = 3_000;

/** A session's state read for the inbox: its state (undefined once it ended), or `late` past the bound. */
type BoundedRead = { readonly late: false; readonly state: SessionStateView | undefined } | { readonly late: true };

/** The session's state if it is running and answers within `STATE_READ_BOUND_MS` (its read is cancelled past it). */
async function boundedState(readState: StateReader, workflowId: string): Promise<BoundedRead> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<BoundedRead>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve({ late: true });
    }, STATE_READ_BOUND_MS);
  });
  try {
    return await Promise.race([readState(workflowId, { openOnly: true, signal: abort.signal }).then((state): BoundedRead => ({ late: false, state })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the inbox page shows: the cards, and how many pending approvals it left out because their session did not answer in time. */
export interface InboxView {
  readonly items: InboxItem[];
  /** Shown again on a later read once their session answers: an approver is told they exist, not left to guess. */
  readonly silent: number;
}

/**
 * Every pending approval the workflows confirm, oldest first, up to `INBOX_LIMIT`. A row whose
 * session is not running (terminated: its row stays pending for good) is not shown; one whose
 * session does not answer in time is not shown either, but counted in `silent`.
 */
export async function readInboxView(store: ApprovalStore, readState: StateReader, now = Date.now()): Promise<InboxView> {
  const rows = (await store.list({ limit: INBOX_LIMIT })).filter((r) => r.status === 'pending');
  const reads = new Map<string, Promise<BoundedRead>>();
  let silent = 0;
  const items = await Promise.all(
    rows.map(async (row) => {
      if (!reads.has(row.workflowId)) reads.set(row.workflowId, boundedState(readState, row.workflowId));
      const read = await reads.get(row.workflowId)!;
      if (read.late) {
        silent++;
        return undefined;
      }
      const shown = shownItem(row, read.state, now);
      return shown.ok ? shown.item : undefined;
    }),
  );
  return { items: items.filter((i): i is InboxItem => i !== undefined).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt)), silent };
}

/** The inbox's cards (`readInboxView` without the count). */
export async function readInbox(store: ApprovalStore, readState: StateReader, now = Date.now()): Promise<InboxItem[]> {
  return (await readInboxView(store, readState, now)).items;
}
