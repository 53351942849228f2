/**
 * Red team: a halt that lands after the gate allowed a call, before `runTool` was scheduled
 * (patch `halt-stops-unstarted-calls`). The workflow waits there for two things an agent can
 * stretch: its `agent:` ledger's reservation (an activity), and earlier audit writes landing (a
 * write still in flight when the call comes). A halt handled in either wait was seen by nothing:
 * the call ran after `halted` was recorded. Now it is denied as a halted session denies.
 * The real session workflow on the Temporal dev server; an activity interceptor holds the wait open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateStage } from '@temporalio/client';
import type { AuditEventInput } from '../../audit/types';
import { proposeUpdate } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { holdActivities } from '../support/hold-activities';
import { testPolicy, type Harness, createHarness } from '../workflows/harness';

let h: Harness;
before(async () => {
  h = await createHarness('redteam_halt_before_run');
});
after(async () => {
  await h?.close();
});

const WRITE = { tool: 'test.slowWrite', args: { n: 7 }, reasoning: 'one staging row' };

describe('a halt before the call is handed to runTool', () => {
  it('stops an allowed call that was reserving in its agent ledger', async () => {
    const hold = holdActivities((type) => type === 'reserveAcrossSessions');
    const policy = testPolicy({ agent: { budgets: [{ tools: ['test.slowWrite'], max: 100, windowMinutes: 60 }] } });
    const w = await h.worker({ policy, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'reserving-bot', owner: 'eng-007', intent: 'write a staging row' });
      const result = s.propose(WRITE);
      await hold.gates[0]!.entered;
      await h.gh.halt(s.sessionId, { by: 'oncall', reason: 'stop now' });
      await eventually(async () => ((await s.state()).halted ? true : undefined), { what: 'the halt handled' });
      hold.gates[0]!.release();
      const r = await result;
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['session.halted']);
      assert.equal(await h.writesOf(s.sessionId), 0);
      assert.equal((await h.events(s.sessionId)).some((e) => e.kind === 'executed'), false);
    });
  });

  it('stops an allowed call when the halt lands while a write recorded during the wait lands', async () => {
    // Two writes in a row: the first lands while the call waits, the second was recorded meanwhile.
    const { interceptor, gates: held } = holdActivities((type, args) => type === 'appendAudit' && (args[0] as readonly AuditEventInput[]).some((e) => e.kind === 'paused'), 2);
    const policy = testPolicy({ agent: { budgets: [{ tools: ['test.slowWrite'], max: 100, windowMinutes: 60 }] } });
    const w = await h.worker({ policy, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [interceptor] } } });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'twice-bot', owner: 'eng-007', intent: 'write a staging row' });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'first', tool: 'services.scale' });
      await held[0]!.entered;
      const update = await s.workflow.startUpdate(proposeUpdate, { args: [WRITE], waitForStage: WorkflowUpdateStage.ACCEPTED });
      // The reservation answered and the workflow moved on to wait for the first write.
      await eventually(async () => {
        const events = (await s.workflow.fetchHistory()).events ?? [];
        const reserved = events.findIndex((e) => e.activityTaskCompletedEventAttributes && events.some((x) => x.eventId?.toString() === e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() && x.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveAcrossSessions'));
        return reserved >= 0 && events.slice(reserved).some((e) => e.workflowTaskCompletedEventAttributes) ? true : undefined;
      }, { what: 'the call waiting for the first write' });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'second', tool: 'services.restart' });
      await eventually(async () => ((await s.state()).pausedTools?.includes('services.restart') ? true : undefined), { what: 'the second pause handled' });
      held[0]!.release();
      await held[1]!.entered;
      await h.gh.halt(s.sessionId, { by: 'oncall', reason: 'stop now' });
      await eventually(async () => ((await s.state()).halted ? true : undefined), { what: 'the halt handled' });
      held[1]!.release();
      const r = await update.result();
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['session.halted']);
      assert.equal(await h.writesOf(s.sessionId), 0);
    });
  });

  it('stops a quick call that waited for an earlier audit write to land', async () => {
    // The `paused` event of another tool's pause is the write in flight when the call comes.
    const hold = holdActivities((type, args) => type === 'appendAudit' && (args[0] as readonly AuditEventInput[]).some((e) => e.kind === 'paused'));
    const w = await h.worker({ workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const s = await h.gh.startSession({ agentId: 'settling-bot', owner: 'eng-007', intent: 'write a staging row' });
      await s.workflow.signal('pause', { by: 'oncall', reason: 'another tool', tool: 'services.scale' });
      await hold.gates[0]!.entered;
      // Accepted: the update's handler ran in that workflow task, up to the wait for the write.
      const update = await s.workflow.startUpdate(proposeUpdate, { args: [WRITE], waitForStage: WorkflowUpdateStage.ACCEPTED });
      await h.gh.halt(s.sessionId, { by: 'oncall', reason: 'stop now' });
      await eventually(async () => ((await s.state()).halted ? true : undefined), { what: 'the halt handled' });
      hold.gates[0]!.release();
      const r = await update.result();
      assert.equal(r.status, 'denied');
      assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['session.halted']);
      assert.equal(await h.writesOf(s.sessionId), 0);
      const kinds = (await h.events(s.sessionId)).map((e) => e.kind);
      assert.equal(kinds.includes('executed'), false);
      assert.ok(kinds.indexOf('halted') < kinds.lastIndexOf('decided'), kinds.join(','));
    });
  });
});
