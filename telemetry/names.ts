/**
 * The span and attribute names Gatehouse adds to its traces, shared by the workflow code that
 * emits them (`workflows/telemetry.ts`) and the worker-side metrics derived from them
 * (`telemetry/metrics.ts`). Plain constants, no imports: safe inside the workflow bundle.
 */

/** Spans the session workflow emits around one proposal. */
export const SPAN = {
  /** One proposal, from the moment the queue takes it to its result. */
  proposal: 'gatehouse.proposal',
  /** The policy's first decision on a proposal (a point in workflow time). */
  decision: 'gatehouse.decision',
  /** The wait for human approvers, from the request to the outcome. */
  approvalWait: 'gatehouse.approval_wait',
} as const;

/** Attributes on those spans. Never argument values: tool names, ids, verdicts and rule ids only. */
export const ATTR = {
  sessionId: 'gatehouse.session_id',
  tool: 'gatehouse.tool',
  sequence: 'gatehouse.proposal.sequence',
  status: 'gatehouse.proposal.status',
  verdict: 'gatehouse.decision.verdict',
  tier: 'gatehouse.decision.tier',
  ruleIds: 'gatehouse.decision.rule_ids',
  policyHash: 'gatehouse.policy_hash',
  approvalId: 'gatehouse.approval.id',
  approvalOutcome: 'gatehouse.approval.outcome',
  approvers: 'gatehouse.approval.approvers',
} as const;

/** The custom metrics (the SDK's worker metrics come from Temporal's core runtime). */
export const METRIC = {
  /** Counter: proposals by the policy's first verdict (`verdict`). */
  proposals: 'gatehouse.proposals',
  /** Counter: denials by rule id (`rule`): policy denials and approval outcomes that denied. */
  denials: 'gatehouse.denials',
  /** Histogram (ms): time from approval request to outcome (`outcome`). */
  approvalWait: 'gatehouse.approval.wait',
} as const;
