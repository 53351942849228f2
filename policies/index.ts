/**
 * The Gatehouse policy engine: hard-coded rules over data, never a model.
 *
 * Pure and deterministic (no I/O, no clock, no randomness; `now` is passed in), so workflow code
 * evaluates it in-workflow and every replay re-derives the same decision. Imports nothing of the
 * project; its types live in `./types`.
 *
 * ```ts
 * const parsed = parsePolicyText(yamlText, 'production.yaml');
 * if (!parsed.success) throw ...;                       // parsed.issues: [{ code, path, message }]
 * const policy = compilePolicy(parsed.data, SAMPLE_TOOL_INFO);
 * let state = initialSessionState(policy, { startedAt: now });
 * const decision = evaluate(policy, state, proposal, { blastRadius: 14_200 }, now);
 * state = advance(policy, state, proposal, 'executed', now);
 * ```
 */
export type * from './types';
export { parsePolicy, parsePolicyText, formatPath, type PolicyIssue, type PolicyParseResult } from './parse';
export { policyDocumentSchema, type PolicyDocument, type ApproverRule, type UpstreamRule, type ArgBound, type RateLimit, type ToolRule } from './document';
export { compilePolicy, type CompiledPolicy, type CompiledTool, type CompiledTransition, type CrossSessionRules } from './compile';
export type { CompileOptions, CompiledArgBound } from './compile-args';
export {
  initialSessionState,
  advance,
  withIntentScore,
  withBudgetRaised,
  sessionMode,
  budgetLeft,
  budgetUsed,
  childBudget,
  inheritedTransitions,
  rateMax,
  type SessionState,
  type SessionInit,
  type InheritedTransitions,
  type InheritedRates,
  type RateSplit,
  type IntentFold,
  type TransitionProgress,
} from './state';
export { estimateWithinRules, evaluate, unlockRequirement } from './evaluate';
export { classifyCatalog, classifyUpstreamTool, estimateRequest, hintFloor, stricterEffect, upstreamRuleFor, type ClassifiedCatalog, type EstimateRequest, type UpstreamClassification } from './upstream';
export { compileUriPattern, promptPatternFor, resourcePatternFor, serverSubjects, subjectKindOf, subjectRefusal, uriProblem, SUBJECT_METHODS, type ServerSubjects, type SubjectKind, type SubjectRefusal } from './upstream-subjects';
export { analyzePaths, type AnalyzedPath, type PathAnalysis, type PathStatus, type PathStep } from './analyze';
export { sha256Hex, canonicalJson } from './hash';
export { replaySession, type ReplayStep, type ReplayVisit } from './replay';
export { replayAcrossSessions, reserveAcross, type AcrossVisit, type Ledgers, type SessionToReplay } from './replay-across';
export { admitProposal, approvalGroupMembers, callDigest, callDigestOver, stateDigest, crossSessionDenial, deniedFor, enforcedTier, withLedgerShadow, gateProposal, invalidArguments, recheckApproved, refusal, toolTier, type Approved, type GateResult } from './gate';
export { actionSignals, combineSignals, intentScope, intentEffect, inferToolEffect, environmentsOf, identifiersOf, sessionScore, CAPS as INTENT_CAPS, SESSION_RULE, type ActionSignals, type IntentScope, type IntentSignal, type ScoredAction } from './intent';
export { childStart, spawnAdmission, spawnDecision, type ChildStart, type SpawnSession } from './sub-agents';
export { RULES, isRuleId, raisesAlert, type RuleId } from './rules';
export { approvalOf, unlockOf } from './decision';
export { leaseReturnProblem, ledgerRequestProblem } from './ledger-requests';
export { answerFor, describeLedgerRule, emptyLedger, ledgerRules, pruneLedger, requestDigest, reserve, returnLeases, ruleNames, LEASE_HEADROOM, LEASE_MARGIN_MS, LEASE_MAX, LEASE_MS, MAX_LEASES, MAX_RESERVATIONS, MAX_RULE_ENTRIES, RESERVATION_SKEW_MS, type LeaseReturn, type LeaseReturnRequest, type LedgerLease, type LedgerRequest, type LedgerResult, type LedgerRule, type LedgerScope, type LedgerState } from './ledger';
