/**
 * The nouns of the policy engine, as plain serialisable data.
 *
 * Workflow-safe: this module (like all of `policies/`) does no I/O, reads no clock and uses no
 * randomness, so workflow code can import it and every replay re-derives the same decision.
 */
import type { RuleId } from './rules';

/** What a tool does to the world. */
export type Effect = 'read' | 'write' | 'destructive';

/** How a call is gated: runs on its own, waits for a human, or never runs. */
export type Tier = 'autonomous' | 'approval' | 'blocked';

/** The outcome of evaluating one proposal. */
export type Verdict = 'allow' | 'approve' | 'deny';

/** Session modes, in the only order a session moves through them. */
export type SessionMode = 'normal' | 'read-only' | 'review' | 'closed';

/** What the policy engine needs to know of a tool: never its handler or its credentials. */
export interface ToolInfo {
  readonly name: string;
  readonly description: string;
  readonly effect: Effect;
  /** e.g. `production`, `staging` */
  readonly environment: string;
  /** The resource family the tool acts on (e.g. `billing`, `volumes`): used by mandates. */
  readonly resource: string;
  /** True when the tool can estimate how many rows/objects a call would affect before it runs. */
  readonly estimatesBlastRadius: boolean;
  /**
   * Set on a tool of a third-party MCP server (`<server>.<tool>`). Its `effect`, `environment` and
   * `resource` are then placeholders: the policy's `upstreamTools` section classifies it at compile
   * time (see `./upstream`), and an upstream tool the policy does not classify is unknown.
   */
  readonly upstream?: UpstreamHints;
  /**
   * The values the tool runs with for arguments the call leaves out, by dotted argument path
   * (`limit`, `options.dryRun`): a catalog tool's zod `.default()`s, an upstream tool's JSON Schema
   * `default`s (top-level and nested object properties). A bound on a missing argument judges its
   * default. Absent: no defaults known (a tool without any, or a catalog snapshotted before they
   * were published). An upstream server's defaults it does not declare cannot be known.
   */
  readonly argumentDefaults?: Readonly<Record<string, unknown>>;
}

/**
 * What an MCP server says of one of its tools. Hints only: they may make a tool stricter than the
 * policy's classification, never looser.
 */
export interface UpstreamHints {
  /** The server's name in the configuration (the tool's name prefix). */
  readonly server: string;
  /** The tool's name on the server. */
  readonly tool: string;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
}

/** A tool call proposed by an agent. */
export interface Proposal {
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly reasoning: string;
  readonly tokenCost?: number;
  readonly idempotencyKey?: string;
}

/** Facts gathered outside the pure core and handed in with a proposal. */
export interface ProposalFacts {
  /** Rows/objects the call would affect, from the tool's estimator (absent when it has none). */
  readonly blastRadius?: number;
  /** True when an out-of-band human approval unlocked a forbidden transition for this call. */
  readonly transitionUnlocked?: boolean;
}

/** One reason a decision was reached, naming the rule in words an approver understands. */
export interface Reason {
  /** Stable rule id from the catalogue (`policies/rules.ts`), e.g. `budget.writes`. */
  readonly rule: RuleId;
  readonly message: string;
}

/** How an `approve` verdict must be satisfied. */
export interface ApprovalRequirement {
  /** Approver groups in escalation order: the first is asked first. */
  readonly groups: readonly string[];
  /** Distinct approvers needed (two for the most dangerous actions). */
  readonly approversRequired: number;
  /** Milliseconds from the request to each escalation step (one per group after the first). */
  readonly escalateAfterMs: readonly number[];
  /** Milliseconds from the request to the automatic denial. */
  readonly timeoutMs: number;
  /** Where the request is posted (e.g. a Slack channel). */
  readonly channel: string;
  /** True when the requesting agent's owner may not approve (four eyes). */
  readonly fourEyes: boolean;
  /** True when this approval unlocks a forbidden transition (out-of-band unlock). */
  readonly unlocksTransition: boolean;
  /**
   * On an unlock of a call that itself needs approval: the call's own requirement. Both must be
   * satisfied (the unlock group *and* the call's own approvers); absent otherwise.
   */
  readonly alsoRequired?: ApprovalRequirement;
}

/** A rule evaluated in shadow mode: recorded, never enforced. */
export interface ShadowFinding {
  readonly verdict: Verdict;
  readonly reasons: readonly Reason[];
}

/** What every decision carries, whatever its verdict. */
interface DecisionBase {
  readonly tier: Tier;
  readonly reasons: readonly Reason[];
  readonly policyHash: string;
  /** What shadow rules would have decided, when any are configured. */
  readonly shadow?: ShadowFinding;
}

/** The call may run now. */
export interface AllowDecision extends DecisionBase {
  readonly verdict: 'allow';
}

/** The call waits for humans: `approval` says who and how many. */
export interface ApproveDecision extends DecisionBase {
  readonly verdict: 'approve';
  readonly approval: ApprovalRequirement;
}

/** The call never runs. */
export interface DenyDecision extends DecisionBase {
  readonly verdict: 'deny';
  /**
   * Present when the only enforced hard reasons are forbidden transitions: the approval a human
   * may give out of band to unlock them. Once granted, the workflow re-evaluates the same
   * proposal with `facts.transitionUnlocked = true`. The agent can never grant it.
   */
  readonly unlock?: ApprovalRequirement;
}

/** A pure function of (policy, session state, proposal, facts, now), one case per verdict. */
export type Decision = AllowDecision | ApproveDecision | DenyDecision;

/** Per-session budget limits; they can only lower the policy's own (a sub-agent gets a share). */
export interface BudgetOverride {
  readonly actions?: number;
  readonly writes?: number;
  readonly critical?: number;
  readonly tokens?: number;
}

/** What a session declares its intent covers (tool names or globs, resource families). */
export interface Mandate {
  readonly tools?: readonly string[];
  readonly resources?: readonly string[];
}

/** How a proposal ended, fed back into the session state. */
export type OutcomeStatus = 'executed' | 'denied' | 'failed' | 'expired';
