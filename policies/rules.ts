/**
 * Every rule id a decision, a refusal or an alert can name: one catalogue, so a rule is renamed in
 * one place and the compiler finds every user. `alert: true` marks the denials a human should look
 * at (`audit/alerts.ts` derives its list from here); rate limits, unknown tools and bad arguments
 * are the agent's own business. Pure data.
 */

interface RuleEntry {
  /** What the rule means, in the words a reviewer reads in a trace. */
  readonly means: string;
  /** A denial for this rule raises an alert. */
  readonly alert?: true;
}

export const RULES = {
  // The engine (policies/evaluate.ts, policies/compile.ts).
  'engine.error': { means: 'the engine could not evaluate the proposal; denied closed', alert: true },
  'proposal.malformed': { means: 'the proposal is not a well-formed call' },
  'policy.shadow': { means: 'the whole policy runs in shadow mode' },
  'tool.unknown': { means: 'the tool is not in the catalog, or not classified by the policy' },
  'resource.unclassified': { means: 'the resource URI is not one the policy lets the session read (or is not a plain URI)', alert: true },
  'prompt.unclassified': { means: 'the prompt is not one the policy lets the session get' },
  'tool.args': { means: 'the arguments fail the tool schema' },
  'tool.tier': { means: 'a per-tool override sets the tier' },
  'tool.always-blocked': { means: 'the tool is always blocked; no approver can unlock it', alert: true },
  'tier.read': { means: 'the tier table for read tools' },
  'tier.write': { means: 'the tier table for write tools' },
  'tier.destructive': { means: 'the tier table for destructive tools' },
  'args.bounds': { means: 'an argument is outside its bounds', alert: true },
  'blast-radius.unknown': { means: 'a bounded tool came without an estimate' },
  'blast-radius.limit': { means: 'the estimate is above the limit without approval', alert: true },
  'blast-radius.cap': { means: 'the estimate is above the hard cap', alert: true },
  'blast-radius.grown': { means: 'measured again before an approved call ran, the estimate is above what was approved', alert: true },
  'mandate.outside': { means: 'the call is outside the session\'s declared mandate', alert: true },
  'resource.read-then-write': { means: 'a write or destructive call to a resource the session read `resourceWrites.afterReads` times: a person looks first' },
  'budget.actions': { means: 'the action budget is used up', alert: true },
  'budget.writes': { means: 'the write budget is used up', alert: true },
  'budget.critical': { means: 'the critical-action budget is used up or nearly', alert: true },
  'cost.cap': { means: 'the token cost cap would be passed', alert: true },
  'rate.session': { means: 'the session passed its rate limit' },
  'rate.tool': { means: 'the tool passed its rate limit' },
  'transition.forbidden': { means: 'the call completes a forbidden sequence', alert: true },
  'transition.unlocked': { means: 'an out-of-band approval unlocked a forbidden sequence' },
  'transition.unlock': { means: 'the agent asked for an out-of-band unlock' },
  'intent.review': { means: 'intent drift: every write needs approval' },
  'intent.effect': { means: 'a write or destructive call under a declared intent that does not ask for it (`intent.writesNeedWriteIntent`)' },
  'intent.child': { means: 'a sub-agent\'s intent is far from its parent\'s' },
  'intent.unscored': { means: 'the intent scorer could not score an executed call: it counts as unaligned and the session is in review (fail closed)', alert: true },
  // Cross-session rules (policies/ledger.ts, the ledger workflow).
  'agent.budget': { means: 'an agent-wide budget across the agent\'s sessions is used up', alert: true },
  'agent.sequence': { means: 'the call completes a forbidden transition across the agent\'s sessions', alert: true },
  'owner.budget': { means: 'an owner-wide budget across the owner\'s agents is used up', alert: true },
  'owner.sequence': { means: 'the call completes a forbidden transition across the owner\'s agents', alert: true },
  'ledger.conflict': { means: 'a reservation id was already used for another request', alert: true },
  'ledger.stale': { means: 'a reservation was first decided far from its call\'s time (sent ahead of the call); denied closed', alert: true },
  'ledger.full': { means: 'the cross-session ledger has no room for more rules; denied closed', alert: true },
  'ledger.unavailable': { means: 'the cross-session ledger did not answer; denied closed', alert: true },
  // Forbidden sequences across a session tree (policies/tree-sequences.ts, kept by the tree's root).
  'tree.sequence': { means: 'the call completes a forbidden sequence across the session tree (a parent and its sub-agents)', alert: true },
  'tree.unavailable': { means: 'the session tree\'s root did not answer a sequence step; denied closed', alert: true },
  'tree.conflict': { means: 'a sequence step\'s id was decided for another request, or far from its call\'s time (sent ahead); denied closed', alert: true },
  // Session state (policies/gate.ts).
  'session.closed': { means: 'the session is closed and flagged for review' },
  'session.read-only': { means: 'a budget passed its read-only threshold' },
  'session.halted': { means: 'an operator halted the session' },
  'session.mode': { means: 'the session\'s mode forbids the action' },
  'session.paused': { means: 'an operator paused the session while a sub-agent waited to start: not started, the share kept' },
  'child.started': { means: 'a sub-agent started with its share of the budget' },
  'child.agent-id': { means: 'a sub-agent may only be named `<rootAgentId>/<name>`: the name asked for is not a name' },
  'child.id-taken': { means: 'the sub-session id the parent chose is held by a workflow it did not start: not started, the share kept' },
  'child.mandate': { means: 'a sub-agent\'s mandate may only narrow its parent\'s: the one asked for shares no call with it' },
  // Approvals (policies/gate.ts, policies/trust/votes.ts, workflows/approval-wait.ts).
  'approval.granted': { means: 'approvers granted the call' },
  'approval.denied': { means: 'an approver denied the call' },
  'approval.expired': { means: 'no decision before the deadline: denied automatically' },
  'approval.stale': { means: 'the session changed between the request and the approval' },
  'approval.insufficient': { means: 'the call now needs more approvers than it got' },
  'approval.unknown': { means: 'a vote for an approval this session does not have' },
  'approval.decided': { means: 'a vote for an approval already decided' },
  'approval.digest': { means: 'a vote signed for another call' },
  'approval.tool': { means: 'a vote that does not name the tool of the call it approves' },
  'approval.conflict': { means: 'an approval row with other content was already stored under the request\'s id', alert: true },
  'approval.escalation-failed': { means: 'the next approver group could not be told of an escalation (Slack failed for good, or still retried at the deadline): the approval waited on for votes and its deadline' },
  'approval.not-posted': { means: 'an approval request could not be posted to Slack (failed for good, or still retried at the deadline): the approval waited on for votes from the CLI and the console, and its deadline' },
  'approval.self': { means: 'the agent may not decide on its own call' },
  'approval.four-eyes': { means: 'the session\'s owner may not decide (four eyes)' },
  'approval.not-member': { means: 'the voter is in no approver group for the call' },
  'approval.duplicate': { means: 'the voter already approved the call' },
  'approval.reason-required': { means: 'a denial needs a reason' },
  'approval.identity': { means: 'the vote does not name an approver the key may speak for' },
  // Signed decisions (policies/trust/envelope.ts, policies/trust/decisions.ts).
  'envelope.malformed': { means: 'the signed envelope is not well formed' },
  'envelope.payload-type': { means: 'the envelope carries another payload type' },
  'envelope.unknown-key': { means: 'the signing key is not in the keyset' },
  'envelope.key-revoked': { means: 'the signing key is revoked' },
  'envelope.key-expired': { means: 'the signing key expired' },
  'envelope.bad-signature': { means: 'the signature does not verify' },
  'envelope.payload': { means: 'the signed payload is not well formed' },
  // Passkey-signed decisions (policies/trust/webauthn.ts).
  'webauthn.grant': { means: 'the passkey\'s key grant is not signed by a registrar or is malformed' },
  'webauthn.client-data': { means: 'the passkey\'s client data is not of an assertion' },
  'webauthn.challenge': { means: 'the passkey signed another payload' },
  'webauthn.origin': { means: 'the passkey signed on another origin than it was enrolled on' },
  'webauthn.rp-id': { means: 'the passkey signed for another relying party' },
  'webauthn.flags': { means: 'the passkey did not verify a present user' },
  'decision.kind': { means: 'the decision is of another kind' },
  'decision.key-id': { means: 'the payload names another key than the one that signed' },
  'decision.role': { means: 'the key\'s role may not sign this kind' },
  'decision.session': { means: 'the decision binds another session' },
  'decision.not-yet-valid': { means: 'the decision is not valid yet' },
  'decision.expired': { means: 'the decision expired' },
  'decision.lifetime': { means: 'the decision\'s lifetime is too long' },
  'decision.replayed': { means: 'the decision\'s nonce was used already' },
  // Session starts (workflows/start-gate.ts, activities/session-context.ts, activities/audit.ts).
  'start.cron': { means: 'a session never runs on a cron schedule' },
  'start.carried': { means: 'carried state from a run that did not continue as new' },
  'start.parent': { means: 'a parent claim the workflow cannot confirm' },
  'start.identity': { means: 'the credential does not give an identity' },
  'start.policy-ref': { means: 'the policy named is not the worker\'s' },
  'start.policy-document': { means: 'a start may not bring its own policy' },
  'start.session-reused': { means: 'the session id was used before' },
  // A session's audit write that failed for good (workflows/audit-writer.ts): the session ends.
  'audit.unwritable': { means: 'the audit trail could not be written: the session ended' },
  'credential.revoked': { means: 'the agent credential is revoked' },
  // The trail's own evidence of a vote (audit/vote-evidence.ts, `gatehouse audit verify`).
  'vote.unsigned': { means: 'an approval in the trail carries no signed vote' },
  'vote.unknown-approval': { means: 'a vote on an approval the session never requested' },
  'vote.no-keyset': { means: 'the signed vote cannot be checked without the keyset' },
  'vote.missing': { means: 'an approval-tier call ran without a valid signed approval over its digest' },
  'vote.request-unbound': { means: 'the approval was requested without the session, run and digest a vote binds' },
  'vote.approval-id': { means: 'the signed vote names another approval' },
  'vote.digest': { means: 'the signed vote is over another call' },
  'vote.verdict': { means: 'the signed verdict differs from the recorded one' },
  'vote.approver': { means: 'the signed approver differs from the recorded one' },
  // The trail's own story against the session's record and policy (audit/trail-evidence.ts, `gatehouse audit verify`).
  'trail.start': { means: 'the trail does not begin with `session-started`' },
  'trail.unknown-session': { means: 'the sessions table does not know the session' },
  'trail.credential': { means: 'a top-level session whose start names no agent credential' },
  'trail.spawn': { means: 'a child session whose parent never recorded the spawn' },
  'trail.policy': { means: 'the session\'s recorded policy is missing, unreadable, or not the one its start names' },
  'trail.policy-unknown': { means: 'the session ran under a policy none of those `audit verify --policy` was given: a session row and trail written under a policy of its writer\'s choosing' },
  'trail.catalog-unknown': { means: 'the session recorded a built-in tool unlike any catalog `audit verify --catalog` was given defines it (another effect, environment or resource, or a tool none defines): a catalog of its writer\'s choosing' },
  'trail.blocked': { means: 'a call ran that the session\'s policy blocks (always blocked or unknown)' },
  'trail.unproposed': { means: 'a call ran that the trail never proposed' },
  'trail.requirement': { means: 'an approval was requested for less than the session\'s policy requires' },
  'trail.conflict': { means: 'another writer took a seq of the session (an `audit.conflict` alert)' },
  'trail.reviews': { means: 'the alert reviews\' hash chain does not hold: a review was changed or removed' },
} as const satisfies Record<string, RuleEntry>;

/** A rule id of the catalogue. */
export type RuleId = keyof typeof RULES;

/** True for a string that names a catalogued rule (e.g. read back from an audit row). */
export function isRuleId(id: string): id is RuleId {
  return Object.prototype.hasOwnProperty.call(RULES, id);
}

/** True when a denial for `rule` should raise an alert. */
export function raisesAlert(rule: string): boolean {
  return isRuleId(rule) && (RULES[rule] as RuleEntry).alert === true;
}
