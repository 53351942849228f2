/**
 * The caller check (activities/caller.ts) on its own, against the real Temporal server and a real
 * audit database: the activity context is `MockActivityEnvironment`'s, filled in as a worker
 * would for a genuine `agentSession` run (started on a queue nothing polls, so it stays running).
 * What a worker-driven test cannot reach: a genuine session whose input names another session's
 * idempotency key, approval or workflow id; the one describe per run and the bounded cache; the
 * local-activity path without a round trip.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AuditStore } from '../../audit/store';
import { FOREIGN_CALLER_ALERT, FOREIGN_CALLER_ERROR, temporalCallerCheck, type CallerClaims } from '../../activities/caller';
import { CALLER_CLAIMS } from '../../activities/caller-claims';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId } from '../../workflows/contract';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';

let audit: TestDatabase;
let connection: Connection;
let client: Client;
let namespace: string;
const taskQueue = `test-caller-${randomBytes(4).toString('hex')}`;
const started: string[] = [];

before(async () => {
  const servers = await getTestServers();
  namespace = servers.namespace;
  audit = await createTestDatabase('caller_check');
  connection = await Connection.connect({ address: servers.temporalAddress });
  client = new Client({ connection, namespace });
});
after(async () => {
  for (const id of started) await client.workflow.getHandle(id).terminate('test done').catch(() => undefined);
  await connection?.close();
  await audit?.drop();
});

/** A genuine session run (Gatehouse's type, id form and task queue); nothing polls it. */
async function genuineRun(queue = taskQueue): Promise<{ sessionId: string; workflowId: string; runId: string }> {
  const sessionId = `caller-${randomUUID()}`;
  const handle = await client.workflow.start(SESSION_WORKFLOW_TYPE, { taskQueue: queue, workflowId: sessionWorkflowId(sessionId), args: [{}] });
  started.push(handle.workflowId);
  return { sessionId, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

function check(options: { cacheSize?: number; taskQueue?: string } = {}) {
  return temporalCallerCheck({ connection, namespace, taskQueue: options.taskQueue ?? taskQueue, alerts: new AuditStore(audit.pool), ...(options.cacheSize ? { cacheSize: options.cacheSize } : {}) });
}

type Run = { workflowId: string; runId: string };

function asActivityOf(run: Run, activity: string, isLocal = false): MockActivityEnvironment {
  return new MockActivityEnvironment({ activityType: activity, isLocal, namespace, workflowExecution: { workflowId: run.workflowId, runId: run.runId }, workflowType: SESSION_WORKFLOW_TYPE });
}

function verify(c: ReturnType<typeof check>, run: Run, activity: string, claims: CallerClaims, isLocal = false): Promise<void> {
  return asActivityOf(run, activity, isLocal).run(() => c.verify(activity, claims));
}

/** Refused with `ForeignCallerError`, non-retryable, naming `why`; the alert is on `alertSession`. */
async function assertRefused(work: Promise<void>, why: RegExp, alertSession: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, FOREIGN_CALLER_ERROR);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, why);
    return true;
  });
  const r = await audit.pool.query<{ message: string }>('SELECT message FROM alerts WHERE session_id = $1 AND kind = $2', [alertSession, FOREIGN_CALLER_ALERT]);
  assert.equal(r.rows.filter((row) => why.test(row.message)).length, 1, `one alert naming ${String(why)} in ${JSON.stringify(r.rows)}`);
}

const at = '2026-12-06T00:00:00.000Z';
const approval = (sessionId: string, approvalId = `${sessionId}:1`) => ({ approvalId, sessionId, workflowId: sessionWorkflowId(sessionId) }) as never;

describe('the caller check', () => {
  it('lets a genuine session act for itself, describing its run once and answering later calls from the cache', async () => {
    const c = check();
    const run = await genuineRun();
    const s = run.sessionId;
    const calls: [string, CallerClaims][] = [
      ['loadSessionContext', CALLER_CLAIMS.loadSessionContext({ sessionId: s, policyDocumentGiven: false })],
      ['startSessionRecord', CALLER_CLAIMS.startSessionRecord({ sessionId: s, workflowId: run.workflowId } as never, [{ sessionId: s, seq: 1, kind: 'session-started', at }])],
      ['appendAudit', CALLER_CLAIMS.appendAudit([{ sessionId: s, seq: 2, kind: 'proposed', at }])],
      ['runTool', CALLER_CLAIMS.runTool({ sessionId: s, proposalSeq: 1, tool: 'volumes.list', args: {}, idempotencyKey: `${s}:p1`, before: [], afterSeq: 3, at })],
      ['resolveApproval', CALLER_CLAIMS.resolveApproval(approval(s), { approvalId: `${s}:1`, status: 'approved', decidedBy: ['alice'], at })],
      ['reserveAcrossSessions', CALLER_CLAIMS.reserveAcrossSessions({ scope: 'agent', key: 'bot', request: { reservationId: `${s}:p1`, sessionId: s, tool: 'volumes.list', rules: [] } })],
    ];
    for (const [activity, claims] of calls) await verify(c, run, activity, claims);
    assert.deepEqual(c.stats, { describes: 1, hits: calls.length - 1 });
  });

  it('refuses a genuine session naming another session\'s idempotency key, approval or workflow', async () => {
    const c = check();
    const run = await genuineRun();
    const s = run.sessionId;
    const victim = `victim-${randomUUID()}`;
    await assertRefused(
      verify(c, run, 'runTool', CALLER_CLAIMS.runTool({ sessionId: s, proposalSeq: 1, tool: 'billing.deleteRecords', args: {}, idempotencyKey: `${victim}:p1`, before: [], afterSeq: 1, at })),
      new RegExp(`names \`${victim}:p1\`, which is not session \`${s}\`'s`),
      s,
    );
    await assertRefused(
      verify(c, run, 'resolveApproval', CALLER_CLAIMS.resolveApproval(approval(victim), { approvalId: `${victim}:1`, status: 'approved', decidedBy: ['alice'], at })),
      new RegExp(`names session \`${victim}\` but its caller is session \`${s}\``),
      victim,
    );
    await assertRefused(
      verify(c, run, 'escalateApproval', CALLER_CLAIMS.escalateApproval(approval(s), { approvalId: `${victim}:1`, level: 1, group: 'sre', at })),
      new RegExp(`names \`${victim}:1\`, which is not session \`${s}\`'s`),
      s,
    );
    // Refusals on the claims need no round trip: the run was never described.
    assert.equal(c.stats.describes, 0);
  });

  it('refuses a run the server does not know, and a session run on another task queue', async () => {
    const made = `ghost-${randomUUID()}`;
    await assertRefused(
      verify(check(), { workflowId: sessionWorkflowId(made), runId: randomUUID() }, 'patchSession', CALLER_CLAIMS.patchSession(made, {})),
      /does not exist in namespace/,
      made,
    );
    const elsewhere = await genuineRun(`${taskQueue}-elsewhere`);
    await assertRefused(
      verify(check(), elsewhere, 'appendAudit', CALLER_CLAIMS.appendAudit([{ sessionId: elsewhere.sessionId, seq: 1, kind: 'proposed', at }])),
      new RegExp(`task queue \`${taskQueue}-elsewhere\` is not gatehouse's \`${taskQueue}\``),
      elsewhere.sessionId,
    );
  });

  it('checks a local activity without a round trip, still bound to its own session', async () => {
    const c = check();
    const s = `local-${randomUUID()}`;
    const run = { workflowId: sessionWorkflowId(s), runId: randomUUID() };
    await verify(c, run, 'runTool', CALLER_CLAIMS.runTool({ sessionId: s, proposalSeq: 1, tool: 'volumes.list', args: {}, idempotencyKey: `${s}:p1`, before: [], afterSeq: 1, at }), true);
    assert.equal(c.stats.describes, 0);
    const other = `other-${randomUUID()}`;
    await assertRefused(verify(c, run, 'appendAudit', CALLER_CLAIMS.appendAudit([{ sessionId: other, seq: 1, kind: 'proposed', at }]), true), /names session/, other);
  });

  it('remembers a bounded number of runs: the oldest is described again', async () => {
    const c = check({ cacheSize: 2 });
    const runs = [await genuineRun(), await genuineRun(), await genuineRun()];
    const touch = (r: (typeof runs)[number]) => verify(c, r, 'patchSession', CALLER_CLAIMS.patchSession(r.sessionId, {}));
    for (const r of runs) await touch(r);
    await touch(runs[2]!);
    assert.deepEqual(c.stats, { describes: 3, hits: 1 });
    await touch(runs[0]!);
    assert.deepEqual(c.stats, { describes: 4, hits: 1 });
  });
});
