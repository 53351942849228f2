/**
 * Audit-trail fixtures: a recorded session told the way the session workflow writes it, with
 * decisions computed by the real policy engine against the example production policy, and human
 * votes signed with the test keyset's keys (`test/support/trust.ts`) as the workflow records them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { advance, compilePolicy, evaluate, initialSessionState, parsePolicyText } from '../../policies';
import type { CompiledPolicy, PolicyDocument } from '../../policies';
import type { Decision, OutcomeStatus, Proposal, ProposalFacts } from '../../policies/types';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import type { AuditEventInput, SessionRecord } from '../../audit/types';
import { canonicalJson, sha256Hex } from '../../audit/hashing';
import { signDecision } from '../../client/trust/sign';
import { approvalParts } from '../../policies/trust/votes';
import { testTrust } from '../support/trust';

/** The first run id every scripted session claims. */
export const FIRST_RUN_ID = 'run-0001';

export const PRODUCTION_POLICY_FILE = join(__dirname, '../../policies/examples/production.yaml');

export function productionDocument(): PolicyDocument {
  const parsed = parsePolicyText(readFileSync(PRODUCTION_POLICY_FILE, 'utf8'), 'production.yaml');
  if (!parsed.success) throw new Error(`example policy does not parse: ${JSON.stringify(parsed.issues)}`);
  return parsed.data;
}

export function productionPolicy(): CompiledPolicy {
  return compilePolicy(productionDocument(), SAMPLE_TOOL_INFO);
}

/** What happens to one proposal in a scripted session. */
export interface ScriptStep {
  readonly proposal: Proposal;
  readonly facts?: ProposalFacts;
  /**
   * For an `approve` verdict: who answered, and how (their own approver key, or the approvals
   * service's key on behalf of a Slack user of `TEST_SLACK_USERS`). Absent: expires.
   */
  readonly human?: {
    readonly approver: string;
    readonly approve: boolean;
    readonly reason?: string;
    readonly afterMs: number;
    readonly slack?: { readonly userId: string; readonly teamId: string };
  };
  /** For a call that runs: fail it with this message. */
  readonly fail?: string;
  readonly latencyMs?: number;
}

export interface ScriptedSession {
  readonly record: SessionRecord;
  readonly events: AuditEventInput[];
  readonly decisions: Decision[];
}

/**
 * Plays a script through the real policy and writes the events the workflow would write:
 * session-started, then per proposal proposed → decided → (approval-requested → approved |
 * denied | expired) → executed | failed, then session-ended.
 */
export function scriptSession(opts: {
  readonly sessionId: string;
  readonly startedAt: string;
  readonly steps: readonly ScriptStep[];
  readonly agentId?: string;
  readonly owner?: string;
  readonly intent?: string;
  readonly policy?: CompiledPolicy;
  readonly stepGapMs?: number;
}): ScriptedSession {
  const policy = opts.policy ?? productionPolicy();
  const start = Date.parse(opts.startedAt);
  const intent = opts.intent ?? 'clean up test billing records';
  let state = initialSessionState(policy, { startedAt: start, intent });
  const events: AuditEventInput[] = [];
  const decisions: Decision[] = [];
  let seq = 0;
  let now = start;
  const push = (e: Omit<AuditEventInput, 'sessionId' | 'seq'>): void => {
    seq += 1;
    events.push({ sessionId: opts.sessionId, seq, ...e } as AuditEventInput);
  };
  const workflowId = `session-${opts.sessionId}`;
  const owner = opts.owner ?? 'eng-007';
  push({
    kind: 'session-started', at: new Date(now).toISOString(),
    detail: { agentId: opts.agentId ?? 'billing-bot', owner, intent, firstRunId: FIRST_RUN_ID, policyHash: policy.hash, credentialId: `cred-${opts.sessionId}` },
  });
  opts.steps.forEach((step, i) => {
    now += opts.stepGapMs ?? 2_000;
    const proposalSeq = i + 1;
    const at = new Date(now).toISOString();
    const facts = step.facts ?? {};
    const decision = evaluate(policy, state, step.proposal, facts, now);
    decisions.push(decision);
    const common = { proposalSeq, tool: step.proposal.tool, args: step.proposal.args };
    push({
      kind: 'proposed', at, ...common, reasoning: step.proposal.reasoning,
      ...(step.proposal.tokenCost !== undefined ? { tokenCost: step.proposal.tokenCost } : {}),
      ...(facts.blastRadius !== undefined ? { detail: { blastRadius: facts.blastRadius } } : {}),
    });
    push({ kind: 'decided', at, proposalSeq, tool: step.proposal.tool, decision });
    let outcome: OutcomeStatus;
    let runs = decision.verdict === 'allow';
    if (decision.verdict === 'deny') {
      push({ kind: 'denied', at, proposalSeq, tool: step.proposal.tool, resultStatus: 'denied' });
      outcome = 'denied';
    } else if (decision.verdict === 'approve') {
      const approvalId = `${opts.sessionId}:${proposalSeq}`;
      const requirement = decision.approval!;
      const callDigest = sha256Hex(canonicalJson({ tool: step.proposal.tool, args: step.proposal.args, policyHash: policy.hash }));
      const groups = approvalParts(requirement).flatMap((p) => p.groups);
      const groupMembers = Object.fromEntries(groups.map((g) => [g, [...(policy.document.approvers.groups[g] ?? [])]]));
      push({
        kind: 'approval-requested', at, proposalSeq, tool: step.proposal.tool, approvalId,
        detail: { requirement, deadline: new Date(now + requirement.timeoutMs).toISOString(), callDigest, workflowId, firstRunId: FIRST_RUN_ID, groupMembers },
      });
      if (step.human === undefined) {
        const timeout = decision.approval?.timeoutMs ?? 900_000;
        push({ kind: 'expired', at: new Date(now + timeout).toISOString(), proposalSeq, tool: step.proposal.tool, approvalId: `${opts.sessionId}:${proposalSeq}`, resultStatus: 'expired' });
        outcome = 'expired';
        now += timeout;
      } else {
        const h = step.human;
        const trust = testTrust();
        const key = h.slack ? trust.service : trust.approver(h.approver);
        const onBehalfOf = h.slack ? { slackUserId: h.slack.userId, slackTeamId: h.slack.teamId } : undefined;
        const envelope = signDecision(key, {
          kind: 'vote', workflowId, firstRunId: FIRST_RUN_ID, approvalId, callDigest, verdict: h.approve ? 'approve' : 'deny',
          ...(h.reason ? { reason: h.reason } : {}), ...(onBehalfOf ? { onBehalfOf } : {}),
        }, { now: now + h.afterMs });
        push({
          kind: h.approve ? 'approved' : 'denied', at: new Date(now + h.afterMs).toISOString(), proposalSeq, tool: step.proposal.tool,
          approvalId, approver: h.approver,
          detail: {
            ...(h.reason ? { reason: h.reason } : {}), approvers: h.approve ? [h.approver] : [], required: requirement.approversRequired,
            keyId: key.keyId, signer: key.principal, ...(onBehalfOf ? { onBehalfOf } : {}), envelope,
          },
        });
        now += h.afterMs;
        runs = h.approve;
        outcome = h.approve ? 'executed' : 'denied';
      }
    } else {
      outcome = 'executed';
    }
    if (runs) {
      const latencyMs = step.latencyMs ?? 12;
      if (step.fail) {
        push({ kind: 'failed', at: new Date(now).toISOString(), ...common, latencyMs, resultStatus: 'failed', error: step.fail });
        outcome = 'failed';
      } else {
        push({ kind: 'executed', at: new Date(now).toISOString(), ...common, latencyMs, resultStatus: 'executed', detail: { result: { ok: true } } });
        outcome = 'executed';
      }
    }
    state = advance(policy, state, step.proposal, outcome, now);
  });
  now += 1_000;
  push({ kind: 'session-ended', at: new Date(now).toISOString(), detail: { finalState: 'completed', reason: 'done' } });
  return {
    record: {
      sessionId: opts.sessionId,
      workflowId,
      firstRunId: FIRST_RUN_ID,
      agentId: opts.agentId ?? 'billing-bot',
      owner,
      intent,
      policyHash: policy.hash,
      policy: policy.document,
      tools: [...policy.catalog],
      startedAt: opts.startedAt,
    },
    events,
    decisions,
  };
}

/** The incident session: a read, then a 14,200-row delete `data-lee` refuses, then an always-blocked call. */
export function incidentSession(sessionId: string, startedAt: string): ScriptedSession {
  return scriptSession({
    sessionId,
    startedAt,
    steps: [
      { proposal: { tool: 'billing.query', args: { customer: 'acme', period: '2026-10' }, reasoning: 'look at last month', tokenCost: 1200 }, latencyMs: 12 },
      {
        proposal: { tool: 'billing.deleteRecords', args: { filter: { period: '2026-10', test: true } }, reasoning: 'delete the test records', tokenCost: 900 },
        facts: { blastRadius: 14_200 },
        human: { approver: 'data-lee', approve: false, reason: 'not test data', afterMs: 133_000 },
      },
      { proposal: { tool: 'audit.modify', args: { entry: 42 }, reasoning: 'tidy the log' } },
    ],
  });
}

/** A session whose 500-row delete `data-lee` approves (own key, or through Slack), and which then runs. */
export function approvedSession(sessionId: string, startedAt: string, slack?: { readonly userId: string; readonly teamId: string }): ScriptedSession {
  return scriptSession({
    sessionId,
    startedAt,
    steps: [
      { proposal: { tool: 'billing.query', args: { customer: 'acme', period: '2026-10' }, reasoning: 'look at last month' } },
      {
        proposal: { tool: 'billing.deleteRecords', args: { filter: { period: '2026-10', test: true } }, reasoning: 'delete the test records' },
        facts: { blastRadius: 500 },
        human: { approver: 'data-lee', approve: true, reason: 'checked the filter', afterMs: 60_000, ...(slack ? { slack } : {}) },
      },
    ],
  });
}

/** `events` without the event at `seq`, renumbered gap-free (what a forger would append). */
export function withoutEvent(events: readonly AuditEventInput[], seq: number): AuditEventInput[] {
  return events.filter((e) => e.seq !== seq).map((e, i) => ({ ...e, seq: i + 1 }));
}
