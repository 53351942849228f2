/**
 * Pure parts of the session workflow, outside the sandbox: the serial queue, the approval
 * bookkeeping (votes, escalation schedule, expiry), the update validator, the call digest and what a
 * continued run keeps of signed decisions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalRequest } from '../../approvals/types';
import { ApprovalWait } from '../../workflows/approval-wait';
import { checkVote } from '../../policies/trust';

/** Read through a call, so the compiler does not narrow it across votes. */
const outcomeOf = (w: ApprovalWait) => w.outcome;

/** Counts a vote the way the workflow does: only if the one vote rule says it counts. */
function vote(w: ApprovalWait, approver: string, approve: boolean, reason?: string, now = 0): string {
  const check = checkVote(w.voteContext(), { approver, approve, ...(reason ? { reason } : {}) }, now);
  if (!check.counts) return check.rule;
  w.count(check.vote, reason);
  return 'counted';
}
import { callDigest, compilePolicy, parsePolicy } from '../../policies';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { intentAction, unscoredReason } from '../../workflows/intent-actions';
import { canonicalSize } from '../../workflows/canonical-size';
import { SerialQueue } from '../../workflows/queue';
import { assertProposal } from '../../workflows/validate';
import { checkStart } from '../../workflows/start-gate';
import { LATE_VOTE_WINDOW_MS, MAX_CARRIED_DECIDED, carryVotes, restoreVotes } from '../../workflows/carried-votes';

function request(over: Partial<ApprovalRequest['requirement']> = {}): ApprovalRequest {
  const requirement = { groups: ['on-call', 'sre-leads'], approversRequired: 2, escalateAfterMs: [300_000], timeoutMs: 900_000, channel: '#c', fourEyes: true, unlocksTransition: false, ...over };
  return {
    approvalId: 's1:7',
    sessionId: 's1',
    workflowId: 'session-s1',
    firstRunId: 'run-1',
    agentId: 'bot',
    owner: 'eng-007',
    intent: 'x',
    proposal: { tool: 'volumes.delete', args: { volumeId: 'vol-1' }, reasoning: '' },
    redactedArgs: { volumeId: 'vol-1' },
    decision: { verdict: 'approve', tier: 'approval', reasons: [], policyHash: 'h', approval: requirement },
    requirement,
    callDigest: 'd',
    requestedAt: new Date(0).toISOString(),
    deadline: new Date(900_000).toISOString(),
    groupMembers: { 'on-call': ['alice'], 'sre-leads': ['carol'] },
  };
}

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order they were queued', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => () =>
      new Promise<{ value: string }>((resolve) => {
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          resolve({ value: name });
        }, ms);
      });
    const results = await Promise.all([q.run(task('a', 30)), q.run(task('b', 1)), q.run(task('c', 10))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(q.idle, true);
  });

  it('a failing task rejects its caller only; the queue goes on', async () => {
    const q = new SerialQueue();
    const failed = q.run(async () => {
      throw new Error('boom');
    });
    const next = q.run(async () => ({ value: 1 }));
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 1);
  });

  it('runNow starts at once on an idle queue, after every earlier task otherwise, and a failure rejects its caller only', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const first = q.runNow(() => {
      log.push('start a');
      return new Promise<string>((resolve) => setTimeout(() => (log.push('end a'), resolve('a')), 20));
    });
    assert.deepEqual(log, ['start a']);
    assert.equal(q.idle, false);
    const queued = q.run(async () => (log.push('b'), { value: 'b' }));
    const failing = q.runNow(() => {
      log.push('c');
      throw new Error('boom');
    });
    const last = q.runNow(() => (log.push('d'), 'd'));
    assert.deepEqual(log, ['start a']);
    assert.deepEqual(await Promise.all([first, queued, failing.catch((e: Error) => e.message), last]), ['a', 'b', 'boom', 'd']);
    assert.deepEqual(log, ['start a', 'end a', 'b', 'c', 'd']);
    assert.equal(q.idle, true);
  });
});

describe('ApprovalWait', () => {
  it('escalates at the escalation point, then denies at the deadline', () => {
    const w = new ApprovalWait(request(), { requestedAt: 0, proposalSeq: 7, proposalId: undefined });
    assert.deepEqual(w.nextDeadline(), { kind: 'escalation', at: 300_000 });
    const e = w.escalate('t');
    assert.deepEqual(e, { approvalId: 's1:7', level: 1, group: 'sre-leads', at: 't' });
    assert.deepEqual(w.nextDeadline(), { kind: 'deadline', at: 900_000 });
    w.expire();
    assert.equal(w.outcome?.status, 'expired');
    assert.equal(w.outcome?.reasons[0]?.rule, 'approval.expired');
  });

  it('needs N distinct approvers; a repeated approver does not count twice', () => {
    const w = new ApprovalWait(request(), { requestedAt: 0, proposalSeq: 7, proposalId: undefined });
    assert.equal(vote(w, 'alice', true), 'counted');
    assert.equal(vote(w, 'alice', true), 'approval.duplicate');
    assert.equal(outcomeOf(w), undefined);
    // carol is in `sre-leads`, which the ladder reaches only after the escalation step.
    assert.equal(vote(w, 'carol', true, undefined, 299_999), 'approval.not-member');
    assert.equal(vote(w, 'carol', true, undefined, 300_000), 'counted');
    assert.equal(w.outcome?.status, 'approved');
    assert.deepEqual(w.outcome?.approvers, ['alice', 'carol']);
  });

  it('one deny (with a reason) ends it, and nothing changes it afterwards', () => {
    const w = new ApprovalWait(request(), { requestedAt: 0, proposalSeq: 7, proposalId: undefined });
    assert.equal(vote(w, 'alice', false), 'approval.reason-required');
    assert.equal(vote(w, 'alice', false, 'no'), 'counted');
    assert.equal(w.outcome?.status, 'denied');
    w.expire();
    assert.equal(w.outcome?.status, 'denied');
    assert.deepEqual(w.outcome?.deniedBy, ['alice']);
  });

  it('an unlock of a call that needs its own approval needs both groups', () => {
    const own = { groups: ['on-call'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 900_000, channel: '#c', fourEyes: true, unlocksTransition: false };
    const w = new ApprovalWait(request({ groups: ['sre-leads'], approversRequired: 1, escalateAfterMs: [], unlocksTransition: true, alsoRequired: own }), { requestedAt: 0, proposalSeq: 7, proposalId: undefined });
    assert.equal(vote(w, 'carol', true), 'counted');
    assert.equal(outcomeOf(w), undefined, 'the unlock group alone is not enough');
    assert.equal(vote(w, 'alice', true), 'counted');
    assert.equal(w.outcome?.status, 'approved');
  });

  it('refuses the agent and, under four eyes, the owner', () => {
    const w = new ApprovalWait({ ...request(), groupMembers: { 'on-call': ['bot', 'eng-007'], 'sre-leads': [] } }, { requestedAt: 0, proposalSeq: 7, proposalId: undefined });
    assert.equal(vote(w, 'bot', true), 'approval.self');
    assert.equal(vote(w, 'eng-007', true), 'approval.four-eyes');
    assert.equal(w.outcome, undefined);
  });
});

describe('assertProposal', () => {
  it('rejects what is not a proposal with a one-sentence message', () => {
    const bad: [unknown, RegExp][] = [
      [null, /expected an object/],
      [{ tool: 3, args: {} }, /`tool` must be a non-empty string/],
      [{ tool: 'x', args: [] }, /`args` must be an object/],
      [{ tool: 'x', args: {}, tokenCost: -1 }, /`tokenCost`/],
      [{ tool: 'x', args: { v: 'y'.repeat(70_000) } }, /over the limit of 65536 bytes/],
      [{ tool: 'x', args: {}, idempotencyKey: 'k\u0000' }, /`idempotencyKey` must not contain control characters or lone surrogates/],
      [{ tool: 'x', args: {}, idempotencyKey: 'k\ud800' }, /`idempotencyKey` must not contain control characters or lone surrogates/],
    ];
    for (const [input, message] of bad) assert.throws(() => assertProposal(input), message);
    assert.doesNotThrow(() => assertProposal({ tool: 'billing.query', args: {}, reasoning: 'why' }));
    assert.doesNotThrow(() => assertProposal({ tool: 'billing.query', args: {}, idempotencyKey: `it's "ä" 🎉 \\ $$` }), 'quotes, backslashes, emoji are keys');
  });

  it('measures UTF-8 bytes of the canonical JSON', () => {
    assert.equal(canonicalSize({ a: 'é' }), '{"a":"é"}'.length + 1);
  });
});

describe('callDigest', () => {
  it('changes with the arguments, the policy and the state seen; not with key order', () => {
    const base = callDigest('t', { a: 1, b: 2 }, 'h', { step: 1 });
    assert.equal(callDigest('t', { b: 2, a: 1 }, 'h', { step: 1 }), base);
    assert.notEqual(callDigest('t', { a: 1, b: 3 }, 'h', { step: 1 }), base);
    assert.notEqual(callDigest('t', { a: 1, b: 2 }, 'h2', { step: 1 }), base);
    assert.notEqual(callDigest('t', { a: 1, b: 2 }, 'h', { step: 2 }), base);
  });
});

describe('checkStart', () => {
  const input = { sessionId: 's', credential: 't', intent: 'x' };
  it('accepts carried state only from a first-attempt run that continued as new, never on a cron schedule', () => {
    assert.deepEqual(checkStart(input, { carried: true }, { attempt: 1, continuedFromExecutionRunId: 'r0' }), { ok: true });
    const refused = (run: Parameters<typeof checkStart>[2]) => {
      const gate = checkStart(input, { carried: true }, run);
      return gate.ok ? 'accepted' : gate.refusal.rule;
    };
    assert.equal(refused({ attempt: 1 }), 'start.carried');
    assert.equal(refused({ attempt: 2, continuedFromExecutionRunId: 'r0' }), 'start.carried', 'a retry repeats the starter\'s input');
    assert.equal(refused({ attempt: 1, continuedFromExecutionRunId: 'r0', cronSchedule: '@every 2s' }), 'start.cron');
    const cronWithoutCarried = checkStart(input, undefined, { attempt: 1, cronSchedule: '* * * * *' });
    assert.equal(cronWithoutCarried.ok, false);
  });

  it('accepts parent fields only from the parent Temporal names', () => {
    const child = { ...input, parentSessionId: 'p', agentId: 'c', owner: 'o', policyRef: 'default' };
    assert.equal(checkStart(child, undefined, { attempt: 1, parentWorkflowId: 'session-p' }).ok, true);
    assert.equal(checkStart(child, undefined, { attempt: 1, parentWorkflowId: 'session-q' }).ok, false);
    assert.equal(checkStart(child, undefined, { attempt: 1 }).ok, false);
    assert.equal(checkStart({ ...input, inheritedTransitions: {} }, undefined, { attempt: 1 }).ok, false);
  });
});

describe('agent ids of a session tree', () => {
  it('derives a sub-agent\'s id from its root, never another agent\'s; sub-session ids are the parent\'s form', async () => {
    const { rootAgentOf, subAgentId, hasSubSessionForm } = await import('../../policies/agent-id');
    assert.deepEqual(subAgentId('mallory-bot', 'victim-bot'), { ok: true, agentId: 'mallory-bot/victim-bot' });
    assert.deepEqual(subAgentId('billing-bot', 'billing-bot/cleanup-1'), { ok: true, agentId: 'billing-bot/cleanup-1' });
    assert.equal(subAgentId('mallory-bot', 'victim-bot/x').ok, false);
    assert.equal(subAgentId('mallory-bot', '').ok, false);
    assert.equal(rootAgentOf('billing-bot/cleanup-1'), 'billing-bot');
    assert.equal(rootAgentOf('billing-bot'), 'billing-bot');
    assert.equal(hasSubSessionForm('abc.1'), true);
    assert.equal(hasSubSessionForm('abc.1x'), false);
    // A run with a parent is a sub-agent whether or not its input says so; a foreign id is refused.
    assert.deepEqual(checkStart({ intent: 'x' }, undefined, { attempt: 1, parentWorkflowId: 'session-p', workflowId: 'session-p.1' }), { ok: true, child: {} });
    assert.equal(checkStart({ intent: 'x', sessionId: 'victim' }, undefined, { attempt: 1, parentWorkflowId: 'session-p', workflowId: 'session-p.1' }).ok, false);
  });
});

describe('carried votes (what a continued run keeps of signed decisions)', () => {
  const memory = () => ({ usedNonces: new Set<string>(), nonceExpiries: new Map<string, number>(), decided: new Map<string, { seq: number; at: number }>() });

  it('keeps a used nonce until its envelope expires, never drops one by count, and restores one carried without expiry for the longest lifetime', () => {
    const m = memory();
    for (let i = 0; i < 1000; i++) {
      m.usedNonces.add(`n${i}`);
      m.nonceExpiries.set(`n${i}`, 10_000 + i);
    }
    const c = carryVotes(m, 10_500);
    assert.equal(c.usedNonces.length, 499);
    assert.deepEqual([c.usedNonces[0], c.nonceExpiries?.[0]], ['n501', 10_501]);
    const legacy = restoreVotes({ usedNonces: ['old'] }, 's1', 5_000);
    assert.equal(legacy.usedNonces.has('old'), true);
    assert.equal(legacy.nonceExpiries.get('old'), 5_000 + LATE_VOTE_WINDOW_MS);
  });

  it('keeps a decided approval for the late-vote window, at most the newest MAX_CARRIED_DECIDED, under its session\'s id', () => {
    const m = memory();
    for (let seq = 1; seq <= MAX_CARRIED_DECIDED + 10; seq++) m.decided.set(`s1:${seq}`, { seq, at: 1_000 + seq });
    m.decided.set('s1:0', { seq: 0, at: 0 });
    const now = LATE_VOTE_WINDOW_MS + 1; // `s1:0` was decided a window ago
    const c = carryVotes(m, now);
    assert.equal(c.decidedApprovals?.length, MAX_CARRIED_DECIDED);
    assert.deepEqual(c.decidedApprovals?.[0], { seq: 11, at: 1_011 });
    const back = restoreVotes(c, 's1', now);
    assert.equal(back.decided.has(`s1:${MAX_CARRIED_DECIDED + 10}`), true);
    assert.equal(back.decided.has('s1:0'), false);
    assert.equal(carryVotes(memory(), now).decidedApprovals, undefined);
  });
});

describe('what the intent scorer is told of a call (intentAction)', () => {
  it('the tool\'s effect under the session\'s policy: an upstream tool\'s classification, not its catalog placeholder', () => {
    const tools = [
      { name: 'iam.kubectl_generic', description: 'Run a kubectl operation', effect: 'destructive' as const, environment: 'production', resource: 'iam', estimatesBlastRadius: false, upstream: { server: 'iam', tool: 'kubectl_generic' } },
      { name: 'volumes.list', description: 'List volumes', effect: 'read' as const, environment: 'production', resource: 'volumes', estimatesBlastRadius: false },
    ];
    const parsed = parsePolicy({ name: 'p', upstreamTools: { 'iam.kubectl_generic': { effect: 'write' } } });
    assert.ok(parsed.success);
    const policy = compilePolicy(parsed.data, tools);
    const at = '2026-12-07T10:00:00.000Z';
    assert.deepEqual(intentAction(policy, 'iam.kubectl_generic', { operation: 'delete' }, at), { tool: 'iam.kubectl_generic', args: { operation: 'delete' }, at, effect: 'write' });
    assert.equal(intentAction(policy, 'volumes.list', {}, at).effect, 'read');
    assert.deepEqual(intentAction(policy, 'not.in-catalog', {}, at), { tool: 'not.in-catalog', args: {}, at });
  });
});

describe('which scorer failures intent review fails closed on (unscoredReason)', () => {
  it('the activity\'s failure, its time out, a regular activity\'s failure: a reason; a cancellation or a bug of the workflow: none', () => {
    assert.equal(unscoredReason(ApplicationFailure.create({ type: 'EmbeddingsRejected', message: 'answered 400' })), 'answered 400');
    assert.equal(unscoredReason(new TimeoutFailure('local activity timed out', undefined, TimeoutType.START_TO_CLOSE)), 'local activity timed out');
    assert.equal(unscoredReason(new ActivityFailure('activity failed', 'scoreIntent', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, ApplicationFailure.create({ message: 'down' }))), 'down');
    assert.equal(unscoredReason(new CancelledFailure('cancelled')), undefined);
    assert.equal(unscoredReason(new ActivityFailure('activity cancelled', 'scoreIntent', '1', RetryState.CANCEL_REQUESTED, undefined, new CancelledFailure('cancelled'))), undefined);
    assert.equal(unscoredReason(new TypeError('a bug')), undefined);
  });
});
