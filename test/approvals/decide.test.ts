/**
 * The pure part of a decision, shared by Slack clicks and the CLI: who the voter is (from a key,
 * and for Slack from the user id and team id the keyset maps), and whether the vote counts on
 * the approval row under the one vote rule. No server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkDecision, identify, type VoteRequest } from '../../approvals/check-decision';
import { groupsAllowedNow } from '../../approvals/ladder';
import type { ApprovalVote } from '../../approvals/types';
import { generateSigningKey, keyEntryOf } from '../../client/trust/key-files';
import { testTrust } from '../support/trust';
import { approvalRequest, recordOf, requirement, TEAM_ID } from './fixtures';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const base = approvalRequest('session-s1', {
  requestedAt: new Date(T0).toISOString(),
  deadline: new Date(T0 + 15 * 60_000).toISOString(),
});
const rec = (over: Parameters<typeof recordOf>[1] = {}) => recordOf(base, over);
const vote = (approver: string, extra: Partial<VoteRequest> = {}): VoteRequest => ({ approvalId: base.approvalId, approver, approve: true, ...extra });
const cast = (approver: string, ok = true): ApprovalVote => ({ approver, approve: ok, via: 'slack', at: new Date(T0).toISOString() });
const trust = testTrust();

describe('identify', () => {
  test('an approver key speaks for its principal; the service key for the Slack person the keyset maps', () => {
    assert.deepEqual(identify(trust.keyset, { key: trust.approver('bob') }, T0), { ok: true, approver: 'bob' });
    assert.deepEqual(identify(trust.keyset, { key: trust.service, onBehalfOf: { slackUserId: 'U0BOB', slackTeamId: TEAM_ID } }, T0), { ok: true, approver: 'bob' });
    assert.deepEqual(identify(trust.keyset, { key: trust.service, onBehalfOf: { slackUserId: 'U0ALICE', slackTeamId: TEAM_ID } }, T0), { ok: true, approver: 'U0ALICE' });
  });

  test('an unmapped Slack user, another team, a missing person, a foreign or revoked key: refused with a code', () => {
    const cases: Array<[string, ReturnType<typeof identify>, RegExp]> = [
      ['unknown-identity', identify(trust.keyset, { key: trust.service, onBehalfOf: { slackUserId: 'U0STRANGER', slackTeamId: TEAM_ID } }, T0), /Slack user `U0STRANGER` of team `T0TEST` is not a registered approver/],
      ['unknown-identity', identify(trust.keyset, { key: trust.service, onBehalfOf: { slackUserId: 'U0BOB', slackTeamId: 'T0OTHER' } }, T0), /team `T0OTHER`/],
      ['unknown-identity', identify(trust.keyset, { key: trust.service }, T0), /must name the Slack user/],
      ['unknown-identity', identify(trust.keyset, { key: trust.approver('bob'), onBehalfOf: { slackUserId: 'U0ALICE', slackTeamId: TEAM_ID } }, T0), /may not vote on behalf/],
      ['key-refused', identify(trust.keyset, { key: generateSigningKey('bob', 'approver') }, T0), /is not in the keyset: register its public key/],
      ['unknown-identity', identify(trust.keyset, { key: trust.operator }, T0), /a key of role `operator` may not vote/],
    ];
    const revokedKey = generateSigningKey('bob', 'approver');
    const revoked = { ...trust.keyset, keys: [...trust.keyset.keys, { ...keyEntryOf(revokedKey), revoked: true }] };
    cases.push(['key-refused', identify(revoked, { key: revokedKey }, T0), /is revoked/]);
    const expiredKey = generateSigningKey('bob', 'approver');
    const expired = { ...trust.keyset, keys: [...trust.keyset.keys, keyEntryOf(expiredKey, new Date(T0 - 1).toISOString())] };
    cases.push(['key-refused', identify(expired, { key: expiredKey }, T0), /expired at/]);
    for (const [code, r, message] of cases) {
      assert.equal(r.ok, false, `expected \`${code}\``);
      if (r.ok) continue;
      assert.equal(r.code, code, r.message);
      assert.match(r.message, message);
      assert.ok(/^[a-zA-Z`]/.test(r.message) && !r.message.endsWith('.'), `message style: ${r.message}`);
    }
  });
});

describe('checkDecision', () => {
  test('a member of the first group may approve; the approver is named as the policy does', () => {
    assert.deepEqual(checkDecision(rec(), vote('U0ALICE'), T0), { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
    assert.deepEqual(checkDecision(rec(), vote('bob'), T0), { ok: true, approver: 'bob', group: 'sre', final: true });
  });

  test('four eyes knows the owner under the approver name its Slack id maps to, as the workflow counts it', () => {
    // Owner issued as `U0BOB`, whom the keyset maps to `bob`: bob's click is the owner's.
    const owned = rec({ owner: 'U0BOB' });
    const r = checkDecision(owned, vote('bob'), T0, trust.keyset);
    assert.equal(r.ok ? 'counted' : r.code, 'four-eyes');
    assert.deepEqual(checkDecision(owned, vote('U0ALICE'), T0, trust.keyset), { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
  });

  test('each refusal has its stable code', () => {
    const cases: Array<[string, ReturnType<typeof rec> | undefined, VoteRequest, number]> = [
      ['not-found', undefined, vote('bob'), T0],
      ['expired', rec(), vote('bob'), T0 + 15 * 60_000],
      ['expired', rec({ status: 'expired' }), vote('bob'), T0],
      ['already-decided', rec({ status: 'approved', decidedBy: ['U0ALICE'] }), vote('bob'), T0],
      ['already-decided', rec({ status: 'denied', decidedBy: ['bob'] }), vote('bob'), T0],
      ['already-decided', rec({ status: 'cancelled' }), vote('bob'), T0],
      ['already-decided', rec({ votes: [cast('U0ALICE')] }), vote('bob'), T0],
      ['already-decided', rec({ votes: [cast('U0ALICE', false)] }), vote('bob'), T0],
      ['self-approval', rec(), vote('billing-bot'), T0],
      ['four-eyes', rec(), vote('U0OWNER'), T0],
      ['not-an-approver', rec(), vote('mallory'), T0],
      ['not-an-approver', rec(), vote('U0CAROL'), T0],
      ['reason-required', rec(), vote('bob', { approve: false }), T0],
      ['reason-required', rec(), vote('bob', { approve: false, reason: '   ' }), T0],
    ];
    for (const [code, record, req, now] of cases) {
      const r = checkDecision(record, req, now);
      assert.equal(r.ok, false, `expected \`${code}\` for ${req.approver}`);
      assert.equal(!r.ok && r.code, code, !r.ok ? r.message : '');
      assert.ok(!r.ok && /^[a-z`]/.test(r.message) && !r.message.endsWith('.'), `message style: ${!r.ok && r.message}`);
    }
  });

  test('the owner is refused under four eyes, allowed without', () => {
    assert.equal(checkDecision(rec({ requirement: requirement({ fourEyes: false }) }), vote('U0OWNER'), T0).ok, true);
  });

  test('a deny needs a reason and settles at once', () => {
    assert.deepEqual(checkDecision(rec(), vote('bob', { approve: false, reason: 'no' }), T0), { ok: true, approver: 'bob', group: 'sre', final: true });
  });

  test('two approvers: the first approval is not final, the same person cannot count twice, a distinct second is final', () => {
    const two = requirement({ approversRequired: 2 });
    assert.deepEqual(checkDecision(rec({ requirement: two }), vote('bob'), T0), { ok: true, approver: 'bob', group: 'sre', final: false });
    const again = checkDecision(rec({ requirement: two, votes: [cast('bob')] }), vote('bob'), T0);
    assert.equal(!again.ok && again.code, 'already-approved-by-you');
    assert.deepEqual(checkDecision(rec({ requirement: two, votes: [cast('bob')] }), vote('U0ALICE'), T0), { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
    // One deny ends it, even after a first approval.
    const deny = checkDecision(rec({ requirement: two, votes: [cast('bob')] }), vote('U0ALICE', { approve: false, reason: 'no' }), T0);
    assert.deepEqual(deny, { ok: true, approver: 'U0ALICE', group: 'sre', final: true });
  });

  test('escalation widens the approvers by the clock, as the workflow counts them', () => {
    const ladder = requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [5 * 60_000] });
    assert.equal(checkDecision(rec({ requirement: ladder }), vote('U0CAROL'), T0).ok, false);
    assert.equal(checkDecision(rec({ requirement: ladder }), vote('U0CAROL'), T0 + 5 * 60_000).ok, true);
    // The first group keeps its say after the escalation.
    assert.equal(checkDecision(rec({ requirement: ladder }), vote('bob'), T0 + 5 * 60_000).ok, true);
    assert.deepEqual(groupsAllowedNow(rec({ requirement: ladder }), T0 + 60 * 60_000), [['sre', 'eng-leads']], 'never past the last group');
  });

  test('an unlock needs both parts: the unlock group and the call\'s own approvers', () => {
    const unlock = requirement({ groups: ['eng-leads'], unlocksTransition: true, alsoRequired: requirement({ groups: ['sre'] }) });
    const first = checkDecision(rec({ requirement: unlock }), vote('U0CAROL'), T0);
    assert.deepEqual(first, { ok: true, approver: 'U0CAROL', group: 'eng-leads', final: false }, 'the unlock group alone does not grant the call');
    const both = checkDecision(rec({ requirement: unlock, votes: [cast('U0CAROL')] }), vote('bob'), T0);
    assert.deepEqual(both, { ok: true, approver: 'bob', group: 'sre', final: true });
  });

  test('a request whose groups list nobody cannot be decided by anyone (fail closed)', () => {
    const unstaffed = rec({ groupMembers: { sre: [] } });
    for (const who of ['zed', 'billing-bot']) {
      const r = checkDecision(unstaffed, vote(who), T0);
      assert.equal(!r.ok && r.code, who === 'billing-bot' ? 'self-approval' : 'not-an-approver');
    }
    const r = checkDecision(unstaffed, vote('zed'), T0);
    assert.match(!r.ok ? r.message : '', /lists no member in `sre`/);
  });

  test('property: the agent, the owner under four eyes, outsiders and late votes are never accepted', () => {
    const people = ['U0ALICE', 'bob', 'U0OWNER', 'U0CAROL', 'billing-bot', 'mallory', 'U0X'];
    fc.assert(
      fc.property(fc.constantFrom(...people), fc.boolean(), fc.integer({ min: 0, max: 40 * 60_000 }), fc.boolean(), (approver, fourEyes, dt, approve) => {
        const r = rec({ requirement: requirement({ groups: ['sre', 'eng-leads'], escalateAfterMs: [10 * 60_000], fourEyes }) });
        const res = checkDecision(r, vote(approver, { approve, reason: 'because' }), T0 + dt);
        if (!res.ok) return;
        assert.notEqual(res.approver, 'billing-bot', 'agent accepted');
        if (fourEyes) assert.notEqual(res.approver, 'U0OWNER', 'owner accepted');
        assert.ok(T0 + dt < Date.parse(r.deadline), 'late vote accepted');
        const allowed = groupsAllowedNow(r, T0 + dt).flat().flatMap((g) => r.groupMembers[g] ?? []);
        assert.ok(allowed.includes(res.approver), 'outsider accepted');
      }),
      { numRuns: 500 },
    );
  });
});
