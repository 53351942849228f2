/**
 * Sub-agents stay within their parent (patch `sub-agents-within-parent`): the mandate a child
 * starts with (pure, `childMandate`), and against the real server the paths the red team's attacks
 * (test/redteam/sub-agent-escapes.test.ts) do not reach through the gateway: a parent that idles
 * out while its agent works through a child halts the child; a pause that lands while a spawn waits
 * for a human denies the spawn; a pause that lands while a child starts reaches it, once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { compilePolicy } from '../../policies';
import { compileGlob } from '../../policies/glob';
import { childMandate } from '../../policies/sub-agents';
import type { Mandate } from '../../policies/types';
import { pauseSignal, spawnChildUpdate, type SpawnChildResult } from '../../workflows/contract';
import { createHarness, testPolicy, type Harness } from './harness';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';

const trust = testTrust();
const WRITE_INTENT = 'write numbered rows to the staging config';
const FAR_INTENT = 'rotate every production secret and restart all services';

describe('childMandate: a child\'s mandate only narrows its parent\'s', () => {
  const policy = compilePolicy(testPolicy(), SAMPLE_TOOL_INFO);
  const state = (m: Mandate) => ({ tools: [...(m.tools ?? [])], resources: [...(m.resources ?? [])] });
  const inside = (m: Mandate | undefined, name: string) => {
    if (!m) return true;
    const info = SAMPLE_TOOL_INFO.find((t) => t.name === name)!;
    return (m.resources ?? []).includes(info.resource) || (m.tools ?? []).some((t) => compileGlob(t).test(name));
  };

  it('under a parent without one, the child\'s is what it asked for; asked for none under one, the parent\'s', () => {
    assert.deepEqual(childMandate(policy, undefined, undefined), { ok: true });
    assert.deepEqual(childMandate(policy, undefined, { tools: ['billing.*'] }), { ok: true, mandate: { tools: ['billing.*'] } });
    const parent = state({ tools: ['test.read*'] });
    assert.deepEqual(childMandate(policy, parent, undefined), { ok: true, mandate: { tools: ['test.read*'], resources: [] } });
    // An empty mandate bounds nothing: asking for one is asking for none.
    assert.deepEqual(childMandate(policy, parent, { tools: [], resources: [] }), { ok: true, mandate: { tools: ['test.read*'], resources: [] } });
  });

  it('asked for one under the parent\'s: the resources both name, then the catalog\'s tools inside both by name', () => {
    assert.deepEqual(childMandate(policy, state({ resources: ['billing', 'volumes'] }), { resources: ['volumes', 'services'] }), { ok: true, mandate: { resources: ['volumes'] } });
    assert.deepEqual(childMandate(policy, state({ resources: ['billing'] }), { tools: ['billing.q*', 'volumes.list'] }), { ok: true, mandate: { tools: ['billing.query'] } });
    assert.deepEqual(childMandate(policy, state({ tools: ['volumes.*'] }), { resources: ['volumes'] }), { ok: true, mandate: { tools: ['volumes.delete', 'volumes.list', 'volumes.unmount'] } });
    assert.deepEqual(childMandate(policy, state({ tools: ['billing.summary'], resources: ['volumes'] }), { resources: ['volumes', 'billing'] }), { ok: true, mandate: { tools: ['billing.summary'], resources: ['volumes'] } });
  });

  it('one that shares nothing with the parent\'s is refused (`child.mandate`)', () => {
    const r = childMandate(policy, state({ tools: ['test.read*'] }), { tools: ['test.*'] });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason.rule, 'child.mandate');
    assert.equal(!r.ok && r.reason.message, 'the mandate asked for shares no tool or resource with the parent session\'s (tools `test.read*`): a sub-agent\'s mandate may only narrow its parent\'s');
  });

  it('over the catalog, a call is inside the child\'s mandate exactly when it is inside both', () => {
    const mandates: Mandate[] = [
      { tools: ['billing.*'] }, { tools: ['*.list', 'services.scale'] }, { resources: ['volumes'] }, { resources: ['billing', 'services'] },
      { tools: ['volumes.delete'], resources: ['billing'] }, { tools: ['*'] }, { tools: ['staging.writeConfig', 'secrets.*'], resources: ['config'] },
    ];
    for (const parent of mandates) {
      for (const asked of mandates) {
        const r = childMandate(policy, state(parent), asked);
        const both = SAMPLE_TOOL_INFO.filter((t) => inside(parent, t.name) && inside(asked, t.name)).map((t) => t.name);
        if (!r.ok) {
          assert.deepEqual(both, [], `${JSON.stringify(parent)} ∩ ${JSON.stringify(asked)} was refused, yet shares ${both.join(', ')}`);
          continue;
        }
        const got = SAMPLE_TOOL_INFO.filter((t) => inside(r.mandate, t.name)).map((t) => t.name);
        assert.deepEqual(got, both, `${JSON.stringify(parent)} ∩ ${JSON.stringify(asked)} = ${JSON.stringify(r.mandate)}`);
      }
    }
  });
});

describe('sub-agents stay within their parent', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness('sub_agents', {
      policies: {
        // Idle after 3 s.
        idle: testPolicy({ idleMinutes: 0.05 }),
        // Far intents need a human to start.
        strict: testPolicy({ intent: { reviewBelow: 0.5, decay: 0.8 } }),
      },
    });
  });
  after(async () => {
    await h?.close();
  });

  it('a parent that idles out while its agent works through a child halts the child', async () => {
    await h.run(async () => {
      const parent = await h.gh.startSession({ agentId: 'idle-parent', owner: 'eng-007', intent: WRITE_INTENT, policyRef: 'idle' });
      const child = await parent.spawnChild({ agentId: 'worker', intent: WRITE_INTENT });
      // The agent works in the child only, a call a second (its own idle time is never reached).
      let calls = 0;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await child.propose({ tool: 'volumes.list', args: {}, reasoning: 'keep working' }).catch(() => undefined);
        if (!r) break;
        calls += 1;
        assert.ok(Date.now() < deadline, 'the child was never halted');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      assert.ok(calls >= 2, `the child worked past its parent's idle time (${calls} calls)`);
      const summary = await parent.result();
      assert.deepEqual([summary.finalState, summary.reason], ['completed', 'idle: no call for 3 s']);
      assert.equal((await child.result()).finalState, 'halted');
      const halt = (await h.events(child.sessionId)).find((e) => e.kind === 'halted');
      assert.deepEqual(halt?.detail, { by: `session:${parent.sessionId}`, reason: 'parent session ended: completed (idle: no call for 3 s)' });
    });
  });

  it('a pause that lands while a spawn waits for a human denies it: nothing starts, the share stays with the parent', async () => {
    await h.run(async () => {
      const parent = await h.gh.startSession({ agentId: 'paused-parent', owner: 'eng-007', intent: WRITE_INTENT, policyRef: 'strict' });
      const budget = (await parent.state()).budgetLeft;
      const spawning = parent.workflow.executeUpdate(spawnChildUpdate, { args: [{ agentId: 'far', intent: FAR_INTENT }] }) as Promise<SpawnChildResult>;
      const approvalId = await eventually(async () => (await parent.state()).pendingApprovals[0]?.approvalId, { what: 'the far spawn held for a human' });
      await parent.workflow.signal(pauseSignal, { by: 'oncall', reason: 'incident' });
      await eventually(async () => ((await parent.state()).paused ? true : undefined), { what: 'the parent paused' });
      await h.gh.approve(approvalId, { key: trust.approver('alice') });
      const r = await spawning;
      assert.equal(r.status, 'denied');
      assert.equal(r.approvalId, approvalId);
      assert.deepEqual(r.reasons.map((x) => x.rule), ['session.paused']);
      assert.match(r.reasons[0]!.message, /^session `.+` was paused while the sub-agent waited to start: it was not started and the budget share stays with the parent/);
      assert.deepEqual((await parent.state()).budgetLeft, budget);
      await assert.rejects(h.gh.client.workflow.getHandle(r.workflowId).describe(), WorkflowNotFoundError);
      await h.gh.halt(parent.sessionId, { by: 'test', reason: 'done' });
    });
  });

  it('a pause that lands while a sub-agent starts reaches it, once', async () => {
    await h.run(async () => {
      const parents = await Promise.all(Array.from({ length: 6 }, () => h.gh.startSession({ agentId: 'pausing-parent', owner: 'eng-007', intent: WRITE_INTENT })));
      const spawned = await Promise.all(
        parents.map(async (s) => {
          const spawning = s.workflow.executeUpdate(spawnChildUpdate, { args: [{ agentId: 'worker', intent: WRITE_INTENT }] }) as Promise<SpawnChildResult>;
          await eventually(async () => ((await s.workflow.fetchHistory()).events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes) ? true : undefined), { what: 'the child start asked for', everyMs: 1 });
          await s.workflow.signal(pauseSignal, { by: 'oncall', reason: 'look first', tool: 'test.slowWrite' });
          return spawning;
        }),
      );
      for (const [i, r] of spawned.entries()) {
        assert.equal(r.status, 'started', JSON.stringify(r));
        const child = h.gh.session(r.sessionId);
        await eventually(async () => ((await child.state()).pausedTools?.includes('test.slowWrite') ? true : undefined), { what: `sub-agent \`${r.sessionId}\` paused with its parent` });
        // The parent's end halts the child; once both are done, every signal the parent sent was handled.
        await parents[i]!.end({});
        await child.result();
        const paused = (await h.events(r.sessionId)).filter((e) => e.kind === 'paused');
        assert.deepEqual(paused.map((e) => e.detail), [{ by: 'oncall', reason: 'parent session paused: look first', tool: 'test.slowWrite' }]);
      }
    });
  });
});
