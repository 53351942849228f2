/**
 * Longer session lifecycles against the real server: continue-as-new carrying state, sub-agents,
 * tool retries and permanent failures, intent drift into review mode, and whether zod runs in the
 * workflow sandbox.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { createHarness, testPolicy, type Harness } from './harness';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';
import { SHORT_HISTORY_LIMIT } from '../../workflows/session';
import type { SessionHandle } from '../../client';
import { haltSignal, spawnChildUpdate, type SpawnChildResult } from '../../workflows/contract';

const trust = testTrust();

let h: Harness;
before(async () => {
  h = await createHarness('lifecycle', { policies: { strict: testPolicy({ intent: { reviewBelow: 0.5, decay: 0.8 } }) } });
});
after(async () => {
  await h?.close();
});

const WRITE_INTENT = 'write numbered rows to the staging config';

describe('how a tool runs', () => {
  it('a quick tool runs as a local activity (no activity task on the server), a long one as a regular activity', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'exec-bot', owner: 'eng-007', intent: WRITE_INTENT });
      assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' })).status, 'executed');
      const afterLocal = await activityTypes(s.workflow);
      assert.equal((await s.propose({ tool: 'test.slowWriteActivity', args: { n: 2 }, reasoning: 'row' })).status, 'executed');
      const afterRegular = await activityTypes(s.workflow);
      await s.end({});
      assert.deepEqual(afterLocal.scheduled.filter((t) => t === 'runTool'), [], 'the local call scheduled no activity task');
      // One local activity, one marker: the call, which checked the arguments first and scored the intent
      // (an allowed quick tool with nothing to estimate needs no separate `prepareCall`).
      assert.equal(afterLocal.markers, 1);
      assert.deepEqual(afterRegular.scheduled.filter((t) => t === 'runTool'), ['runTool']);
      const rows = await h.production.pool.query('SELECT tool, n FROM test_writes WHERE idempotency_key LIKE $1 ORDER BY n', [`${s.sessionId}:%`]);
      assert.deepEqual(rows.rows, [{ tool: 'test.slowWrite', n: 1 }, { tool: 'test.slowWriteActivity', n: 2 }]);
    });
  });
});

describe('an allowed quick call checked by runTool first', () => {
  it('arguments that fail the check are denied as tool.args: nothing runs, one marker, and the trail has no gap', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'exec-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const bad = await s.propose({ tool: 'test.slowWrite', args: { n: -1 }, reasoning: 'row' });
      assert.equal(bad.status, 'denied');
      assert.deepEqual(bad.decision.reasons.map((r) => r.rule), ['tool.args']);
      assert.equal((await activityTypes(s.workflow)).markers, 1, 'runTool refused the arguments: no prepareCall, no second call');
      // The next call takes the next seqs: nothing was held back or skipped.
      assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n: 4 }, reasoning: 'row' })).status, 'executed');
      await s.end({});
      const events = await h.events(s.sessionId);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
      const kinds = events.filter((e) => e.proposal_seq !== null).map((e) => `${e.proposal_seq}:${e.kind}`);
      assert.deepEqual(kinds, ['1:proposed', '1:decided', '2:proposed', '2:decided', '2:executed']);
      const rows = await h.production.pool.query('SELECT n FROM test_writes WHERE idempotency_key LIKE $1', [`${s.sessionId}:%`]);
      assert.deepEqual(rows.rows, [{ n: 4 }]);
    });
  });
});

/** Activity types scheduled on the server, and local-activity markers, in a session's history. */
async function activityTypes(workflow: { fetchHistory(): Promise<{ events?: readonly unknown[] | null }> }): Promise<{ scheduled: string[]; markers: number }> {
  const events = ((await workflow.fetchHistory()).events ?? []) as {
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
    markerRecordedEventAttributes?: { markerName?: string };
  }[];
  return {
    scheduled: events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
    markers: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

/** Proposes rows `from`..`to` of `test.slowWrite`, each executed. */
async function writeRows(s: SessionHandle, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: 'row' })).status, 'executed');
}

/** The run a session is in now. */
async function runIdOf(s: SessionHandle): Promise<string> {
  return (await s.workflow.describe()).runId;
}

/** The history events of one run of a session. */
async function runEvents(s: SessionHandle, runId: string) {
  return (await h.gh.client.workflow.getHandle(s.workflowId, runId).fetchHistory()).events ?? [];
}

describe('continue-as-new', () => {
  it('continues as new between proposals and carries counters, seq and budget', async () => {
    const worker = await h.worker({ sessionHistoryLimit: 40 });
    await worker.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'long-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const firstRun = await runIdOf(s);
      for (let n = 1; n <= 12; n++) {
        const r = await s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: 'row' });
        assert.equal(r.status, 'executed');
        assert.equal(r.sequence, n);
      }
      const lastRun = await runIdOf(s);
      assert.notEqual(lastRun, firstRun, 'the session should have continued as new');
      const st = await s.state();
      assert.equal(st.counters.executed, 12);
      assert.equal(st.budgetLeft.writes, 400 - 12);
      const summary = await s.end({});
      assert.equal(summary.counters.proposals, 12);
      // The audit seq carried over: gap-free from 1 across runs.
      const seqs = (await h.events(s.sessionId)).map((e) => e.seq);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    });
  });

  it('keeps runs short once the worker\'s cache is half full: a run ends soon after SHORT_HISTORY_LIMIT events, whatever bound the start input asks for', async () => {
    // One session fills a one-session cache: the worker gives the short bound.
    const worker = await h.worker({ workerOptions: { maxCachedWorkflows: 1 } });
    await worker.runUntil(async () => {
      // The bound is the worker's: a caller asking for a long run (a costly replay after eviction) is not heard.
      const s = await h.gh.startSession({ agentId: 'short-runs-bot', owner: 'eng-007', intent: WRITE_INTENT, historyLimit: 1_000_000 });
      const firstRun = await runIdOf(s);
      await writeRows(s, 1, 30);
      assert.notEqual(await runIdOf(s), firstRun, 'the session should have continued as new');
      // The first run stopped at the first pause past the limit: one proposal's events past it, at most.
      const events = await runEvents(s, firstRun);
      assert.ok(events.length > SHORT_HISTORY_LIMIT && events.length <= SHORT_HISTORY_LIMIT + 20, `first run: ${events.length} events`);
      assert.ok(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ends by continuing as new');
      assert.equal((await s.end({})).counters.executed, 30);
    });
  });

  it('gives long runs while the worker\'s cache has room: 30 proposals stay in one run, and the next session started on a full cache gets short ones', async () => {
    const worker = await h.worker({ workerOptions: { maxCachedWorkflows: 4 } });
    await worker.runUntil(async () => {
      // One session of a four-session cache: room, so the long bound (ROOMY_HISTORY_LIMIT events),
      // whatever the start input asks for (a caller wanting a new run every few calls is not heard either).
      const roomy = await h.gh.startSession({ agentId: 'roomy-bot', owner: 'eng-007', intent: WRITE_INTENT, historyLimit: 20 });
      const run = await runIdOf(roomy);
      await writeRows(roomy, 1, 30);
      const events = await runEvents(roomy, run);
      assert.ok(events.length > SHORT_HISTORY_LIMIT + 20, `one run holds past the short bound: ${events.length} events`);
      assert.equal(await runIdOf(roomy), run, 'no continue-as-new');
      // Two more open sessions: the cache is half full when the fourth starts, which gets the short bound.
      const others = [await h.gh.startSession({ agentId: 'filler-1', owner: 'eng-007', intent: WRITE_INTENT }), await h.gh.startSession({ agentId: 'filler-2', owner: 'eng-007', intent: WRITE_INTENT })];
      const tight = await h.gh.startSession({ agentId: 'tight-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const tightRun = await runIdOf(tight);
      await writeRows(tight, 31, 55);
      assert.notEqual(await runIdOf(tight), tightRun, 'the session started on a half-full cache continued as new');
      // The long run's bound is its own, carried: it goes on in its run.
      await writeRows(roomy, 56, 56);
      assert.equal(await runIdOf(roomy), run);
      for (const s of [roomy, tight, ...others]) await s.end({});
    });
  });
});

describe('sub-agents', () => {
  it('starts a child with a share of the remaining budget, taken from the parent', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'parent-bot', owner: 'eng-007', intent: WRITE_INTENT });
      assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n: 0 }, reasoning: 'row' })).status, 'executed');
      const before = (await s.state()).budgetLeft;
      const child = await s.spawnChild({ agentId: 'child-bot', intent: 'write numbered rows to the staging config for the search feature' });
      assert.equal(child.spawn.status, 'started');
      assert.equal(child.spawn.budget?.writes, Math.floor(before.writes * 0.25));
      const after = (await s.state()).budgetLeft;
      assert.equal(after.writes, before.writes - (child.spawn.budget?.writes ?? 0));
      const cst = await child.state();
      assert.equal(cst.parentSessionId, s.sessionId);
      assert.equal(cst.budgetLeft.writes, child.spawn.budget?.writes);
      const r = await child.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' });
      assert.equal(r.status, 'executed');
      await child.end({});
      await s.end({});
    });
  });

  it('a halt that lands while a sub-agent starts stops that sub-agent too', async () => {
    await h.run(async () => {
      // The halt is sent while the spawn's workflow task runs: it is handled before the child's start
      // is known to the parent, the moment a halt used to reach only the children already listed.
      const parents = await Promise.all(Array.from({ length: 6 }, () => h.gh.startSession({ agentId: 'parent-bot', owner: 'eng-007', intent: WRITE_INTENT })));
      const spawned = await Promise.all(
        parents.map(async (s) => {
          const spawning = s.workflow.executeUpdate(spawnChildUpdate, { args: [{ agentId: 'child-bot', intent: 'write numbered rows to the staging config' }] }) as Promise<SpawnChildResult>;
          await eventually(async () => ((await s.workflow.fetchHistory()).events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes) ? true : undefined), { what: 'the child start asked for', everyMs: 1 });
          await s.workflow.signal(haltSignal, { by: 'eng-007', reason: 'stop everything' });
          return spawning.catch(() => undefined);
        }),
      );
      const started = spawned.filter((r): r is SpawnChildResult => r?.status === 'started');
      assert.ok(started.length > 0, 'some spawns started before their halt: else nothing here is tested');
      for (const r of started) {
        const child = h.gh.session(r.sessionId);
        await eventually(async () => ((await child.state()).halted ? true : undefined), { what: `sub-agent \`${r.sessionId}\` halted with its parent` });
      }
    });
  });

  it('a child whose intent is far from the parent needs approval to start', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'parent-bot', owner: 'eng-007', intent: 'clean up test billing records', policyRef: 'strict' });
      const spawning = s.spawnChild({ agentId: 'rogue-bot', intent: 'rotate every production secret and restart all services' });
      const approvalId = await eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'an approval pending for the sub-agent' });
      await h.gh.deny(approvalId, { key: trust.approver('alice'), reason: 'not this session' });
      await assert.rejects(spawning, (err: unknown) => (err as { type?: string }).type === 'SubAgentDeniedError');
      await s.end({});
    });
  });
});

describe('tool failures', () => {
  it('retries a transient failure per the tool policy and records a permanent one; the session goes on', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'flaky-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const flaky = await s.propose({ tool: 'test.flakyWrite', args: { n: 1, failAttempts: 2 }, reasoning: 'row' });
      assert.equal(flaky.status, 'executed');
      assert.deepEqual(flaky.result, { n: 1, attempt: 3 });
      const broken = await s.propose({ tool: 'test.brokenWrite', args: { n: 2 }, reasoning: 'row' });
      assert.equal(broken.status, 'failed');
      assert.equal(broken.error?.type, 'PermanentBroken');
      const exhausted = await s.propose({ tool: 'test.flakyWrite', args: { n: 3, failAttempts: 9 }, reasoning: 'row' });
      assert.equal(exhausted.status, 'failed');
      assert.equal(exhausted.error?.type, 'Flaky');
      const next = await s.propose({ tool: 'test.slowWrite', args: { n: 4 }, reasoning: 'row' });
      assert.equal(next.status, 'executed');
      const st = await s.state();
      assert.deepEqual([st.counters.executed, st.counters.failed], [2, 2]);
      const kinds = (await h.events(s.sessionId)).filter((e) => e.kind === 'executed' || e.kind === 'failed').map((e) => e.kind);
      assert.deepEqual(kinds, ['executed', 'failed', 'failed', 'executed']);
      const rows = await h.production.pool.query('SELECT tool, n, attempt FROM test_writes WHERE idempotency_key LIKE $1 ORDER BY id', [`${s.sessionId}:%`]);
      assert.deepEqual(rows.rows, [{ tool: 'test.flakyWrite', n: 1, attempt: 3 }, { tool: 'test.slowWrite', n: 4, attempt: 1 }]);
      await s.end({});
    });
  });
});

describe('intent drift', () => {
  it('actions far from the declared intent put the session in review mode (then writes need approval)', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'drift-bot', owner: 'eng-007', intent: 'summarise the billing of one customer', policyRef: 'strict' });
      const r = await s.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' });
      assert.equal(r.status, 'executed');
      const st = await eventually(
        async () => {
          const view = await s.state();
          return view.mode === 'review' && view;
        },
        { what: 'review mode' },
      );
      assert.ok((st.intentScore ?? 1) < 0.5);
      // In review mode a write no longer runs on its own: it waits for a human.
      const held = s.propose({ tool: 'test.slowWrite', args: { n: 2 }, reasoning: 'row' });
      const approvalId = await eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'an approval for the write in review mode' });
      await h.gh.deny(approvalId, { key: trust.approver('alice'), reason: 'review' });
      assert.equal((await held).status, 'denied');
      const summary = await s.end({});
      assert.equal(summary.mode, 'review');
      const row = await h.audit.pool.query('SELECT mode, flagged_for_review FROM sessions WHERE session_id = $1', [s.sessionId]);
      assert.deepEqual(row.rows[0], { mode: 'review', flagged_for_review: true });
    });
  });
});

describe('zod in the workflow sandbox', () => {
  it('parses: safeParse, issues and transforms behave as in Node', async () => {
    const taskQueue = `${h.taskQueue}-zod`;
    const worker = await Worker.create({
      connection: h.connection,
      namespace: h.namespace,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/zod-workflow'),
    });
    await worker.runUntil(async () => {
      const good = await h.gh.client.workflow.execute('zodInSandbox', { taskQueue, workflowId: `zod-${randomUUID()}`, args: [{ customerId: randomUUID(), months: 3 }] });
      assert.deepEqual(good, { ok: true, issues: [], upper: 'GATEHOUSE' });
      const bad = await h.gh.client.workflow.execute('zodInSandbox', { taskQueue, workflowId: `zod-${randomUUID()}`, args: [{ customerId: 'x', months: 30, extra: 1 }] });
      assert.deepEqual(bad, { ok: false, issues: ['customerId: invalid_string', 'months: too_big', ': unrecognized_keys'], upper: 'GATEHOUSE' });
    });
  });
});
