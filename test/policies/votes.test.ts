/**
 * The one vote rule (policies/trust/votes.ts): the approver ladder, who may vote now (not the agent,
 * not the owner under four eyes, a member of a reached group, once), and the tally. Pure: times are given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalRequirement } from '../../policies/types';
import { approvalParts, approvalTimeoutMs, checkVote, groupsAtLevel, ladderLevel, ownerAliases, tallyVotes, type Vote, type VoteContext } from '../../policies/trust';

describe('the vote rule (votes.ts)', () => {
  const MIN = 60_000;
  const req = (over: Partial<ApprovalRequirement> = {}): ApprovalRequirement => ({
    groups: ['sre', 'leads', 'vp'],
    approversRequired: 1,
    escalateAfterMs: [10 * MIN, 20 * MIN],
    timeoutMs: 60 * MIN,
    channel: '#approvals',
    fourEyes: false,
    unlocksTransition: false,
    ...over,
  });
  const members = { sre: ['alice', 'owner'], leads: ['bob'], vp: ['carol'], unlockers: ['dave'] };
  const ctx = (over: Partial<VoteContext> = {}): VoteContext => ({ agentId: 'bot', owner: 'owner', requirement: req(), groupMembers: members, requestedAt: 0, votes: [], ...over });
  const rule = (c: VoteContext, v: Vote, now = 0) => { const r = checkVote(c, v, now); return r.counts ? `counts:${r.group}:${r.vote.parts.join(',')}` : r.rule; };

  it('the ladder widens at each escalation step, keeps the first group, and stops at the last group', () => {
    const p = req();
    assert.equal(ladderLevel(p, 0, 10 * MIN - 1), 0);
    assert.equal(ladderLevel(p, 0, 10 * MIN), 1);
    assert.equal(ladderLevel(p, 0, 20 * MIN), 2);
    assert.equal(ladderLevel(p, 0, 99 * MIN), 2);
    assert.equal(ladderLevel(req({ escalateAfterMs: [MIN, 2 * MIN, 3 * MIN] }), 0, 5 * MIN), 2, 'never past the last group');
    assert.equal(ladderLevel(req({ groups: ['sre'], escalateAfterMs: [MIN] }), 0, 5 * MIN), 0);
    assert.equal(ladderLevel(req({ escalateAfterMs: [20 * MIN, 10 * MIN] }), 0, 15 * MIN), 2, 'the highest step passed counts');
    assert.deepEqual(groupsAtLevel(p, 0), ['sre']);
    assert.deepEqual(groupsAtLevel(p, 1), ['sre', 'leads']);
  });

  it('four eyes knows the owner under every name (four-eyes-by-identity): its Slack-mapped approver name, any case, surrounding spaces; the agent likewise', () => {
    const fourEyes = req({ fourEyes: true });
    const slack = { sre: ['alice', 'eng-007'], leads: ['bob'], vp: ['carol'] };
    const owned = (over: Partial<VoteContext>) => ctx({ requirement: fourEyes, groupMembers: slack, owner: 'U0OWNER', ...over });
    // The owner written as a Slack id; its Slack click resolves to the approver `eng-007`.
    const aliases = ownerAliases({ slackUsers: [{ userId: 'U0OWNER', teamId: 'T0', approver: 'eng-007' }, { userId: 'U0BOB', teamId: 'T0', approver: 'bob' }] }, 'U0OWNER');
    assert.deepEqual(aliases, ['eng-007']);
    assert.equal(rule(owned({ ownerAliases: aliases }), { approver: 'eng-007', approve: true }), 'approval.four-eyes');
    assert.equal(rule(owned({ owner: ' ENG-007 ', ownerAliases: [] }), { approver: 'eng-007', approve: true }), 'approval.four-eyes');
    assert.equal(rule(owned({ agentId: 'Eng-007', owner: 'x', ownerAliases: [] }), { approver: 'eng-007', approve: true }), 'approval.self');
    assert.equal(rule(owned({ ownerAliases: aliases }), { approver: 'alice', approve: true }), 'counts:sre:true', 'someone else still counts');
    // Runs before the patch carry no aliases: names compare exactly, as they did.
    assert.equal(rule(owned({}), { approver: 'eng-007', approve: true }), 'counts:sre:true');
  });

  it('the timeout is the earliest of the parts\' deadlines', () => {
    assert.equal(approvalTimeoutMs(req({ timeoutMs: 30 * MIN, alsoRequired: req({ timeoutMs: 15 * MIN }) })), 15 * MIN);
    assert.equal(approvalTimeoutMs(req({ timeoutMs: 30 * MIN, alsoRequired: req({ timeoutMs: 45 * MIN }) })), 30 * MIN);
    assert.deepEqual(approvalParts(req()).length, 1);
  });

  it('refuses an unnamed voter, the agent itself, the owner under four eyes, a non-member, a repeated approval, a deny without a reason', () => {
    assert.equal(rule(ctx(), { approver: '', approve: true }), 'approval.identity');
    assert.equal(rule(ctx(), { approver: 'bot', approve: true }), 'approval.self');
    assert.deepEqual(checkVote(ctx(), { approver: '', approve: true }, 0), { counts: false, rule: 'approval.identity', message: 'a vote must name its approver' });
    assert.deepEqual(checkVote(ctx(), { approver: 'bot', approve: true }, 0), { counts: false, rule: 'approval.self', message: 'agent `bot` may not decide on its own call' });
    assert.equal(rule(ctx({ requirement: req({ fourEyes: true }) }), { approver: 'owner', approve: true }), 'approval.four-eyes');
    assert.equal(rule(ctx(), { approver: 'owner', approve: true }), 'counts:sre:true', 'without four eyes the owner may decide');
    assert.equal(rule(ctx({ requirement: req({ unlocksTransition: true, groups: ['unlockers'], alsoRequired: req({ fourEyes: true }) }) }), { approver: 'owner', approve: true }), 'approval.four-eyes', 'four eyes on any part binds');
    assert.equal(rule(ctx(), { approver: 'bob', approve: true }), 'approval.not-member', 'leads are not asked yet');
    assert.equal(rule(ctx(), { approver: 'bob', approve: true }, 10 * MIN), 'counts:leads:true');
    assert.equal(rule(ctx(), { approver: 'mallory', approve: true }, 99 * MIN), 'approval.not-member');
    const r = checkVote(ctx(), { approver: 'carol', approve: true }, 10 * MIN);
    assert.deepEqual(r, { counts: false, rule: 'approval.not-member', message: '`carol` is not in an approver group for this call: allowed now: `sre`, `leads`' });
    const none = checkVote(ctx({ requirement: req({ groups: [] }) }), { approver: 'alice', approve: true }, 0);
    assert.equal(none.counts ? '' : none.message, '`alice` is not in an approver group for this call: allowed now: none');
    const voted = ctx({ votes: [{ approver: 'alice', approve: true, parts: [true] }] });
    assert.equal(rule(voted, { approver: 'alice', approve: true }), 'approval.duplicate');
    assert.equal(rule(voted, { approver: 'alice', approve: false, reason: 'changed my mind' }), 'counts:sre:true', 'a deny after an approval counts');
    assert.equal(rule(ctx({ votes: [{ approver: 'alice', approve: false, parts: [true] }] }), { approver: 'alice', approve: true }), 'counts:sre:true');
    assert.equal(rule(ctx(), { approver: 'alice', approve: false }), 'approval.reason-required');
    assert.equal(rule(ctx(), { approver: 'alice', approve: false, reason: '   ' }), 'approval.reason-required');
    assert.equal(rule(ctx(), { approver: 'alice', approve: false, reason: 'no' }), 'counts:sre:true');
  });

  it('an unlock: the vote counts for each part its voter qualifies for, the group named is the first qualifying', () => {
    const unlock = ctx({ requirement: req({ groups: ['unlockers', 'sre'], escalateAfterMs: [], unlocksTransition: true, alsoRequired: req() }) });
    assert.equal(rule(unlock, { approver: 'dave', approve: true }), 'counts:unlockers:true,false');
    assert.equal(rule(unlock, { approver: 'alice', approve: true }), 'counts:sre:false,true', 'sre is not reached on the unlock part (no escalation), but is the call\'s own group');
  });

  it('says why a vote does not count, word for word', () => {
    const message = (c: VoteContext, v: Vote) => { const r = checkVote(c, v, 0); return r.counts ? 'counts' : r.message; };
    assert.equal(message(ctx({ requirement: req({ fourEyes: true }) }), { approver: 'owner', approve: true }), '`owner` owns this session and the policy requires someone else to decide (four eyes)');
    assert.equal(message(ctx({ votes: [{ approver: 'alice', approve: true, parts: [true] }] }), { approver: 'alice', approve: true }), '`alice` already approved this call: distinct approvers are needed');
    assert.equal(message(ctx(), { approver: 'alice', approve: false }), 'a reason is required to deny');
  });

  it('a group the members map does not name has no members: fail closed', () => {
    assert.equal(rule(ctx({ groupMembers: {} }), { approver: 'alice', approve: true }), 'approval.not-member');
  });

  it('four eyes binds the owner only: anyone else of the group still decides', () => {
    assert.equal(rule(ctx({ requirement: req({ fourEyes: true }) }), { approver: 'alice', approve: true }), 'counts:sre:true');
  });

  it('a voter qualifying for both parts through different groups is named by the first part\'s group', () => {
    const both = ctx({ groupMembers: { ...members, unlockers: ['dave', 'erin'], sre: ['alice', 'erin'] }, requirement: req({ groups: ['unlockers'], escalateAfterMs: [], unlocksTransition: true, alsoRequired: req() }) });
    assert.equal(rule(both, { approver: 'erin', approve: true }), 'counts:unlockers:true,true');
  });

  it('another person\'s earlier approval is no duplicate', () => {
    assert.equal(rule(ctx({ votes: [{ approver: 'bob', approve: true, parts: [true] }] }), { approver: 'alice', approve: true }), 'counts:sre:true');
  });

  it('tally: one counted deny denies; every part needs its number of distinct approvers', () => {
    const two = req({ approversRequired: 2 });
    assert.equal(tallyVotes(two, []), 'pending');
    assert.equal(tallyVotes(two, [{ approver: 'a', approve: true, parts: [true] }]), 'pending');
    assert.equal(tallyVotes(two, [{ approver: 'a', approve: true, parts: [true] }, { approver: 'a', approve: true, parts: [true] }]), 'pending', 'the same approver twice is one');
    assert.equal(tallyVotes(two, [{ approver: 'a', approve: true, parts: [true] }, { approver: 'b', approve: true, parts: [true] }]), 'approved');
    assert.equal(tallyVotes(two, [{ approver: 'a', approve: true, parts: [true] }, { approver: 'b', approve: true, parts: [false] }]), 'pending', 'a vote counts only for the parts it qualified for');
    assert.equal(tallyVotes(two, [{ approver: 'a', approve: true, parts: [true] }, { approver: 'b', approve: true, parts: [true] }, { approver: 'c', approve: false, parts: [true] }]), 'denied');
    const both = req({ alsoRequired: req() });
    assert.equal(tallyVotes(both, [{ approver: 'a', approve: true, parts: [true, false] }]), 'pending');
    assert.equal(tallyVotes(both, [{ approver: 'a', approve: true, parts: [true, false] }, { approver: 'b', approve: true, parts: [false, true] }]), 'approved');
  });
});
