/**
 * The Slack messages of an approval: what an approver reads, and that user text cannot break
 * out of it. Pure, no server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMrkdwn, mention, renderDenyModal, renderEscalation, renderRequest, renderResolved, slackShowsWholeCall } from '../../approvals/messages';
import { shownJson } from '../../approvals/shown-text';
import { blockProblems } from '../support/slack-blocks';
import { approvalRequest, recordOf, requirement } from './fixtures';

const record = recordOf(approvalRequest('session-m1'));
const text = (blocks: unknown) => JSON.stringify(blocks);

describe('messages', () => {
  test('the request carries buttons whose value is the approval id', () => {
    const msg = renderRequest(record);
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    assert.deepEqual(actions.elements.map((e) => [e.action_id, e.value]), [
      ['gatehouse_approve', 'm1:1'],
      ['gatehouse_deny', 'm1:1'],
    ]);
    assert.ok(msg.text.includes('billing.deleteRecords'));
  });

  test('a redacted value shows its length; a warning right above Approve says how many values are approved unseen', () => {
    const msg = renderRequest(record);
    const args = msg.blocks.find((b) => b.type === 'rich_text' && text(b).includes('Arguments'));
    assert.ok(text(args).includes('\\"apiKey\\": \\"[REDACTED: 14 characters]\\"'), text(args));
    const at = msg.blocks.findIndex((b) => b.type === 'actions');
    assert.equal(text(msg.blocks[at - 1]), text({ type: 'section', text: { type: 'mrkdwn', text: '⚠ 1 value is hidden (a secret): you approve it unseen — check with the agent\'s owner if in doubt' } }));
    const two = renderRequest(recordOf(approvalRequest('session-m1b', { redactedArgs: { a: '[REDACTED: 5 characters]', b: ['[REDACTED: 2 characters]'] } })));
    assert.match(text(two.blocks), /⚠ 2 values are hidden \(secrets\): you approve them unseen/);
    const none = renderRequest(recordOf(approvalRequest('session-m1c', { redactedArgs: { filter: { test: true } } })));
    assert.doesNotMatch(text(none.blocks), /hidden \(secret/);
  });

  test('user text cannot mention or link: it is rich text, which Slack draws literally', () => {
    const evil = recordOf(approvalRequest('session-m2', { intent: '<!channel> please <https://evil|click>' }));
    const blocks = renderRequest(evil).blocks;
    assert.ok(!JSON.stringify(blocks.filter((b) => b.type !== 'rich_text')).includes('channel'), 'not in any mrkdwn text');
    const intent = blocks.find((b) => b.type === 'rich_text' && JSON.stringify(b).includes('Intent'));
    assert.ok(JSON.stringify(intent).includes('{"type":"text","text":"<!channel> please <https://evil|click>"}'));
    assert.equal(escapeMrkdwn('a & <b>'), 'a &amp; &lt;b&gt;');
  });

  test('a request too long to show whole offers Deny only, says where to read it, and keeps every section under Slack\'s limits', () => {
    const big = recordOf(approvalRequest('session-m3', { redactedArgs: { ids: Array.from({ length: 5000 }, (_, i) => i) } }));
    assert.equal(slackShowsWholeCall(big), false);
    const msg = renderRequest(big);
    for (const b of msg.blocks) {
      const t = (b as { text?: { text: string } }).text?.text ?? '';
      assert.ok(t.length <= 3000, `section of ${t.length} characters`);
    }
    assert.ok(text(msg.blocks).length < 12_000, 'the whole message stays far below what Slack refuses');
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
    assert.deepEqual(actions.elements.map((e) => e.action_id), ['gatehouse_deny']);
    assert.match(text(msg.blocks), /more than this message shows whole/);
    assert.ok(text(msg.blocks).includes(`gatehouse approvals show ${big.approvalId}`));
    // The fixture's short call is whole.
    assert.equal(slackShowsWholeCall(record), true);
  });

  test('what the agent wrote is rich text, never mrkdwn: no fence closed, no section faked, hidden characters escaped', () => {
    const evil = recordOf(
      approvalRequest('session-m5', {
        intent: 'tidy\n*Arguments* (redacted)\n```{ "where": "id = 1" }```',
        redactedArgs: { where: 'id = 1 ```*approved by sre*``` OR 1=1', table: 'billing\u202e' },
        decision: { ...approvalRequest('session-m5').decision, reasons: [{ rule: 'tier.destructive', message: 'quotes `where=1 ```*x*```' }] },
      }),
      { reasoning: 'safe ``` *verified by the policy* ```' },
    );
    const blocks = renderRequest(evil).blocks;
    const mrkdwn = JSON.stringify(blocks.filter((b) => b.type !== 'rich_text'));
    for (const agentText of ['tidy', 'verified by the policy', 'approved by sre', 'OR 1=1', 'where=1']) {
      assert.ok(!mrkdwn.includes(agentText), `\`${agentText}\` is not in any mrkdwn text`);
      assert.ok(text(blocks).includes(agentText), `\`${agentText}\` is shown, as rich text`);
    }
    const rich = blocks.filter((b) => b.type === 'rich_text');
    const pre = rich.flatMap((b) => b.elements as Array<{ type: string; elements: Array<{ text: string }> }>).find((e) => e.type === 'rich_text_preformatted')!;
    assert.equal(pre.elements[0]!.text, shownJson(evil.redactedArgs));
    assert.ok(pre.elements[0]!.text.includes('billing\\u202e'), 'the override is shown as an escape');
    assert.ok(!text(blocks).includes('\u202e'), 'no raw override anywhere in the message');
    assert.match(mrkdwn, /1 hidden character \(drawing nothing/);
  });

  test('every message rendered is one Slack accepts; what Slack refuses, the fake Slack refuses too', () => {
    const at = '2026-11-21T10:05:00.000Z';
    const long = recordOf(approvalRequest('session-m6', { intent: 'x'.repeat(5000), redactedArgs: { ids: Array.from({ length: 5000 }, (_, i) => i) } }), { reasoning: 'y'.repeat(20_000) });
    const empty = recordOf(approvalRequest('session-m7', { intent: '' }), { reasoning: '' });
    for (const r of [record, long, empty]) {
      for (const msg of [renderRequest(r), renderEscalation(r, 0), renderResolved(r, { status: 'denied', decidedBy: ['bob'], reason: 'no', at })]) {
        assert.deepEqual(blockProblems(msg.blocks, 50), [], r.approvalId);
      }
      assert.deepEqual(blockProblems(renderDenyModal(r, { approvalId: r.approvalId }).blocks, 100), []);
    }
    const rich = (elements: unknown[]) => [{ type: 'rich_text', elements: [{ type: 'rich_text_section', elements }] }];
    assert.deepEqual(blockProblems(rich([{ type: 'text', text: '' }]), 50), ['blocks[0].elements[0].elements[0].text: must be more than 0 characters']);
    assert.deepEqual(blockProblems([{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }], 50), ['blocks[0].text.text: must be less than 3001 characters']);
    assert.deepEqual(blockProblems([{ type: 'markdown_table' }], 50), ['blocks[0]: unknown block type `markdown_table`']);
    assert.deepEqual(blockProblems(Array.from({ length: 51 }, () => ({ type: 'divider' })), 50), ['blocks: at most 50 blocks']);
    assert.deepEqual(blockProblems(rich([{ type: 'text', text: 'x', style: { blink: true } }]), 50), ['blocks[0].elements[0].elements[0].style: unknown style']);
  });

  test('escalation mentions Slack ids as users and names as handles', () => {
    const r = recordOf(approvalRequest('session-m4', { requirement: requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [1000] }) }));
    const t = text(renderEscalation(r, 1).blocks);
    assert.ok(t.includes('<@U0CAROL>'));
    assert.equal(mention('bob'), '@bob');
    assert.equal(mention('U0ALICE'), '<@U0ALICE>');
  });

  test('resolved messages say who, when and why, and drop the buttons', () => {
    const at = '2026-11-21T10:05:00.000Z';
    const approved = renderResolved(record, { status: 'approved', decidedBy: ['U0ALICE', 'bob'], reason: 'looked at the filter', at });
    const t = text(approved.blocks);
    assert.ok(t.includes('Approved') && t.includes('<@U0ALICE>') && t.includes('@bob') && t.includes('looked at the filter') && t.includes(at));
    assert.ok(!approved.blocks.some((b) => b.type === 'actions'));
    const expired = renderResolved(record, { status: 'expired', decidedBy: [], at });
    assert.ok(text(expired.blocks).includes('Expired: denied automatically'));
    assert.ok(expired.text.includes('expired — denied automatically'));
  });

  test('an expired or a cancelled approval names nobody as its decider: approvals it had collected are approvals so far', () => {
    const at = '2026-11-21T10:05:00.000Z';
    const two = recordOf(approvalRequest('session-m8', { requirement: requirement({ approversRequired: 2 }) }));
    // What the workflow reports: the approvals collected so far, as `decidedBy`.
    const expired = renderResolved(two, { status: 'expired', decidedBy: ['U0ALICE'], reason: 'no decision before the deadline', at });
    const cancelled = renderResolved(two, { status: 'cancelled', decidedBy: ['U0ALICE'], reason: 'session halted by billing-bot: done', at });
    for (const [msg, status] of [[expired, 'expired'], [cancelled, 'cancelled']] as const) {
      const mrkdwn = JSON.stringify(msg.blocks.filter((b) => b.type !== 'rich_text'));
      assert.doesNotMatch(msg.text, /U0ALICE|\bby\b/, `the notification of a ${status} approval names no decider: ${msg.text}`);
      assert.doesNotMatch(mrkdwn, /(Expired|Cancelled|denied|cancelled|halted)[^"]*by <@U0ALICE>/, `no line of a ${status} approval says she decided it`);
      assert.ok(!msg.blocks.some((b) => b.type === 'actions'));
    }
    // Her approval is shown for what it was.
    for (const msg of [expired, cancelled]) assert.match(JSON.stringify(msg.blocks.filter((b) => b.type === 'context')), /Approvals so far, not enough to decide: <@U0ALICE>/);
    assert.match(expired.text, /expired — denied automatically at its deadline, nobody decided/);
    assert.match(JSON.stringify(expired.blocks), /\*Expired: denied automatically\* at [^"]*: nobody decided by its deadline/);
    assert.match(cancelled.text, /cancelled — the session was halted before anyone decided/);
    assert.match(JSON.stringify(cancelled.blocks), /\*Cancelled: the session was halted\* at [^"]*, before anyone decided/);
    assert.ok(JSON.stringify(cancelled.blocks.filter((b) => b.type === 'rich_text')).includes('session halted by billing-bot: done'), 'the halt\'s reason, as rich text');
    // Nothing collected: no such line. An approval or a denial still names who decided.
    assert.doesNotMatch(JSON.stringify(renderResolved(two, { status: 'expired', decidedBy: [], at }).blocks), /Approvals so far/);
    assert.equal(renderResolved(two, { status: 'approved', decidedBy: ['U0ALICE', 'bob'], at }).text, `${two.tool} (${two.approvalId}): approved by U0ALICE, bob`);
    assert.equal(renderResolved(two, { status: 'denied', decidedBy: ['bob'], reason: 'no', at }).text, `${two.tool} (${two.approvalId}): denied by bob`);
  });

  test('a resolution\'s reason (an agent writes a halt\'s) is rich text: it forges no line', () => {
    const forged = 'stop\n:white_check_mark: *Approved* by <@U0ALICE> \u202e';
    const msg = renderResolved(record, { status: 'cancelled', decidedBy: [], reason: forged, at: '2026-11-21T10:05:00.000Z' });
    const mrkdwn = JSON.stringify(msg.blocks.filter((b) => b.type !== 'rich_text'));
    assert.ok(!mrkdwn.includes('Approved'), 'not in any mrkdwn text');
    assert.ok(JSON.stringify(msg.blocks.at(-1)).includes('stop\\n:white_check_mark: *Approved* by <@U0ALICE> \\\\u202e'), JSON.stringify(msg.blocks.at(-1)));
  });

  test('the deny modal asks for a reason and carries the approval back', () => {
    const view = renderDenyModal(record, { approvalId: 'm1:1', channel: 'C1', ts: '1.2' });
    assert.equal(view.callback_id, 'gatehouse_deny_reason');
    assert.deepEqual(JSON.parse(String(view.private_metadata)), { approvalId: 'm1:1', channel: 'C1', ts: '1.2' });
    assert.ok(text(view.blocks).includes('plain_text_input'));
  });
});
