/**
 * The Slack messages of an approval: what an approver reads, and that user text cannot break
 * out of it. Pure, no server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMrkdwn, mention, renderDenyModal, renderEscalation, renderRequest, renderResolved } from '../../approvals/messages';
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

  test('user text is escaped so it cannot mention or link', () => {
    const evil = recordOf(approvalRequest('session-m2', { intent: '<!channel> please <https://evil|click>' }));
    const t = text(renderRequest(evil).blocks);
    assert.ok(!t.includes('<!channel>'));
    assert.ok(t.includes('&lt;!channel&gt;'));
    assert.equal(escapeMrkdwn('a & <b>'), 'a &amp; &lt;b&gt;');
  });

  test('long arguments are clipped below Slack limits', () => {
    const big = recordOf(approvalRequest('session-m3', { redactedArgs: { ids: Array.from({ length: 5000 }, (_, i) => i) } }));
    for (const b of renderRequest(big).blocks) {
      const t = (b as { text?: { text: string } }).text?.text ?? '';
      assert.ok(t.length <= 3000, `section of ${t.length} characters`);
    }
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

  test('the deny modal asks for a reason and carries the approval back', () => {
    const view = renderDenyModal(record, { approvalId: 'm1:1', channel: 'C1', ts: '1.2' });
    assert.equal(view.callback_id, 'gatehouse_deny_reason');
    assert.deepEqual(JSON.parse(String(view.private_metadata)), { approvalId: 'm1:1', channel: 'C1', ts: '1.2' });
    assert.ok(text(view.blocks).includes('plain_text_input'));
  });
});
