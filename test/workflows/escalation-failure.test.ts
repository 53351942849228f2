/**
 * A Slack post Slack keeps failing (retried: the request, an escalation) never holds up the
 * approval's wait: a vote releases the call and the deadline denies while it is retried, and what
 * is still being retried then is cancelled with an alert. A request that fails for good leaves the
 * approval to the CLI and the console. An escalation that fails for good (Slack answering `is_archived`, or down past the activity's
 * retries) against the real session workflow and a real worker: telling the next group is best
 * effort, so the approval still waits for votes and its deadline, is recorded and resolved, and
 * the failure is an alert. The failure is made non-retryable (as `SlackConfigurationError` is) so
 * it reaches the workflow at once, well before the deadline, not after the 10 minutes of retries.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { TEST_POLICY } from './fixtures/catalog';
import { createHarness, testPolicy, type Harness } from './harness';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';

const trust = testTrust();

/** The default approver rule with the escalation point and deadline given (in minutes). */
function approvals(escalateAfter: number, timeout: number) {
  const doc = structuredClone(TEST_POLICY);
  return testPolicy({ approvers: { ...doc.approvers, default: { groups: ['on-call', 'sre-leads'], timeoutMinutes: timeout, escalateAfterMinutes: [escalateAfter], fourEyes: true } } });
}

/** Slack failing: every attempt of the activity fails as `failure` does, for as long as the test runs. */
const attemptsOf = new Map<string, number>();
function slackFails(activityType: string, failure: () => ApplicationFailure): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== activityType) return next(input);
        attemptsOf.set(activityType, (attemptsOf.get(activityType) ?? 0) + 1);
        throw failure();
      },
    },
  });
}
const attempts = (activityType: string): number => attemptsOf.get(activityType) ?? 0;
/** As Slack's configuration errors fail: not retried. */
const archived = () => ApplicationFailure.nonRetryable('while calling slack `chat.postMessage` for approval: is_archived', 'SlackConfigurationError');
/** As Slack down fails: retried. */
const unavailable = () => ApplicationFailure.retryable('while calling slack `chat.postMessage` for approval: service_unavailable', 'SlackUnavailableError');
const archivedChannel = slackFails('escalateApproval', archived);
const slackDown = slackFails('escalateApproval', unavailable);

/** `promise`, or a failure naming `what` after `ms`: a regression fails here, not at the suite's 10-minute limit. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms (a Slack post's retries held it)`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The history's activities of one type: how many were scheduled, and how many the workflow cancelled. */
async function activitiesOf(workflow: { fetchHistory(): Promise<{ events?: readonly unknown[] | null }> }, type: string): Promise<{ scheduled: number; cancelRequested: number }> {
  const events = ((await workflow.fetchHistory()).events ?? []) as {
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
    activityTaskCancelRequestedEventAttributes?: { scheduledEventId?: unknown } | null;
    eventId?: unknown;
  }[];
  const scheduledIds = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)));
  return {
    scheduled: scheduledIds.size,
    cancelRequested: events.filter((e) => scheduledIds.has(String(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId))).length,
  };
}

let h: Harness;
before(async () => {
  h = await createHarness('escalation_failure');
});
after(async () => {
  await h?.close();
});

async function replicasOf(service: string): Promise<number> {
  const r = await h.production.pool.query<{ replicas: number }>('SELECT replicas FROM services WHERE name = $1', [service]);
  return r.rows[0]!.replicas;
}

describe('an escalation that fails for good', () => {
  it('is an alert; the deadline still denies, recorded once, the row resolved, the call never run', async () => {
    // Escalation after about a second, the deadline after three.
    const w = await h.worker({ policies: { quick: approvals(0.02, 0.05) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [archivedChannel] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('api');
      const tried = attempts('escalateApproval');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the api', policyRef: 'quick' });
      const r = await s.propose({ tool: 'services.scale', args: { service: 'api', replicas: before + 3 }, reasoning: 'load' });
      assert.equal(r.status, 'expired');
      assert.ok(r.decision.reasons.some((x) => x.rule === 'approval.expired'));
      assert.equal(attempts('escalateApproval') - tried, 1, 'a non-retryable failure is not retried');

      const events = await h.events(s.sessionId);
      assert.deepEqual(events.map((e) => e.kind).slice(1), ['proposed', 'decided', 'approval-requested', 'escalated', 'alert', 'expired']);
      const alert = events.find((e) => e.kind === 'alert');
      assert.equal(alert?.detail?.rule, 'approval.escalation-failed');
      assert.match(String(alert?.detail?.message), /^while escalating approval `.+:1` to `sre-leads`: while calling slack `chat.postMessage` for approval: is_archived: the approval waits on/);
      assert.equal(alert?.proposal_seq, 1);

      const row = await h.audit.pool.query('SELECT status FROM approvals WHERE approval_id = $1', [r.approvalId]);
      assert.equal(row.rows[0]?.status, 'expired');
      const st = await s.state();
      assert.equal(st.pendingApprovals.length, 0);
      assert.equal(st.counters.expired, 1);
      assert.equal(await replicasOf('api'), before, 'never an automatic approval');
      await s.end({});
    });
  });

  it('leaves the widened ladder in force: the group the failed post was for may still approve', async () => {
    const w = await h.worker({ policies: { ladder: approvals(0.02, 5) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [archivedChannel] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('web');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the web tier', policyRef: 'ladder' });
      const pending = s.propose({ tool: 'services.scale', args: { service: 'web', replicas: before + 2 }, reasoning: 'queue backlog' });
      await eventually(async () => (await h.events(s.sessionId)).some((e) => e.kind === 'alert' && e.detail?.rule === 'approval.escalation-failed'), { what: 'the escalation-failed alert' });
      // `carol` is in sre-leads, which only the escalation reaches.
      await h.gh.approve(`${s.sessionId}:1`, { key: trust.approver('carol') });
      const r = await pending;
      assert.equal(r.status, 'executed', JSON.stringify(r.error));
      assert.equal(await replicasOf('web'), before + 2);
      const row = await h.audit.pool.query('SELECT status, decided_by FROM approvals WHERE approval_id = $1', [r.approvalId]);
      assert.deepEqual(row.rows[0], { status: 'approved', decided_by: ['carol'] });
      await s.end({});
    });
  });
});

describe('an escalation Slack keeps failing, retried', () => {
  it('does not hold up the deadline: the call expires on time, the escalation still retried is cancelled with an alert', async () => {
    // Escalation after about a second, the deadline after three; the retries would go on for 10 minutes.
    const w = await h.worker({ policies: { quick: approvals(0.02, 0.05) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [slackDown] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('api');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the api', policyRef: 'quick' });
      const tried = attempts('escalateApproval');
      const r = await within(s.propose({ tool: 'services.scale', args: { service: 'api', replicas: before + 3 }, reasoning: 'load' }), 60_000, 'the deadline\'s denial');
      assert.equal(r.status, 'expired');
      assert.ok(attempts('escalateApproval') - tried >= 1, 'the escalation was attempted');

      const events = await h.events(s.sessionId);
      assert.deepEqual(events.map((e) => e.kind).slice(1), ['proposed', 'decided', 'approval-requested', 'escalated', 'alert', 'expired']);
      const alert = events.find((e) => e.kind === 'alert');
      assert.equal(alert?.detail?.rule, 'approval.escalation-failed');
      assert.match(String(alert?.detail?.message), /^while escalating approval `.+:1` to `sre-leads`: not delivered before the approval expired: they may never have been told$/);
      assert.deepEqual(await activitiesOf(s.workflow, 'escalateApproval'), { scheduled: 1, cancelRequested: 1 });

      const row = await h.audit.pool.query('SELECT status FROM approvals WHERE approval_id = $1', [r.approvalId]);
      assert.equal(row.rows[0]?.status, 'expired');
      assert.equal(await replicasOf('api'), before, 'never an automatic approval');
      await s.end({});
    });
  });

  it('does not hold up a vote: the group the escalation was for approves, the call runs at once, the escalation is cancelled', async () => {
    const w = await h.worker({ policies: { ladder: approvals(0.02, 5) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [slackDown] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('web');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the web tier', policyRef: 'ladder' });
      const tried = attempts('escalateApproval');
      const pending = s.propose({ tool: 'services.scale', args: { service: 'web', replicas: before + 2 }, reasoning: 'queue backlog' });
      await eventually(async () => attempts('escalateApproval') > tried && (await h.events(s.sessionId)).some((e) => e.kind === 'escalated'), { what: 'a failed escalation attempt' });
      // `carol` is in sre-leads, which only the escalation reaches: the ladder widened though Slack is down.
      await h.gh.approve(`${s.sessionId}:1`, { key: trust.approver('carol') });
      const r = await within(pending, 60_000, 'the approved call');
      assert.equal(r.status, 'executed', JSON.stringify(r.error));
      assert.equal(await replicasOf('web'), before + 2);
      // Decided before Slack answered: the post is cancelled, and no one who could decide was missed.
      assert.deepEqual((await h.events(s.sessionId)).filter((e) => e.kind === 'alert'), []);
      assert.deepEqual(await activitiesOf(s.workflow, 'escalateApproval'), { scheduled: 1, cancelRequested: 1 });
      const row = await h.audit.pool.query('SELECT status, decided_by FROM approvals WHERE approval_id = $1', [r.approvalId]);
      assert.deepEqual(row.rows[0], { status: 'approved', decided_by: ['carol'] });
      await s.end({});
    });
  });
});

describe('a request Slack does not take', () => {
  it('while Slack is down, the CLI decides at once; the post still retried is cancelled', async () => {
    const w = await h.worker({ policies: { ladder: approvals(5, 10) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [slackFails('requestApproval', unavailable)] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('web');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the web tier', policyRef: 'ladder' });
      const tried = attempts('requestApproval');
      const pending = s.propose({ tool: 'services.scale', args: { service: 'web', replicas: before + 1 }, reasoning: 'queue backlog' });
      await eventually(() => attempts('requestApproval') > tried, { what: 'a failed request post' });
      const row = await h.audit.pool.query('SELECT status FROM approvals WHERE approval_id = $1', [`${s.sessionId}:1`]);
      assert.equal(row.rows[0]?.status, 'pending', 'the row the CLI decides on is stored before Slack is asked');
      await h.gh.approve(`${s.sessionId}:1`, { key: trust.approver('alice') });
      const r = await within(pending, 60_000, 'the approved call');
      assert.equal(r.status, 'executed', JSON.stringify(r.error));
      assert.equal(await replicasOf('web'), before + 1);
      assert.deepEqual((await h.events(s.sessionId)).filter((e) => e.kind === 'alert'), []);
      assert.deepEqual(await activitiesOf(s.workflow, 'requestApproval'), { scheduled: 1, cancelRequested: 1 }, 'the post still retried is cancelled');
      await s.end({});
    });
  });

  it('a request Slack refuses for good is an alert; the approval waits on and the CLI decides', async () => {
    const w = await h.worker({ policies: { ladder: approvals(5, 10) }, workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [slackFails('requestApproval', archived)] } } });
    await w.runUntil(async () => {
      const before = await replicasOf('web');
      const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the web tier', policyRef: 'ladder' });
      const pending = s.propose({ tool: 'services.scale', args: { service: 'web', replicas: before + 1 }, reasoning: 'queue backlog' });
      const alert = await eventually(async () => (await h.events(s.sessionId)).find((e) => e.kind === 'alert'), { what: 'the not-posted alert' });
      assert.equal(alert.detail?.rule, 'approval.not-posted');
      assert.equal(alert.detail?.message, `while posting approval \`${s.sessionId}:1\`: while calling slack \`chat.postMessage\` for approval: is_archived: the approval waits on for votes and its deadline`);
      assert.equal((await s.state()).pendingApprovals.length, 1, 'still waiting for a vote');
      await h.gh.approve(`${s.sessionId}:1`, { key: trust.approver('alice') });
      const r = await within(pending, 60_000, 'the approved call');
      assert.equal(r.status, 'executed', JSON.stringify(r.error));
      assert.equal(await replicasOf('web'), before + 1);
      await s.end({});
    });
  });

});
