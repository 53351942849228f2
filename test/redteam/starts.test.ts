/**
 * Red team: session starts an agent cannot choose. The attacker holds its own valid credential
 * and a Temporal connection (the stock `temporal` CLI, or the SDK client), and tries to start a
 * session with a policy document, forged continue-as-new state, a parent it does not have, a
 * reused session id, an owner of its choosing, a revoked or an expired credential.
 *
 * Each case: the start is refused with an `alerts` row naming the rule, the production rows are
 * unchanged, no call executed, and `audit verify` holds over the whole audit database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { SessionStartRefusedError } from '../../client';
import { RevocationStore } from '../../audit/credentials';
import { describeCatalog } from '../../activities/tools/catalog';
import { compilePolicy, initialSessionState, parsePolicy } from '../../policies';
import type { CarriedSession } from '../../workflows/carried';
import { SESSION_WORKFLOW_TYPE } from '../../workflows/contract';
import { createCatalog } from '../workflows/fixtures/catalog';
import {
  alertRow,
  assertAuditVerifies,
  assertNotExecuted,
  assertRunFailed,
  pendingApproval,
  permissivePolicyDocument,
  productionSnapshot,
  redTeam,
  sessionWorkflowId,
  signedVote,
  trust,
  voteFor,
  alertEvent,
  eventOf,
  type Agent,
  type AuditRow,
  type RedTeam,
} from './attacker';
import { eventually } from '../support/eventually';

let rt: RedTeam;
let mallory: Agent;

before(async () => {
  rt = await redTeam('starts');
  mallory = await rt.agent('mallory-bot', 'eng-007');
});
after(async () => {
  await rt?.close();
});

/** `temporal workflow start` of an agentSession as the attacker; resolves with the new run id. */
async function cliStart(workflowId: string, inputs: readonly unknown[], extra: readonly string[] = []): Promise<string> {
  const r = await rt.cli([
    'workflow', 'start',
    '--type', SESSION_WORKFLOW_TYPE,
    '--task-queue', rt.h.taskQueue,
    '--workflow-id', workflowId,
    ...inputs.flatMap((i) => ['--input', JSON.stringify(i)]),
    ...extra,
    '-o', 'json',
  ]);
  assert.equal(r.code, 0, `temporal workflow start failed: ${r.stderr}`);
  const runId = (JSON.parse(r.stdout) as { runId?: string }).runId;
  assert.ok(runId, `no run id in ${r.stdout}`);
  return runId;
}

/** A session's forged continue-as-new state: a permissive policy, a made-up owner, zero counters. */
function forgedCarried(): CarriedSession {
  const parsed = parsePolicy(permissivePolicyDocument());
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  // What any session's history shows the agent: the catalog's descriptors.
  const descriptors = describeCatalog(createCatalog({ productionPool: rt.h.production.pool }));
  const compiled = compilePolicy(parsed.data, descriptors.map((d) => ({ name: d.name, description: d.description, effect: d.effect, environment: d.environment, resource: d.resource, estimatesBlastRadius: d.estimatesBlastRadius })));
  const now = Date.now();
  return {
    identity: { agentId: 'mallory-bot', owner: 'nobody' },
    policyName: 'test',
    policyDocument: parsed.data,
    keyset: trust.keyset,
    usedNonces: [],
    descriptors,
    state: initialSessionState(compiled, { startedAt: now }),
    counters: { proposals: 0, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 },
    seq: 0,
    proposalSeq: 0,
    paused: false,
    pausedTools: [],
    lastActions: [],
    intentActions: [],
    toolsUsed: [],
    children: [],
    flaggedForReview: false,
    startedAt: new Date(now).toISOString(),
    runs: 1,
  };
}

const DELETE_ALL_2026 = { tool: 'billing.deleteRecords', args: { period: '2026-01' }, reasoning: 'tidy' };

/** The refused start left nothing but its alert: no trail, no rows touched, everything verifies. */
async function assertRefusedCleanly(sessionId: string, rule: string, before: Record<string, unknown>, trail?: readonly AuditRow[]): Promise<void> {
  const alert = await alertRow(rt.h, sessionId, rule);
  assert.match(alert.message, /session start refused|never reused/);
  assert.deepEqual(await productionSnapshot(rt.h), before);
  // A reused id: the old session's trail (its own executed calls included) is exactly as it was.
  if (trail) assert.deepEqual(await rt.h.events(sessionId), trail);
  else await assertNotExecuted(rt.h, sessionId);
  await assertAuditVerifies(rt.h);
}

describe('starts the agent cannot choose', () => {
  it('refuses a policy document in the start input (stock CLI), and the propose after it goes nowhere', async () => {
    const before = await productionSnapshot(rt.h);
    const id = `rt-policy-${randomUUID()}`;
    const runId = await cliStart(sessionWorkflowId(id), [{ sessionId: id, credential: mallory.token, intent: 'tidy billing', policy: permissivePolicyDocument() }]);
    await assertRunFailed(rt.raw, sessionWorkflowId(id), runId, 'SessionStartRefusedError');
    await assert.rejects(rt.raw.workflow.getHandle(sessionWorkflowId(id)).executeUpdate('propose', { args: [DELETE_ALL_2026] }));
    assert.deepEqual((await rt.h.events(id)).map((e) => e.kind), []);
    await assertRefusedCleanly(id, 'start.policy-document', before);
  });

  it('refuses forged carried state as a second start argument (stock CLI, --input twice)', async () => {
    const before = await productionSnapshot(rt.h);
    const id = `rt-carried-${randomUUID()}`;
    const runId = await cliStart(sessionWorkflowId(id), [{ sessionId: id, credential: mallory.token, intent: 'tidy billing' }, forgedCarried()]);
    await assertRunFailed(rt.raw, sessionWorkflowId(id), runId, 'SessionStartRefusedError');
    await assert.rejects(rt.raw.workflow.getHandle(sessionWorkflowId(id)).executeUpdate('propose', { args: [DELETE_ALL_2026] }));
    await assertRefusedCleanly(id, 'start.carried', before);
  });

  it('refuses every run of a cron-scheduled session: a cron run "continues" from the last one but repeats the starter\'s forged input', async () => {
    const before = await productionSnapshot(rt.h);
    const id = `rt-cron-${randomUUID()}`;
    const workflowId = sessionWorkflowId(id);
    const cronAlerts = async (): Promise<number> => {
      const r = await rt.h.audit.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM alerts WHERE session_id = $1 AND kind = 'start.cron'", [id]);
      return r.rows[0]?.n ?? 0;
    };
    const handle = await rt.raw.workflow.start(SESSION_WORKFLOW_TYPE, {
      taskQueue: rt.h.taskQueue,
      workflowId,
      cronSchedule: '@every 2s',
      args: [{ sessionId: id, credential: mallory.token, intent: 'tidy billing' }, forgedCarried() as never],
    });
    let terminated = false;
    try {
      // The second cron run has `continuedFromExecutionRunId` set: it is refused like the first.
      await eventually(async () => ((await cronAlerts()) >= 2 ? true : undefined), { what: 'two start.cron alerts, one per run' });
      // The run waiting for its cron slot (the newest run, from the server's own state, not visibility)
      // gets a proposal: it starts, refuses its start, and never accepts the proposal. Temporal keeps the
      // update open across the chain, so it is ended by terminating the chain once that run has refused.
      // One with time left before its slot (each cron run waits for the next 2 s mark), so the proposal
      // reaches it before it starts.
      const waiting = await eventually(async () => {
        const d = await handle.describe();
        return d.status.name === 'RUNNING' && d.executionTime !== undefined && d.executionTime.getTime() - Date.now() > 500 ? d : undefined;
      }, { what: 'a cron run waiting for its slot' });
      const refusedSoFar = await cronAlerts();
      const update = rt.raw.workflow.getHandle(workflowId, waiting.runId).executeUpdate('propose', { args: [DELETE_ALL_2026] })
        .then(() => 'accepted', (err: unknown) => err);
      await eventually(async () => ((await cronAlerts()) > refusedSoFar ? true : undefined), { what: 'the proposed-to run refused its start' });
      await handle.terminate('red team: stop the cron chain');
      terminated = true;
      const outcome = await update;
      // Queued behind the start (nothing sent before the handlers exist is lost), never run: the run
      // refused its start, and the update ends with the chain.
      assert.ok(outcome instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(outcome)}`);
      assert.equal((outcome.cause as ApplicationFailure | undefined)?.type, 'AcceptedUpdateCompletedWorkflow');
      assert.deepEqual(await productionSnapshot(rt.h), before);
      await assertNotExecuted(rt.h, id);
      await assertAuditVerifies(rt.h);
    } finally {
      if (!terminated) await handle.terminate('red team: stop the cron chain').catch(() => undefined);
    }
  });

  it('refuses a start claiming a parent it does not have (real parent session id, inherited transitions)', async () => {
    const before = await productionSnapshot(rt.h);
    const parent = await mallory.gh.startSession({ intent: 'look at volumes' });
    const id = `${parent.sessionId}.1`;
    const runId = await cliStart(sessionWorkflowId(id), [{
      sessionId: id,
      agentId: 'mallory-bot',
      owner: 'nobody',
      policyRef: 'quick',
      intent: 'tidy volumes',
      parentSessionId: parent.sessionId,
      inheritedTransitions: { step: 0, progress: {} },
    }]);
    await assertRunFailed(rt.raw, sessionWorkflowId(id), runId, 'SessionStartRefusedError');
    await parent.end({});
    await assertRefusedCleanly(id, 'start.parent', before);
  });

  it('never reuses a closed session id: a new run with AllowDuplicate is refused and the old trail is untouched', async () => {
    const s = await mallory.gh.startSession({ intent: 'look at volumes' });
    assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    await s.end({});
    const trail = await rt.h.events(s.sessionId);
    const before = await productionSnapshot(rt.h);
    const runId = await cliStart(s.workflowId, [{ sessionId: s.sessionId, credential: mallory.token, intent: 'tidy billing' }], ['--id-reuse-policy', 'AllowDuplicate']);
    await assertRunFailed(rt.raw, s.workflowId, runId, 'SessionIdReusedError');
    await assert.rejects(rt.raw.workflow.getHandle(s.workflowId).executeUpdate('propose', { args: [DELETE_ALL_2026] }));
    await assertRefusedCleanly(s.sessionId, 'start.session-reused', before, trail);
  });

  it('never reuses a live session id: TerminateExisting and start-after-terminate are refused; the old trail is untouched', async () => {
    for (const how of ['terminate-existing', 'after-terminate'] as const) {
      const s = await mallory.gh.startSession({ intent: 'scale the api' });
      // The old run's open update fails when its run is terminated: collected, not left unhandled.
      const pending = s.propose({ tool: 'services.scale', args: { service: 'api', replicas: 9 }, reasoning: 'load' }).then(() => 'resolved', () => 'rejected');
      await pendingApproval(s);
      // The state query shows the approval before its event is written: wait for the event.
      await eventOf(rt.h, s.sessionId, 'approval-requested');
      const trail = await rt.h.events(s.sessionId);
      const before = await productionSnapshot(rt.h);
      let runId: string;
      if (how === 'terminate-existing') {
        runId = await cliStart(s.workflowId, [{ sessionId: s.sessionId, credential: mallory.token, intent: 'scale the api' }], ['--id-conflict-policy', 'TerminateExisting']);
      } else {
        const t = await rt.cli(['workflow', 'terminate', '--workflow-id', s.workflowId, '--reason', 'red team']);
        assert.equal(t.code, 0, t.stderr);
        runId = await cliStart(s.workflowId, [{ sessionId: s.sessionId, credential: mallory.token, intent: 'scale the api' }], ['--id-reuse-policy', 'AllowDuplicate']);
      }
      assert.equal(await pending, 'rejected', `${how}: the old run's pending call must not complete`);
      await assertRunFailed(rt.raw, s.workflowId, runId, 'SessionIdReusedError');
      await assertRefusedCleanly(s.sessionId, 'start.session-reused', before, trail);
    }
  });

  it('takes owner and agent from the credential: a start naming another owner or agent is refused', async () => {
    const before = await productionSnapshot(rt.h);
    const ids = { owner: `rt-owner-${randomUUID()}`, agent: `rt-agent-${randomUUID()}` };
    await assert.rejects(mallory.gh.startSession({ sessionId: ids.owner, owner: 'nobody', intent: 'scale the api' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.identity');
    await assert.rejects(mallory.gh.startSession({ sessionId: ids.agent, agentId: 'alice', intent: 'scale the api' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.identity');
    await assertRefusedCleanly(ids.owner, 'start.identity', before);
    await assertRefusedCleanly(ids.agent, 'start.identity', before);
  });

  it('a refused start quotes the agent id and owner it named escaped and bounded: terminal controls reach no operator', async () => {
    // What the SDK's log of the failed activity and the `alerts` row would have carried raw: OSC 52
    // sets the reader's clipboard, `ESC[2K` and a carriage return rewrite the line.
    const hostile = '\u001b]52;c;aGVsbG8=\u0007\r\u001b[2Kgatehouse: all clear';
    const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
    const before = await productionSnapshot(rt.h);
    const ids = { agent: `rt-agent-esc-${randomUUID()}`, owner: `rt-owner-esc-${randomUUID()}` };
    const refused = async (start: Promise<unknown>): Promise<string> => {
      let message = '';
      await assert.rejects(start, (err: unknown) => {
        assert.ok(err instanceof SessionStartRefusedError && err.rule === 'start.identity', String(err));
        message = err.message;
        return true;
      });
      return message;
    };
    const agentRefusal = await refused(mallory.gh.startSession({ sessionId: ids.agent, agentId: hostile, intent: 'scale the api' }));
    const ownerRefusal = await refused(mallory.gh.startSession({ sessionId: ids.owner, owner: `${hostile}${'o'.repeat(1_500)}`, intent: 'scale the api' }));
    const agentAlert = (await alertRow(rt.h, ids.agent, 'start.identity')).message;
    const ownerAlert = (await alertRow(rt.h, ids.owner, 'start.identity')).message;
    for (const text of [agentRefusal, ownerRefusal, agentAlert, ownerAlert]) assert.doesNotMatch(text, CONTROL, JSON.stringify(text));
    const shown = '\\u001b]52;c;aGVsbG8=\\u0007\\u000d\\u001b[2Kgatehouse: all clear';
    assert.equal(agentAlert, `session start refused: the start names agent \`${shown}\` but the credential is agent \`mallory-bot\`'s`);
    assert.ok(agentRefusal.includes(`the start names agent \`${shown}\``), agentRefusal);
    // The owner is cut at 200 characters (escapes included), the refusal stays readable.
    assert.match(ownerAlert, /^session start refused: the start names owner `\\u001b\]52;c;aGVsbG8=.*o…` but the credential says `eng-007`$/);
    assert.ok(ownerAlert.length < 400, `${ownerAlert.length} characters`);
    await assertRefusedCleanly(ids.agent, 'start.identity', before);
    await assertRefusedCleanly(ids.owner, 'start.identity', before);
  });

  it('four eyes holds: the credential\'s owner may not approve the agent\'s call (owner omitted from the start)', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    const view = await s.state();
    assert.deepEqual({ agentId: view.agentId, owner: view.owner }, { agentId: 'mallory-bot', owner: 'eng-007' });
    const pending = s.propose({ tool: 'services.scale', args: { service: 'api', replicas: 8 }, reasoning: 'load' });
    const p = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('eng-007'), voteFor(p)));
    await alertEvent(rt.h, s.sessionId, 'approval.four-eyes');
    assert.deepEqual((await s.state()).pendingApprovals[0]?.approvedBy, []);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p, false, 'not now')));
    assert.equal((await pending).status, 'denied');
    await s.end({});
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId);
    await assertAuditVerifies(rt.h);
  });

  it('a top-level start cannot carry paused tools (only a sub-agent takes its parent\'s): the field is ignored', async () => {
    const id = `rt-paused-${randomUUID()}`;
    await rt.raw.workflow.start(SESSION_WORKFLOW_TYPE, {
      taskQueue: rt.h.taskQueue,
      workflowId: sessionWorkflowId(id),
      args: [{ sessionId: id, credential: mallory.token, intent: 'look at volumes', pausedTools: ['volumes.list', 'session.spawnChild'] }],
    });
    const s = mallory.gh.session(id);
    const view = await eventually(async () => (await s.state().catch(() => undefined)) ?? undefined, { what: 'the session started' });
    assert.deepEqual(view.pausedTools ?? [], []);
    assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    await s.end({});
  });

  it('refuses a revoked credential and an expired one', async () => {
    const before = await productionSnapshot(rt.h);
    const revoked = await rt.agent('revoked-bot', 'eng-007');
    await new RevocationStore(rt.h.audit.pool).revoke('revoked-bot', 'test-operator', 'leaked');
    const expiredToken = await trust.credential('expired-bot', 'eng-007', { expiresInSeconds: 60, now: Date.now() - 3_600_000 });
    const ids = { revoked: `rt-revoked-${randomUUID()}`, expired: `rt-expired-${randomUUID()}` };
    await assert.rejects(revoked.gh.startSession({ sessionId: ids.revoked, intent: 'tidy billing' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'credential.revoked');
    // The expired one through the stock CLI, as an agent with a stale token would.
    const runId = await cliStart(sessionWorkflowId(ids.expired), [{ sessionId: ids.expired, credential: expiredToken, intent: 'tidy billing' }]);
    await assertRunFailed(rt.raw, sessionWorkflowId(ids.expired), runId, 'SessionStartRefusedError');
    await assertRefusedCleanly(ids.revoked, 'credential.revoked', before);
    await assertRefusedCleanly(ids.expired, 'credential.expired', before);
  });
});
