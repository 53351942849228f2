/**
 * Pure fixtures of the approvals tests: an approval request, its requirement, the approver
 * groups and the Slack users clicking. No servers, so unit tests import this alone. The Slack
 * users are those of `TEST_SLACK_USERS` (team `T0TEST`): the keyset maps each user id to the
 * approver name the groups use (`U0BOB` → `bob`, `U0MALLORY` → `mallory`, the rest to their ids).
 */
import type { ApprovalRecord, ApprovalRequest } from '../../approvals/types';
import { callDigestOver } from '../../policies/gate';
import type { ApprovalRequirement } from '../../policies/types';
import type { PendingApprovalView, SessionStateView } from '../../workflows/contract';

/** The digest of the session state the fixture's call digest saw. */
export const FIXTURE_STATE_HASH = 'e'.repeat(64);

/** A Slack user as interaction payloads carry it. */
export interface SlackUser {
  readonly id: string;
  readonly username: string;
  /** @default 'T0TEST' */
  readonly teamId?: string;
}

/** The Slack team of the test workspace. */
export const TEAM_ID = 'T0TEST';

/** A default requirement: one approver from `sre`, then `eng-leads`, four eyes. */
export function requirement(overrides: Partial<ApprovalRequirement> = {}): ApprovalRequirement {
  return {
    groups: ['sre'],
    approversRequired: 1,
    escalateAfterMs: [],
    timeoutMs: 15 * 60_000,
    channel: '#gatehouse-approvals',
    fourEyes: true,
    unlocksTransition: false,
    ...overrides,
  };
}

/** Approver groups of the tests: Slack ids and names mixed, as a policy may write them. */
export const GROUP_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  sre: ['U0ALICE', 'bob', 'U0OWNER'],
  'eng-leads': ['U0CAROL'],
  robots: ['billing-bot'],
};

export const USERS = {
  alice: { id: 'U0ALICE', username: 'alice' },
  bob: { id: 'U0BOB', username: 'bob' },
  carol: { id: 'U0CAROL', username: 'carol' },
  mallory: { id: 'U0MALLORY', username: 'mallory' },
  /** The session's owner (`U0OWNER`), also listed in `sre`. */
  owner: { id: 'U0OWNER', username: 'eng-007' },
  /** A Slack user the keyset does not map to any approver. */
  stranger: { id: 'U0STRANGER', username: 'stranger' },
} as const satisfies Record<string, SlackUser>;

/** An approval request for `billing.deleteRecords` on `workflowId`. */
export function approvalRequest(workflowId: string, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const sessionId = overrides.sessionId ?? workflowId.replace(/^session-/, '');
  const now = Date.now();
  const req = overrides.requirement ?? requirement();
  const tool = 'billing.deleteRecords';
  const args = { filter: { test: true, month: '2026-10' }, apiKey: 'sk-live-secret' };
  const policyHash = 'a'.repeat(64);
  return {
    approvalId: `${sessionId}:1`,
    sessionId,
    workflowId,
    firstRunId: 'run-test',
    agentId: 'billing-bot',
    owner: 'U0OWNER',
    intent: 'clean up test billing records from last month',
    proposal: {
      tool,
      args,
      reasoning: 'the test records of last month are no longer needed',
    },
    redactedArgs: { filter: { test: true, month: '2026-10' }, apiKey: '[REDACTED: 14 characters]' },
    blastRadius: 14_200,
    decision: {
      verdict: 'approve',
      tier: 'approval',
      reasons: [{ rule: 'tier.destructive', message: 'destructive tools in production need a human approval' }],
      policyHash,
      approval: req,
    },
    requirement: req,
    callDigest: callDigestOver(tool, args, policyHash, FIXTURE_STATE_HASH),
    requestedAt: new Date(now).toISOString(),
    deadline: new Date(now + req.timeoutMs).toISOString(),
    groupMembers: GROUP_MEMBERS,
    ...overrides,
  };
}

/** The row `ApprovalStore` would return for `req` right after it was requested. */
export function recordOf(req: ApprovalRequest, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approvalId: req.approvalId,
    sessionId: req.sessionId,
    workflowId: req.workflowId,
    firstRunId: req.firstRunId,
    agentId: req.agentId,
    owner: req.owner,
    intent: req.intent,
    tool: req.proposal.tool,
    reasoning: req.proposal.reasoning,
    redactedArgs: req.redactedArgs,
    ...(req.blastRadius === undefined ? {} : { blastRadius: req.blastRadius }),
    decision: req.decision,
    requirement: req.requirement,
    groupMembers: req.groupMembers,
    callDigest: req.callDigest,
    status: 'pending',
    decidedBy: [],
    requestedAt: req.requestedAt,
    deadline: req.deadline,
    escalationLevel: 0,
    posts: [],
    votes: [],
    ...overrides,
  };
}

/** The session's own pending approval for `req`, as the `state` query shows it. */
export function pendingViewOf(req: ApprovalRequest, stateHash = FIXTURE_STATE_HASH): PendingApprovalView {
  return {
    approvalId: req.approvalId,
    proposalSeq: Number(req.approvalId.slice(req.approvalId.lastIndexOf(':') + 1)),
    callDigest: req.callDigest,
    tool: req.proposal.tool,
    args: req.proposal.args,
    redactedArgs: req.redactedArgs,
    policyHash: req.decision.policyHash,
    stateHash,
    ...(req.blastRadius === undefined ? {} : { blastRadius: req.blastRadius }),
    requestedAt: req.requestedAt,
    deadline: req.deadline,
    groups: req.requirement.groups,
    approversRequired: req.requirement.approversRequired,
    approvedBy: [],
  };
}

/** A session's `state` view waiting for `pending` (what the recorder workflow answers). */
export function sessionViewOf(req: ApprovalRequest, pending: readonly PendingApprovalView[]): SessionStateView {
  return {
    sessionId: req.sessionId,
    workflowId: req.workflowId,
    firstRunId: req.firstRunId,
    agentId: req.agentId,
    owner: req.owner,
    principal: req.agentId,
    intent: req.intent,
    mode: 'normal',
    paused: false,
    halted: false,
    ended: false,
    policyHash: req.decision.policyHash,
    counters: { proposals: 1, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 },
    budgetLeft: { actions: 10, writes: 10, critical: 1, tokens: 1000 },
    pendingApprovals: pending,
    lastActions: [],
  };
}
