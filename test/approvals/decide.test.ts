/**
 * `checkDecision`: the pure checks shared by Slack clicks and the CLI. No server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allowedGroups, checkDecision, currentLevel, type DecisionRequest } from '../../approvals/decide';
import type { ApprovalVote } from '../../approvals/types';
import { approvalRequest, recordOf, requirement } from './fixtures';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const base = approvalRequest('session-s1', {
  requestedAt: new Date(T0).toISOString(),
  deadline: new Date(T0 + 15 * 60_000).toISOString(),
});
const rec = (over: Parameters<typeof recordOf>[1] = {}) => recordOf(base, over);
const approve = (actor: DecisionRequest['actor'], extra: Partial<DecisionRequest> = {}): DecisionRequest => ({
  approvalId: base.approvalId,
  approve: true,
  actor,
  via: 'cli',
  ...extra,
});
const vote = (approver: string, ok = true): ApprovalVote => ({ approver, approve: ok, via: 'slack', at: new Date(T0).toISOString() });

describe('checkDecision', () => {
  test('a member of the first group may approve; the signal names them as the policy does', () => {
    assert.deepEqual(checkDecision(rec(), approve({ id: 'U0ALICE', name: 'alice' }), T0), { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
    assert.deepEqual(checkDecision(rec(), approve({ id: 'U0BOB', name: 'bob' }), T0), { ok: true, approver: 'bob', group: 'sre', final: true });
    assert.deepEqual(checkDecision(rec(), approve({ name: 'bob' }), T0), { ok: true, approver: 'bob', group: 'sre', final: true });
  });

  test('each refusal has its stable code', () => {
    const cases: Array<[string, ReturnType<typeof rec> | undefined, DecisionRequest, number]> = [
      ['invalid-input', rec(), approve({}), T0],
      ['not-found', undefined, approve({ name: 'bob' }), T0],
      ['expired', rec(), approve({ name: 'bob' }), T0 + 15 * 60_000],
      ['expired', rec({ status: 'expired' }), approve({ name: 'bob' }), T0],
      ['already-decided', rec({ status: 'approved', decidedBy: ['U0ALICE'] }), approve({ name: 'bob' }), T0],
      ['already-decided', rec({ status: 'denied', decidedBy: ['bob'] }), approve({ name: 'bob' }), T0],
      ['already-decided', rec({ status: 'cancelled' }), approve({ name: 'bob' }), T0],
      ['already-decided', rec({ votes: [vote('U0ALICE')] }), approve({ name: 'bob' }), T0],
      ['already-decided', rec({ votes: [vote('U0ALICE', false)] }), approve({ name: 'bob' }), T0],
      ['self-approval', rec(), approve({ name: 'billing-bot' }), T0],
      ['four-eyes', rec(), approve({ id: 'U0OWNER', name: 'eng-007' }), T0],
      ['four-eyes', rec(), approve({ name: 'eng-007' }), T0],
      ['not-an-approver', rec(), approve({ id: 'U0MALLORY', name: 'mallory' }), T0],
      ['not-an-approver', rec(), approve({ id: 'U0CAROL', name: 'carol' }), T0],
      ['reason-required', rec(), approve({ name: 'bob' }, { approve: false }), T0],
      ['reason-required', rec(), approve({ name: 'bob' }, { approve: false, reason: '   ' }), T0],
    ];
    for (const [code, record, req, now] of cases) {
      const r = checkDecision(record, req, now);
      assert.equal(r.ok, false, `expected \`${code}\` for ${JSON.stringify(req.actor)}`);
      assert.equal(!r.ok && r.code, code, !r.ok ? r.message : '');
      assert.ok(!r.ok && /^[a-z`]/.test(r.message) && !r.message.endsWith('.'), `message style: ${!r.ok && r.message}`);
    }
  });

  test('a member listed only by Slack id who is the owner is refused under four eyes, allowed without', () => {
    assert.equal(checkDecision(rec({ requirement: requirement({ fourEyes: false }) }), approve({ id: 'U0OWNER', name: 'eng-007' }), T0).ok, true);
  });

  test('a deny needs a reason and settles at once', () => {
    assert.deepEqual(checkDecision(rec(), approve({ name: 'bob' }, { approve: false, reason: 'no' }), T0), { ok: true, approver: 'bob', group: 'sre', final: true });
  });

  test('two approvers: the first approval is not final, the same person cannot count twice, a distinct second is final', () => {
    const two = requirement({ approversRequired: 2 });
    const first = checkDecision(rec({ requirement: two }), approve({ name: 'bob' }), T0);
    assert.deepEqual(first, { ok: true, approver: 'bob', group: 'sre', final: false });
    const again = checkDecision(rec({ requirement: two, votes: [vote('bob')] }), approve({ id: 'U0BOB', name: 'bob' }), T0);
    assert.equal(!again.ok && again.code, 'already-approved-by-you');
    const second = checkDecision(rec({ requirement: two, votes: [vote('bob')] }), approve({ id: 'U0ALICE' }), T0);
    assert.deepEqual(second, { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
    // One deny ends it, even after a first approval.
    const deny = checkDecision(rec({ requirement: two, votes: [vote('bob')] }), approve({ id: 'U0ALICE' }, { approve: false, reason: 'no' }), T0);
    assert.deepEqual(deny, { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
  });

  test('escalation widens the approvers: by the recorded level or by the clock', () => {
    const ladder = requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [5 * 60_000] });
    const carol = approve({ id: 'U0CAROL', name: 'carol' });
    assert.equal(checkDecision(rec({ requirement: ladder }), carol, T0).ok, false);
    assert.equal(checkDecision(rec({ requirement: ladder, escalationLevel: 1 }), carol, T0).ok, true);
    assert.equal(checkDecision(rec({ requirement: ladder }), carol, T0 + 5 * 60_000).ok, true);
    // The first group keeps its say after the escalation.
    assert.equal(checkDecision(rec({ requirement: ladder, escalationLevel: 1 }), approve({ name: 'bob' }), T0).ok, true);
    assert.equal(currentLevel(rec({ requirement: ladder, escalationLevel: 7 }), T0), 1, 'never past the last group');
    assert.deepEqual(allowedGroups(rec({ requirement: ladder }), 1), ['sre', 'eng-leads']);
  });

  test('a request whose groups list nobody cannot be decided by anyone (fail closed)', () => {
    const unstaffed = rec({ groupMembers: { sre: [] } });
    for (const actor of [{ id: 'U0ZED', name: 'zed' }, { name: 'zed' }, { name: 'billing-bot' }]) {
      const r = checkDecision(unstaffed, approve(actor), T0);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, actor.name === 'billing-bot' ? 'self-approval' : 'not-an-approver');
    }
    const r = checkDecision(unstaffed, approve({ name: 'zed' }), T0);
    assert.match(!r.ok ? r.message : '', /lists no member in `sre`/);
  });

  test('property: the agent, the owner under four eyes, outsiders and late clicks are never accepted', () => {
    const members = ['U0ALICE', 'bob', 'U0OWNER', 'U0CAROL', 'billing-bot', 'eng-007', 'mallory', 'U0X'];
    fc.assert(
      fc.property(
        fc.record({
          id: fc.option(fc.constantFrom(...members), { nil: undefined }),
          name: fc.option(fc.constantFrom(...members), { nil: undefined }),
        }),
        fc.boolean(),
        fc.integer({ min: 0, max: 40 * 60_000 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        (actor, fourEyes, dt, level, isApprove) => {
          const r = rec({
            requirement: requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [10 * 60_000], fourEyes }),
            escalationLevel: level,
          });
          const res = checkDecision(r, approve(actor, { approve: isApprove, reason: 'because' }), T0 + dt);
          if (!res.ok) return;
          const ids = [actor.id, actor.name];
          assert.ok(!ids.includes('billing-bot'), 'agent accepted');
          if (fourEyes) assert.ok(!ids.includes('eng-007') && res.approver !== 'eng-007', 'owner accepted');
          assert.ok(T0 + dt < Date.parse(r.deadline), 'late click accepted');
          const allowed = allowedGroups(r, currentLevel(r, T0 + dt)).flatMap((g) => r.groupMembers[g] ?? []);
          assert.ok(allowed.includes(res.approver), 'outsider accepted');
          assert.ok(ids.includes(res.approver), 'approver is not the actor');
        },
      ),
      { numRuns: 500 },
    );
  });
});
