/**
 * The caller check (activities/caller.ts, caller-claims.ts) in-process, for mutation testing:
 * the server's answer comes from a table of runs behind the `DescribeService` interface (the
 * real server's answers are asserted in caller-check.test.ts), alerts are collected in a list.
 * Each refusal with its reason, the alert's session and text, the cache and its bound, the
 * retryable failure when the server cannot answer, and `guardActivities` running the check first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CALLER_CHECK_UNAVAILABLE, FOREIGN_CALLER_ALERT, FOREIGN_CALLER_ERROR, temporalCallerCheck, type CallerClaims, type DescribeService } from '../../activities/caller';
import { CALLER_CLAIMS, guardActivities } from '../../activities/caller-claims';
import type { SessionActivities } from '../../activities/types';
import { SESSION_WORKFLOW_TYPE } from '../../workflows/contract';

const NS = 'ns-test';
const QUEUE = 'gatehouse-q';
const NOW = Date.parse('2026-06-01T12:00:00Z');

interface Run { workflowId: string; runId: string; type?: string; taskQueue?: string }

/** The server, as a table of runs; `fail` makes every describe throw that error. */
function server(runs: Run[], fail?: { code?: number; message: string }) {
  const asked: string[] = [];
  const service: DescribeService = {
    workflowService: {
      async describeWorkflowExecution(req) {
        asked.push(`${req.namespace}/${req.execution?.workflowId}/${req.execution?.runId}`);
        if (fail) throw Object.assign(new Error(fail.message), fail.code === undefined ? {} : { code: fail.code });
        const run = runs.find((r) => r.workflowId === req.execution?.workflowId && r.runId === req.execution?.runId);
        if (!run) throw Object.assign(new Error('not found'), { code: 5 });
        return { workflowExecutionInfo: { execution: { workflowId: run.workflowId, runId: run.runId }, type: { name: run.type ?? SESSION_WORKFLOW_TYPE }, taskQueue: run.taskQueue ?? QUEUE } };
      },
    },
  };
  return { service, asked };
}

function setup(runs: Run[], options: { fail?: { code?: number; message: string }; cacheSize?: number } = {}) {
  const s = server(runs, options.fail);
  const alerts: { session: string; kind: string; message: string; at: string }[] = [];
  const check = temporalCallerCheck({
    connection: s.service,
    namespace: NS,
    taskQueue: QUEUE,
    alerts: { raiseAlert: async (session: string, kind: string, message: string, at: string) => { alerts.push({ session, kind, message, at }); } } as never,
    now: () => NOW,
    ...(options.cacheSize ? { cacheSize: options.cacheSize } : {}),
  });
  return { check, alerts, asked: s.asked };
}

const genuine = (sessionId: string, runId = `run-${sessionId}`): Run => ({ workflowId: `session-${sessionId}`, runId });

function as(run: Partial<Run> | undefined, o: { type?: string | undefined; namespace?: string; isLocal?: boolean } = {}) {
  return new MockActivityEnvironment({
    activityType: 'x',
    isLocal: o.isLocal ?? false,
    namespace: o.namespace ?? NS,
    workflowExecution: run as { workflowId: string; runId: string },
    workflowType: 'type' in o ? o.type : SESSION_WORKFLOW_TYPE,
  });
}

async function refusal(work: Promise<void>): Promise<{ message: string; details: Record<string, unknown> }> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, FOREIGN_CALLER_ERROR);
    assert.equal(err.nonRetryable, true);
    return { message: err.message, details: err.details?.[0] as Record<string, unknown> };
  }
  assert.fail('the caller was let through');
}

describe('the caller check, in-process', () => {
  it('lets a genuine run act for its own session, asks the server once, then answers from the cache', async () => {
    const run = genuine('s1');
    const { check, alerts, asked } = setup([run]);
    const claims: CallerClaims = { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:p1', 's1:approval-2'] };
    for (let i = 0; i < 3; i++) await as(run).run(() => check.verify('runTool', claims));
    assert.deepEqual(asked, [`${NS}/session-s1/run-s1`]);
    assert.deepEqual(check.stats, { describes: 1, hits: 2 });
    assert.deepEqual(alerts, []);
  });

  it('concurrent first calls of one run share one describe', async () => {
    const run = genuine('s1');
    const { check, asked } = setup([run]);
    await Promise.all([1, 2, 3].map(() => as(run).run(() => check.verify('appendAudit', {}))));
    assert.equal(asked.length, 1);
  });

  it('refuses what the activity context shows before asking the server: no workflow, another namespace, type or id form', async () => {
    const run = genuine('s1');
    const { check, alerts, asked } = setup([run]);
    const cases: [MockActivityEnvironment, string][] = [
      [as(run, { type: undefined }), 'it was not scheduled by a workflow'],
      [as(run, { namespace: 'other' }), `it runs in namespace \`other\`, not gatehouse's \`${NS}\``],
      [as(run, { type: 'evil' }), `its workflow type \`evil\` is not \`${SESSION_WORKFLOW_TYPE}\``],
      [as({ workflowId: 'sess-s1', runId: 'r' }), 'its workflow id is not a session\'s (`session-<sessionId>`)'],
      [as({ workflowId: 'session-', runId: 'r' }), 'its workflow id is not a session\'s (`session-<sessionId>`)'],
    ];
    for (const [env, reason] of cases) {
      const r = await refusal(env.run(() => check.verify('patchSession', {})));
      assert.equal(r.details.reason, reason);
      assert.ok(r.message.endsWith(`: ${reason}`), r.message);
    }
    assert.deepEqual(asked, []);
    assert.equal(alerts.length, cases.length);
    assert.ok(alerts.every((a) => a.kind === FOREIGN_CALLER_ALERT && a.at === '2026-06-01T12:00:00.000Z'));
    assert.equal(alerts[0]!.message, 'activity `patchSession` refused for workflow `session-s1` (type ``, run `run-s1`): it was not scheduled by a workflow');
    assert.equal(alerts[1]!.session, 'session-s1');
  });

  it('refuses a genuine run naming another session, workflow or scoped id, and alerts the session it aimed at', async () => {
    const run = genuine('s1');
    const { check, alerts } = setup([run]);
    const reasons = [
      [{ sessionIds: ['s1', 'victim'] }, 'it names session `victim` but its caller is session `s1`'],
      [{ workflowIds: ['session-victim'] }, 'it names workflow `session-victim` but its caller is `session-s1`'],
      [{ scoped: ['victim:p1'] }, 'it names `victim:p1`, which is not session `s1`\'s'],
      [{ scoped: ['s1'] }, 'it names `s1`, which is not session `s1`\'s'],
      [{ scoped: ['s10:p1'] }, 'it names `s10:p1`, which is not session `s1`\'s'],
      [{ scoped: [42] }, 'it names `42`, which is not session `s1`\'s'],
    ] as const;
    for (const [claims, reason] of reasons) {
      const r = await refusal(as(run).run(() => check.verify('runTool', claims)));
      assert.deepEqual(r.details, { rule: FOREIGN_CALLER_ALERT, activity: 'runTool', reason, workflowId: 'session-s1', runId: 'run-s1', workflowType: SESSION_WORKFLOW_TYPE });
      assert.equal(r.message, `activity \`runTool\` refused for workflow \`session-s1\` (type \`${SESSION_WORKFLOW_TYPE}\`, run \`run-s1\`): ${reason}`);
    }
    assert.deepEqual(alerts.map((a) => a.session), ['s1', 'session-s1', 'session-s1', 'session-s1', 'session-s1', 'session-s1']);
    assert.equal(check.stats.describes, 0);
  });

  it('quotes at most 200 characters of an id a foreign caller chose, and alerts a too-long named session on the caller', async () => {
    const run = genuine('s1');
    const { check, alerts } = setup([run]);
    const long = 'v'.repeat(201);
    const r = await refusal(as(run).run(() => check.verify('patchSession', { sessionIds: [long] })));
    assert.equal(r.details.reason, `it names session \`${'v'.repeat(200)}…\` but its caller is session \`s1\``);
    assert.equal(alerts[0]!.session, 'session-s1');
    const exact = 'w'.repeat(200);
    const whole = await refusal(as(run).run(() => check.verify('patchSession', { sessionIds: [exact] })));
    assert.equal(whole.details.reason, `it names session \`${exact}\` but its caller is session \`s1\``, '200 characters are shown whole');
    assert.equal(alerts[1]!.session, exact);
    await refusal(as(run).run(() => check.verify('patchSession', { sessionIds: [''] })));
    assert.equal(alerts[2]!.session, 'session-s1');
    const typed = await refusal(as(run, { type: 't'.repeat(300) }).run(() => check.verify('patchSession', {})));
    assert.equal(typed.details.reason, `its workflow type \`${'t'.repeat(200)}…\` is not \`${SESSION_WORKFLOW_TYPE}\``);
  });

  it('refuses a run the server does not know, of another type or task queue; fails retryably when the server cannot answer', async () => {
    const { check } = setup([{ ...genuine('s2'), type: 'other' }, { ...genuine('s3'), taskQueue: 'elsewhere' }]);
    assert.equal((await refusal(as(genuine('s1')).run(() => check.verify('x', {})))).details.reason, `run \`run-s1\` of \`session-s1\` does not exist in namespace \`${NS}\``);
    assert.equal((await refusal(as(genuine('s2')).run(() => check.verify('x', {})))).details.reason, `its workflow type \`other\` is not \`${SESSION_WORKFLOW_TYPE}\``);
    assert.equal((await refusal(as(genuine('s3')).run(() => check.verify('x', {})))).details.reason, `its task queue \`elsewhere\` is not gatehouse's \`${QUEUE}\``);
    const down = setup([genuine('s1')], { fail: { code: 14, message: 'unavailable' } });
    await assert.rejects(as(genuine('s1')).run(() => down.check.verify('x', {})), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, CALLER_CHECK_UNAVAILABLE);
      assert.equal(err.nonRetryable, false);
      assert.equal(err.message, 'the caller check could not describe run `run-s1` of `session-s1`: unavailable');
      return true;
    });
    assert.deepEqual(down.alerts, []);
    // Not cached: the next call asks again.
    await assert.rejects(as(genuine('s1')).run(() => down.check.verify('x', {})));
    assert.equal(down.asked.length, 2);
  });

  it('a run refused once is refused again: only genuine runs are remembered', async () => {
    const foreign = { ...genuine('s2'), type: 'other' };
    const { check, asked } = setup([foreign]);
    await refusal(as(foreign).run(() => check.verify('x', {})));
    await refusal(as(foreign).run(() => check.verify('x', {})));
    assert.equal(asked.length, 2, 'asked again, not answered from the cache of genuine runs');
  });

  it('an answer missing the type or the task queue is refused, saying so', async () => {
    const bare: DescribeService = { workflowService: { describeWorkflowExecution: async (req) => ({ workflowExecutionInfo: { execution: { workflowId: req.execution?.workflowId, runId: req.execution?.runId } } }) } };
    const noQueue: DescribeService = { workflowService: { describeWorkflowExecution: async (req) => ({ workflowExecutionInfo: { execution: { workflowId: req.execution?.workflowId, runId: req.execution?.runId }, type: { name: SESSION_WORKFLOW_TYPE } } }) } };
    const alerts = { raiseAlert: async () => undefined } as never;
    const untyped = temporalCallerCheck({ connection: bare, namespace: NS, taskQueue: QUEUE, alerts });
    assert.equal((await refusal(as(genuine('s1')).run(() => untyped.verify('x', {})))).details.reason, `its workflow type \`\` is not \`${SESSION_WORKFLOW_TYPE}\``);
    const queueless = temporalCallerCheck({ connection: noQueue, namespace: NS, taskQueue: QUEUE, alerts });
    assert.equal((await refusal(as(genuine('s1')).run(() => queueless.verify('x', {})))).details.reason, `its task queue \`\` is not gatehouse's \`${QUEUE}\``);
  });

  it('the names a refusal carries are stable (alerts in the trail, error types callers match)', () => {
    assert.deepEqual([FOREIGN_CALLER_ERROR, CALLER_CHECK_UNAVAILABLE, FOREIGN_CALLER_ALERT], ['ForeignCallerError', 'CallerCheckUnavailableError', 'caller.foreign']);
  });

  it('a server answer about another run is refused', async () => {
    const s = server([genuine('s1')]);
    const wrong: DescribeService = { workflowService: { describeWorkflowExecution: async (req) => ({ ...(await s.service.workflowService.describeWorkflowExecution({ ...req, execution: { workflowId: 'session-s1', runId: 'run-s1' } })) }) } };
    const alerts: unknown[] = [];
    const check = temporalCallerCheck({ connection: wrong, namespace: NS, taskQueue: QUEUE, alerts: { raiseAlert: async (...a: unknown[]) => { alerts.push(a); } } as never });
    assert.equal((await refusal(as({ workflowId: 'session-s1', runId: 'run-x' }).run(() => check.verify('x', {})))).details.reason, 'the server does not know run `run-x` of `session-s1`');
    assert.equal((await refusal(as({ workflowId: 'session-s9', runId: 'run-s1' }).run(() => check.verify('x', {})))).details.reason, 'the server does not know run `run-s1` of `session-s9`');
    assert.equal(alerts.length, 2);
  });

  it('a local activity is bound to its session without a round trip', async () => {
    const { check, asked } = setup([]);
    await as(genuine('s1'), { isLocal: true }).run(() => check.verify('runTool', { sessionIds: ['s1'] }));
    await refusal(as(genuine('s1'), { isLocal: true }).run(() => check.verify('runTool', { sessionIds: ['s2'] })));
    assert.deepEqual(asked, []);
  });

  it('remembers at most cacheSize runs, the oldest forgotten first; a cached run id under another workflow id is asked again', async () => {
    const runs = [genuine('a'), genuine('b'), genuine('c')];
    const { check, asked } = setup(runs, { cacheSize: 2 });
    for (const r of runs) await as(r).run(() => check.verify('x', {}));
    await as(runs[2]).run(() => check.verify('x', {})); // cached
    await as(runs[1]).run(() => check.verify('x', {})); // cached
    assert.equal(asked.length, 3);
    await as(runs[0]).run(() => check.verify('x', {})); // evicted: asked again
    assert.equal(asked.length, 4);
    const { check: c2, asked: a2 } = setup([genuine('a', 'r1')]);
    await as(genuine('a', 'r1')).run(() => c2.verify('x', {}));
    await refusal(as({ workflowId: 'session-b', runId: 'r1' }).run(() => c2.verify('x', {})));
    assert.equal(a2.length, 2);
  });
});

describe('guardActivities and the claims table', () => {
  it('runs the check before each activity with that activity\'s claims, and the activity only if it passes', async () => {
    const ran: string[] = [];
    const seen: [string, CallerClaims][] = [];
    const activities = Object.fromEntries(Object.keys(CALLER_CLAIMS).map((name) => [name, async (...args: unknown[]) => { ran.push(name); return args.length; }])) as unknown as SessionActivities;
    const guarded = guardActivities(activities, { verify: async (activity, claims) => { seen.push([activity, claims]); if (activity === 'patchSession') throw new Error('refused'); } });
    assert.equal(await (guarded.appendAudit as unknown as (...a: unknown[]) => Promise<number>)([{ sessionId: 's1' }, { sessionId: 's2' }, null]), 1);
    assert.deepEqual(seen[0], ['appendAudit', { sessionIds: ['s1', 's2', undefined] }]);
    await assert.rejects((guarded.patchSession as (...a: unknown[]) => Promise<unknown>)('s1', {}), /refused/);
    assert.deepEqual(ran, ['appendAudit']);
    assert.deepEqual(Object.keys(guarded).sort(), Object.keys(CALLER_CLAIMS).sort());
  });

  it('names every session, workflow and scoped id each activity\'s input carries, reading any input defensively', () => {
    const req = { sessionId: 's1', workflowId: 'session-s1', approvalId: 's1:a1' } as never;
    const c = CALLER_CLAIMS as unknown as Record<string, (...a: unknown[]) => CallerClaims>;
    assert.deepEqual(c.loadSessionContext!({ sessionId: 's1' }), { sessionIds: ['s1'] });
    assert.deepEqual(c.refuseSessionStart!('s1'), { sessionIds: ['s1'] });
    assert.deepEqual(c.startSessionRecord!({ sessionId: 's1', workflowId: 'session-s1' }, [{ sessionId: 's2' }]), { sessionIds: ['s1', 's2'], workflowIds: ['session-s1'] });
    assert.deepEqual(c.appendAudit!('not a list'), { sessionIds: [] });
    assert.deepEqual(c.patchSession!('s1', {}), { sessionIds: ['s1'] });
    assert.deepEqual(c.prepareCall!({ sessionId: 's1' }), {});
    assert.deepEqual(c.runTool!({ sessionId: 's1', before: [{ sessionId: 's3' }], idempotencyKey: 's1:p1' }), { sessionIds: ['s1', 's3'], scoped: ['s1:p1'] });
    assert.deepEqual(c.scoreIntent!({}), {});
    assert.deepEqual(c.compareIntents!({}), {});
    assert.deepEqual(c.storeApproval!(req), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1'] });
    assert.deepEqual(c.requestApproval!(req), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1'] });
    assert.deepEqual(c.escalateApproval!(req, { approvalId: 'x:1' }), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1', 'x:1'] });
    assert.deepEqual(c.resolveApproval!(req, { approvalId: 'y:1' }), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1', 'y:1'] });
    assert.deepEqual(c.raiseSessionAlert!('s1'), { sessionIds: ['s1'] });
    assert.deepEqual(c.reserveAcrossSessions!({ request: { sessionId: 's1', reservationId: 's1:r' } }), { sessionIds: ['s1'], scoped: ['s1:r'] });
    assert.deepEqual(c.runTool!(undefined), { sessionIds: [undefined], scoped: [undefined] });
    assert.deepEqual(c.requestApproval!(undefined), { sessionIds: [undefined], workflowIds: [undefined], scoped: [undefined] });
    assert.deepEqual(c.startSessionRecord!(null, null), { sessionIds: [undefined], workflowIds: [undefined] });
    assert.deepEqual(c.reserveAcrossSessions!(null), { sessionIds: [undefined], scoped: [undefined] });
    assert.deepEqual(c.loadSessionContext!(null), { sessionIds: [undefined] });
    // Leases handed back, and inputs missing their parts (a foreign caller's), read without throwing.
    assert.deepEqual(c.reserveAcrossSessions!({ request: { sessionId: 's1', reservationId: 's1:r', returns: [{ leaseId: 's1:l1' }, null] } }), { sessionIds: ['s1'], scoped: ['s1:r', 's1:l1', undefined] });
    assert.deepEqual(c.reserveAcrossSessions!({}), { sessionIds: [undefined], scoped: [undefined] });
    // A tree step claims only the calling session: the root it reaches is derived from that id.
    assert.deepEqual(c.askTreeRoot!({ sessionId: 'S.1', proposalSeq: 3, tool: 'volumes.list' }), { sessionIds: ['S.1'] });
    assert.deepEqual(c.askTreeRoot!(null), { sessionIds: [undefined] });
    assert.deepEqual(c.returnLeases!({ request: { sessionId: 's1', returnId: 's1:ret', returns: [{ leaseId: 's1:l2' }] } }), { sessionIds: ['s1'], scoped: ['s1:ret', 's1:l2'] });
    assert.deepEqual(c.returnLeases!({}), { sessionIds: [undefined], scoped: [undefined] });
    assert.deepEqual(c.returnLeases!(null), { sessionIds: [undefined], scoped: [undefined] });
    assert.deepEqual(c.escalateApproval!(req, undefined), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1', undefined] });
    assert.deepEqual(c.resolveApproval!(req, null), { sessionIds: ['s1'], workflowIds: ['session-s1'], scoped: ['s1:a1', undefined] });
  });
});
