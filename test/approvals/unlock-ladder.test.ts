/**
 * The escalation ladder of an unlock, against the REAL session workflow, the real Bolt app and the
 * fake Slack. An unlock has two parts — the unlock group's and the call's own approvers — and the
 * vote rule widens each on its own clock: when the call's part reaches its next group, that group
 * is told (an `escalated` event and a re-post mentioning it), and every message shows each part
 * at its own level. Short policy deadlines (seconds); nothing asserts a duration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderEscalation, renderRequest } from '../../approvals/messages';
import type { Gatehouse } from '../../client';
import { unlockOf } from '../../policies';
import { ApprovalWait } from '../../workflows/approval-wait';
import type { SlackCall } from '../support/fake-slack';
import { approvalRequest, recordOf, requirement } from './fixtures';
import { USERS, type Harness } from './helpers';
import { parsed, startSessionHarness } from './session-harness';

const GROUPS = { sre: ['U0ALICE', 'bob'], 'eng-leads': ['U0CAROL'] };

/** Running `test.flaky` then `test.slowCounter` is forbidden; the unlock asks eng-leads, the call itself sre, then eng-leads after about a second. */
const POLICY = {
  name: 'unlock-ladder',
  intent: { reviewBelow: 0 },
  tools: { 'test.flaky': { tier: 'autonomous' } },
  transitions: [{ from: 'test.flaky', to: 'test.slowCounter', reason: 'a flaky run then a count is how the test incident began' }],
  approvers: {
    groups: GROUPS,
    default: { groups: ['sre', 'eng-leads'], escalateAfterMinutes: [0.02], timeoutMinutes: 10, channel: '#gatehouse-approvals', fourEyes: true },
    transitionUnlock: { groups: ['eng-leads'], timeoutMinutes: 10, channel: '#gatehouse-approvals' },
  },
};

const textOf = (c: SlackCall) => JSON.stringify(c.args.blocks ?? []) + String(c.args.text ?? '');

/** The reviewer's case as a requirement: unlock by eng-leads (no steps), the call by sre, eng-leads after 5 minutes. */
const UNLOCK = requirement({
  groups: ['eng-leads'],
  unlocksTransition: true,
  alsoRequired: requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [300_000] }),
});

describe('the ladder of every part (pure)', () => {
  test('the wait escalates at the call part\'s step, naming the group it adds', () => {
    const w = new ApprovalWait(approvalRequest('session-u1', { requirement: UNLOCK }), { requestedAt: 0, proposalSeq: 1, proposalId: undefined, ladderOfEveryPart: true });
    assert.deepEqual(w.nextDeadline(), { kind: 'escalation', at: 300_000 });
    assert.deepEqual(w.escalate('t'), { approvalId: 'u1:1', level: 1, group: 'eng-leads', at: 't' });
    assert.deepEqual(w.partLevels(), [0, 1]);
    assert.deepEqual(w.nextDeadline(), { kind: 'deadline', at: 900_000 });
    // A run recorded before the patch waits for the deadline alone, as it did.
    const old = new ApprovalWait(approvalRequest('session-u2', { requirement: UNLOCK }), { requestedAt: 0, proposalSeq: 1, proposalId: undefined });
    assert.deepEqual(old.nextDeadline(), { kind: 'deadline', at: 900_000 });
  });

  test('the messages show each part at its own level and mention the group added', () => {
    const record = recordOf(approvalRequest('session-u3', { requirement: UNLOCK }));
    assert.ok(JSON.stringify(renderRequest(record, 0).blocks).includes('*Approvers*\\n`eng-leads` *and* `sre`"'));
    const escalated = renderEscalation(record, 1);
    const blocks = JSON.stringify(escalated.blocks);
    assert.ok(blocks.includes('*Escalated* to `eng-leads` (level 1): no decision yet. <@U0CAROL>'), blocks);
    assert.ok(blocks.includes('*Approvers*\\n`eng-leads` *and* `sre`, `eng-leads`"'), blocks);
    assert.match(escalated.text, /^Escalated to eng-leads: /);
  });
});

describe('an unlock whose call part escalates, against the real session workflow', () => {
  let h: Harness;
  let gh: Gatehouse;
  let harness: Awaited<ReturnType<typeof startSessionHarness>> | undefined;
  before(async () => {
    harness = await startSessionHarness({ prefix: 'unlock_ladder', policy: parsed(POLICY) });
    ({ h, gh } = harness);
  });
  after(async () => {
    await harness?.close();
  });

  test('tells the group the call part widens to, and shows each part at its own level', async () => {
    const session = await gh.startSession({ agentId: 'billing-bot', owner: 'U0OWNER', intent: 'count test executions' });
    assert.equal((await session.propose({ tool: 'test.flaky', args: { key: `k-${session.sessionId}`, failTimes: 0 }, reasoning: 'warm up' })).status, 'executed');
    const call = { tool: 'test.slowCounter', args: { counter: `c-${session.sessionId}`, sleepMs: 0 }, reasoning: 'one count for the test' };
    const forbidden = await session.propose(call);
    assert.equal(forbidden.status, 'denied');
    assert.ok(unlockOf(forbidden.decision));
    const result = session.propose({ ...call, requestUnlock: true });
    result.catch(() => undefined);
    const approvalId = `${session.sessionId}:3`;

    const first = await h.slack.waitFor('chat.postMessage', (c) => textOf(c).includes(approvalId));
    // Asked first: the unlock group, and the call's own first group.
    assert.ok(textOf(first).includes('*Approvers*\\n`eng-leads` *and* `sre`"'), textOf(first));

    const repost = await h.slack.waitFor('chat.postMessage', (c) => textOf(c).includes(approvalId) && textOf(c).includes('Escalated'));
    assert.ok(textOf(repost).includes('*Escalated* to `eng-leads` (level 1): no decision yet. <@U0CAROL>'), textOf(repost));
    assert.ok(textOf(repost).includes('*Approvers*\\n`eng-leads` *and* `sre`, `eng-leads`"'), textOf(repost));
    // The first message keeps its buttons and names the widened approvers too.
    await h.slack.waitFor('chat.update', (c) => c.args.ts === first.response.ts && textOf(c).includes('`eng-leads` *and* `sre`, `eng-leads`'));
    assert.equal((await h.store.get(approvalId))?.escalationLevel, 1);

    const { rows } = await h.db.pool.query(`SELECT detail FROM events WHERE session_id = $1 AND kind = 'escalated'`, [session.sessionId]);
    assert.deepEqual(
      rows.map((r: { detail: unknown }) => r.detail),
      [{ level: 1, group: 'eng-leads', parts: [0, 1] }],
    );

    // Carol, in eng-leads, now qualifies for both parts: her one click grants the unlock and the call.
    const carol = await h.click('approve', USERS.carol, { approvalId, channel: String(repost.response.channel), ts: String(repost.response.ts) });
    assert.equal(carol.result?.ok, true);
    assert.equal((await result).status, 'executed');
    await session.end({ reason: 'test done' });
  });
});
