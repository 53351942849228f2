/**
 * Shared fixtures of the policy tests: a small catalog, policy builders and a session driver
 * that folds proposals through evaluate → advance like the workflow does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import {
  advance,
  compilePolicy,
  evaluate,
  initialSessionState,
  parsePolicy,
  parsePolicyText,
  type CompiledPolicy,
  type Decision,
  type OutcomeStatus,
  type Proposal,
  type ProposalFacts,
  type SessionInit,
  type SessionState,
  type ToolInfo,
} from '../../policies';

export const ROOT = join(__dirname, '..', '..');
export const EXAMPLE_POLICY = join(ROOT, 'policies', 'examples', 'production.yaml');
export const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

export const TOOLS: readonly ToolInfo[] = SAMPLE_TOOL_INFO;

/** Parses and compiles a policy given as data; fails the test on any issue. */
export function policyOf(doc: unknown, tools: readonly ToolInfo[] = TOOLS): CompiledPolicy {
  const parsed = parsePolicy(doc);
  if (!parsed.success) assert.fail(`policy should parse: ${JSON.stringify(parsed.issues)}`);
  return compilePolicy(parsed.data, tools);
}

/** The example production policy over the sample catalog. */
export function examplePolicy(): CompiledPolicy {
  const parsed = parsePolicyText(readFileSync(EXAMPLE_POLICY, 'utf8'), EXAMPLE_POLICY);
  if (!parsed.success) assert.fail(`example policy should parse: ${JSON.stringify(parsed.issues)}`);
  return compilePolicy(parsed.data, TOOLS);
}

export function call(tool: string, args: Record<string, unknown> = {}, extra: Partial<Proposal> = {}): Proposal {
  return { tool, args, reasoning: `test call of ${tool}`, ...extra };
}

export function rules(d: Decision): string[] {
  return d.reasons.map((r) => r.rule);
}

/** A session driven the way the workflow drives it: evaluate, then advance with the outcome. */
export class Driver {
  state: SessionState;
  now: number;
  constructor(
    readonly policy: CompiledPolicy,
    init: Partial<SessionInit> = {},
  ) {
    this.now = init.startedAt ?? T0;
    this.state = initialSessionState(policy, { startedAt: this.now, ...init });
  }
  /** Evaluates without advancing. */
  peek(p: Proposal, facts: ProposalFacts = {}, at = this.now): Decision {
    return evaluate(this.policy, this.state, p, facts, at);
  }
  /** Evaluates, then advances: allowed and approved calls count as executed unless told otherwise. */
  run(p: Proposal, facts: ProposalFacts = {}, opts: { at?: number; outcome?: OutcomeStatus } = {}): Decision {
    const at = opts.at ?? this.now;
    this.now = at;
    const d = evaluate(this.policy, this.state, p, facts, at);
    const outcome = opts.outcome ?? (d.verdict === 'deny' ? 'denied' : 'executed');
    this.state = advance(this.policy, this.state, p, outcome, at);
    return d;
  }
  tick(ms: number): this {
    this.now += ms;
    return this;
  }
}
