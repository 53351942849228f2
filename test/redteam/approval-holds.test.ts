/**
 * Red team: what holds a call once a person approved it. Three ways a held call ran when it should
 * not have (patch `approval-holds-pause-and-deadline`):
 * - an operator paused the session or the tool while the call waited for approval; an approver's
 *   vote then ran it inside the pause, as if the vote lifted a pause only a signed resume may lift;
 * - the operator halted the session while the approved call reserved in the agent's ledger (an
 *   activity): nothing looked at the halt again, and the call ran after `halted` was recorded;
 * - a vote handled after the approval's deadline (the worker was down when the deadline passed: the
 *   timer and the vote arrived in one task) counted, and the call ran instead of expiring.
 * The real session workflow on the Temporal dev server; the approver's key signs every vote.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionHandle } from '../../client';
import type { PendingApprovalView, SessionStateView } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { testPolicy, type Harness, createHarness } from '../workflows/harness';
import { TEST_POLICY } from '../workflows/fixtures/catalog';
import { signedVote, trust } from './attacker';

let h: Harness;
before(async () => {
  h = await createHarness('redteam_approval_holds');
});
after(async () => {
  await h?.close();
});

const SCALE = (replicas: number) => ({ tool: 'services.scale', args: { service: 'api', replicas }, reasoning: 'load' });

async function pending(s: SessionHandle): Promise<PendingApprovalView & { view: SessionStateView }> {
  return eventually(async () => {
    const view = await s.state();
    const p = view.pendingApprovals[0];
    return p ? { ...p, view } : undefined;
  }, { what: `a pending approval in ${s.sessionId}` });
}

function approve(s: SessionHandle, p: PendingApprovalView & { view: SessionStateView }): Promise<void> {
  return s.workflow.signal('approval', signedVote(trust.approver('alice'), { workflowId: p.view.workflowId, firstRunId: p.view.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, approve: true }));
}

async function replicas(): Promise<number> {
  const { rows } = await h.production.pool.query<{ replicas: number }>("SELECT replicas FROM services WHERE name = 'api'");
  return rows[0]!.replicas;
}

async function kinds(sessionId: string): Promise<string[]> {
  return (await h.events(sessionId)).map((e) => e.kind);
}

describe('an approved call', () => {
  for (const pause of ['tool', 'session'] as const) {
    it(`waits while its ${pause} is paused: the vote does not lift the pause, a signed resume does`, async () => {
      const w = await h.worker({ workerOptions: { shutdownGraceTime: '10s' } });
      await w.runUntil(async () => {
        const agentId = `paused-${pause}-bot`;
        const s = await h.gh.startSession({ agentId, owner: 'eng-007', intent: 'scale the api' });
        const before = await replicas();
        const result = s.propose(SCALE(before + 3));
        const p = await pending(s);
        await s.workflow.signal('pause', { by: 'oncall', reason: 'incident', ...(pause === 'tool' ? { tool: 'services.scale' } : {}) });
        await eventually(async () => ((await s.state()).paused ? true : undefined), { what: 'the pause' });
        await approve(s, p);

        // Approved, and held: the state names it, nothing ran.
        const held = await eventually(async () => ((await s.state()).heldByPause?.includes(p.proposalSeq) ? true : undefined), { what: 'the approved call held by the pause' });
        assert.equal(held, true);
        assert.equal(await replicas(), before);
        assert.deepEqual((await kinds(s.sessionId)).filter((k) => k === 'approved' || k === 'executed'), ['approved']);

        // By agent: a resume without a tool lifts its paused tools too (a tool selector would query every session of the namespace).
        const resumed = await h.gh.resume({ agentId }, { key: trust.operator });
        assert.ok(resumed.includes(s.sessionId));
        assert.equal((await result).status, 'executed');
        assert.equal(await replicas(), before + 3);
        const trail = await kinds(s.sessionId);
        assert.ok(trail.indexOf('resumed') < trail.indexOf('executed'), trail.join(','));
        await s.end({});
      });
    });
  }

  it('stops at a halt that lands while it reserves in the agent ledger', async () => {
    let reserving!: () => void;
    const entered = new Promise<void>((resolve) => (reserving = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const policy = testPolicy({ agent: { budgets: [{ tools: ['services.scale'], max: 100, windowMinutes: 60 }] } });
    const w = await h.worker({
      policy,
      workerOptions: {
        shutdownGraceTime: '10s',
        interceptors: {
          activity: [
            (ctx) => ({
              inbound: {
                async execute(input, next) {
                  // The reservation waits for the test: the halt is handled meanwhile.
                  if (ctx.info.activityType === 'reserveAcrossSessions') {
                    reserving();
                    await gate;
                  }
                  return next(input);
                },
              },
            }),
          ],
        },
      },
    });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'halted-bot', owner: 'eng-007', intent: 'scale the api' });
      const before = await replicas();
      const result = s.propose(SCALE(before + 5));
      await approve(s, await pending(s));
      await entered;
      await h.gh.halt(s.sessionId, { by: 'oncall', reason: 'stop now' });
      await eventually(async () => ((await s.state()).halted ? true : undefined), { what: 'the halt handled' });
      release();
      const r = await result;
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['session.halted']);
      assert.equal(await replicas(), before);
      assert.equal((await kinds(s.sessionId)).includes('executed'), false);
    });
  });

  it('expires when the vote is handled after the deadline, though it came with the deadline\'s timer', async () => {
    const policy = testPolicy({ approvers: { ...TEST_POLICY.approvers, default: { groups: ['on-call'], timeoutMinutes: 0.05, fourEyes: true } } });
    const first = await h.worker({ policy, workerOptions: { shutdownGraceTime: '2s' } });
    let s!: SessionHandle;
    let result!: ReturnType<SessionHandle['propose']>;
    let p!: PendingApprovalView & { view: SessionStateView };
    const before = await replicas();
    await first.runUntil(async () => {
      s = await h.gh.startSession({ agentId: 'late-bot', owner: 'eng-007', intent: 'scale the api' });
      result = s.propose(SCALE(before + 7));
      p = await pending(s);
    });
    // No worker runs the deadline's timer: the vote is signed and sent once the deadline has passed.
    await eventually(async () => (Date.now() > Date.parse(p.deadline) + 500 ? true : undefined), { what: 'the deadline passed', timeoutMs: 30_000 });
    await approve(s, p);
    const second = await h.worker({ policy, workerOptions: { shutdownGraceTime: '2s' } });
    await second.runUntil(async () => {
      assert.equal((await result).status, 'expired');
      assert.equal(await replicas(), before);
      const trail = await h.events(s.sessionId);
      assert.equal(trail.some((e) => e.kind === 'executed' || e.kind === 'approved'), false);
      assert.ok(trail.some((e) => e.kind === 'expired'));
    });
  });
});
