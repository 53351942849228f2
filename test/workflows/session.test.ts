/**
 * The session workflow against a real Temporal server and real databases: autonomous calls,
 * denials (unknown tool, bad arguments), validator rejections, the audit trail they leave.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidProposalError, SessionClosedError } from '../../client';
import { TEST_POLICY } from './fixtures/catalog';
import { createHarness, testPolicy, type Harness } from './harness';
import { testTrust } from '../support/trust';
import { signDecision } from '../../client/trust/sign';
import { WorkflowUpdateStage } from '@temporalio/client';
import { proposeUpdate, SEARCH_ATTRIBUTES, SESSION_WORKFLOW_TYPE, startedUpdate } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { AGENT_KEY } from '../../workflows/search-attributes';
import { unlockOf } from '../../policies';

const trust = testTrust();

const testPolicyDoc = () => structuredClone(TEST_POLICY);

/** Approvals that escalate after about a second and expire after three (the `quick` policy of the file's worker). */
const quickApprovals = () => ({ ...testPolicyDoc(), approvers: { ...testPolicyDoc().approvers, default: { groups: ['on-call', 'sre-leads'], timeoutMinutes: 0.05, escalateAfterMinutes: [0.02], fourEyes: true } } });

let h: Harness;
before(async () => {
  h = await createHarness('session', { policies: { quick: testPolicy(quickApprovals()) } });
});
after(async () => {
  await h?.close();
});

describe('agentSession', () => {
  it('runs an autonomous read and records proposed, decided, executed before returning', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'billing-bot', owner: 'eng-007', intent: 'look at test billing records' });
      const r = await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'see what is mounted' });
      assert.equal(r.status, 'executed');
      assert.equal(r.decision.verdict, 'allow');
      assert.equal(r.sequence, 1);
      const kinds = (await h.events(s.sessionId)).map((e) => e.kind);
      assert.deepEqual(kinds, ['session-started', 'proposed', 'decided', 'executed']);
      const st = await s.state();
      assert.equal(st.counters.executed, 1);
      assert.equal(st.mode, 'normal');
      const summary = await s.end({ reason: 'done' });
      assert.equal(summary.finalState, 'completed');
      assert.equal(summary.counters.proposals, 1);
    });
  });
});

describe('the start', () => {
  it('is one round trip: the start carries the `started` update, which answers true once the session took its policy', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'bot', owner: 'eng-007', intent: 'inspect billing' });
      const { events } = await s.workflow.fetchHistory();
      const started = (events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'started');
      assert.equal(started.length, 1, 'the client sent the update with the start instead of polling');
      // A contract other clients may use: asked again later, it answers at once.
      assert.equal(await s.workflow.executeUpdate(startedUpdate), true);
    });
  });
});

describe('bad input', () => {
  it('denies an unknown tool and invalid arguments with reasons, audited, and rejects non-proposals', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'bot', owner: 'eng-007', intent: 'inspect billing' });
      const unknown = await s.propose({ tool: 'db.dropEverything', args: {}, reasoning: 'why not' });
      assert.equal(unknown.status, 'denied');
      assert.equal(unknown.decision.reasons[0]?.rule, 'tool.unknown');

      const badArgs = await s.propose({ tool: 'billing.summary', args: { customerId: 'not-a-uuid', months: 99 }, reasoning: 'summary' });
      assert.equal(badArgs.status, 'denied');
      assert.equal(badArgs.decision.reasons[0]?.rule, 'tool.args');
      assert.match(badArgs.decision.reasons[0]?.message ?? '', /invalid arguments for tool `billing.summary`/);

      await assert.rejects(s.propose({ tool: 'volumes.list', args: 'nope' as never, reasoning: '' }), InvalidProposalError);
      await assert.rejects(s.propose(42 as never), InvalidProposalError);
      const huge = 'x'.repeat(70 * 1024);
      await assert.rejects(s.propose({ tool: 'staging.writeConfig', args: { key: 'a', value: huge }, reasoning: '' }), (err: unknown) => {
        assert.ok(err instanceof InvalidProposalError);
        assert.match(err.message, /over the limit of 65536 bytes/);
        return true;
      });

      // The rejected ones changed nothing: two proposals, both denied, both audited.
      const st = await s.state();
      assert.equal(st.counters.proposals, 2);
      assert.equal(st.counters.denied, 2);
      const events = await h.events(s.sessionId);
      assert.deepEqual(
        events.map((e) => `${e.kind}:${e.tool ?? ''}`),
        ['session-started:', 'proposed:db.dropEverything', 'decided:db.dropEverything', 'proposed:billing.summary', 'decided:billing.summary'],
      );

      await s.end({ reason: 'done' });
      await assert.rejects(s.propose({ tool: 'volumes.list', args: {}, reasoning: '' }), SessionClosedError);
      await assert.rejects(s.end({}), SessionClosedError);
    });
  });
});

describe('approvals', () => {
  it('waits for a human, refuses self-approval and unknown ids (audited), runs after approval', async () => {
    await h.run(async () => {
      // `billing-bot` also holds an approver key: as the session's agent it still may not decide.
      const s = await h.gh.startSession({ agentId: 'billing-bot', owner: 'eng-007', intent: 'unmount an unused volume' });
      const pending = s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' });
      const approvalId = await waitForApproval(s);
      assert.equal(approvalId, `${s.sessionId}:1`);
      await h.vote(s.sessionId, approvalId, 'billing-bot', true); // the agent itself
      await h.vote(s.sessionId, approvalId, 'eng-007', true); // the owner, four eyes
      await h.vote(s.sessionId, `${s.sessionId}:99`, 'alice', true); // unknown approval
      await h.gh.approve(approvalId, { key: trust.approver('alice') });
      const r = await pending;
      assert.equal(r.approvalId, approvalId);
      assert.equal(r.status, 'executed');
      const requested = (await h.events(s.sessionId)).find((e) => e.kind === 'approval-requested');
      await h.vote(s.sessionId, approvalId, 'bob', true, { callDigest: String(requested?.detail?.callDigest) }); // already decided
      await s.end({});
      // `end` can answer while the late vote's handler is still recording its alert (both in one
      // workflow task); the run itself completes only once every handler has finished.
      await s.workflow.result();
      const events = await h.events(s.sessionId);
      const alerts = events.filter((e) => e.kind === 'alert').map((e) => e.detail?.rule);
      assert.deepEqual(alerts, ['approval.self', 'approval.four-eyes', 'approval.unknown', 'approval.decided']);
      const approved = events.filter((e) => e.kind === 'approved');
      assert.deepEqual(approved.map((e) => e.approver), ['alice']);
    });
  });

  it('one deny ends it and the call never runs', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the api' });
      const pending = s.propose({ tool: 'services.scale', args: { service: 'api', replicas: 5 }, reasoning: 'load' });
      const approvalId = await waitForApproval(s);
      // `carol` (sre-leads) is not asked yet: the ladder reaches her group only after escalation.
      await h.vote(s.sessionId, approvalId, 'carol', false, { reason: 'not now' });
      assert.equal((await s.state()).pendingApprovals.length, 1);
      await h.gh.deny(approvalId, { key: trust.approver('alice'), reason: 'not now' });
      const r = await pending;
      assert.equal(r.status, 'denied');
      assert.ok(r.decision.reasons.some((x) => x.rule === 'approval.denied'));
      const replicas = await h.production.pool.query("SELECT replicas FROM services WHERE name = 'api'");
      assert.notEqual(replicas.rows[0]?.replicas, 5);
      await s.end({});
    });
  });

  it('denies automatically at the deadline after escalating, never approves', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'restart the api', policyRef: 'quick' });
      const r = await s.propose({ tool: 'services.restart', args: { service: 'api' }, reasoning: 'stuck' });
      assert.equal(r.status, 'expired');
      assert.equal(r.decision.verdict, 'deny');
      assert.ok(r.decision.reasons.some((x) => x.rule === 'approval.expired'));
      const kinds = (await h.events(s.sessionId)).map((e) => e.kind);
      assert.deepEqual(kinds.slice(1), ['proposed', 'decided', 'approval-requested', 'escalated', 'expired']);
      const row = await h.audit.pool.query('SELECT status FROM approvals WHERE approval_id = $1', [r.approvalId]);
      assert.equal(row.rows[0]?.status, 'expired');
      await s.end({});
    });
  });

  it('needs two distinct approvers when the policy says so', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'vol-bot', owner: 'eng-007', intent: 'delete an old volume' });
      const pending = s.propose({ tool: 'volumes.delete', args: { volumeId: 'vol-scratch01' }, reasoning: 'old' });
      const approvalId = await waitForApproval(s);
      await h.gh.approve(approvalId, { key: trust.approver('carol') });
      await h.vote(s.sessionId, approvalId, 'carol', true); // same approver twice
      const mid = await s.state();
      assert.deepEqual(mid.pendingApprovals[0]?.approvedBy, ['carol']);
      await h.gh.approve(approvalId, { key: trust.approver('dave') });
      const r = await pending;
      assert.equal(r.status, 'executed');
      const approvers = (await h.events(s.sessionId)).filter((e) => e.kind === 'approved').map((e) => e.approver);
      assert.deepEqual(approvers, ['carol', 'dave']);
      await s.end({});
    });
  });
});

describe('halt, pause, resume', () => {
  it('halt cancels a pending approval, closes the session and refuses what comes after', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'restart the api' });
      const pending = s.propose({ tool: 'services.restart', args: { service: 'api' }, reasoning: 'stuck' });
      const approvalId = await waitForApproval(s);
      await h.gh.halt(s.sessionId, { by: 'oncall', reason: 'incident' });
      const r = await pending;
      assert.equal(r.status, 'denied');
      assert.ok(r.decision.reasons.some((x) => x.rule === 'session.halted'));
      const summary = await s.result();
      assert.equal(summary.finalState, 'halted');
      await assert.rejects(s.propose({ tool: 'volumes.list', args: {}, reasoning: '' }), SessionClosedError);
      const row = await h.audit.pool.query('SELECT status FROM approvals WHERE approval_id = $1', [approvalId]);
      assert.equal(row.rows[0]?.status, 'cancelled');
      const srow = await h.audit.pool.query('SELECT final_state, flagged_for_review FROM sessions WHERE session_id = $1', [s.sessionId]);
      assert.deepEqual(srow.rows[0], { final_state: 'halted', flagged_for_review: true });
    });
  });

  it('pause holds proposals (none lost) until resume', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'pause-bot', owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'incident' });
      // Accepted: the workflow has each update in its handler (it arrived), which now waits.
      const held = await Promise.all(
        [1, 2, 3].map((n) =>
          s.workflow.startUpdate(proposeUpdate, { args: [{ tool: 'test.slowWrite', args: { n }, reasoning: 'write' }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
        ),
      );
      const paused = await s.state();
      assert.equal(paused.paused, true);
      assert.equal(paused.counters.proposals, 0);
      // An unsigned resume is refused (an alert) and lifts nothing; an operator-signed one does.
      await s.workflow.signal('resume', { by: 'oncall' });
      assert.equal((await s.state()).paused, true);
      await s.workflow.signal('resume', signDecision(trust.operator, { kind: 'resume', workflowId: paused.workflowId, firstRunId: paused.firstRunId }));
      const results = await Promise.all(held.map((u) => u.result()));
      assert.deepEqual(results.map((r) => r.status), ['executed', 'executed', 'executed']);
      assert.deepEqual(results.map((r) => r.sequence).sort(), [1, 2, 3]);
      const rows = await h.production.pool.query("SELECT count(*)::int AS n FROM test_writes WHERE idempotency_key LIKE $1", [`${s.sessionId}:%`]);
      assert.equal(rows.rows[0]?.n, 3);
      await s.end({});
      // Nothing was proposed while paused: every proposal comes after the signed resume.
      const events = await h.events(s.sessionId);
      assert.deepEqual(
        events.map((e) => e.kind),
        ['session-started', 'paused', 'alert', 'resumed', ...[1, 2, 3].flatMap(() => ['proposed', 'decided', 'executed']), 'session-ended'],
      );
      assert.deepEqual(events.filter((e) => e.kind === 'alert').map((e) => e.detail?.rule), ['envelope.malformed']);
      assert.equal(events.find((e) => e.kind === 'resumed')?.detail?.by, 'test-operator');
    });
  });
});

describe('budget raises', () => {
  it('only an operator-signed raise lifts the caps; an unsigned or approver-signed one is refused and changes nothing', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'greedy-bot', owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      const before = await s.state();
      const raise = { actions: before.budgetLeft.actions + 500, writes: before.budgetLeft.writes + 500 };
      // What an agent would try: its own unsigned raise, and one signed with an approver's key.
      await s.workflow.signal('raiseBudget', { budget: raise } as never);
      await s.workflow.signal('raiseBudget', signDecision(trust.approver('alice'), { kind: 'budget-raise', workflowId: before.workflowId, firstRunId: before.firstRunId, budget: raise }));
      await h.gh.raiseBudget(s.sessionId, raise, { key: trust.operator, reason: 'planned migration' });
      const after = await s.state();
      assert.equal(after.budgetLeft.actions, raise.actions);
      assert.equal(after.budgetLeft.writes, raise.writes);
      // The signal handlers record their events after the state changed: wait for the raise's.
      const events = await eventually(
        async () => {
          const all = await h.events(s.sessionId);
          return all.some((e) => e.kind === 'budget-raised') && all;
        },
        { what: 'the budget-raised event' },
      );
      assert.deepEqual(events.filter((e) => e.kind === 'alert').map((e) => e.detail?.rule), ['envelope.malformed', 'decision.role']);
      const raised = events.filter((e) => e.kind === 'budget-raised');
      assert.equal(raised.length, 1);
      assert.equal(raised[0]?.detail?.by, 'test-operator');
      await s.end({});
    });
  });
});

describe('fleet controls', () => {
  it('pause --agent finds running sessions by search attribute; resume lets them go on', async () => {
    await h.run(async () => {
      const agent = `fleet-${Date.now()}`;
      const a1 = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      const a2 = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      const other = await h.gh.startSession({ agentId: `${agent}-other`, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      // Visibility is eventually consistent: a session appears in listings shortly after it starts.
      const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.agentId} = '${agent}'`;
      await eventually(async () => (await h.gh.client.workflow.count(query)).count === 2, { what: `both sessions of \`${agent}\` listed`, timeoutMs: 20_000, everyMs: 200 });
      const ids = await h.gh.pause({ agentId: agent }, 'oncall', 'incident');
      assert.deepEqual(ids.sort(), [a1.sessionId, a2.sessionId].sort());
      assert.equal((await a1.state()).paused, true);
      assert.equal((await a2.state()).paused, true);
      assert.equal((await other.state()).paused, false);
      const held = a1.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' });
      assert.equal((await other.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' })).status, 'executed');
      const resumed = await h.gh.resume({ agentId: agent }, { key: trust.operator });
      assert.equal(resumed.length, 2);
      assert.equal((await held).status, 'executed');
      for (const s of [a1, a2, other]) await s.end({});
      const kinds = (await h.events(a1.sessionId)).map((e) => e.kind);
      assert.deepEqual(kinds, ['session-started', 'paused', 'resumed', 'proposed', 'decided', 'executed', 'session-ended']);
    });
  });
});

describe('a fleet resume and a session no worker serves', () => {
  // The bound is the point: the server answers an unserved query only after 90 s, and the walk was
  // one session after another, so each such session stalled the resume of every one after it.
  it('leaves it out after a bounded wait, and resumes the others', { timeout: 60_000 }, async () => {
    await h.run(async () => {
      const agent = `orphaned-${Date.now()}`;
      const live = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      // A session workflow on a task queue nobody polls: listed as running, its state query is never answered.
      await h.gh.client.workflow.start(SESSION_WORKFLOW_TYPE, {
        taskQueue: `${h.taskQueue}-nobody`,
        workflowId: `session-${agent}-orphan`,
        args: [{ intent: 'never started' }],
        typedSearchAttributes: [{ key: AGENT_KEY, value: agent }],
      });
      const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.agentId} = '${agent}'`;
      await eventually(async () => (await h.gh.client.workflow.count(query)).count === 2, { what: `both sessions of \`${agent}\` listed`, timeoutMs: 20_000, everyMs: 200 });
      assert.deepEqual((await h.gh.pause({ agentId: agent }, 'oncall', 'incident')).sort(), [live.sessionId, `${agent}-orphan`].sort(), 'a signal needs no worker');
      const resumed = await h.gh.resume({ agentId: agent }, { key: trust.operator });
      assert.deepEqual(resumed, [live.sessionId]);
      assert.equal((await live.state()).paused, false);
      await h.gh.client.workflow.getHandle(`session-${agent}-orphan`).terminate('test over');
      await live.end({});
    });
  });
});

describe('transitions and unlocks', () => {
  it('denies a forbidden transition; an unlock request becomes an approval that lets that one call run', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'vol-bot', owner: 'eng-007', intent: 'tidy volumes' });
      assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
      const denied = await s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'unmount' });
      assert.equal(denied.status, 'denied');
      assert.ok(denied.decision.reasons.some((r) => r.rule === 'transition.forbidden'));
      assert.ok(unlockOf(denied.decision));
      const pending = s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'unmount', requestUnlock: true });
      const approvalId = await waitForApproval(s);
      const st = await s.state();
      assert.equal(st.pendingApprovals[0]?.groups[0], 'sre-leads');
      await h.gh.approve(approvalId, { key: trust.approver('carol') });
      // The unlock group agreed; the call's own approvers (on-call) must agree too.
      const mid = await s.state();
      assert.deepEqual(mid.pendingApprovals[0]?.approvedBy, ['carol']);
      await h.gh.approve(approvalId, { key: trust.approver('alice') });
      const r = await pending;
      assert.equal(r.status, 'executed', JSON.stringify(r.error));
      const mounts = await h.production.pool.query("SELECT count(*)::int AS n FROM volume_mounts WHERE volume_id = 'vol-cache01'");
      assert.equal(mounts.rows[0]?.n, 0);
      assert.ok(r.decision.reasons.some((x) => x.rule === 'transition.unlocked'));
      await s.end({});
    });
  });
});

function waitForApproval(s: { state(): Promise<{ pendingApprovals: readonly { approvalId: string }[] }> }): Promise<string> {
  return eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'a pending approval' });
}
