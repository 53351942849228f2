/**
 * Red team: the Temporal namespace (issue 23, attack 1). The attacker runs a worker of its own on
 * a task queue of its own, with workflows of its own that schedule Gatehouse's activities by name
 * on Gatehouse's task queue: `runTool` for a production delete under a made-up session,
 * `appendAudit` forging a trail and squatting a live session's next seq, `requestApproval`
 * planting an approval row, `reserveAcrossSessions` deciding a ledger; then a workflow under
 * Gatehouse's own type name `agentSession` on its own queue, and a genuine session started under
 * one id naming another. Each is refused by the caller check (the worker's real one: these run
 * through `createGatehouseWorker`) with a non-retryable `ForeignCallerError` and a
 * `caller.foreign` alert, and nothing else is written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { ensureLedger } from '../../activities/tools';
import { FOREIGN_CALLER_ALERT, FOREIGN_CALLER_ERROR } from '../../activities/caller';
import { CALLER_CLAIMS } from '../../activities/caller-claims';
import { SESSION_WORKFLOW_TYPE } from '../../workflows/contract';
import { ledgerWorkflowId } from '../../workflows/ledger-contract';
import { alertRow, assertAuditVerifies, assertNotExecuted, productionSnapshot, redTeam, sessionWorkflowId, type Agent, type RedTeam } from './attacker';
import type { ForeignCall, ForeignOutcome } from './fixtures/foreign-workflow';

let rt: RedTeam;
let mallory: Agent;
let foreign: Worker;
let foreignRun: Promise<void>;
let foreignQueue: string;

before(async () => {
  rt = await redTeam('namespace');
  mallory = await rt.agent(`mallory-${randomUUID().slice(0, 6)}`, 'eng-007');
  await ensureLedger(rt.h.production.pool);
  // What an agent with namespace access runs: its own worker, its own queue, its own workflow code.
  foreignQueue = `${rt.h.taskQueue}-attacker`;
  foreign = await Worker.create({ connection: rt.h.connection, namespace: rt.h.namespace, taskQueue: foreignQueue, workflowsPath: require.resolve('./fixtures/foreign-workflow') });
  foreignRun = foreign.run();
});
after(async () => {
  foreign?.shutdown();
  await foreignRun;
  await rt?.close();
});

/** Runs an attacker workflow that schedules `activity` on Gatehouse's task queue; resolves with how the call ended. */
function attack(activity: string, args: readonly unknown[], options: { type?: string; workflowId?: string } = {}): Promise<ForeignOutcome> {
  const call: ForeignCall = { taskQueue: rt.h.taskQueue, activity, args };
  return rt.raw.workflow.execute(options.type ?? 'attackerWorkflow', { taskQueue: foreignQueue, workflowId: options.workflowId ?? `attacker-${randomUUID()}`, args: [call] });
}

/** Refused at once (no retries) with the stable type; the alert of `sessionId` names the activity and why. */
async function assertRefused(outcome: ForeignOutcome, activity: string, sessionId: string, why: RegExp): Promise<void> {
  assert.equal(outcome.ok, false, `\`${activity}\` ran for a foreign caller: ${JSON.stringify(outcome.result)}`);
  assert.equal(outcome.type, FOREIGN_CALLER_ERROR);
  assert.equal(outcome.retryState, 'NON_RETRYABLE_FAILURE');
  assert.match(outcome.message ?? '', why);
  const alert = await alertRow(rt.h, sessionId, FOREIGN_CALLER_ALERT);
  assert.match(alert.message, new RegExp(`^activity \`${activity}\` refused for workflow `));
  assert.match(alert.message, why);
}

async function toolExecutions(key: string): Promise<number> {
  const r = await rt.h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tool_executions WHERE idempotency_key = $1', [key]);
  return r.rows[0]!.n;
}

async function approvalRows(approvalId: string): Promise<number> {
  const r = await rt.h.audit.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM approvals WHERE approval_id = $1', [approvalId]);
  return r.rows[0]!.n;
}

const at = () => new Date().toISOString();

function deleteCall(sessionId: string) {
  return {
    sessionId,
    proposalSeq: 1,
    tool: 'billing.deleteRecords',
    args: { period: '2026-01' },
    idempotencyKey: `${sessionId}:p1`,
    before: [{ sessionId, seq: 1, kind: 'proposed', at: at(), proposalSeq: 1, tool: 'billing.deleteRecords', args: { period: '2026-01' } }],
    afterSeq: 2,
    at: at(),
  };
}

describe('a workflow of the attacker\'s own cannot run Gatehouse\'s activities', () => {
  it('runTool: a production delete under a made-up session is refused; no rows deleted, no ledger row, no trail', async () => {
    const before = await productionSnapshot(rt.h);
    const ghost = `ghost-${randomUUID()}`;
    const outcome = await attack('runTool', [deleteCall(ghost)]);
    await assertRefused(outcome, 'runTool', ghost, /workflow type `attackerWorkflow` is not `agentSession`/);
    assert.deepEqual(await productionSnapshot(rt.h), before);
    assert.equal(await toolExecutions(`${ghost}:p1`), 0);
    assert.deepEqual(await rt.h.events(ghost), []);
    await assertNotExecuted(rt.h, ghost);
    await assertAuditVerifies(rt.h);
  });

  it('a workflow named `agentSession` on the attacker\'s task queue is refused: the task queue is not Gatehouse\'s', async () => {
    const before = await productionSnapshot(rt.h);
    const ghost = `ghost-${randomUUID()}`;
    // Its type name and workflow id are a session's; only the server's account of the run tells it apart.
    const outcome = await attack('runTool', [deleteCall(ghost)], { type: SESSION_WORKFLOW_TYPE, workflowId: sessionWorkflowId(ghost) });
    await assertRefused(outcome, 'runTool', ghost, new RegExp(`task queue \`${foreignQueue}\` is not gatehouse's \`${rt.h.taskQueue}\``));
    assert.deepEqual(await productionSnapshot(rt.h), before);
    assert.equal(await toolExecutions(`${ghost}:p1`), 0);
    await assertNotExecuted(rt.h, ghost);
    await assertAuditVerifies(rt.h);
  });

  it('the ids a foreign caller chose are quoted escaped and bounded: its refusal drives no operator\'s terminal', async () => {
    const ghost = `ghost-${randomUUID()}`;
    // Its workflow id is a session's, with what the SDK's log and the `alerts` row would have carried
    // raw: OSC 52 sets the reader's clipboard, `ESC[2K` and a carriage return rewrite the line.
    const own = `\u001b]52;c;aGVsbG8=\u0007\r\u001b[2Kgatehouse: all clear${'x'.repeat(400)}`;
    const outcome = await attack('runTool', [deleteCall(ghost)], { type: SESSION_WORKFLOW_TYPE, workflowId: sessionWorkflowId(own) });
    await assertRefused(outcome, 'runTool', ghost, /it names session `ghost-[0-9a-f-]+` but its caller is session `\\u001b\]52;c;aGVsbG8=\\u0007\\u000d\\u001b\[2Kgatehouse: all clearx+…`$/);
    const alert = await alertRow(rt.h, ghost, FOREIGN_CALLER_ALERT);
    for (const text of [outcome.message ?? '', alert.message]) assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f]/, JSON.stringify(text));
    // Each id at most 200 characters: the workflow id twice (caller and problem), the rest is Gatehouse's.
    assert.ok(alert.message.length < 700, `${alert.message.length} characters`);
  });

  it('appendAudit: a forged trail of a made-up session is refused and nothing is written', async () => {
    const madeUp = `made-up-${randomUUID()}`;
    const trail = [
      { sessionId: madeUp, seq: 1, kind: 'session-started', at: at(), detail: { agentId: 'victim-bot' } },
      { sessionId: madeUp, seq: 2, kind: 'proposed', at: at(), proposalSeq: 1, tool: 'billing.deleteRecords', args: { period: '2026-01' } },
      { sessionId: madeUp, seq: 3, kind: 'decided', at: at(), proposalSeq: 1, tool: 'billing.deleteRecords', decision: { verdict: 'allow', reasons: [] } },
      { sessionId: madeUp, seq: 4, kind: 'executed', at: at(), proposalSeq: 1, tool: 'billing.deleteRecords', resultStatus: 'executed', detail: { result: { deleted: 14237 } } },
    ];
    await assertRefused(await attack('appendAudit', [trail]), 'appendAudit', madeUp, /workflow type `attackerWorkflow`/);
    assert.deepEqual(await rt.h.events(madeUp), []);
    await assertAuditVerifies(rt.h);
  });

  it('appendAudit: squatting the next seq of a live session is refused, and the session goes on normally', async () => {
    const victim = await mallory.gh.startSession({ intent: 'look at volumes' });
    assert.equal((await victim.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    const trail = await rt.h.events(victim.sessionId);
    const next = trail[trail.length - 1]!.seq + 1;
    const forged = { sessionId: victim.sessionId, seq: next, kind: 'executed', at: at(), proposalSeq: 2, tool: 'billing.deleteRecords', args: { period: '2026-01' }, resultStatus: 'executed', detail: { result: { deleted: 14237 } } };
    await assertRefused(await attack('appendAudit', [[forged]]), 'appendAudit', victim.sessionId, /workflow type `attackerWorkflow`/);
    assert.deepEqual(await rt.h.events(victim.sessionId), trail);
    // The victim's next events land at the seq the attacker aimed at: nothing conflicts.
    assert.equal((await victim.propose({ tool: 'volumes.list', args: {}, reasoning: 'look again' })).status, 'executed');
    await victim.end({});
    const after = await rt.h.events(victim.sessionId);
    assert.deepEqual(after.slice(0, trail.length), trail);
    assert.deepEqual(after.filter((e) => e.tool === 'billing.deleteRecords'), []);
    assert.equal(after.find((e) => e.seq === next)?.tool, 'volumes.list');
    await assertAuditVerifies(rt.h);
  });

  it('requestApproval: planting the approval row of a live session\'s next proposal is refused; no row', async () => {
    const victim = await mallory.gh.startSession({ intent: 'tidy billing' });
    const approvalId = `${victim.sessionId}:1`;
    const request = {
      approvalId,
      sessionId: victim.sessionId,
      workflowId: sessionWorkflowId(victim.sessionId),
      firstRunId: '',
      agentId: mallory.agentId,
      owner: mallory.owner,
      intent: 'tidy billing',
      redactedArgs: { customerId: 'cus_1' },
      decision: { verdict: 'approval', reasons: [], tier: 'approval' },
      requirement: { groups: ['on-call'], approversRequired: 1, channel: '#approvals', timeoutMinutes: 30, escalateAfterMinutes: [], fourEyes: false },
      groupMembers: { 'on-call': ['alice'] },
      callDigest: 'a'.repeat(64),
      requestedAt: at(),
      deadline: new Date(Date.now() + 3_600_000).toISOString(),
      proposal: { tool: 'billing.query', args: { customerId: 'cus_1' }, reasoning: 'harmless' },
    };
    await assertRefused(await attack('requestApproval', [request]), 'requestApproval', victim.sessionId, /workflow type `attackerWorkflow`/);
    assert.equal(await approvalRows(approvalId), 0);
    await victim.end({});
    await assertAuditVerifies(rt.h);
  });

  it('reserveAcrossSessions: deciding an agent\'s ledger is refused; no ledger is started', async () => {
    const agent = `victim-${randomUUID().slice(0, 8)}`;
    const sessionId = `ghost-${randomUUID()}`;
    const input = { scope: 'agent', key: agent, request: { reservationId: `${sessionId}:p1`, sessionId, tool: 'volumes.unmount', rules: [] } };
    await assertRefused(await attack('reserveAcrossSessions', [input]), 'reserveAcrossSessions', sessionId, /workflow type `attackerWorkflow`/);
    await assert.rejects(rt.raw.workflow.getHandle(ledgerWorkflowId('agent', agent)).describe(), WorkflowNotFoundError);
  });

  it('every other activity the worker registers is refused too, and writes nothing for the session it names', async () => {
    const s = `ghost-${randomUUID()}`;
    const req = { approvalId: `${s}:1`, sessionId: s, workflowId: sessionWorkflowId(s), firstRunId: '', agentId: 'victim-bot', owner: 'eng-007', intent: 'x', redactedArgs: {}, decision: { verdict: 'approval', reasons: [] }, requirement: { groups: ['on-call'] }, groupMembers: {}, callDigest: 'a'.repeat(64), requestedAt: at(), deadline: at(), proposal: { tool: 'billing.query', args: {}, reasoning: 'x' } };
    const args: Record<string, readonly unknown[]> = {
      loadSessionContext: [{ sessionId: s, credential: mallory.token, policyDocumentGiven: false }],
      refuseSessionStart: [s, { rule: 'start.parent', message: 'forged' }],
      startSessionRecord: [{ sessionId: s, workflowId: sessionWorkflowId(s), agentId: 'victim-bot', owner: 'eng-007', intent: 'x', policyHash: 'c'.repeat(64), policy: {}, startedAt: at() }, []],
      patchSession: [s, { finalState: 'completed' }],
      raiseSessionAlert: [s, 'audit.unwritable', 'forged: the victim\'s audit trail failed', at()],
      prepareCall: [{ tool: 'billing.deleteRecords', args: { period: '2026-02' } }],
      scoreIntent: [{ intent: 'x', actions: [], now: at() }],
      compareIntents: ['a', 'b'],
      // Planting the victim's next approval row (nothing posted): refused before the row is written.
      storeApproval: [req],
      escalateApproval: [req, { approvalId: `${s}:1`, level: 1, group: 'sre-leads', at: at() }],
      resolveApproval: [req, { approvalId: `${s}:1`, status: 'approved', decidedBy: ['alice'], at: at() }],
      // Handing back the victim's leases would free budget it counted: refused before any ledger is asked.
      returnLeases: [{ scope: 'agent', key: 'victim-bot', request: { returnId: `${s}:r1`, sessionId: s, returns: [{ leaseId: `${s}:p1`, used: [] }] } }],
      // Counting a step in the victim's tree as the victim: refused before any root is asked.
      askTreeRoot: [{ sessionId: s, proposalSeq: 1, tool: 'volumes.list', at: Date.now() }],
    };
    const tried = Object.keys(CALLER_CLAIMS).filter((name) => !['runTool', 'appendAudit', 'requestApproval', 'reserveAcrossSessions'].includes(name));
    assert.deepEqual([...tried].sort(), Object.keys(args).sort(), 'an activity of the worker is missing from this attack');
    for (const activity of tried) {
      const outcome = await attack(activity, args[activity]!);
      assert.equal(outcome.type, FOREIGN_CALLER_ERROR, `\`${activity}\` was not refused: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.retryState, 'NON_RETRYABLE_FAILURE');
    }
    // The refusals that name the session are alerted on it; the rest on the attacker's workflow id.
    const alerts = await rt.h.audit.pool.query<{ message: string }>('SELECT message FROM alerts WHERE session_id = $1 AND kind = $2 ORDER BY id', [s, FOREIGN_CALLER_ALERT]);
    const named = tried.filter((a) => !['prepareCall', 'scoreIntent', 'compareIntents'].includes(a));
    assert.deepEqual(alerts.rows.map((r) => /^activity `(\w+)`/.exec(r.message)?.[1]), named);
    assert.equal((await rt.h.audit.pool.query('SELECT 1 FROM alerts WHERE session_id = $1 AND kind <> $2', [s, FOREIGN_CALLER_ALERT])).rowCount, 0, 'no alert but the refusals: the forged `audit.unwritable` was not raised');
    assert.equal((await rt.h.audit.pool.query('SELECT 1 FROM sessions WHERE session_id = $1', [s])).rowCount, 0);
    assert.equal(await approvalRows(`${s}:1`), 0);
    assert.deepEqual(await rt.h.events(s), []);
    await assertAuditVerifies(rt.h);
  });

  it('a genuine session started under one id cannot act as another: its first activity names the victim and is refused', async () => {
    const victim = await mallory.gh.startSession({ intent: 'look at volumes' });
    assert.equal((await victim.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    const trail = await rt.h.events(victim.sessionId);
    const own = `rt-other-${randomUUID()}`;
    // Gatehouse's own workflow on Gatehouse's queue, with a valid credential: only the session id is another's.
    const handle = await rt.raw.workflow.start(SESSION_WORKFLOW_TYPE, {
      taskQueue: rt.h.taskQueue,
      workflowId: sessionWorkflowId(own),
      args: [{ sessionId: victim.sessionId, credential: mallory.token, intent: 'look at volumes' }],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError, `expected the run to fail, got ${String(err)}`);
      assert.equal((err.cause?.cause as { type?: string } | undefined)?.type, FOREIGN_CALLER_ERROR);
      return true;
    });
    const alert = await alertRow(rt.h, victim.sessionId, FOREIGN_CALLER_ALERT);
    assert.match(alert.message, new RegExp(`^activity \`loadSessionContext\` refused for workflow \`${sessionWorkflowId(own)}\`.*names session \`${victim.sessionId}\` but its caller is session \`${own}\``));
    assert.deepEqual(await rt.h.events(victim.sessionId), trail);
    assert.deepEqual(await rt.h.events(own), []);
    await victim.end({});
    await assertAuditVerifies(rt.h);
  });
});
