/**
 * The real Bolt app over HTTP, its Web API client pointed at the fake Slack, clicks signed with
 * a test signing secret, signed votes delivered to a real Temporal workflow (the recorder, which
 * exposes the session's `approval` signal). The session workflow itself, which verifies the
 * votes, is covered in `session.test.ts`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { webApi } from '@slack/bolt';
import { createApprovalActivities } from '../../activities/approvals';
import { APPROVE_ACTION_ID } from '../../approvals/messages';
import { verifyEnvelope } from '../../policies/trust';
import { testTrust } from '../support/trust';
import { approvalRequest, BOT_TOKEN, buttonClickBody, HARNESS_KEYSET, requirement, signedHeaders, startHarness, TEAM_ID, USERS, votePayload, type Harness } from './helpers';
import type { ApprovalSignal } from '../../workflows/contract';
import type { SlackPost } from '../../approvals/types';
import { eventually } from '../support/eventually';

/** Who each received vote was signed for, and its verdict: what the workflow will count. */
function votes(received: readonly ApprovalSignal[]): Array<[string, string, string | undefined]> {
  return received.map((e) => {
    const p = votePayload(e);
    return [p.onBehalfOf?.slackUserId ?? '-', p.verdict, p.reason];
  });
}

let h: Harness;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Text of every block of a Slack call, joined: what a human would read. */
function textOf(args: Record<string, unknown>): string {
  return JSON.stringify(args.blocks ?? []) + String(args.text ?? '');
}

function ephemeralsFor(userId: string) {
  return h.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === userId);
}

describe('request signature verification (Bolt HTTPReceiver)', () => {
  test('forged, stale and missing signatures are refused with 401 and nothing is signalled', async () => {
    const a = await h.newApproval();
    const body = buttonClickBody({ actionId: APPROVE_ACTION_ID, approvalId: a.req.approvalId, user: USERS.alice, channel: a.channel, ts: a.ts });
    const before = h.slack.calls.length;

    assert.equal(await h.post(body, signedHeaders(body, { secret: 'not-the-signing-secret' })), 401, 'forged signature');
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    assert.equal(await h.post(body, signedHeaders(body, { timestamp: stale })), 401, 'replayed (stale) timestamp');
    assert.equal(await h.post(body, {}), 401, 'missing signature');
    const tampered = body.replace('U0ALICE', 'U0CAROL');
    assert.equal(await h.post(tampered, signedHeaders(body)), 401, 'body changed after signing');
    const otherTeam = body.replace(/T0TEST/g, 'T0EVIL');
    assert.equal(await h.post(otherTeam, signedHeaders(body)), 401, 'team changed after signing');

    // A correctly signed click afterwards is handled: the refusals above were not a broken app.
    const ok = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(ok.result?.ok, true);
    const received = await h.received(a.handle);
    assert.equal(received.length, 1, 'only the signed click reached the workflow');
    assert.equal(h.interactions.filter((e) => e.approvalId === a.req.approvalId).length, 1);
    assert.ok(h.slack.calls.slice(before).every((c) => c.method !== 'chat.postEphemeral'));
  });
});

describe('posting', () => {
  test('one Block Kit message with the request and Approve/Deny buttons; a retry does not post again', async () => {
    const a = await h.newApproval();
    const posts = h.slack.callsOf('chat.postMessage').filter((c) => textOf(c.args).includes(a.req.approvalId));
    assert.equal(posts.length, 1);
    const text = textOf(posts[0]!.args);
    for (const expected of ['billing-bot', 'U0OWNER', 'clean up test billing records', 'billing.deleteRecords', 'tier.destructive', '14,200', 'no longer needed']) {
      assert.ok(text.includes(expected), `message shows \`${expected}\``);
    }
    assert.ok(!text.includes('sk-live-secret'), 'raw secret arguments never reach Slack');
    assert.equal(posts[0]!.args.channel, '#gatehouse-approvals');
    const actions = (posts[0]!.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions');
    assert.deepEqual(actions?.elements?.map((e) => [e.action_id, e.value]), [
      ['gatehouse_approve', a.req.approvalId],
      ['gatehouse_deny', a.req.approvalId],
    ]);

    // The activity retried (e.g. after a worker crash): the stored ts is found, nothing is posted.
    const again = await h.activities.requestApproval(a.req);
    assert.equal(again.postedNow, false);
    assert.deepEqual(again.post, { level: 0, channel: a.channel, ts: a.ts });
    assert.equal(h.slack.callsOf('chat.postMessage').filter((c) => textOf(c.args).includes(a.req.approvalId)).length, 1);
  });
});

describe('posting without slack, and slack failures', () => {
  test('without a slack client the approval is stored and nothing is posted (the CLI decides)', async () => {
    const activities = createApprovalActivities({ store: h.store });
    const req = approvalRequest(`session-noslack-${Date.now()}`);
    const calls = h.slack.calls.length;
    const r = await activities.requestApproval(req);
    assert.deepEqual(r, { postedNow: false });
    assert.equal((await h.store.get(req.approvalId))?.status, 'pending');
    await activities.resolveApproval(req, { approvalId: req.approvalId, status: 'denied', decidedBy: ['bob'], reason: 'cli', at: new Date().toISOString() });
    assert.equal((await h.store.get(req.approvalId))?.status, 'denied');
    assert.equal(h.slack.calls.length, calls);
  });

  test('a configuration error from slack is non-retryable, an outage is retryable, and the row is kept', async () => {
    const req = approvalRequest(`session-slackfail-${Date.now()}`);
    h.slack.failNext('chat.postMessage', 'channel_not_found');
    await assert.rejects(h.activities.requestApproval(req), (err: ApplicationFailure) => {
      assert.equal(err.type, 'SlackConfigurationError');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /channel_not_found/);
      return true;
    });
    assert.equal((await h.store.get(req.approvalId))?.status, 'pending', 'the CLI can still decide');
    h.slack.failNext('chat.postMessage', 'ratelimited');
    await assert.rejects(h.activities.requestApproval(req), (err: ApplicationFailure) => err.type === 'SlackUnavailableError' && !err.nonRetryable);
    // The retry that finally reaches Slack posts exactly once.
    const ok = await h.activities.requestApproval(req);
    assert.equal(ok.postedNow, true);
    assert.equal(h.slack.callsOf('chat.postMessage').filter((c) => textOf(c.args).includes(req.approvalId) && c.response.ok === true).length, 1);
  });
});

describe('store', () => {
  test('a decision waiting for the row lock sees the vote committed before it', async () => {
    const a = await h.newApproval();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let firstHolds!: () => void;
    const holding = new Promise<void>((r) => (firstHolds = r));
    const first = h.store.withLock(a.req.approvalId, async ({ addVote }) => {
      await addVote({ approver: 'U0ALICE', approve: true, via: 'cli', at: new Date().toISOString() });
      firstHolds();
      await gate;
    });
    await holding;
    const second = h.store.withLock(a.req.approvalId, async ({ record }) => record?.votes.map((v) => v.approver));
    // Release the first only once the second is blocked on the row lock.
    await eventually(
      async () => {
        const { rows } = await h.db.pool.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return (rows[0] as { n: number }).n > 0;
      },
      { what: 'the second decision blocked on the row lock', everyMs: 10 },
    );
    release();
    await first;
    assert.deepEqual(await second, ['U0ALICE']);
  });
});

describe('clicks', () => {
  test('approve: one vote signed by the service key for the Slack user and team, bound to the call; the message is updated', async () => {
    const a = await h.newApproval();
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok, true);
    const received = await h.received(a.handle);
    assert.equal(received.length, 1);
    const envelope = received[0]!;
    const checked = verifyEnvelope(envelope, HARNESS_KEYSET, Date.now());
    assert.equal(checked.ok && checked.key.keyId, testTrust().service.keyId, 'signed with the approvals service key');
    const p = votePayload(envelope);
    assert.deepEqual(
      { kind: p.kind, workflowId: p.workflowId, firstRunId: p.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, verdict: p.verdict, onBehalfOf: p.onBehalfOf, keyId: p.keyId },
      {
        kind: 'vote', workflowId: a.req.workflowId, firstRunId: a.handle.firstExecutionRunId, approvalId: a.req.approvalId, callDigest: a.req.callDigest, tool: 'billing.deleteRecords',
        verdict: 'approve', onBehalfOf: { slackUserId: 'U0ALICE', slackTeamId: TEAM_ID }, keyId: testTrust().service.keyId,
      },
    );
    const update = await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('Approved'));
    assert.equal(update.args.channel, a.channel);
    assert.ok(!textOf(update.args).includes('gatehouse_approve'), 'buttons are gone once decided');
  });

  test('deny: the button opens a modal, its submission signals with the reason', async () => {
    const a = await h.newApproval();
    const form = await h.click('deny', USERS.bob, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(form.error, undefined);
    assert.deepEqual(await h.received(a.handle), [], 'opening the form decides nothing');
    const opened = h.slack.callsOf('views.open').at(-1)!;
    assert.equal((opened.args.view as { callback_id: string }).callback_id, 'gatehouse_deny_reason');

    const e = await h.submitDeny(USERS.bob, 'not during the billing run');
    assert.equal(e.result?.ok, true);
    // `bob` is listed by name in the policy: the keyset maps Slack user U0BOB to him.
    assert.deepEqual(votes(await h.received(a.handle)), [['U0BOB', 'deny', 'not during the billing run']]);
    assert.equal(e.result?.ok && e.result.approver, 'bob');
    const update = await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('Denied'));
    assert.ok(textOf(update.args).includes('not during the billing run'));
  });

  test('a click by someone outside the approver groups gets an ephemeral refusal and changes nothing', async () => {
    const a = await h.newApproval();
    const updatesBefore = h.slack.callsOf('chat.update').length;
    const e = await h.click('approve', USERS.mallory, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok, false);
    assert.equal(e.result?.ok === false && e.result.code, 'not-an-approver');
    const eph = ephemeralsFor(USERS.mallory.id).at(-1);
    assert.ok(eph && String(eph.args.text).includes('not in an approver group'));
    assert.equal(eph.args.channel, a.channel);
    assert.deepEqual(await h.received(a.handle), []);
    assert.equal(h.slack.callsOf('chat.update').length, updatesBefore);
    assert.equal((await h.store.get(a.req.approvalId))?.votes.length, 0);
  });

  test('a click by a Slack user the keyset does not map is refused, whatever name they carry', async () => {
    const a = await h.newApproval();
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    const stranger = await h.click('approve', USERS.stranger, target);
    assert.equal(stranger.result?.ok === false && stranger.result.code, 'unknown-identity');
    assert.match(stranger.result?.ok === false ? stranger.result.message : '', /Slack user `U0STRANGER` of team `T0TEST` is not a registered approver/);
    // A handle or display name is never an identity: `bob` by name, from an unmapped account.
    const impostor = await h.click('approve', { id: 'U0IMPOSTOR', username: 'bob' }, target);
    assert.equal(impostor.result?.ok === false && impostor.result.code, 'unknown-identity');
    // A registered user id from another workspace is another person.
    const elsewhere = await h.click('approve', { ...USERS.alice, teamId: 'T0OTHER' }, target);
    assert.equal(elsewhere.result?.ok === false && elsewhere.result.code, 'unknown-identity');
    const opened = h.slack.callsOf('views.open').length;
    const denyForm = await h.click('deny', USERS.stranger, target);
    assert.equal(denyForm.result?.ok === false && denyForm.result.code, 'unknown-identity');
    assert.equal(h.slack.callsOf('views.open').length, opened, 'no deny form for a stranger');
    assert.ok(ephemeralsFor(USERS.stranger.id).some((c) => String(c.args.text).includes('is not a registered approver')));
    assert.deepEqual(await h.received(a.handle), []);
    assert.equal((await h.store.get(a.req.approvalId))?.votes.length, 0);
  });

  test('a deny click by a non-approver is refused before any form is opened', async () => {
    const a = await h.newApproval();
    const opened = h.slack.callsOf('views.open').length;
    const e = await h.click('deny', USERS.mallory, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok === false && e.result.code, 'not-an-approver');
    assert.equal(h.slack.callsOf('views.open').length, opened);
  });

  test('self-approval: the owner (four eyes) and the agent are refused', async () => {
    const a = await h.newApproval();
    const owner = await h.click('approve', USERS.owner, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(owner.result?.ok === false && owner.result.code, 'four-eyes');

    // The agent listed in a group of its own: still never its own approver.
    const b = await h.newApproval({ requirement: requirement({ groups: ['robots'] }) });
    const agent = { id: 'U0BOTUSER', username: 'billing-bot' };
    const self = await h.click('approve', agent, { approvalId: b.req.approvalId, channel: b.channel, ts: b.ts });
    assert.equal(self.result?.ok === false && self.result.code, 'self-approval');
    assert.deepEqual(await h.received(a.handle), []);
    assert.deepEqual(await h.received(b.handle), []);
  });

  test('without four eyes the owner may approve', async () => {
    const a = await h.newApproval({ requirement: requirement({ fourEyes: false }) });
    const e = await h.click('approve', USERS.owner, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok, true);
    assert.equal((await h.received(a.handle)).length, 1);
  });

  test('double click: one signal; the second click is told it was already decided', async () => {
    const a = await h.newApproval();
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    const [first, second] = await Promise.all([h.click('approve', USERS.alice, target), h.click('approve', USERS.alice, target)]);
    const results = [first.result, second.result];
    assert.equal(results.filter((r) => r?.ok).length, 1);
    const refused = results.find((r) => r && !r.ok);
    assert.equal(refused?.ok === false && refused.code, 'already-decided');
    assert.ok(ephemeralsFor(USERS.alice.id).some((c) => String(c.args.text).includes('already approved')));
    assert.equal((await h.received(a.handle)).length, 1);
  });

  test('two approvers racing: one decision, the other is told', async () => {
    const a = await h.newApproval();
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    await h.click('deny', USERS.bob, target);
    const [approve, deny] = await Promise.all([h.click('approve', USERS.alice, target), h.submitDeny(USERS.bob, 'racing')]);
    assert.equal([approve.result?.ok, deny.result?.ok].filter(Boolean).length, 1);
    const received = await h.received(a.handle);
    assert.equal(received.length, 1);
  });

  test('a redelivered click (same action) is not signalled twice and not answered as a refusal', async () => {
    const a = await h.newApproval();
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    const first = await h.click('approve', USERS.alice, target, '1700000000.000001');
    const again = await h.click('approve', USERS.alice, target, '1700000000.000001');
    assert.equal(first.result?.ok, true);
    assert.equal(again.result?.ok && again.result.duplicate, true);
    assert.equal((await h.received(a.handle)).length, 1);
  });

  test('a worker from before the vote update: the vote goes as the signal; the clicker is told it was sent, the message shows nothing decided', async () => {
    const a = await h.newApproval({}, { olderWorker: true });
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    const sent = await h.click('approve', USERS.alice, target);
    assert.equal(sent.error, undefined);
    assert.equal(sent.result?.ok, true);
    assert.equal(sent.result.answered, false);
    assert.equal((await h.received(a.handle)).length, 1, 'the session has the vote, as the signal');
    assert.deepEqual((await h.store.get(a.req.approvalId))?.votes, [], 'the row keeps only votes the session counted');
    assert.deepEqual(ephemeralsFor(USERS.alice.id).map((c) => String(c.args.text)).filter((t) => t.includes(a.req.approvalId)), [`:warning: your vote on \`${a.req.approvalId}\` was sent; the session has not answered yet (is its worker running?): it counts or refuses the vote when it runs (a refusal is an alert in its trail, \`gatehouse trace\`), and this message shows the approval's outcome once it is settled`]);
    assert.deepEqual(h.slack.callsOf('chat.update').filter((c) => c.args.ts === a.ts), [], 'nothing shown as decided before the session says so');
  });

  test('a click after the deadline is refused as expired; the resolved message says denied automatically', async () => {
    const a = await h.newApproval({ deadline: new Date(Date.now() - 1000).toISOString() });
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok === false && e.result.code, 'expired');
    assert.deepEqual(await h.received(a.handle), []);

    await h.activities.resolveApproval(a.req, { approvalId: a.req.approvalId, status: 'expired', decidedBy: [], at: new Date().toISOString() });
    const update = await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('Expired: denied automatically'));
    assert.ok(!textOf(update.args).includes('gatehouse_approve'));
    const late = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(late.result?.ok === false && late.result.code, 'expired');
  });

  test('two approvers required: the same person twice is refused, two distinct people are both signalled', async () => {
    const a = await h.newApproval({ requirement: requirement({ approversRequired: 2 }) });
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };
    const one = await h.click('approve', USERS.alice, target);
    assert.equal(one.result?.ok && one.result.final, false);
    const progress = await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('1 of 2'));
    assert.ok(textOf(progress.args).includes('gatehouse_approve'), 'buttons stay until the second approval');
    const same = await h.click('approve', USERS.alice, target);
    assert.equal(same.result?.ok === false && same.result.code, 'already-approved-by-you');
    const two = await h.click('approve', USERS.bob, target);
    assert.equal(two.result?.ok && two.result.final, true);
    assert.deepEqual(votes(await h.received(a.handle)).map(([user]) => user), ['U0ALICE', 'U0BOB']);
    const third = await h.click('approve', USERS.carol, target);
    assert.equal(third.result?.ok === false && third.result.code, 'already-decided');
  });

  test('escalation: the next group is mentioned in a re-post and may decide once the ladder reached it', async () => {
    const ladder = requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [60 * 60_000], timeoutMs: 2 * 60 * 60_000 });
    const fresh = await h.newApproval({ requirement: ladder });
    const early = await h.click('approve', USERS.carol, { approvalId: fresh.req.approvalId, channel: fresh.channel, ts: fresh.ts });
    assert.equal(early.result?.ok === false && early.result.code, 'not-an-approver', 'eng-leads are not asked before the escalation');

    // Requested 61 minutes ago: the escalation point has passed, as the workflow's clock says.
    const requestedAt = Date.now() - 61 * 60_000;
    const a = await h.newApproval({ requirement: ladder, requestedAt: new Date(requestedAt).toISOString(), deadline: new Date(requestedAt + ladder.timeoutMs).toISOString() });
    const target = { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts };

    const esc = { approvalId: a.req.approvalId, level: 1, group: 'eng-leads', at: new Date().toISOString() };
    const first = await h.activities.escalateApproval(a.req, esc);
    const retried = await h.activities.escalateApproval(a.req, esc);
    assert.equal(first.postedNow, true);
    assert.equal(retried.postedNow, false, 'a retried escalation does not post twice');
    const repost = h.slack.callsOf('chat.postMessage').filter((c) => textOf(c.args).includes(a.req.approvalId) && textOf(c.args).includes('Escalated'));
    assert.equal(repost.length, 1);
    assert.ok(textOf(repost[0]!.args).includes('<@U0CAROL>'), 'the next group is mentioned');
    assert.equal((await h.store.get(a.req.approvalId))?.escalationLevel, 1);

    const later = await h.click('approve', USERS.carol, { ...target, ts: first.post!.ts });
    assert.equal(later.result?.ok, true);
    assert.deepEqual(votes(await h.received(a.handle)), [['U0CAROL', 'approve', undefined]]);
    // Both posts (the request and the escalation) show the decision.
    await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('Approved'));
    await h.slack.waitFor('chat.update', (c) => c.args.ts === first.post!.ts && textOf(c.args).includes('Approved'));
  });

  test('an approval resolved while its escalation posts: every post ends showing the outcome', async () => {
    const ladder = requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [60 * 60_000], timeoutMs: 2 * 60 * 60_000 });
    const requestedAt = Date.now() - 61 * 60_000;
    const a = await h.newApproval({ requirement: ladder, requestedAt: new Date(requestedAt).toISOString(), deadline: new Date(requestedAt + ladder.timeoutMs).toISOString() });
    // The workflow sends escalations beside the wait: its resolution lands after this escalation
    // posted and before it stored the post, so the resolution updates the request post alone, and
    // the escalation then re-renders that post with live buttons.
    const resolution = { approvalId: a.req.approvalId, status: 'expired' as const, decidedBy: [], at: new Date().toISOString() };
    const store = new Proxy(h.store, {
      get(target, key) {
        if (key === 'recordPost') {
          return async (approvalId: string, post: SlackPost) => {
            if (post.level === 1) await h.activities.resolveApproval(a.req, resolution);
            return target.recordPost(approvalId, post);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const escalating = createApprovalActivities({ store, slack: new webApi.WebClient(BOT_TOKEN, { slackApiUrl: h.slack.url }) });
    const esc = { approvalId: a.req.approvalId, level: 1, group: 'eng-leads', at: new Date().toISOString() };
    const { post } = await escalating.escalateApproval(a.req, esc);
    assert.ok(post);
    const lastUpdateOf = (ts: string) => h.slack.callsOf('chat.update').filter((c) => c.args.ts === ts).at(-1);
    for (const ts of [a.ts, post.ts]) assert.match(textOf(lastUpdateOf(ts)!.args), /Expired: denied automatically/, `post ${ts}`);
    assert.equal((await h.store.get(a.req.approvalId))?.status, 'expired');
  });

  test('a decision stands when its message cannot be updated; the clicker is not told otherwise', async () => {
    const a = await h.newApproval();
    h.slack.failNext('chat.update', 'message_not_found');
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok, true);
    assert.equal(e.error, undefined);
    assert.equal((await h.received(a.handle)).length, 1);
    assert.ok(!ephemeralsFor(USERS.alice.id).some((c) => String(c.args.text).includes('could not be recorded')));
  });

  test('a click on a session that no longer runs is refused and recorded nowhere', async () => {
    const a = await h.newApproval();
    await a.handle.terminate('test: session gone');
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok === false && e.result.code, 'session-gone');
    assert.equal((await h.store.get(a.req.approvalId))?.votes.length, 0, 'the vote was rolled back');
  });

  test('a click on a row edited after the request (tool renamed): refused before signing, buttons gone, an alert, nothing signalled', async () => {
    const a = await h.newApproval();
    await h.db.pool.query('UPDATE approvals SET tool = $2 WHERE approval_id = $1', [a.req.approvalId, 'billing.query']);
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok === false && e.result.code, 'call-mismatch');
    assert.deepEqual(await h.received(a.handle), [], 'nothing signed or signalled');
    assert.equal((await h.store.get(a.req.approvalId))?.votes.length, 0, 'no vote recorded');
    assert.ok(ephemeralsFor(USERS.alice.id).some((c) => String(c.args.text).includes('does not show the call its session waits for')));
    const refused = await h.slack.waitFor('chat.update', (c) => c.args.ts === a.ts && textOf(c.args).includes('Refused, nothing signed'));
    assert.ok(!textOf(refused.args).includes('gatehouse_approve'), 'the buttons are gone');
    const alerts = await h.db.pool.query<{ kind: string }>('SELECT kind FROM alerts WHERE session_id = $1', [a.req.sessionId]);
    assert.deepEqual(alerts.rows.map((r) => r.kind), ['approval.call-mismatch']);

    // Deny asks for no reason on such a row: the form is never opened.
    const forms = h.slack.callsOf('views.open').length;
    const d = await h.click('deny', USERS.bob, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(d.result?.ok === false && d.result.code, 'call-mismatch');
    assert.equal(h.slack.callsOf('views.open').length, forms);
  });

  test('a click on a row whose arguments were edited after the request is refused (call-mismatch)', async () => {
    const a = await h.newApproval();
    await h.db.pool.query('UPDATE approvals SET redacted_args = $2 WHERE approval_id = $1', [a.req.approvalId, JSON.stringify({ filter: { test: true, month: '2020-01' }, apiKey: '[REDACTED]' })]);
    const e = await h.click('approve', USERS.alice, { approvalId: a.req.approvalId, channel: a.channel, ts: a.ts });
    assert.equal(e.result?.ok === false && e.result.code, 'call-mismatch');
    assert.deepEqual(await h.received(a.handle), []);
  });

  test('resolveApproval updates every post in place and keeps the first resolution', async () => {
    const a = await h.newApproval();
    const at = new Date().toISOString();
    await h.activities.resolveApproval(a.req, { approvalId: a.req.approvalId, status: 'approved', decidedBy: ['U0ALICE'], reason: 'checked the filter', at });
    await h.activities.resolveApproval(a.req, { approvalId: a.req.approvalId, status: 'expired', decidedBy: [], at });
    const row = await h.store.get(a.req.approvalId);
    assert.equal(row?.status, 'approved');
    assert.deepEqual(row?.decidedBy, ['U0ALICE']);
    const updates = h.slack.callsOf('chat.update').filter((c) => c.args.ts === a.ts);
    assert.equal(updates.length, 2);
    assert.ok(updates.every((u) => textOf(u.args).includes('checked the filter') && !textOf(u.args).includes('Expired')));
  });
});
