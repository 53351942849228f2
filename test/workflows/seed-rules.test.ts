/**
 * The article's two rules in a real session (real Temporal, real databases): a write after two
 * reads of its resource waits for a person (`resourceWrites`), and so does a write under an
 * intent that asks only to look (`intent.writesNeedWriteIntent`). The same calls run on their own
 * where the rule does not hold them, so it is the rule that asks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_POLICY } from './fixtures/catalog';
import { createHarness, testPolicy, type Harness } from './harness';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';

const trust = testTrust();

/** `volumes.unmount` runs on its own here (no tier, no forbidden transition): only the rule under test holds it. */
const reads = testPolicy({ tools: { ...TEST_POLICY.tools, 'volumes.unmount': { tier: 'autonomous' } }, transitions: [], resourceWrites: { afterReads: 2, within: { minutes: 30 } } });
const intent = testPolicy({ intent: { ...TEST_POLICY.intent, writesNeedWriteIntent: true } });

let h: Harness;
before(async () => {
  h = await createHarness('seedrules', { policies: { reads, intent } });
});
after(async () => {
  await h?.close();
});

type Session = Awaited<ReturnType<Harness['gh']['startSession']>>;

function waitForApproval(s: Session): Promise<string> {
  return eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'a pending approval' });
}

/** The reasons of the session's `decided` events, in order. */
async function decidedRules(sessionId: string): Promise<string[][]> {
  const rows = (await h.audit.pool.query("SELECT decision FROM events WHERE session_id = $1 AND kind = 'decided' ORDER BY seq", [sessionId])).rows as { decision: { reasons: { rule: string }[] } }[];
  return rows.map((r) => r.decision.reasons.map((x) => x.rule));
}

describe('resourceWrites in a session', () => {
  it('runs a write after one read, holds the write after the second read of its resource, and runs it once approved', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'vol-bot', owner: 'eng-007', intent: 'unmount the scratch volume vol-scratch01', policyRef: 'reads' });
      assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'what is mounted' })).status, 'executed');
      const once = await s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' });
      assert.equal(once.status, 'executed', 'one read: the write runs on its own');
      assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'check again' })).status, 'executed');

      const pending = s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'the cache is rebuilt anyway' });
      const approvalId = await waitForApproval(s);
      // The approval shows in the session's state as its request is being recorded: wait for the event.
      const requested = await eventually(async () => (await h.events(s.sessionId)).find((e) => e.kind === 'approval-requested' && e.proposal_seq === 4), { what: 'the approval-requested event of the fourth call' });
      assert.ok(requested, 'the fourth call asked for approval');
      const decision = (await h.audit.pool.query("SELECT decision FROM events WHERE session_id = $1 AND kind = 'decided' AND proposal_seq = 4", [s.sessionId])).rows[0] as { decision: { verdict: string; reasons: { rule: string; message: string }[] } };
      assert.equal(decision.decision.verdict, 'approve');
      assert.deepEqual(decision.decision.reasons, [
        { rule: 'resource.read-then-write', message: 'the session read `volumes` twice in the last 30 minutes before this write call to it (`volumes.unmount`): a write after 2 reads of the same resource needs approval' },
      ]);
      await h.gh.approve(approvalId, { key: trust.approver('alice') });
      const r = await pending;
      assert.equal(r.status, 'executed');
      await s.end({});
    });
  });
});

describe('intent.writesNeedWriteIntent in a session', () => {
  it('holds the staging write of a session that declared it would only look; the same write runs under an intent to change', async () => {
    await h.run(async () => {
      const writer = await h.gh.startSession({ agentId: 'cfg-bot', owner: 'eng-007', intent: 'update the staging config', policyRef: 'intent' });
      const ran = await writer.propose({ tool: 'staging.writeConfig', args: { key: 'feature.search.enabled', value: 'true' }, reasoning: 'turn it on' });
      assert.equal(ran.status, 'executed');
      await writer.end({});

      const looker = await h.gh.startSession({ agentId: 'cfg-bot', owner: 'eng-007', intent: 'look at the staging config', policyRef: 'intent' });
      assert.equal((await looker.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed', 'reads run');
      const pending = looker.propose({ tool: 'staging.writeConfig', args: { key: 'feature.search.enabled', value: 'false' }, reasoning: 'turn it off' });
      const approvalId = await waitForApproval(looker);
      await eventually(async () => ((await decidedRules(looker.sessionId)).length === 2 ? true : undefined), { what: 'both decisions recorded' });
      assert.deepEqual(await decidedRules(looker.sessionId), [['tier.read'], ['intent.effect']]);
      const held = (await h.audit.pool.query("SELECT decision FROM events WHERE session_id = $1 AND kind = 'decided' AND proposal_seq = 2", [looker.sessionId])).rows[0] as { decision: { reasons: { message: string }[] } };
      assert.equal(held.decision.reasons[0]?.message, 'the session declared a read-only intent (it asks only to look): write tool `staging.writeConfig` needs one that asks to change something');
      await h.gh.deny(approvalId, { key: trust.approver('alice'), reason: 'the session said it would only look' });
      assert.equal((await pending).status, 'denied');
      await looker.end({});
    });
  });
});
