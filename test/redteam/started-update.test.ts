/**
 * Red team: the `started` update (sent with a session's start since session 15). An attacker with its
 * own credential and a Temporal connection sends it as it likes: to a live session, with arguments the
 * handler does not take, many times, and with a start of its own that carries a policy document. It
 * answers whether the session started and nothing else: no event, no state change, no decision moved,
 * and a forged start it rides along with is refused as any other.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowIdConflictPolicy } from '@temporalio/client';
import { SESSION_WORKFLOW_TYPE, startedUpdate } from '../../workflows/contract';
import { assertAuditVerifies, assertNotExecuted, assertRunFailed, pendingApproval, permissivePolicyDocument, productionSnapshot, redTeam, sessionWorkflowId, type Agent, type RedTeam } from './attacker';

let rt: RedTeam;
let mallory: Agent;

before(async () => {
  rt = await redTeam('started-update');
  mallory = await rt.agent('mallory-bot', 'eng-007');
});
after(async () => {
  await rt?.close();
});

describe('the started update, sent by an agent', () => {
  it('to a live session: answers true, however often and with whatever arguments, and changes nothing', async () => {
    const s = await mallory.gh.startSession({ intent: 'tidy the test billing records' });
    const trail = await rt.h.events(s.sessionId);
    const state = await s.state();
    const raw = rt.raw.workflow.getHandle(sessionWorkflowId(s.sessionId));
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => raw.executeUpdate<boolean, [unknown]>('started', { args: [{ policy: permissivePolicyDocument(), n: i }] })));
    assert.deepEqual(answers, Array(10).fill(true));
    assert.deepEqual(await rt.h.events(s.sessionId), trail, 'no event recorded');
    assert.deepEqual(await s.state(), state, 'no state changed');
    // The gate is where it was: a destructive call still waits for a person.
    const held = s.propose({ tool: 'billing.deleteRecords', args: { period: '2026-01', testOnly: true }, reasoning: 'tidy' });
    assert.equal((await pendingApproval(s)).tool, 'billing.deleteRecords');
    await mallory.gh.halt(s.sessionId, { by: 'red team', reason: 'test over' });
    assert.equal((await held).status, 'denied');
    await assertNotExecuted(rt.h, s.sessionId);
  });

  it('riding a forged start (a policy document in the input): answers false, and the start is refused as any other', async () => {
    const before = await productionSnapshot(rt.h);
    const id = `rt-started-${randomUUID()}`;
    const start = new WithStartWorkflowOperation(SESSION_WORKFLOW_TYPE, {
      taskQueue: rt.h.taskQueue,
      workflowId: sessionWorkflowId(id),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      args: [{ sessionId: id, credential: mallory.token, intent: 'tidy billing', policy: permissivePolicyDocument() }],
    });
    // The handler answers in the same workflow task that fails the run, so the answer arrives.
    assert.equal(await rt.raw.workflow.executeUpdateWithStart(startedUpdate, { startWorkflowOperation: start }), false);
    await assertRunFailed(rt.raw, sessionWorkflowId(id), undefined, 'SessionStartRefusedError');
    await assertNotExecuted(rt.h, id);
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertAuditVerifies(rt.h);
  });
});
