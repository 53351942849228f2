/**
 * A person is told the session's own answer to their vote (the `vote` update,
 * `client/vote-sender.ts`), never a vote the workflow refused. The approvals app here trusts a
 * keyset that maps one more Slack person to an approver than the keyset the worker started its
 * sessions with (an operator changed one and not the other): the app's checks pass, the workflow
 * refuses. The real session workflow, the real Bolt app, the fake Slack at the wire.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Gatehouse, type SessionHandle } from '../../client';
import { temporalVoteSender } from '../../client/vote-sender';
import type { Keyset } from '../../policies/trust';
import { sessionWorkflowId } from '../../workflows/contract';
import { counterHits } from '../support/test-tools';
import { testTrust } from '../support/trust';
import type { SlackCall } from '../support/fake-slack';
import { eventually } from '../support/eventually';
import { HARNESS_KEYSET, TEAM_ID, USERS, type Harness } from './helpers';
import { parsed, startSessionHarness } from './session-harness';

/** Bob's new Slack account, which only the approvals app's keyset knows. */
const NEW_BOB = { id: 'U0NEWBOB', username: 'bob-new' } as const;
const APP_KEYSET: Keyset = { ...HARNESS_KEYSET, slackUsers: [...(HARNESS_KEYSET.slackUsers ?? []), { userId: NEW_BOB.id, teamId: TEAM_ID, approver: 'bob' }] };

let h: Harness;
let gh: Gatehouse;
let harness: Awaited<ReturnType<typeof startSessionHarness>> | undefined;

before(async () => {
  harness = await startSessionHarness({
    prefix: 'vote_answer',
    appKeyset: APP_KEYSET,
    policy: parsed({
      name: 'vote-answer',
      intent: { reviewBelow: 0 },
      approvers: { groups: { sre: ['U0ALICE', 'bob'] }, default: { groups: ['sre'], timeoutMinutes: 10, channel: '#gatehouse-approvals' } },
    }),
  });
  ({ h, gh } = harness);
});
after(async () => {
  await harness?.close();
});

const textOf = (c: SlackCall) => JSON.stringify(c.args.blocks ?? []) + String(c.args.text ?? '');

async function proposeGated() {
  const session: SessionHandle = await gh.startSession({ agentId: 'billing-bot', owner: 'U0OWNER', intent: 'count test executions' });
  const counter = `c-${randomBytes(3).toString('hex')}`;
  const result = session.propose({ tool: 'test.slowCounter', args: { counter, sleepMs: 0 }, reasoning: 'one count for the test' });
  result.catch(() => undefined);
  const approvalId = `${session.sessionId}:1`;
  const post = await h.slack.waitFor('chat.postMessage', (c) => textOf(c).includes(approvalId));
  return { session, result, approvalId, counter, target: { approvalId, channel: String(post.response.channel), ts: String(post.response.ts) } };
}

describe('the session answers each vote', () => {
  test('a Slack click the app accepts and the session refuses: the clicker is told, nothing is kept, no "Approved"', async () => {
    const p = await proposeGated();
    const refused = (await h.click('approve', NEW_BOB, p.target)).result;
    assert.ok(refused && !refused.ok, 'the click was refused');
    assert.equal(refused.code, 'session-refused');
    assert.match(refused.message, /approval\.identity/);
    const told = h.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === NEW_BOB.id);
    assert.equal(told.length, 1);
    assert.match(String(told[0]?.args.text), /the session refused the vote/);
    // The click was handled whole before it reported: nothing marked the message, nothing kept the vote.
    assert.deepEqual(h.slack.callsOf('chat.update').filter((c) => c.args.ts === p.target.ts), []);
    const row = await h.store.get(p.approvalId);
    assert.equal(row?.status, 'pending');
    assert.deepEqual(row?.votes, []);
    const { rows } = await h.db.pool.query(`SELECT detail->>'rule' AS rule FROM events WHERE session_id = $1 AND kind = 'alert'`, [p.session.sessionId]);
    assert.deepEqual(rows.map((r: { rule: string }) => r.rule), ['approval.identity']);

    // A vote the session counts is kept and shown; the call runs once.
    const ok = await h.click('approve', USERS.alice, p.target);
    assert.equal(ok.result?.ok && ok.result.answered && ok.result.final, true);
    assert.equal((await p.result).status, 'executed');
    assert.deepEqual([...(await counterHits(h.db.pool, p.counter)).values()], [1]);
    assert.deepEqual((await h.store.get(p.approvalId))?.votes.map((v) => v.approver), ['U0ALICE']);
    await p.session.end({ reason: 'test done' });
  });

  test('the client returns the answer: a vote counted, a vote refused under its rule', async () => {
    const p = await proposeGated();
    const refused = await gh.approve(p.approvalId, { key: testTrust().approver('mallory') });
    assert.equal(refused?.counted === false && refused.rule, 'approval.not-member');
    const counted = await gh.approve(p.approvalId, { key: testTrust().approver('bob') });
    assert.deepEqual(counted, { counted: true, approver: 'bob', group: 'sre', status: 'approved' });
    assert.equal((await p.result).status, 'executed');
    await p.session.end({ reason: 'test done' });
  });

  test('ten updates in flight (a held call, nine queued behind it): the vote Temporal will not take as an update goes as the signal, and counts', async () => {
    const p = await proposeGated();
    const queued = Array.from({ length: 9 }, (_, i) => p.session.propose({ tool: 'test.slowCounter', args: { counter: `${p.counter}-q${i}`, sleepMs: 0 }, reasoning: 'queued' }).catch((err: unknown) => err));
    const handle = h.client.workflow.getHandle(sessionWorkflowId(p.session.sessionId));
    const proposals = async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'propose').length;
    await eventually(async () => (await proposals()) === 10, { what: 'ten proposals accepted and in flight' });
    // Temporal refuses an eleventh update in flight: the vote is not accepted, so it goes as the durable signal, unanswered.
    assert.equal(await gh.approve(p.approvalId, { key: testTrust().approver('bob') }), undefined);
    assert.equal((await p.result).status, 'executed');
    assert.deepEqual((await h.store.get(p.approvalId))?.status, 'approved');
    await gh.halt(p.session.sessionId, { by: 'test', reason: 'test done' });
    await Promise.all(queued);
  });

  test('a session no worker runs: the vote goes as the signal, which waits in its history; the sender answers nothing', async () => {
    const workflowId = sessionWorkflowId(`unpolled-${randomBytes(4).toString('hex')}`);
    const handle = await h.client.workflow.start('agentSession', { taskQueue: `nobody-polls-${randomBytes(4).toString('hex')}`, workflowId, args: [] });
    try {
      const send = temporalVoteSender(h.client, { acceptWithinMs: 300 });
      const envelope = { payloadType: 'x', payload: '', signatures: [] } as never;
      assert.equal(await send(workflowId, envelope), undefined);
      const signals = ((await handle.fetchHistory()).events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName).filter(Boolean);
      assert.deepEqual(signals, ['approval']);
    } finally {
      await handle.terminate('test done');
    }
  });
});
