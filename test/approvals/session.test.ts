/**
 * End to end against the REAL session workflow (`workflows/session.ts` hosted by
 * `createGatehouseWorker`): an agent proposes a gated call, the approval is posted to the fake
 * Slack, a signed click reaches the real Bolt app, which signs a vote with its service key for
 * the clicker's Slack user and team; the workflow verifies it, resumes and the call runs (or
 * not), and `audit verify` proves who decided. Escalation and expiry use short policy deadlines
 * (seconds) of named policies the worker loads; nothing asserts a duration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Gatehouse, type SessionHandle } from '../../client';
import { verifyDatabase, formatVerifyReport } from '../../audit/verify';
import { testTrust } from '../support/trust';
import { counterHits } from '../support/test-tools';
import type { SlackCall } from '../support/fake-slack';
import { HARNESS_KEYSET, TEAM_ID, USERS, type Harness } from './helpers';
import { parsed, startSessionHarness } from './session-harness';
import { eventually } from '../support/eventually';

const GROUPS = { sre: ['U0ALICE', 'bob'], 'eng-leads': ['U0CAROL'] };

function policy(rule: Record<string, unknown> = {}) {
  return {
    name: 'approvals-e2e',
    // The test tool's intent has nothing to do with a billing bot: keep intent scoring out of the way.
    intent: { reviewBelow: 0 },
    approvers: {
      groups: GROUPS,
      default: { groups: ['sre'], timeoutMinutes: 10, channel: '#gatehouse-approvals', fourEyes: true, ...rule },
    },
  };
}

/** The policies the worker loads; a session names one (`policyRef`), its credential allows it. */
const RULES: Record<string, Record<string, unknown>> = {
  'two-approvers': { approversRequired: 2 },
  ladder: { groups: ['sre', 'eng-leads'], escalateAfterMinutes: [0.02], timeoutMinutes: 10 },
  'short-deadline': { timeoutMinutes: 0.02 },
};

let h: Harness;
let gh: Gatehouse;
let harness: Awaited<ReturnType<typeof startSessionHarness>> | undefined;

before(async () => {
  harness = await startSessionHarness({
    prefix: 'approvals_e2e',
    policy: parsed(policy()),
    policies: Object.fromEntries(Object.entries(RULES).map(([name, rule]) => [name, parsed(policy(rule))])),
  });
  ({ h, gh } = harness);
});
after(async () => {
  await harness?.close();
});

const textOf = (c: SlackCall) => JSON.stringify(c.args.blocks ?? []) + String(c.args.text ?? '');

/** Starts a session (owner `U0OWNER`) under a named policy and proposes one gated call; answers once the request is posted to Slack. */
async function proposeGated(policyRef?: keyof typeof RULES, counter = `c-${Math.random().toString(36).slice(2, 8)}`) {
  const session: SessionHandle = await gh.startSession({ agentId: 'billing-bot', owner: 'U0OWNER', intent: 'count test executions', ...(policyRef ? { policyRef } : {}) });
  const result = session.propose({ tool: 'test.slowCounter', args: { counter, sleepMs: 0 }, reasoning: 'one count for the test' });
  result.catch(() => undefined);
  const approvalId = `${session.sessionId}:1`;
  const post = await h.slack.waitFor('chat.postMessage', (c) => textOf(c).includes(approvalId));
  const target = { approvalId, channel: String(post.response.channel), ts: String(post.response.ts) };
  return { session, result, approvalId, target, counter };
}

async function eventKinds(sessionId: string): Promise<string[]> {
  const { rows } = await h.db.pool.query('SELECT kind FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
  return rows.map((r: { kind: string }) => r.kind);
}

/** `audit verify` of the session against the keyset: every vote proven, every gated call backed. */
async function assertProven(sessionId: string): Promise<void> {
  const report = await verifyDatabase(h.db.pool, { sessionId, keyset: HARNESS_KEYSET });
  assert.equal(report.ok, true, formatVerifyReport(report));
}

describe('approvals against the real session workflow', () => {
  test('approve: refused clicks change nothing, an approver click runs the call and the message shows it', async () => {
    const p = await proposeGated();
    const outsider = await h.click('approve', USERS.mallory, p.target);
    assert.equal(outsider.result?.ok === false && outsider.result.code, 'not-an-approver');
    const owner = await h.click('approve', USERS.owner, p.target);
    assert.equal(owner.result?.ok === false && owner.result.code, 'four-eyes');

    const ok = await h.click('approve', USERS.alice, p.target);
    assert.equal(ok.result?.ok, true);
    const r = await p.result;
    assert.equal(r.status, 'executed');
    assert.equal(r.approvalId, p.approvalId);
    assert.deepEqual([...(await counterHits(h.db.pool, p.counter)).values()], [1], 'the approved call ran once');

    // The workflow's resolveApproval updated the row and the message.
    await h.slack.waitFor('chat.update', (c) => c.args.ts === p.target.ts && textOf(c).includes('Approved'));
    const row = await h.store.get(p.approvalId);
    assert.equal(row?.status, 'approved');
    assert.deepEqual(row?.decidedBy, ['U0ALICE']);
    const kinds = await eventKinds(p.session.sessionId);
    assert.equal(kinds.filter((k) => k === 'approved').length, 1);
    assert.ok(!kinds.includes('alert'), 'no refused signal reached the workflow');
    // The trail shows the service key and the Slack user and team the vote was signed for.
    const { rows } = await h.db.pool.query(`SELECT approver, detail FROM events WHERE session_id = $1 AND kind = 'approved'`, [p.session.sessionId]);
    const detail = rows[0].detail as { keyId: string; signer: string; onBehalfOf: unknown; envelope: unknown };
    assert.equal(rows[0].approver, 'U0ALICE');
    assert.equal(detail.keyId, testTrust().service.keyId);
    assert.equal(detail.signer, testTrust().service.principal);
    assert.deepEqual(detail.onBehalfOf, { slackUserId: 'U0ALICE', slackTeamId: TEAM_ID });
    await p.session.end({ reason: 'test done' });
    await assertProven(p.session.sessionId);
  });

  test('deny: the modal reason reaches the workflow, the call does not run', async () => {
    const p = await proposeGated();
    await h.click('deny', USERS.bob, p.target);
    const e = await h.submitDeny(USERS.bob, 'not during the billing run');
    assert.equal(e.result?.ok, true);
    const r = await p.result;
    assert.equal(r.status, 'denied');
    assert.ok(r.decision.reasons.some((x) => x.message.includes('not during the billing run')));
    assert.equal((await counterHits(h.db.pool, p.counter)).size, 0);
    await h.slack.waitFor('chat.update', (c) => c.args.ts === p.target.ts && textOf(c).includes('Denied'));
    assert.equal((await h.store.get(p.approvalId))?.status, 'denied');
    await p.session.end({ reason: 'test done' });
    await assertProven(p.session.sessionId);
  });

  test('double click: one approval in the audit trail, the second clicker is told', async () => {
    const p = await proposeGated();
    const [a, b] = await Promise.all([h.click('approve', USERS.alice, p.target), h.click('approve', USERS.alice, p.target)]);
    assert.equal([a.result?.ok, b.result?.ok].filter(Boolean).length, 1);
    const r = await p.result;
    assert.equal(r.status, 'executed');
    assert.deepEqual([...(await counterHits(h.db.pool, p.counter)).values()], [1], 'the call ran exactly once');
    const kinds = await eventKinds(p.session.sessionId);
    assert.equal(kinds.filter((k) => k === 'approved').length, 1);
    assert.equal(kinds.filter((k) => k === 'executed').length, 1);
    await p.session.end({ reason: 'test done' });
  });

  test('two approvers: the call waits for a second distinct approver', async () => {
    const p = await proposeGated('two-approvers');
    const first = await h.click('approve', USERS.alice, p.target);
    assert.equal(first.result?.ok && first.result.final, false);
    // Wait until the workflow has counted the first approval (a wait, not a timed assertion).
    await eventually(async () => (await p.session.state()).pendingApprovals[0]?.approvedBy.includes('U0ALICE'), { what: "alice's approval counted" });
    assert.equal((await counterHits(h.db.pool, p.counter)).size, 0, 'one approval is not enough');
    const again = await h.click('approve', USERS.alice, p.target);
    assert.equal(again.result?.ok === false && again.result.code, 'already-approved-by-you');
    const second = await h.click('approve', USERS.bob, p.target);
    assert.equal(second.result?.ok && second.result.final, true);
    assert.equal((await p.result).status, 'executed');
    assert.deepEqual((await h.store.get(p.approvalId))?.decidedBy, ['U0ALICE', 'bob']);
    await p.session.end({ reason: 'test done' });
    await assertProven(p.session.sessionId);
  });

  test('escalation: after the escalation point the next group is mentioned and may approve', async () => {
    const p = await proposeGated('ladder');
    const repost = await h.slack.waitFor('chat.postMessage', (c) => textOf(c).includes(p.approvalId) && textOf(c).includes('Escalated'));
    assert.ok(textOf(repost).includes('<@U0CAROL>'));
    assert.equal((await h.store.get(p.approvalId))?.escalationLevel, 1);
    const carol = await h.click('approve', USERS.carol, { ...p.target, ts: String(repost.response.ts) });
    assert.equal(carol.result?.ok, true);
    assert.equal((await p.result).status, 'executed');
    assert.ok((await eventKinds(p.session.sessionId)).includes('escalated'));
    await p.session.end({ reason: 'test done' });
  });

  test('expiry: at the deadline the call is denied automatically, the message says so, late clicks are refused', async () => {
    const p = await proposeGated('short-deadline');
    const r = await p.result;
    assert.equal(r.status, 'expired');
    assert.equal((await counterHits(h.db.pool, p.counter)).size, 0, 'never an automatic approval');
    await h.slack.waitFor('chat.update', (c) => c.args.ts === p.target.ts && textOf(c).includes('Expired: denied automatically'));
    assert.equal((await h.store.get(p.approvalId))?.status, 'expired');
    const late = await h.click('approve', USERS.alice, p.target);
    assert.equal(late.result?.ok === false && late.result.code, 'expired');
    await p.session.end({ reason: 'test done' });
  });
});
