/**
 * Agent-wide rules across sessions, against a real Temporal server and real databases: a forbidden
 * transition split over two sessions of one agent, twenty concurrent sessions against one agent
 * budget, and a reservation whose answer was lost (the activity retried, as after a worker crash)
 * counted once, also across the ledger's continue-as-new.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { createHarness, testPolicy, type Harness } from './harness';
import { LEDGER_WORKFLOW_TYPE, ledgerQuery, ledgerWorkflowId, reserveUpdate } from '../../workflows/ledger-contract';
import type { LedgerRequest, LedgerRule } from '../../policies';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';

const uniq = (name: string) => `${name}-${randomBytes(3).toString('hex')}`;

/** The test policy with agent-wide rules; `volumes.unmount` autonomous so only the ledger stands in its way. */
function crossPolicy(agent: Record<string, unknown>, owner?: Record<string, unknown>) {
  return testPolicy({ transitions: [], tools: { 'volumes.unmount': { tier: 'autonomous' } }, agent, ...(owner ? { owner } : {}) });
}

/** `volumes.list` in one session of a new agent, then `volumes.unmount` proposed in a second one: its session and answer. */
async function listThenUnmount(name: string, policyRef: string) {
  const agent = uniq(name);
  const a = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'look at the volumes', policyRef });
  assert.equal((await a.propose({ tool: 'volumes.list', args: {}, reasoning: 'inventory' })).status, 'executed');
  await a.end({});
  const b = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'free the cache volume', policyRef });
  return { b, r: await b.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'not needed' }) };
}

/** The agent budget of the `agent-budget` policy. */
const AGENT_MAX = 7;

const LIST_UNMOUNT = { transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 30 }, reason: 'listing then unmounting is how the volume incident began' }] };

let h: Harness;
before(async () => {
  // The file's shared worker (`h.run`) loads each policy a test names with `policyRef`; tests that
  // need worker options of their own (slots, interceptors, a history limit) start their own worker.
  h = await createHarness('cross', {
    policies: {
      'list-unmount': crossPolicy(LIST_UNMOUNT),
      'list-unmount-shadow': crossPolicy({ transitions: [{ ...LIST_UNMOUNT.transitions[0], mode: 'shadow' }] }),
      'no-transitions': testPolicy({ transitions: [] }),
      'agent-budget': crossPolicy({ budgets: [{ tools: ['staging.*'], max: AGENT_MAX, windowMinutes: 60 }] }),
      'unmount-budget-0': testPolicy({ transitions: [], agent: { budgets: [{ tools: ['volumes.unmount'], max: 0, windowMinutes: 60 }] } }),
      'owner-budget': crossPolicy({ budgets: [] }, { budgets: [{ tools: ['staging.writeConfig'], max: 2, windowMinutes: 60 }] }),
    },
  });
});
after(async () => {
  await h?.close();
});

describe('cross-session transitions', () => {
  it('denies `to` in a second session of the agent that ran `from`, and allows it for another agent', async () => {
    await h.run(async () => {
      const { b, r } = await listThenUnmount('vol-bot', 'list-unmount');
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['agent.sequence']);
      assert.match(r.decision.reasons[0]?.message ?? '', /`volumes.list` then `volumes.unmount` within 30 minutes across this agent's sessions/);
      // Recorded through the session's normal audit path: a `decided` event naming the rule.
      assert.deepEqual((await h.events(b.sessionId)).map((e) => e.kind), ['session-started', 'proposed', 'decided']);
      const row = (await h.audit.pool.query('SELECT decision FROM events WHERE session_id = $1 AND kind = $2', [b.sessionId, 'decided'])).rows[0] as { decision: { reasons: { rule: string }[] } } | undefined;
      assert.equal(row?.decision.reasons[0]?.rule, 'agent.sequence');
      await b.end({});

      const other = await h.gh.startSession({ agentId: uniq('other-bot'), owner: 'eng-007', intent: 'free the cache volume', policyRef: 'list-unmount' });
      const ok = await other.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'not needed' });
      assert.equal(ok.status, 'executed', JSON.stringify(ok.decision));
      await other.end({});
    });
  });

  it('a shadow transition lets the second session’s `to` run and records what it would have denied', async () => {
    await h.run(async () => {
      const { b, r } = await listThenUnmount('trial-bot', 'list-unmount-shadow');
      assert.equal(r.status, 'executed', JSON.stringify(r.decision));
      assert.equal(r.decision.verdict, 'allow');
      assert.deepEqual([r.decision.shadow?.verdict, r.decision.shadow?.reasons.map((x) => x.rule)], ['deny', ['agent.sequence']]);
      const row = (await h.audit.pool.query('SELECT decision FROM events WHERE session_id = $1 AND kind = $2', [b.sessionId, 'decided'])).rows[0] as { decision: { shadow?: { reasons: { rule: string }[] } } } | undefined;
      assert.deepEqual(row?.decision.shadow?.reasons.map((x) => x.rule), ['agent.sequence'], 'the audit trail keeps the finding');
      await b.end({});
    });
  });

  it('a tool in no cross-session rule makes the same history with the rules on as off', async () => {
    const historyOf = async (policyRef: 'no-transitions' | 'list-unmount', tool: string) =>
      h.run(async () => {
        const s = await h.gh.startSession({ agentId: uniq('plain-bot'), owner: 'eng-007', intent: 'write config', policyRef });
        await s.propose({ tool, args: tool === 'volumes.list' ? {} : { key: 'a', value: 'b' }, reasoning: 'x' });
        await s.end({});
        const events = (await s.workflow.fetchHistory()).events ?? [];
        return {
          // What the workflow did, as a multiset of event types; without the workflow tasks
          // themselves (scheduled, started, completed, timed out, failed: 5–9), whose number and
          // interleaving vary with the machine's load (an `end` landing while a task runs makes one more),
          // and without the idle clock's timers (started, fired, cancelled: 17–19), restarted once per
          // wake of the session's loop, which varies the same way.
          types: events.map((e) => Number(e.eventType)).filter((t) => (t < 5 || t > 9) && (t < 17 || t > 19)).map(String).sort(),
          localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
          activities: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveAcrossSessions').length,
        };
      });
    const off = await historyOf('no-transitions', 'staging.writeConfig');
    const on = await historyOf('list-unmount', 'staging.writeConfig');
    assert.deepEqual(on, off);
    // A tool in a rule does ask, with checked arguments: the argument check and the call (two local
    // activities) and the reservation (an activity task), against the call alone, which checks its own
    // arguments first.
    const ruled = await historyOf('list-unmount', 'volumes.list');
    const unruled = await historyOf('no-transitions', 'volumes.list');
    assert.deepEqual([ruled.localActivities, ruled.activities, unruled.localActivities, unruled.activities], [2, 1, 1, 0]);
  });
});

describe('reserving under load', () => {
  // A reservation that held the session's workflow task (a local activity) left the ledger no slot:
  // 8 sessions on 2 slots waited for each other for good. Bounded, so a regression fails, not hangs.
  it('more sessions reserving at once than the worker has workflow task slots all get their answer', { timeout: 120_000 }, async () => {
    const policy = testPolicy({ transitions: [], agent: { budgets: [{ tools: ['volumes.list'], max: 100, windowMinutes: 60 }] } });
    const worker = await h.worker({ policy, workerOptions: { maxConcurrentWorkflowTaskExecutions: 2 } });
    await worker.runUntil(async () => {
      const agent = uniq('slot-bot');
      const sessions = await Promise.all(Array.from({ length: 8 }, () => h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'look at the volumes' })));
      const results = await Promise.all(sessions.map((s) => s.propose({ tool: 'volumes.list', args: {}, reasoning: 'inventory' })));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill('executed'));
      const ledger = await h.gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
      assert.deepEqual(Object.values(ledger.budgets), [8]);
      await Promise.all(sessions.map((s) => s.end({})));
    });
  });
});

describe('agent-wide budget', () => {
  it('twenty sessions of one agent proposing concurrently get exactly `max` calls through', async () => {
    const MAX = AGENT_MAX;
    await h.run(async () => {
      const agent = uniq('busy-bot');
      const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: `write config ${i}`, policyRef: 'agent-budget' })));
      const results = await Promise.all(sessions.flatMap((s, i) => [0, 1].map((j) => s.propose({ tool: 'staging.writeConfig', args: { key: `k${i}-${j}`, value: 'v' }, reasoning: 'load' }))));
      const executed = results.filter((r) => r.status === 'executed').length;
      const denied = results.filter((r) => r.status === 'denied');
      assert.equal(executed, MAX);
      assert.equal(denied.length, 40 - MAX);
      assert.ok(denied.every((r) => r.decision.reasons.some((x) => x.rule === 'agent.budget')), JSON.stringify(denied[0]?.decision));
      const view = await h.gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
      assert.deepEqual(Object.values(view.budgets), [MAX]);
      await Promise.all(sessions.map((s) => s.end({})));
    });
  });

  it('an approved call asks the ledger after the approval, just before it runs, and a refusal is recorded there', async () => {
    // `volumes.unmount` keeps its approval tier here; an agent budget of 0 refuses every reservation.
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: uniq('approved-bot'), owner: 'eng-007', intent: 'unmount the scratch volume', policyRef: 'unmount-budget-0' });
      const pending = s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' });
      const approvalId = await eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'a pending approval' });
      await h.gh.approve(approvalId, { key: testTrust().approver('alice') });
      const r = await pending;
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['agent.budget']);
      const decided = (await h.audit.pool.query("SELECT decision, detail FROM events WHERE session_id = $1 AND kind = 'decided' ORDER BY seq", [s.sessionId])).rows as { decision: { reasons: { rule: string }[] }; detail: { stage?: string } | null }[];
      assert.equal(decided.at(-1)?.detail?.stage, 'before-run');
      assert.equal(decided.at(-1)?.decision.reasons[0]?.rule, 'agent.budget');
      assert.equal((await h.events(s.sessionId)).filter((e) => e.kind === 'executed').length, 0);
      await s.end({});
    });
  });

  it('owner-wide: two agents of one owner share the owner budget', async () => {
    await h.run(async () => {
      const owner = uniq('owner');
      const a = await h.gh.startSession({ agentId: uniq('a-bot'), owner, intent: 'write config', policyRef: 'owner-budget' });
      const b = await h.gh.startSession({ agentId: uniq('b-bot'), owner, intent: 'write config', policyRef: 'owner-budget' });
      const statuses = [];
      for (const s of [a, b, a]) statuses.push((await s.propose({ tool: 'staging.writeConfig', args: { key: 'k', value: 'v' }, reasoning: 'x' })));
      assert.deepEqual(statuses.map((r) => r.status), ['executed', 'executed', 'denied']);
      assert.equal(statuses[2]?.decision.reasons[0]?.rule, 'owner.budget');
      await a.end({});
      await b.end({});
    });
  });
});

describe('leases', () => {
  it('twenty sessions with room to lease ask the ledger once each, lost answers count once, and handed back it counts exactly the calls made', async () => {
    let lost = 0;
    // Crash stand-in: the first attempt of every reservation and every return reaches the ledger, then its answer is lost.
    const loseFirstAnswer = (ctx: { info: { activityType: string; attempt: number } }): ActivityInboundCallsInterceptor => ({
      async execute(input, next) {
        const out = await next(input);
        if ((ctx.info.activityType === 'reserveAcrossSessions' || ctx.info.activityType === 'returnLeases') && ctx.info.attempt === 1) {
          lost += 1;
          throw new Error('worker lost the answer');
        }
        return out;
      },
    });
    const worker = await h.worker({
      policy: crossPolicy({ budgets: [{ tools: ['staging.writeConfig'], max: 10_000, windowMinutes: 60 }] }),
      workerOptions: { interceptors: { activity: [(ctx) => ({ inbound: loseFirstAnswer(ctx) })] } },
    });
    await worker.runUntil(async () => {
      const agent = uniq('lease-bot');
      const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: `write config ${i}` })));
      const results = await Promise.all(sessions.flatMap((s, i) => [0, 1, 2, 3, 4].map((j) => s.propose({ tool: 'staging.writeConfig', args: { key: `k${i}-${j}`, value: 'v' }, reasoning: 'load' }))));
      assert.deepEqual(results.map((r) => r.status), Array(100).fill('executed'));
      const ledger = h.gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent));
      // One reservation per session (its first call, leasing 16); each counted once though its answer was lost.
      const during = await ledger.query(ledgerQuery);
      assert.deepEqual([during.reservations, during.leases, Object.values(during.budgets)], [20, 20, [20 * 17]]);
      await Promise.all(sessions.map((s) => s.end({})));
      assert.equal(lost, 40, 'every reservation and every return lost its first answer');
      const after = await ledger.query(ledgerQuery);
      assert.deepEqual([after.leases, Object.values(after.budgets)], [0, [100]]);
    });
  });
});

describe('leases across runs', () => {
  it('a session carries its leases across continue-as-new and hands them back at its end: the ledger counts exactly the calls made', async () => {
    const worker = await h.worker({ policy: crossPolicy({ budgets: [{ tools: ['staging.writeConfig'], max: 10_000, windowMinutes: 60 }] }), sessionHistoryLimit: 40 });
    await worker.runUntil(async () => {
      const agent = uniq('long-lease-bot');
      const s = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write config values' });
      const firstRun = (await s.workflow.describe()).runId;
      for (let n = 1; n <= 12; n++) assert.equal((await s.propose({ tool: 'staging.writeConfig', args: { key: `k${n}`, value: 'v' }, reasoning: 'row' })).status, 'executed');
      assert.notEqual((await s.workflow.describe()).runId, firstRun, 'the session should have continued as new');
      await s.end({});
      const view = await h.gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
      assert.deepEqual([view.leases, Object.values(view.budgets)], [0, [12]]);
      const seqs = (await h.events(s.sessionId)).map((e) => e.seq);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    });
  });
});

describe('no reservation lost or counted twice', () => {
  it('a reservation whose answer was lost (the activity retried, as after a worker crash) counts once', async () => {
    let lost = 0;
    // Crash stand-in: the first attempt reaches the ledger, then fails before the session hears the answer.
    const loseFirstAnswer = (ctx: { info: { activityType: string; attempt: number } }): ActivityInboundCallsInterceptor => ({
      async execute(input, next) {
        const out = await next(input);
        if (ctx.info.activityType === 'reserveAcrossSessions' && ctx.info.attempt === 1) {
          lost += 1;
          throw new Error('worker lost the answer');
        }
        return out;
      },
    });
    const worker = await h.worker({
      policy: crossPolicy({ budgets: [{ tools: ['staging.writeConfig'], max: 2, windowMinutes: 60 }] }),
      workerOptions: { interceptors: { activity: [(ctx) => ({ inbound: loseFirstAnswer(ctx) })] } },
    });
    await worker.runUntil(async () => {
      const agent = uniq('crashy-bot');
      const s = await h.gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write config' });
      const rs = [];
      for (let i = 0; i < 3; i++) rs.push(await s.propose({ tool: 'staging.writeConfig', args: { key: `k${i}`, value: 'v' }, reasoning: 'x' }));
      assert.equal(lost, 3, 'every reservation lost its first answer');
      // Two allowed, the third denied: each retried reservation counted exactly once.
      assert.deepEqual(rs.map((r) => r.status), ['executed', 'executed', 'denied']);
      const view = await h.gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
      assert.deepEqual(Object.values(view.budgets), [2]);
      assert.equal(view.reservations, 3);
      await s.end({});
    });
  });

  it('the same update id re-delivered after the ledger continued as new is still the same reservation', async () => {
    await h.run(async () => {
      const agent = uniq('can-bot');
      const workflowId = ledgerWorkflowId('agent', agent);
      const rule: LedgerRule = { kind: 'budget', id: 'b', tools: ['staging.writeConfig'], max: 1, windowMs: 3_600_000 };
      const send = (request: LedgerRequest) =>
        h.gh.client.workflow.executeUpdateWithStart(reserveUpdate, {
          args: [request],
          updateId: request.reservationId,
          startWorkflowOperation: new WithStartWorkflowOperation(LEDGER_WORKFLOW_TYPE, { workflowId, taskQueue: h.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING', args: [{ historyLimit: 100 }] }),
        });
      const first: LedgerRequest = { reservationId: 's:p1', sessionId: 's', tool: 'staging.writeConfig', rules: [rule] };
      const answer = await send(first);
      assert.equal(answer.verdict, 'allow');
      // Enough other reservations to pass the history limit: the ledger continues as new.
      for (let i = 2; i < 60; i++) await send({ reservationId: `s:p${i}`, sessionId: 's', tool: 'volumes.list', rules: [] });
      const handle = h.gh.client.workflow.getHandle(workflowId);
      const view = await handle.query(ledgerQuery);
      assert.ok(view.runs > 1, `expected a continue-as-new, ran ${view.runs} run(s)`);
      assert.deepEqual(await send(first), answer);
      assert.deepEqual(Object.values((await handle.query(ledgerQuery)).budgets), [1]);
      const second = await send({ ...first, reservationId: 's:p99' });
      assert.equal(second.reasons[0]?.rule, 'agent.budget');
      await handle.terminate('test done');
    });
  });
});
