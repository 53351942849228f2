/**
 * Red team: a pause that lands after the gate allowed a call, before `runTool` was scheduled
 * (patch `pause-holds-unstarted-calls`). The call waited for its `agent:` ledger's reservation, or
 * for an earlier audit write to land — waits an agent can stretch — and a pause of its tool handled
 * meanwhile was looked at by nothing: the call ran inside the pause. On the quick path the pause's
 * own event, recorded during the wait, also made the call's write-ahead events arrive out of order:
 * the update failed and the trail stalled. Now the call waits out the pause (the state view lists
 * it in `heldByPause`) and runs once the operator resumes the tool; the trail goes on in order.
 * The real session workflow on the Temporal dev server; an activity interceptor holds the wait open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateStage } from '@temporalio/client';
import type { SessionHandle } from '../../client';
import { signDecision } from '../../client/trust/sign';
import type { AuditEventInput } from '../../audit/types';
import { proposeUpdate } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { holdActivities } from '../support/hold-activities';
import { testTrust } from '../support/trust';
import { testPolicy, type Harness, createHarness } from '../workflows/harness';

let h: Harness;
before(async () => {
  h = await createHarness('redteam_pause_before_run');
});
after(async () => {
  await h?.close();
});

const WRITE = { tool: 'test.slowWrite', args: { n: 7 }, reasoning: 'one staging row' };

async function pauseTool(s: SessionHandle, tool: string): Promise<void> {
  await s.workflow.signal('pause', { by: 'oncall', reason: 'hold it', tool });
  await eventually(async () => ((await s.state()).pausedTools?.includes(tool) ? true : undefined), { what: `${tool} paused` });
}

async function resumeTool(s: SessionHandle, tool: string): Promise<void> {
  const v = await s.state();
  await s.workflow.signal('resume', signDecision(testTrust().operator, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId, tool }));
}

describe('a pause before the call is handed to runTool', () => {
  it('holds an allowed call that was reserving in its agent ledger, until the tool is resumed', async () => {
    const hold = holdActivities((type) => type === 'reserveAcrossSessions');
    const policy = testPolicy({ agent: { budgets: [{ tools: ['test.slowWrite'], max: 100, windowMinutes: 60 }] } });
    const w = await h.worker({ policy, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'paused-reserving-bot', owner: 'eng-007', intent: 'write a staging row' });
      const result = s.propose(WRITE);
      await hold.gates[0]!.entered;
      await pauseTool(s, 'test.slowWrite');
      hold.gates[0]!.release();
      await eventually(async () => ((await s.state()).heldByPause?.length === 1 ? true : undefined), { what: 'the call held by the pause' });
      assert.equal(await h.writesOf(s.sessionId), 0);
      assert.equal((await h.events(s.sessionId)).some((e) => e.kind === 'executed'), false);
      await resumeTool(s, 'test.slowWrite');
      assert.equal((await result).status, 'executed');
      assert.equal(await h.writesOf(s.sessionId), 1);
      const kinds = (await h.events(s.sessionId)).map((e) => e.kind);
      assert.ok(kinds.indexOf('resumed') < kinds.indexOf('executed'), kinds.join(','));
    });
  });

  it('holds a quick call whose wait for an earlier write saw its tool paused; the trail stays in order', async () => {
    // The `paused` event of another tool's pause is the write in flight when the call comes.
    const hold = holdActivities((type, args) => type === 'appendAudit' && (args[0] as readonly AuditEventInput[]).some((e) => e.kind === 'paused'));
    const w = await h.worker({ workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'paused-settling-bot', owner: 'eng-007', intent: 'write a staging row' });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'another tool', tool: 'services.scale' });
      await hold.gates[0]!.entered;
      // Accepted: the update's handler ran in that workflow task, up to the wait for the write.
      const update = await s.workflow.startUpdate(proposeUpdate, { args: [WRITE], waitForStage: WorkflowUpdateStage.ACCEPTED });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'this tool', tool: 'test.slowWrite' });
      await eventually(async () => ((await s.state()).pausedTools?.includes('test.slowWrite') ? true : undefined), { what: 'the second pause handled' });
      hold.gates[0]!.release();
      await eventually(async () => ((await s.state()).heldByPause?.length === 1 ? true : undefined), { what: 'the call held by the pause' });
      assert.equal(await h.writesOf(s.sessionId), 0);
      await resumeTool(s, 'test.slowWrite');
      assert.equal((await update.result()).status, 'executed');
      assert.equal(await h.writesOf(s.sessionId), 1);
      // The trail goes on: a later event lands after the call's.
      await s.workflow.signal('pause', { by: 'oncall', reason: 'one more', tool: 'services.restart' });
      await eventually(async () => ((await h.events(s.sessionId)).filter((e) => e.kind === 'paused').length === 3 ? true : undefined), { what: 'a later pause in the trail' });
    });
  });
});
